/**
 * `recover replay` into the database sinks and with --exactly-once, against anchors measured
 * on the same machine in the same run:
 *   PostgreSQL upsert (key order_id, --create-table)  vs  psql \copy of the same rows from a CSV file
 *   Parquet (file:out.parquet, through DuckDB)        vs  DuckDB COPY (read_json -> Parquet) of the same values
 *   Kafka --exactly-once                              vs  the same replay without it (idempotent producer)
 * Input: N JSON orders (about 300 bytes, 6 partitions). Each recover run is a fresh CLI process,
 * timed wall-clock; the anchors are timed around their one command. Targets (issue 6):
 * PostgreSQL >= 50,000 rows/s and >= 0.5x COPY; Parquet >= 0.8x DuckDB; exactly-once >= 0.5x.
 *
 *   node dist/test/bench/sinks.bench.js [--records 1000000] [--postgres postgres://postgres@127.0.0.1:5432/test]
 */
import { spawnSync } from 'node:child_process'
import { createWriteStream, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { DuckDBInstance } from '@duckdb/node-api'
import { Kafka, logLevel } from 'kafkajs'
import pg from 'pg'
import { produceRecords, type ProducibleRecord } from '../../src/kafka/produce-records.js'
import { createRng, partitionForKey } from '../../src/fixtures/index.js'
import { startLocalKafka, type LocalKafka } from '../../src/local-kafka/index.js'
import { repoRoot } from '../support/paths.js'
import { PostgresSink } from '../../src/sinks/postgres-sink.js'
import { DuckDbSink } from '../../src/sinks/duckdb-sink.js'
import { parseSinkUri, type Sink, type SinkRecord } from '../../src/sinks/sink.js'

const { values } = parseArgs({ options: { records: { type: 'string', default: '1000000' }, postgres: { type: 'string', default: process.env.RECOVER_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test' } } })
const N = Number(values.records)
const PG = values.postgres!
const PARTITIONS = 6
const work = mkdtempSync(join(tmpdir(), 'recover-sinks-bench-'))
const stamp = `${Date.now().toString(36)}`

interface Order {
  order_id: string
  customer: string
  amount_cents: number
  currency: string
  status: string
  created_at: number
  channel: string
}

function order(i: number, rng: ReturnType<typeof createRng>): Order {
  return { order_id: `ord-${String(i).padStart(8, '0')}`, customer: `cust-${String(rng.int(20_000)).padStart(5, '0')}`, amount_cents: rng.between(1, 20_000), currency: 'EUR', status: 'PENDING', created_at: Date.UTC(2018, 2, 20) + i * 10, channel: 'web' }
}

function* records(): Generator<ProducibleRecord> {
  const rng = createRng(11)
  for (let i = 0; i < N; i++) {
    const o = order(i, rng)
    const key = Buffer.from(o.order_id)
    yield { partition: partitionForKey(key, PARTITIONS), key, value: Buffer.from(JSON.stringify(o)), timestampMs: o.created_at, headers: { 'trace-id': rng.hex(16) } }
  }
}

/** The same values, for the anchors: a CSV for psql \copy (with the provenance columns) and JSONL for DuckDB. */
async function anchorFiles(): Promise<{ csv: string; jsonl: string }> {
  const csv = join(work, 'orders.csv')
  const jsonl = join(work, 'orders.jsonl')
  const c = createWriteStream(csv)
  const j = createWriteStream(jsonl)
  const offsets = new Array<number>(PARTITIONS).fill(0)
  for (const r of records()) {
    const o = JSON.parse(r.value!.toString()) as Order
    const p = r.partition
    const line = `${o.order_id},${o.customer},${o.amount_cents},${o.currency},${o.status},${o.created_at},${o.channel},src,${p},${offsets[p]!++}\n`
    if (!c.write(line)) await new Promise<void>((res) => c.once('drain', () => res()))
    if (!j.write(`${r.value!.toString()}\n`)) await new Promise<void>((res) => j.once('drain', () => res()))
  }
  await Promise.all([new Promise<void>((res) => c.end(() => res())), new Promise<void>((res) => j.end(() => res()))])
  return { csv, jsonl }
}

function recover(args: string[], brokers: string): number {
  const started = Date.now()
  const result = spawnSync(process.execPath, [join(repoRoot(), 'bin', 'run.js'), 'replay', '--brokers', brokers, ...args, '--json'], { cwd: work, encoding: 'utf8', maxBuffer: 64 << 20 })
  const ms = Date.now() - started
  if (result.status !== 0) throw new Error(`recover replay ${args.join(' ')} failed: ${result.stdout.slice(-2000)}${result.stderr.slice(-2000)}`)
  const summary = JSON.parse(result.stdout) as { totals: { written: number }; elapsedMs: number }
  if (summary.totals.written !== N) throw new Error(`recover wrote ${summary.totals.written} of ${N}`)
  console.log(`  recover ${args[args.indexOf('--sink') + 1]}: ${(ms / 1000).toFixed(1)} s wall, ${(summary.elapsedMs / 1000).toFixed(1)} s in the replay itself`)
  return ms
}

/**
 * The sink alone, without Kafka or decoding: the same orders as SinkRecords in memory, written
 * in batches of 5000 with a committed checkpoint after each, as the replay does.
 */
async function sinkOnly(sink: Sink): Promise<number> {
  const rng = createRng(11)
  const offsets = new Array<number>(PARTITIONS).fill(0)
  const all: SinkRecord[] = []
  for (let i = 0; i < N; i++) {
    const o = order(i, rng)
    const p = partitionForKey(Buffer.from(o.order_id), PARTITIONS)
    all.push({ key: null, value: null, decodedKey: null, decodedValue: o, headers: [], timestamp: o.created_at, timestampType: 'create', source: { topic: 'src', partition: p, offset: BigInt(offsets[p]!++) } })
  }
  const started = Date.now()
  await sink.open(undefined, { runId: `bench-${stamp}-${Math.random()}`, topic: 'src' })
  for (let i = 0, b = 1; i < all.length; i += 5_000, b++) {
    await sink.write(all.slice(i, i + 5_000))
    await sink.checkpoint({ partitions: [], quarantineState: {}, batches: b })
  }
  await sink.finish?.()
  await sink.close()
  return Date.now() - started
}

const rate = (ms: number) => Math.round((N / ms) * 1000)
const line = (what: string, ms: number, anchor: string, anchorMs: number, target: string) =>
  console.log(`${what}: ${rate(ms).toLocaleString('en-US')} rows/s (${(ms / 1000).toFixed(1)} s) vs ${anchor} ${rate(anchorMs).toLocaleString('en-US')} rows/s (${(anchorMs / 1000).toFixed(1)} s): ${(anchorMs / ms).toFixed(2)}x (target ${target})`)

let broker: LocalKafka | undefined
let brokers = process.env.RECOVER_TEST_BROKERS
if (!brokers) {
  broker = await startLocalKafka({})
  brokers = broker.brokers
}
const client = new pg.Client({ connectionString: PG })
await client.connect()
try {
  const kafka = new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING })
  const topic = `bench-sinks-${stamp}`
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: '-1' }] }] })
  await admin.disconnect()
  const producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: () => ({ message }) => message.partition ?? 0 })
  await producer.connect()
  await produceRecords(producer, topic, records(), { batchSize: 1000, maxInFlight: 6 })
  await producer.disconnect()
  const files = await anchorFiles()
  console.log(`${N.toLocaleString('en-US')} JSON orders over ${PARTITIONS} partitions`)

  // PostgreSQL: the upsert sink vs psql \copy of the same rows into a table of the same shape.
  const table = `bench_upsert_${stamp}`
  const copyTable = `bench_copy_${stamp}`
  const upsertMs = recover(['--topic', topic, '--value-format', 'json', '--sink', `${PG}?table=${table}&key=order_id`, '--create-table', '--quarantine', `file:${join(work, 'q-pg.jsonl')}`, '--checkpoint', join(work, 'cp-pg.json')], brokers)
  await client.query(`CREATE TABLE ${copyTable} (order_id text PRIMARY KEY, customer text, amount_cents bigint, currency text, status text, created_at bigint, channel text, source_topic text, source_partition bigint, source_offset bigint)`)
  const copyStarted = Date.now()
  const copy = spawnSync('psql', [PG, '-v', 'ON_ERROR_STOP=1', '-c', `\\copy ${copyTable} FROM '${files.csv}' WITH (FORMAT csv)`], { encoding: 'utf8' })
  const copyMs = Date.now() - copyStarted
  if (copy.status !== 0) throw new Error(`psql \\copy failed: ${copy.stderr}`)
  line('PostgreSQL upsert', upsertMs, 'psql \\copy', copyMs, '>= 50,000 rows/s and >= 0.5x')
  const sinkTable = `bench_sink_${stamp}`
  await client.query(`CREATE TABLE ${sinkTable} (LIKE ${copyTable} INCLUDING ALL)`)
  const pgSinkMs = await sinkOnly(new PostgresSink(parseSinkUri(`${PG}?table=${sinkTable}&key=order_id`, '--sink') as Extract<ReturnType<typeof parseSinkUri>, { kind: 'postgres' }>, { createTable: false }))
  line('  the PostgreSQL sink alone (in-memory records)', pgSinkMs, 'psql \\copy', copyMs, '>= 50,000 rows/s and >= 0.5x')
  await client.query(`DROP TABLE ${table}; DROP TABLE ${copyTable}; DROP TABLE ${sinkTable}`)

  // Parquet: the sink vs DuckDB reading the same values and writing Parquet.
  const parquetMs = recover(['--topic', topic, '--value-format', 'json', '--sink', `file:${join(work, 'out.parquet')}`, '--quarantine', `file:${join(work, 'q-pq.jsonl')}`, '--checkpoint', join(work, 'cp-pq.json')], brokers)
  const duck = await DuckDBInstance.create(':memory:')
  const connection = await duck.connect()
  const duckStarted = Date.now()
  await connection.run(`COPY (SELECT * FROM read_json('${files.jsonl}', format = 'newline_delimited')) TO '${join(work, 'anchor.parquet')}' (FORMAT parquet)`)
  const duckMs = Date.now() - duckStarted
  connection.closeSync()
  duck.closeSync()
  line('Parquet', parquetMs, 'DuckDB COPY', duckMs, '>= 0.8x')
  const pqSinkMs = await sinkOnly(DuckDbSink.parquet(join(work, 'sink-only.parquet')))
  line('  the Parquet sink alone (in-memory records)', pqSinkMs, 'DuckDB COPY', duckMs, '>= 0.8x')

  // Kafka: --exactly-once vs the plain idempotent replay.
  const plainMs = recover(['--topic', topic, '--sink', `kafka:${topic}.plain`, '--quarantine', `file:${join(work, 'q-k1.jsonl')}`, '--checkpoint', join(work, 'cp-k1.json')], brokers)
  const eosMs = recover(['--topic', topic, '--sink', `kafka:${topic}.eos`, '--exactly-once', '--quarantine', `file:${join(work, 'q-k2.jsonl')}`, '--checkpoint', join(work, 'cp-k2.json')], brokers)
  line('Kafka --exactly-once', eosMs, 'plain replay', plainMs, '>= 0.5x')
} finally {
  await client.end()
  await broker?.stop()
}
