import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { RecoveryError } from '../../src/errors.js'
import { ORDER_SCHEMA_IDS, type IncidentTruth } from '../../src/fixtures/index.js'
import { seedIncident } from '../../src/fixtures/seed-incident.js'
import { parseEnvelopeLine } from '../../src/files/envelope.js'
import { installOrderedHeaders } from '../../src/kafka/ordered-headers.js'
import type { KafkaRecord } from '../../src/kafka/kafka-record.js'
import { replay, type ReplayRequest } from '../../src/services/replay.js'
import { parseSinkLocation } from '../../src/sinks/registry.js'
import { parseQuarantineLocation } from '../../src/quarantine/quarantine-location.js'
import type { PostgresLocation } from '../../src/core/location.js'
import { PostgresSink } from '../../src/sinks/postgres-sink.js'
import { createTopic, produce, testKafka, uniqueName, withGateway, readTopic } from '../support/kafka.js'
import { dropTestTables, expectedOrderRows, orderRows, PG_URL, query, testTable } from '../support/postgres.js'
import { repoRoot } from '../support/paths.js'
import { withTimeout } from '../support/timeout.js'

installOrderedHeaders()

const SCHEMAS = join(repoRoot(), 'fixtures', 'schemas')
const FIX = join(repoRoot(), 'plugins', 'fix-bad-deploy.ts')
const dir = mkdtempSync(join(tmpdir(), 'recover-pg-sink-'))
const run = (request: ReplayRequest) => withGateway((gateway) => replay(request, { gateway }))
const table = () => testTable('pg_sink')
const jsonl = (path: string) => readFileSync(path, 'utf8').trim().split('\n').filter(Boolean).map(parseEnvelopeLine)

let incident: { topic: string; truth: IncidentTruth; source: KafkaRecord[] }

/** A table of `id` (the key), `n` and the provenance columns, for the sink driven by hand. */
async function createIdTable(t: string): Promise<void> {
  await query(`CREATE TABLE ${t} (id text PRIMARY KEY, n bigint, source_topic text, source_partition bigint, source_offset bigint)`)
}

/** The sink itself (no replay around it) into table t, keyed by id. */
function idSink(t: string, options: { reconnectMs?: number } = {}): PostgresSink {
  return new PostgresSink(parseSinkLocation(`${PG_URL}?table=${t}&key=id`) as PostgresLocation, { createTable: false, ...options })
}

/** Record i of an id table: key k<i>, at offset i of partition 0 of topic src. */
const idRecord = (i: number) => ({
  key: null,
  value: null,
  decodedKey: null,
  decodedValue: { id: `k${i}`, n: i },
  headers: [],
  timestamp: 0,
  timestampType: 'create' as const,
  source: { topic: 'src', partition: 0, offset: BigInt(i) },
})

/** The fixture replayed through the fix, every record in the v2 shape. */
const fixtureRequest = (sink: string, extra: Partial<ReplayRequest> = {}): ReplayRequest => ({
  topic: incident.topic,
  valueFormat: 'avro',
  schemas: { schema: SCHEMAS, readerSchema: join(SCHEMAS, 'orders-v2.avsc') },
  outputSchemaId: ORDER_SCHEMA_IDS.v2,
  transform: { path: FIX, timeoutMs: 5_000 },
  sink,
  quarantine: `file:${join(dir, `${uniqueName('q')}.jsonl`)}`,
  checkpoint: join(dir, `${uniqueName('cp')}.json`),
  batchSize: 400,
  ...extra,
})

test.before(
  withTimeout(60_000, async () => {
    const topic = uniqueName('pg-incident')
    const seeded = await seedIncident({ kafka: testKafka(), topic, count: 3_000, replicationFactor: 1 })
    incident = { topic, truth: seeded.truth, source: await readTopic(topic) }
  }),
)

test('postgres sink URIs: table and key are required, the password is never shown', () => {
  const uri = parseSinkLocation('postgres://app:s3cret@db:5432/shop?sslmode=disable&table=public.orders&key=order_id,line') as PostgresLocation
  assert.equal(uri.kind === 'postgres' && { table: uri.table, key: uri.key, layout: uri.layout }, {
    table: 'public.orders',
    key: ['order_id', 'line'],
    layout: 'fields',
  })
  assert.ok(uri.kind === 'postgres' && !uri.display.includes('s3cret') && uri.connection.includes('sslmode=disable') && !uri.connection.includes('table='))
  for (const bad of [
    'postgres://db/shop?key=id',
    'postgres://db/shop?table=t',
    'postgres://db/shop?table=t;drop&key=id',
    'postgres://db/shop?table=t&key=id&layout=xml',
  ]) {
    assert.throws(
      () => parseSinkLocation(bad),
      (e: RecoveryError) => e.code === 'BAD_SINK_URI',
      bad,
    )
  }
  assert.throws(
    () => parseQuarantineLocation('postgres://db/shop?table=t&key=id'),
    (e: RecoveryError) => e.code === 'BAD_QUARANTINE_URI',
  )
})

