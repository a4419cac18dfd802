import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { DuckDBInstance } from '@duckdb/node-api'
import { ORDER_SCHEMA_IDS, type IncidentTruth } from '../../src/fixtures/index.js'
import { seedIncident } from '../../src/fixtures/seed-incident.js'
import { installOrderedHeaders } from '../../src/kafka/ordered-headers.js'
import type { KafkaRecord } from '../../src/kafka/kafka-record.js'
import { replay, type ReplayRequest } from '../../src/services/replay.js'
import { createTopic, produce, testKafka, uniqueName, withGateway, readTopic } from '../support/kafka.js'
import { expectedOrderRows } from '../support/postgres.js'
import { repoRoot } from '../support/paths.js'
import { withTimeout } from '../support/timeout.js'

installOrderedHeaders()

const SCHEMAS = join(repoRoot(), 'fixtures', 'schemas')
const FIX = join(repoRoot(), 'plugins', 'fix-bad-deploy.ts')
const dir = mkdtempSync(join(tmpdir(), 'recover-duckdb-sink-'))

let incident: { topic: string; truth: IncidentTruth; source: KafkaRecord[] }

const request = (sink: string, extra: Partial<ReplayRequest> = {}): ReplayRequest => ({
  topic: incident.topic,
  valueFormat: 'avro',
  schemas: { schema: SCHEMAS, readerSchema: join(SCHEMAS, 'orders-v2.avsc') },
  outputSchemaId: ORDER_SCHEMA_IDS.v2,
  transform: { path: FIX, timeoutMs: 5_000 },
  sink,
  quarantine: `file:${join(dir, `${uniqueName('q')}.jsonl`)}`,
  checkpoint: join(dir, `${uniqueName('cp')}.json`),
  batchSize: 500,
  ...extra,
})

/** Rows read back with DuckDB itself: one per written record, in the shape of expectedOrderRows. */
async function readBack(sql: string, file = ':memory:'): Promise<Array<Record<string, string>>> {
  const instance = await DuckDBInstance.create(file)
  const connection = await instance.connect()
  try {
    const reader = await connection.runAndReadAll(sql)
    return reader.getRowObjectsJson() as Array<Record<string, string>>
  } finally {
    connection.closeSync()
    instance.closeSync()
  }
}

const SELECT = `SELECT order_id, customer, amount_cents::VARCHAR AS amount_cents, status, source_partition::VARCHAR AS source_partition, source_offset::VARCHAR AS source_offset`

/** A landing table keeps every record; the last of each key is what the upsert table keeps. */
function lastPerKey(rows: Array<Record<string, string>>): Array<Record<string, string>> {
  const byKey = new Map<string, Record<string, string>>()
  for (const r of [...rows].sort((a, b) => Number(a.source_partition) - Number(b.source_partition) || Number(a.source_offset) - Number(b.source_offset)))
    byKey.set(r.order_id!, r)
  return [...byKey.values()].sort((a, b) => a.order_id!.localeCompare(b.order_id!))
}

test.before(
  withTimeout(60_000, async () => {
    const topic = uniqueName('duck-incident')
    const seeded = await seedIncident({ kafka: testKafka(), topic, count: 3_000, replicationFactor: 1 })
    incident = { topic, truth: seeded.truth, source: await readTopic(topic) }
  }),
)

test(
  'the fixture incident into a DuckDB table: every written record once, with provenance; fixed amounts; progress committed in the file',
  withTimeout(120_000, async () => {
    const file = join(dir, `${uniqueName('orders')}.duckdb`)
    const s = await withGateway((gateway) => replay(request(`duckdb:${file}?table=orders`, { createTable: true }), { gateway }))
    assert.ok(s.finished && s.reconciled)
    assert.is(s.duplicatesPossible, false)
    const rows = await readBack(`${SELECT} FROM orders`, file)
    assert.is(rows.length, incident.truth.count - incident.truth.poisonPills.length)
    assert.is(new Set(rows.map((r) => `${r.source_partition}@${r.source_offset}`)).size, rows.length)
    assert.equal(lastPerKey(rows), expectedOrderRows(incident.source, incident.truth))
    const [progress] = await readBack(`SELECT count(*)::VARCHAR AS n FROM recover_replay_checkpoints`, file)
    assert.is(progress!.n, '1')
  }),
)

