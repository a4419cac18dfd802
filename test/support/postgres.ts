import pg from 'pg'
import { loadOrderSchemas, type IncidentTruth } from '../../src/fixtures/index.js'
import type { KafkaRecord } from '../../src/kafka/kafka-record.js'

/** The test PostgreSQL (trust auth on this machine). */
export const PG_URL = process.env.RECOVER_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test'

export async function withPg<T>(work: (client: pg.Client) => Promise<T>, url = PG_URL): Promise<T> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await work(client)
  } finally {
    await client.end()
  }
}

export async function query<R = Record<string, unknown>>(sql: string, values?: unknown[], url = PG_URL): Promise<R[]> {
  return withPg(async (c) => (await c.query(sql, values)).rows as R[], url)
}

/** One order row as the tests compare them: the fields the fix touches, and the provenance. */
export interface OrderRow {
  order_id: string
  customer: string
  amount_cents: string
  status: string
  source_partition: string
  source_offset: string
}

/**
 * The rows a replay of the fixture incident through plugins/fix-bad-deploy.ts must leave in
 * an upsert table keyed by order_id: the poison pills left out, amounts that 1.6.0 wrote
 * divided by 100, and for a key written several times the last record (keys stay in one
 * partition, so "last" is the highest offset).
 */
export function expectedOrderRows(source: KafkaRecord[], truth: IncidentTruth): OrderRow[] {
  const schemas = loadOrderSchemas()
  const pills = new Set(truth.poisonPills.map((p) => `${p.partition}@${p.offset}`))
  const byKey = new Map<string, OrderRow>()
  const sorted = [...source].sort((a, b) => a.partition - b.partition || Number(a.offset - b.offset))
  for (const r of sorted) {
    if (pills.has(`${r.partition}@${r.offset}`)) continue
    const order = schemas.byId.get(r.value!.readUInt32BE(1))!.fromBuffer(r.value!.subarray(5)) as Record<string, unknown>
    const bad = r.headers.some((h) => h.key === 'app-version' && h.value?.toString() === '1.6.0')
    const amount = Number(order.amount_cents)
    byKey.set(String(order.order_id), {
      order_id: String(order.order_id),
      customer: String(order.customer ?? order.customer_id),
      amount_cents: String(bad ? amount / 100 : amount),
      status: String(order.status),
      source_partition: String(r.partition),
      source_offset: r.offset.toString(),
    })
  }
  return [...byKey.values()].sort((a, b) => a.order_id.localeCompare(b.order_id))
}

export async function orderRows(table: string, url = PG_URL): Promise<OrderRow[]> {
  const rows = await query<OrderRow>(
    `SELECT order_id, customer, amount_cents::text AS amount_cents, status, source_partition::text AS source_partition, source_offset::text AS source_offset FROM ${table} ORDER BY order_id COLLATE "C"`,
    [],
    url,
  )
  return rows.sort((a, b) => a.order_id.localeCompare(b.order_id))
}

/** An order table whose trigger logs every row written (insert or update) with its provenance, in `<table>_log`. */
export async function createTableWithWriteLog(t: string, url = PG_URL): Promise<{ table: string; log: string }> {
  const log = `${t}_log`
  await query(
    `CREATE TABLE ${t} (order_id text PRIMARY KEY, customer text, amount_cents bigint, status text, source_partition int, source_offset bigint)`,
    [],
    url,
  )
  await query(`CREATE TABLE ${log} (source_partition int, source_offset bigint)`, [], url)
  await query(
    `CREATE FUNCTION ${log}_fn() RETURNS trigger AS $$ BEGIN INSERT INTO ${log} VALUES (NEW.source_partition, NEW.source_offset); RETURN NEW; END $$ LANGUAGE plpgsql`,
    [],
    url,
  )
  await query(`CREATE TRIGGER ${log}_tr AFTER INSERT OR UPDATE ON ${t} FOR EACH ROW EXECUTE FUNCTION ${log}_fn()`, [], url)
  return { table: t, log }
}

const created: string[] = []

/** A table name unique to this test (letters, digits, _), dropped by dropTestTables. */
export function testTable(prefix: string): string {
  const name = `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
  created.push(name)
  return name
}

/** Drops the tables testTable named (with their write logs and trigger functions) from the shared server. */
export async function dropTestTables(url = PG_URL): Promise<void> {
  await withPg(async (c) => {
    for (const t of created.splice(0)) {
      await c.query(`DROP TABLE IF EXISTS ${t}, ${t}_log CASCADE`)
      await c.query(`DROP FUNCTION IF EXISTS ${t}_log_fn()`)
    }
  }, url)
}
