/**
 * The end-to-end anchor of sinks.bench: the smallest script that reads a topic of JSON orders
 * with kafkajs and writes them into PostgreSQL with COPY (pg-copy-streams) or into a Parquet
 * file through DuckDB (Appender into an in-memory table, then COPY TO parquet). eachBatch,
 * one COPY per fetched batch on one connection, the provenance columns included; no upsert,
 * no checkpoint, no quarantine, no commit interval: what a hand-written one-off script does.
 *
 *   node dist/test/bench/kafkajs-to-db.js BROKERS TOPIC postgres://…?table=T
 *   node dist/test/bench/kafkajs-to-db.js BROKERS TOPIC file:/path/out.parquet
 */
import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { DuckDBInstance } from '@duckdb/node-api'
import { Kafka, logLevel } from 'kafkajs'
import pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import { appendOrderRow, DUCK_ORDERS_SHAPE, type Order } from './bench-orders.js'

const [brokers, topic, target] = process.argv.slice(2) as [string, string, string]
const kafka = new Kafka({ brokers: brokers.split(','), clientId: 'kafkajs-to-db', logLevel: logLevel.NOTHING })
const consumer = kafka.consumer({ groupId: `kafkajs-to-db-${randomBytes(4).toString('hex')}`, maxBytesPerPartition: 1 << 20, maxBytes: 8 << 20 })
const admin = kafka.admin()
await Promise.all([consumer.connect(), admin.connect()])
const ends = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, BigInt(o.high)]))
await admin.disconnect()
const reached = new Map<number, bigint>()
const done = () => [...ends].every(([p, end]) => (reached.get(p) ?? 0n) >= end)

type Writer = { write: (partition: number, messages: Array<{ offset: string; value: Buffer | null }>) => Promise<void>; end: () => Promise<void> }

async function postgresWriter(url: string): Promise<Writer> {
  const parsed = new URL(url)
  const table = parsed.searchParams.get('table')!
  parsed.searchParams.delete('table')
  const client = new pg.Client({ connectionString: parsed.toString() })
  await client.connect()
  return {
    async write(partition, messages) {
      let text = ''
      for (const m of messages) {
        const o = JSON.parse(m.value!.toString()) as Order
        text += `${o.order_id}\t${o.customer}\t${o.amount_cents}\t${o.currency}\t${o.status}\t${o.created_at}\t${o.channel}\t${topic}\t${partition}\t${m.offset}\n`
      }
      await pipeline(Readable.from([text]), client.query(copyFrom(`COPY ${table} FROM STDIN`)))
    },
    end: () => client.end(),
  }
}

async function parquetWriter(path: string): Promise<Writer> {
  const duck = await DuckDBInstance.create(':memory:')
  const connection = await duck.connect()
  await connection.run(`CREATE TABLE orders ${DUCK_ORDERS_SHAPE}`)
  const appender = await connection.createAppender('orders')
  return {
    async write(partition, messages) {
      for (const m of messages) {
        appendOrderRow(appender, JSON.parse(m.value!.toString()) as Order, topic, partition, BigInt(m.offset))
      }
    },
    async end() {
      appender.flushSync()
      appender.closeSync()
      await connection.run(`COPY orders TO '${path.replace(/'/g, "''")}' (FORMAT parquet)`)
      connection.closeSync()
      duck.closeSync()
    },
  }
}

const writer = target.startsWith('file:') ? await parquetWriter(target.slice('file:'.length)) : await postgresWriter(target)
let written = 0
let finish: () => void
const finished = new Promise<void>((resolve) => (finish = resolve))
if (done()) finish!()
await consumer.subscribe({ topic, fromBeginning: true })
await consumer.run({
  eachBatch: async ({ batch }) => {
    await writer.write(batch.partition, batch.messages)
    written += batch.messages.length
    const last = batch.messages.at(-1)
    if (last) reached.set(batch.partition, BigInt(last.offset) + 1n)
    if (done()) finish()
  },
})
await finished
await consumer.disconnect()
await writer.end()
process.stdout.write(`${written}\n`)
process.exit(0)