test(
  'the fixture incident into Parquet through DuckDB: the file holds exactly the written records, and no staging is left behind',
  withTimeout(120_000, async () => {
    const out = join(dir, `${uniqueName('orders')}.parquet`)
    const s = await withGateway((gateway) => replay(request(`file:${out}`), { gateway }))
    assert.ok(s.finished && s.reconciled)
    assert.ok(existsSync(out))
    assert.not.ok(existsSync(`${out}.recover-staging.duckdb`))
    const rows = await readBack(`${SELECT} FROM read_parquet('${out}')`)
    assert.is(rows.length, incident.truth.count - incident.truth.poisonPills.length)
    assert.equal(lastPerKey(rows), expectedOrderRows(incident.source, incident.truth))
    const columns = await readBack(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${out}'))`)
    assert.equal(
      columns.map((c) => c.column_name),
      ['order_id', 'customer', 'amount_cents', 'currency', 'status', 'created_at', 'items', 'channel', 'source_topic', 'source_partition', 'source_offset'],
    )
  }),
)

test(
  'a replay stopped part-way (signal) and resumed into Parquet: the file has every record exactly once',
  withTimeout(120_000, async () => {
    const out = join(dir, `${uniqueName('stopped')}.parquet`)
    const first = request(`file:${out}`, { batchSize: 200 })
    const controller = new AbortController()
    let batches = 0
    const stopped = await withGateway((gateway) =>
      replay(first, { gateway, signal: controller.signal, onEvent: (e) => e.type === 'batch' && ++batches === 4 && controller.abort() }),
    )
    assert.ok(stopped.interrupted && !stopped.finished)
    assert.not.ok(existsSync(out))
    const resumed = await withGateway((gateway) => replay({ ...first, resume: true }, { gateway }))
    assert.ok(resumed.finished && resumed.reconciled)
    const rows = await readBack(`SELECT source_partition::VARCHAR AS p, source_offset::VARCHAR AS o FROM read_parquet('${out}')`)
    assert.is(rows.length, incident.truth.count - incident.truth.poisonPills.length)
    assert.is(new Set(rows.map((r) => `${r.p}@${r.o}`)).size, rows.length)
  }),
)

test(
  "an integer out of its column's range is quarantined alone (stage sink); the rest of its batch is written",
  withTimeout(60_000, async () => {
    const topic = uniqueName('duck-range')
    await createTopic(topic, 1)
    await produce(
      topic,
      ['{"id":"a","n":1}', '{"id":"b","n":100000000000000000000}', '{"id":"c","n":3}'].map((value, i) => ({
        partition: 0,
        value,
        timestampMs: 1_700_000_000_000 + i,
      })),
    )
    const file = join(dir, `${uniqueName('range')}.duckdb`)
    const quarantine = join(dir, `${uniqueName('q')}.jsonl`)
    const s = await withGateway((gateway) =>
      replay(
        {
          topic,
          valueFormat: 'json',
          sink: `duckdb:${file}?table=t`,
          createTable: true,
          quarantine: `file:${quarantine}`,
          checkpoint: join(dir, `${uniqueName('cp')}.json`),
        },
        { gateway },
      ),
    )
    assert.ok(s.finished && s.reconciled)
    assert.equal(s.quarantinedByStage, { decode: 0, transform: 0, sink: 1 })
    assert.equal(await readBack(`SELECT id, n::VARCHAR AS n FROM t ORDER BY id`, file), [
      { id: 'a', n: '1' },
      { id: 'c', n: '3' },
    ])
    assert.match(readFileSync(quarantine, 'utf8'), /column n is BIGINT and cannot hold/)
  }),
)

test.run()