test(
  'the fixture incident into a new PostgreSQL table: exactly the expected rows (keys, fixed values, provenance), pills quarantined',
  withTimeout(120_000, async () => {
    const t = table()
    const request = fixtureRequest(`${PG_URL}?table=${t}&key=order_id`, { createTable: true })
    const s = await run(request)
    assert.ok(s.finished && s.reconciled)
    assert.is(s.duplicatesPossible, false)
    assert.is(s.totals.read, incident.truth.count)
    assert.is(s.totals.quarantined, incident.truth.poisonPills.length)
    assert.equal(await orderRows(t), expectedOrderRows(incident.source, incident.truth))
    const columns = await query<{ column_name: string; data_type: string }>(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position`,
      [t],
    )
    assert.equal(Object.fromEntries(columns.map((c) => [c.column_name, c.data_type])), {
      order_id: 'text',
      customer: 'text',
      amount_cents: 'bigint',
      currency: 'text',
      status: 'text',
      created_at: 'bigint',
      items: 'jsonb',
      channel: 'text',
      source_topic: 'text',
      source_partition: 'bigint',
      source_offset: 'bigint',
    })
    // The progress committed with the last batch is the whole range.
    const runId = (JSON.parse(readFileSync(request.checkpoint!, 'utf8')) as { runId: string }).runId
    const [progress] = await query<{ progress: { partitions: Array<{ next: string; end: string }> } }>(
      `SELECT progress FROM recover_replay_checkpoints WHERE replay_id = $1`,
      [runId],
    )
    assert.ok(progress?.progress.partitions.every((p) => p.next === p.end))
    // A second replay of the same range into the same table changes nothing.
    await run({ ...request, checkpoint: join(dir, `${uniqueName('cp')}.json`), quarantine: `file:${join(dir, `${uniqueName('q')}.jsonl`)}` })
    assert.equal(await orderRows(t), expectedOrderRows(incident.source, incident.truth))
  }),
)

test(
  'rows the table refuses (a CHECK constraint, a value its column cannot hold) are quarantined alone, stage sink; the rest of their batch is written',
  withTimeout(120_000, async () => {
    const t = table()
    await query(
      `CREATE TABLE ${t} (order_id text PRIMARY KEY, customer text, amount_cents bigint CHECK (amount_cents < 40000), status text, currency char(2), source_partition int, source_offset bigint)`,
    )
    const q = join(dir, `${uniqueName('q')}.jsonl`)
    // Every row refused: past the failure-rate guard, on purpose.
    const s = await run(
      fixtureRequest(`${PG_URL}?table=${t}&key=order_id`, { quarantine: `file:${q}`, partitions: [0], maxFailureRate: { maxPercent: 0, firstRecords: 1_000 } }),
    )
    assert.ok(s.finished && s.reconciled)
    const expected = expectedOrderRows(incident.source, incident.truth)
    // currency char(2) holds none of EUR/USD/GBP: every record is refused for that one reason…
    assert.is(s.quarantinedByStage.sink, s.totals.read - incident.truth.poisonPills.filter((p) => p.partition === 0).length)
    assert.equal(await orderRows(t), [])
    const entries = jsonl(q)
    const sinkEntries = entries.filter((e) => e.headers.find((h) => h.key === 'recover.error.stage')?.value?.toString() === 'sink')
    assert.is(sinkEntries.length, s.quarantinedByStage.sink)
    assert.match(sinkEntries[0]!.headers.find((h) => h.key === 'recover.error.message')!.value!.toString(), /22001/)

    // …and with a column that fits, only the rows over the CHECK are refused.
    const t2 = table()
    await query(
      `CREATE TABLE ${t2} (order_id text PRIMARY KEY, customer text, amount_cents bigint CHECK (amount_cents < 40000), status text, source_partition int, source_offset bigint)`,
    )
    const q2 = join(dir, `${uniqueName('q')}.jsonl`)
    const s2 = await run(
      fixtureRequest(`${PG_URL}?table=${t2}&key=order_id`, { quarantine: `file:${q2}`, maxFailureRate: { maxPercent: 0, firstRecords: 1_000 } }),
    )
    assert.ok(s2.finished && s2.reconciled)
    const over = expected.filter((r) => Number(r.amount_cents) >= 40_000)
    assert.ok(over.length > 0 && over.length < expected.length, `${over.length} of ${expected.length} over the check`)
    const rows = await orderRows(t2)
    assert.equal(
      rows,
      expected.filter((r) => Number(r.amount_cents) < 40_000),
    )
    assert.ok(s2.quarantinedByStage.sink >= over.length)
    const refused = jsonl(q2).filter((e) => e.headers.find((h) => h.key === 'recover.error.stage')?.value?.toString() === 'sink')
    assert.ok(refused.every((e) => /23514/.test(e.headers.find((h) => h.key === 'recover.error.message')!.value!.toString())))
  }),
)

test(
  'JSON values into a JSONB value column (layout=jsonb), keyed by a provenance-free field; tombstone-free values round-trip',
  withTimeout(60_000, async () => {
    const topic = uniqueName('pg-json')
    await createTopic(topic, 2)
    const records = Array.from({ length: 500 }, (_, i) => ({
      partition: i % 2,
      key: `k${i % 200}`,
      value: JSON.stringify({ id: `k${i % 200}`, n: i, tags: ['a', i], big: 2 ** 40 + i }),
      timestampMs: 1_700_000_000_000 + i,
    }))
    await produce(topic, records)
    const t = table()
    const s = await run({
      topic,
      valueFormat: 'json',
      sink: `${PG_URL}?table=${t}&key=id&layout=jsonb`,
      createTable: true,
      quarantine: `file:${join(dir, `${uniqueName('q')}.jsonl`)}`,
      checkpoint: join(dir, `${uniqueName('cp')}.json`),
      batchSize: 64,
    })
    assert.ok(s.finished && s.reconciled)
    const rows = await query<{ id: string; value: { n: number; tags: unknown[]; big: number }; source_partition: string }>(
      `SELECT id, value, source_partition::text FROM ${t} ORDER BY id`,
    )
    assert.is(rows.length, 200)
    for (const row of rows) {
      const last = records.filter((r) => JSON.parse(r.value).id === row.id).at(-1)!
      assert.equal(row.value, JSON.parse(last.value))
      assert.is(row.source_partition, String(last.partition))
    }
  }),
)

test(
  'keys equal only once cast (" 1" and "1" into a bigint key) in one batch are applied in order, not refused; a NULL key is refused alone',
  withTimeout(60_000, async () => {
    const topic = uniqueName('pg-cast-keys')
    await createTopic(topic, 1)
    await produce(
      topic,
      [
        { id: '1', n: 1 },
        { id: ' 1', n: 2 },
        { id: '2', n: 3 },
        { id: null, n: 4 },
        { id: '2', n: 5 },
      ].map((v, i) => ({ partition: 0, value: JSON.stringify(v), timestampMs: 1_700_000_000_000 + i })),
    )
    const t = table()
    await query(`CREATE TABLE ${t} (id bigint PRIMARY KEY, n bigint)`)
    const s = await run({
      topic,
      valueFormat: 'json',
      sink: `${PG_URL}?table=${t}&key=id`,
      quarantine: `file:${join(dir, `${uniqueName('q')}.jsonl`)}`,
      checkpoint: join(dir, `${uniqueName('cp')}.json`),
    })
    assert.ok(s.finished && s.reconciled)
    assert.is(s.quarantinedByStage.sink, 1)
    assert.equal(await query(`SELECT id::text, n::text FROM ${t} ORDER BY id`), [
      { id: '1', n: '2' },
      { id: '2', n: '5' },
    ])
  }),
)

test(
  'a table that cannot take upserts is refused before anything is written: missing, or no unique index on the key',
  withTimeout(60_000, async () => {
    const missing = table()
    const fail = async (request: ReplayRequest) => {
      try {
        await run(request)
      } catch (error) {
        return error as RecoveryError
      }
      throw new Error('the replay did not fail')
    }
    const e1 = await fail(fixtureRequest(`${PG_URL}?table=${missing}&key=order_id`))
    assert.is(e1.code, 'SINK_TABLE_INVALID')
    assert.match(e1.message, /--create-table/)
    const t = table()
    await query(`CREATE TABLE ${t} (order_id text, amount_cents bigint)`)
    const e2 = await fail(fixtureRequest(`${PG_URL}?table=${t}&key=order_id`))
    assert.is(e2.code, 'SINK_TABLE_INVALID')
    assert.match(e2.message, /CREATE UNIQUE INDEX/)
    const e3 = await fail(fixtureRequest(`postgres://postgres@127.0.0.1:1/test?table=${t}&key=order_id`))
    assert.is(e3.code, 'SINK_UNREACHABLE')
    assert.is(e3.exitCode, 5)
  }),
)

test(
  'awkward text goes in byte for byte (COPY into new keys), and a second replay over the same keys replaces the rows (upsert)',
  withTimeout(60_000, async () => {
    const topic = uniqueName('pg-awkward')
    await createTopic(topic, 1)
    const awkward = ['tab\there', 'new\nline\r\n', 'back\\slash \\N \\x41', '"quoted", {braces}', 'ünïcødé ✓', '', null]
    const values = (round: number) => awkward.map((text, i) => ({ id: `k${i}`, text: text === null ? null : `${text}${round === 2 ? ' (v2)' : ''}`, round }))
    await produce(
      topic,
      [...values(1), ...values(2)].map((v, i) => ({ partition: 0, value: JSON.stringify(v), timestampMs: 1_700_000_000_000 + i })),
    )
    const t = table()
    await query(`CREATE TABLE ${t} (id text PRIMARY KEY, text text, round bigint, source_topic text, source_partition bigint, source_offset bigint)`)
    const replayInto = (to: { kind: 'offsets'; perPartition: Map<number, bigint> }, from?: { kind: 'offsets'; perPartition: Map<number, bigint> }) =>
      run({
        topic,
        valueFormat: 'json',
        sink: `${PG_URL}?table=${t}&key=id`,
        from,
        to,
        quarantine: `file:${join(dir, `${uniqueName('q')}.jsonl`)}`,
        checkpoint: join(dir, `${uniqueName('cp')}.json`),
      })
    const first = await replayInto({ kind: 'offsets', perPartition: new Map([[0, BigInt(awkward.length)]]) })
    assert.ok(first.finished && first.reconciled)
    const rows = () => query<{ id: string; text: string | null; round: string }>(`SELECT id, text, round::text FROM ${t} ORDER BY id`)
    assert.equal(
      await rows(),
      values(1).map((v) => ({ id: v.id, text: v.text, round: '1' })),
    )
    const second = await replayInto(
      { kind: 'offsets', perPartition: new Map([[0, BigInt(2 * awkward.length)]]) },
      { kind: 'offsets', perPartition: new Map([[0, BigInt(awkward.length)]]) },
    )
    assert.ok(second.finished && second.reconciled)
    assert.is(second.totals.written, awkward.length)
    assert.equal(
      await rows(),
      values(2).map((v) => ({ id: v.id, text: v.text, round: '2' })),
    )
  }),
)

test(
  'COPY takes awkward text byte for byte, and refuses rows whose key is already there without writing any of them',
  withTimeout(60_000, async () => {
    const { PgUpsertTable } = await import('../../src/postgres/upsert-table.js')
    const t = table()
    await query(`CREATE TABLE ${t} (id text PRIMARY KEY, text text, raw bytea)`)
    const awkward = ['tab\there', 'new\nline\r\n', 'back\\slash \\N \\x41 \\', '"quoted", {braces}', 'ünïcødé ✓', '', '\\N', null]
    const rows = awkward.map((text, i) => [`k${i}`, text, i === 0 ? '\\x00ff' : null])
    const pgTable = await PgUpsertTable.connect(PG_URL)
    try {
      const columns = (await pgTable.describe(t))!
      await pgTable.begin()
      assert.ok(await pgTable.copyInsert(t, columns, rows))
      assert.not.ok(
        await pgTable.copyInsert(t, columns, [
          ['k-new', 'x', null],
          ['k1', 'again', null],
        ]),
      )
      // Batches after a refused one, in the same transaction: each refusal takes back its own rows only.
      assert.ok(await pgTable.copyInsert(t, columns, [['m-after', 'y', null]]))
      assert.ok(await pgTable.copyInsert(t, columns, [['m-later', 'z', null]]))
      assert.not.ok(await pgTable.copyInsert(t, columns, [['m-after', 'again', null]]))
      await pgTable.commit()
    } finally {
      await pgTable.close()
    }
    const back = await query<{ id: string; text: string | null; raw: string | null }>(`SELECT id, text, encode(raw, 'hex') AS raw FROM ${t} ORDER BY id`)
    assert.equal(back, [
      ...awkward.map((text, i) => ({ id: `k${i}`, text, raw: i === 0 ? '00ff' : null })),
      { id: 'm-after', text: 'y', raw: null },
      { id: 'm-later', text: 'z', raw: null },
    ])
  }),
)

test(
  'the connection lost with two batches in the open transaction: the sink reconnects, writes both again, and commits them with the progress',
  withTimeout(60_000, async () => {
    const t = table()
    await createIdTable(t)
    const sink = idSink(t, { reconnectMs: 10_000 })
    const runId = uniqueName('lost-connection')
    await sink.open(undefined, { runId, topic: 'src' })
    try {
      assert.equal(await sink.write([0, 1, 2].map(idRecord)), [])
      assert.equal(await sink.write([3, 4].map(idRecord)), [])
      // Another session ends ours, as a server restart or a failover would.
      const ended = await query<{ ended: boolean }>(
        `SELECT pg_terminate_backend(pid) AS ended FROM (SELECT DISTINCT pid FROM pg_locks WHERE relation = '${t}'::regclass AND pid <> pg_backend_pid()) l`,
      )
      assert.equal(ended, [{ ended: true }])
      await sink.checkpoint({ partitions: [], quarantineState: {}, batches: 2 })
    } finally {
      await sink.close()
    }
    assert.equal(
      await query(`SELECT id, n::text FROM ${t} ORDER BY id`),
      [0, 1, 2, 3, 4].map((i) => ({ id: `k${i}`, n: String(i) })),
    )
    assert.equal(await query(`SELECT (progress->>'batches')::text AS batches FROM recover_replay_checkpoints WHERE replay_id = $1`, [runId]), [
      { batches: '2' },
    ])
  }),
)

test(
  "a second run of the same replay fences the first: the first one's open transaction is rolled back at its commit (fenced), and the second commits from the progress the first had committed",
  withTimeout(60_000, async () => {
    const t = table()
    await createIdTable(t)
    const progress = (batches: number) => ({ partitions: [], quarantineState: {}, batches })
    const replay = { runId: uniqueName('fenced'), topic: 'src' }
    const first = idSink(t)
    const second = idSink(t)
    try {
      assert.is((await first.open(undefined, replay)).committed, undefined)
      await first.write([0, 1].map(idRecord))
      await first.checkpoint(progress(1))
      await first.write([2, 3].map(idRecord))
      // The partition's new owner (or a resumed run) starts while the first still writes.
      assert.equal((await second.open(undefined, replay)).committed, progress(1), 'the second run starts from what the first committed')
      const refused = await first.checkpoint(progress(2)).then(
        () => undefined,
        (error: unknown) => error,
      )
      assert.instance(refused, RecoveryError)
      assert.is((refused as RecoveryError).details.fenced, true)
      assert.match((refused as RecoveryError).message, /took it over/)
      assert.equal(await query(`SELECT id FROM ${t} ORDER BY id`), [{ id: 'k0' }, { id: 'k1' }], 'the fenced transaction left nothing')
      await second.write([2, 3].map(idRecord))
      await second.checkpoint(progress(2))
    } finally {
      await first.close()
      await second.close()
    }
    assert.equal(
      await query(`SELECT id FROM ${t} ORDER BY id`),
      [0, 1, 2, 3].map((i) => ({ id: `k${i}` })),
    )
    assert.equal(
      await query(`SELECT (progress->>'batches')::text AS batches, owner_epoch::text AS epoch FROM recover_replay_checkpoints WHERE replay_id = $1`, [
        replay.runId,
      ]),
      [{ batches: '2', epoch: '2' }],
    )
  }),
)

test(
  'a progress table from an earlier version (no owner_epoch) gets the column, and its replay resumes from the progress it holds',
  withTimeout(60_000, async () => {
    const schema = testTable('old_progress')
    const t = `${schema}.orders`
    await query(`CREATE SCHEMA ${schema}`)
    try {
      await createIdTable(t)
      await query(
        `CREATE TABLE ${schema}.recover_replay_checkpoints (replay_id text PRIMARY KEY, topic text NOT NULL, target text NOT NULL, progress jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`,
      )
      const saved = { partitions: [], quarantineState: {}, batches: 7 }
      await query(`INSERT INTO ${schema}.recover_replay_checkpoints (replay_id, topic, target, progress) VALUES ('old-run', 'src', $1, $2)`, [
        t,
        JSON.stringify(saved),
      ])
      const sink = idSink(t)
      try {
        assert.equal((await sink.open(undefined, { runId: 'old-run', topic: 'src' })).committed, saved)
        await sink.checkpoint({ ...saved, batches: 8 })
      } finally {
        await sink.close()
      }
      assert.equal(await query(`SELECT (progress->>'batches')::text AS batches, owner_epoch::text AS epoch FROM ${schema}.recover_replay_checkpoints`), [
        { batches: '8', epoch: '1' },
      ])
    } finally {
      await query(`DROP SCHEMA ${schema} CASCADE`)
    }
  }),
)

test.after(() => dropTestTables())

test.run()
