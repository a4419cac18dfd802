import type { DuckDBAppender } from '@duckdb/node-api'

/** The JSON order of the sink benchmarks: sinks.bench.ts produces them, kafkajs-to-db.ts reads them back. */
export interface Order {
  order_id: string
  customer: string
  amount_cents: number
  currency: string
  status: string
  created_at: number
  channel: string
}

/** The DuckDB table every Parquet contender appends to: the order fields, then the provenance. */
export const DUCK_ORDERS_SHAPE =
  '(order_id VARCHAR, customer VARCHAR, amount_cents BIGINT, currency VARCHAR, status VARCHAR, created_at BIGINT, channel VARCHAR, source_topic VARCHAR, source_partition BIGINT, source_offset BIGINT)'

/** One order and where it was read, as a row of DUCK_ORDERS_SHAPE, value by value: the plain Appender path. */
export function appendOrderRow(appender: DuckDBAppender, o: Order, topic: string, partition: number, offset: bigint): void {
  appender.appendVarchar(o.order_id)
  appender.appendVarchar(o.customer)
  appender.appendBigInt(BigInt(o.amount_cents))
  appender.appendVarchar(o.currency)
  appender.appendVarchar(o.status)
  appender.appendBigInt(BigInt(o.created_at))
  appender.appendVarchar(o.channel)
  appender.appendVarchar(topic)
  appender.appendBigInt(BigInt(partition))
  appender.appendBigInt(offset)
  appender.endRow()
}
