/**
 * The database sinks and --exactly-once against anchors measured on the same machine in the
 * same run (targets from issue 6):
 *   the PostgreSQL sink (upsert on order_id)  vs  a minimal `pg` COPY of the same rows
 *                                                 (>= 50,000 rows/s and >= 0.5x)
 *   the Parquet sink (through DuckDB staging)  vs  the plain DuckDB path: the same rows through
 *                                                 DuckDB's Appender into an in-memory table,
 *                                                 then COPY TO parquet (>= 0.8x)
 *   Kafka --exactly-once                       vs  the same replay without it (>= 0.5x)
 * Input: N JSON orders (about 300 bytes, 6 partitions). Each database sink is measured twice:
 * alone (the orders as SinkRecords in memory, written in batches of 5000 with the progress
 * committed at most once a second and after the last batch, as the replay does with its
 * default --commit-interval), and end to end (`recover replay` from the topic, a fresh CLI
 * process timed wall-clock). Both anchors stream the same in-memory rows (the order fields
 * plus source_topic, source_partition, source_offset) from Node, timed from connecting to
 * done; the PostgreSQL anchor writes a table of the same shape with the same primary key.
 * End to end, `recover replay` is also set against the same writes behind a minimal kafkajs
 * consumer (kafkajs-to-db.ts: eachBatch, JSON.parse, one COPY per fetched batch / the Appender),
 * as replay.bench sets the replay against a minimal kafkajs pipe: reading is in both.
 * Every table and Parquet file written is counted afterwards: each must hold the N rows.
 * Native references are printed as context, not as anchors: `psql \copy` of the rows from a
 * CSV file (a C client) and DuckDB's COPY from a JSONL file (DuckDB's own parser, no Node).
 *
 * With --baseline DIR (another built checkout of recover, e.g. the commit before a change), its
 * `recover replay` into PostgreSQL runs too, interleaved with this one's and the anchor in each
 * round: before and after in one run. --rounds N repeats the PostgreSQL end-to-end contenders
 * (recover, baseline, pg COPY) N times in alternating order and reports medians; --only
 * postgres|parquet|kafka runs one section.
 *
 *   node dist/test/bench/sinks.bench.js [--records 1000000] [--postgres postgres://postgres@127.0.0.1:5432/test]
 *        [--rounds 1] [--baseline DIR] [--only postgres]
 */
import { spawnSync } from 'node:child_process'
import { createWriteStream, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { parseArgs } from 'node:util'
import { DuckDBInstance } from '@duckdb/node-api'
import { Kafka, logLevel } from 'kafkajs'
import pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import { produceRecords, type ProducibleRecord } from '../../src/kafka/produce-records.js'
import { createRng, partitionForKey } from '../../src/fixtures/index.js'
import { startLocalKafka, type LocalKafka } from '../../src/local-kafka/index.js'
import { repoRoot } from '../support/paths.js'
import { PostgresSink } from '../../src/sinks/postgres-sink.js'
import { DuckDbSink } from '../../src/sinks/duckdb-sink.js'
import type { CommittedProgress, Sink, SinkRecord } from '../../src/sinks/sink.js'
import { parseSinkLocation } from '../../src/sinks/registry.js'
import type { PostgresLocation } from '../../src/core/location.js'
import { CommitPacer, DEFAULT_COMMIT_INTERVAL_MS } from '../../src/core/commit-pacer.js'
import { appendOrderRow, DUCK_ORDERS_SHAPE, type Order } from './bench-orders.js'

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    postgres: { type: 'string', default: process.env.RECOVER_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test' },
    rounds: { type: 'string', default: '1' },
    baseline: { type: 'string' },
    only: { type: 'string' },
  },
})
const ROUNDS = Math.max(1, Number(values.rounds))
const runs = (section: 'postgres' | 'parquet' | 'kafka') => values.only === undefined || values.only.split(',').includes(section)
const N = Number(values.records)
const PG = values.postgres!
const PARTITIONS = 6
const BATCH = 5_000
const work = mkdtempSync(join(tmpdir(), 'recover-sinks-bench-'))
const stamp = `${Date.now().toString(36)}`

/** An order with where it sits in the topic: one row of every table below. */
interface Row {
  order: Order
  partition: number
  offset: bigint
}

/** The columns every contender writes, and the PostgreSQL anchor's table (key order_id). */
const TABLE_SHAPE =
  '(order_id text PRIMARY KEY, customer text, amount_cents bigint, currency text, status text, created_at bigint, channel text, source_topic text, source_partition bigint, source_offset bigint)'

function order(i: number, rng: ReturnType<typeof createRng>): Order {
  return {
    order_id: `ord-${String(i).padStart(8, '0')}`,
    customer: `cust-${String(rng.int(20_000)).padStart(5, '0')}`,
    amount_cents: rng.between(1, 20_000),
    currency: 'EUR',
    status: 'PENDING',
    created_at: Date.UTC(2018, 2, 20) + i * 10,
    channel: 'web',
  }
}

function* records(): Generator<ProducibleRecord> {
  const rng = createRng(11)
  for (let i = 0; i < N; i++) {
    const o = order(i, rng)
    const key = Buffer.from(o.order_id)
    yield {
      partition: partitionForKey(key, PARTITIONS),
      key,
      value: Buffer.from(JSON.stringify(o)),
      timestampMs: o.created_at,
      headers: { 'trace-id': rng.hex(16) },
    }
  }
}

/** The same orders as the topic holds, with their partition and offset there, in memory. */
function fixtureRows(): Row[] {
  const rng = createRng(11)
  const offsets = new Array<number>(PARTITIONS).fill(0)
  const rows: Row[] = []
  for (let i = 0; i < N; i++) {
    const o = order(i, rng)
    const p = partitionForKey(Buffer.from(o.order_id), PARTITIONS)
    rows.push({ order: o, partition: p, offset: BigInt(offsets[p]!++) })
  }
  return rows
}

/** The same values as files, for the native references: a CSV for psql \copy (with the provenance columns) and JSONL for DuckDB. */
async function referenceFiles(rows: Row[]): Promise<{ csv: string; jsonl: string }> {
  const csv = join(work, 'orders.csv')
  const jsonl = join(work, 'orders.jsonl')
  const c = createWriteStream(csv)
  const j = createWriteStream(jsonl)
  for (const { order: o, partition, offset } of rows) {
    const line = `${o.order_id},${o.customer},${o.amount_cents},${o.currency},${o.status},${o.created_at},${o.channel},src,${partition},${offset}\n`
    if (!c.write(line)) await new Promise<void>((res) => c.once('drain', () => res()))
    if (!j.write(`${JSON.stringify(o)}\n`)) await new Promise<void>((res) => j.once('drain', () => res()))
  }
  await Promise.all([new Promise<void>((res) => c.end(() => res())), new Promise<void>((res) => j.end(() => res()))])
  return { csv, jsonl }
}

function recover(args: string[], brokers: string, root = repoRoot()): number {
  const started = Date.now()
  // RECOVER_BENCH_NODE_ARGS: node options for the replay alone, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to see where its time goes.
  const nodeArgs = process.env.RECOVER_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []
  const result = spawnSync(process.execPath, [...nodeArgs, join(root, 'bin', 'run.js'), 'replay', '--brokers', brokers, ...args, '--json'], {
    cwd: work,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  })
  const ms = Date.now() - started
  if (result.status !== 0) throw new Error(`recover replay ${args.join(' ')} failed: ${result.stdout.slice(-2000)}${result.stderr.slice(-2000)}`)
  const summary = JSON.parse(result.stdout) as { totals: { written: number }; elapsedMs: number }
  if (summary.totals.written !== N) throw new Error(`recover wrote ${summary.totals.written} of ${N}`)
  console.log(
    `  ${root === repoRoot() ? 'recover' : `baseline ${root}`} ${args[args.indexOf('--sink') + 1]}: ${(ms / 1000).toFixed(1)} s wall, ${(summary.elapsedMs / 1000).toFixed(1)} s in the replay itself`,
  )
  return ms
}

/** The rows as the replay hands them to a sink: decoded values with their provenance. */
function sinkRecords(rows: Row[]): SinkRecord[] {
  return rows.map(({ order: o, partition, offset }) => ({
    key: null,
    value: null,
    decodedKey: null,
    decodedValue: o,
    headers: [],
    timestamp: o.created_at,
    timestampType: 'create',
    source: { topic: 'src', partition, offset },
  }))
}

/**
 * The sink alone, without Kafka or decoding: the records written in batches of 5000, the
 * progress committed when a commit interval has passed since the last commit and after the
 * last batch (before finish), as the replay commits transactional sinks.
 */
async function sinkOnly(sink: Sink, all: SinkRecord[]): Promise<number> {
  const progress = (batches: number): CommittedProgress => ({ partitions: [], quarantineState: {}, batches })
  const started = Date.now()
  await sink.open(undefined, { runId: `bench-${stamp}-${Math.random()}`, topic: 'src' })
  const pacer = new CommitPacer(DEFAULT_COMMIT_INTERVAL_MS)
  let batches = 0
  for (let i = 0; i < all.length; i += BATCH) {
    await sink.write(all.slice(i, i + BATCH))
    batches++
    if (pacer.written()) {
      await sink.checkpoint(progress(batches))
      pacer.committed()
    }
  }
  if (pacer.uncommitted) await sink.checkpoint(progress(batches))
  await sink.finish?.()
  await sink.close()
  return Date.now() - started
}

/** A text field in COPY's text format: backslash, tab and line breaks escaped. */
function copyField(text: string): string {
  return /[\\\t\n\r]/.test(text) ? text.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r') : text
}

/** The rows as COPY text, a chunk of lines per batch. */
function* copyChunks(rows: Row[]): Generator<string> {
  for (let i = 0; i < rows.length; i += BATCH) {
    let chunk = ''
    for (const { order: o, partition, offset } of rows.slice(i, i + BATCH)) {
      chunk += `${copyField(o.order_id)}\t${copyField(o.customer)}\t${o.amount_cents}\t${copyField(o.currency)}\t${copyField(o.status)}\t${o.created_at}\t${copyField(o.channel)}\tsrc\t${partition}\t${offset}\n`
    }
    yield chunk
  }
}

/** Anchor: a minimal `pg` COPY (pg-copy-streams) of the same rows into `table`, from connecting to done. */
async function pgCopy(table: string, rows: Row[]): Promise<number> {
  const started = Date.now()
  const client = new pg.Client({ connectionString: PG })
  await client.connect()
  try {
    await pipeline(Readable.from(copyChunks(rows)), client.query(copyFrom(`COPY ${table} FROM STDIN`)))
  } finally {
    await client.end()
  }
  return Date.now() - started
}

/** Anchor: the plain DuckDB path, the same rows through the Appender into an in-memory table, then COPY TO parquet. */
async function duckPlain(rows: Row[], parquet: string): Promise<number> {
  const started = Date.now()
  const duck = await DuckDBInstance.create(':memory:')
  const connection = await duck.connect()
  try {
    await connection.run(`CREATE TABLE orders ${DUCK_ORDERS_SHAPE}`)
    const appender = await connection.createAppender('orders')
    for (const { order, partition, offset } of rows) appendOrderRow(appender, order, 'src', partition, offset)
    appender.flushSync()
    appender.closeSync()
    await connection.run(`COPY orders TO '${parquet}' (FORMAT parquet)`)
  } finally {
    connection.closeSync()
    duck.closeSync()
  }
  return Date.now() - started
}

/** Every contender must have written every row: a fast wrong result is no anchor. */
function expectAll(what: string, count: number | bigint | string): void {
  if (Number(count) !== N) throw new Error(`${what} holds ${count} rows, not ${N}`)
}

async function parquetRows(path: string): Promise<bigint> {
  const duck = await DuckDBInstance.create(':memory:')
  const connection = await duck.connect()
  try {
    return (await connection.runAndReadAll(`SELECT count(*) FROM read_parquet('${path}')`)).getRows()[0]![0] as bigint
  } finally {
    connection.closeSync()
    duck.closeSync()
  }
}

/** The end-to-end anchor: a minimal kafkajs consumer writing the topic with COPY / the Appender (kafkajs-to-db.ts), a fresh process timed wall-clock. */
function kafkajsToDb(brokers: string, topic: string, target: string): number {
  const started = Date.now()
  const result = spawnSync(process.execPath, [join(repoRoot(), 'dist', 'test', 'bench', 'kafkajs-to-db.js'), brokers, topic, target], {
    encoding: 'utf8',
    maxBuffer: 16 << 20,
  })
  const ms = Date.now() - started
  if (result.status !== 0) throw new Error(`kafkajs-to-db ${target} failed: ${result.stderr.slice(-2000)}`)
  expectAll(`kafkajs-to-db ${target}`, result.stdout.trim())
  return ms
}

function timed(run: () => void): number {
  const started = Date.now()
  run()
  return Date.now() - started
}

const rate = (ms: number) => Math.round((N / ms) * 1000)
const figure = (ms: number) => `${rate(ms).toLocaleString('en-US')} rows/s (${(ms / 1000).toFixed(1)} s)`
const line = (what: string, ms: number, anchor: string, anchorMs: number, target: string) =>
  console.log(`${what}: ${figure(ms)} vs ${anchor} ${figure(anchorMs)}: ${(anchorMs / ms).toFixed(2)}x (target ${target})`)
const context = (what: string, ms: number) => console.log(`  context, not an anchor: ${what} ${figure(ms)}`)

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
  await admin.createTopics({
    waitForLeaders: true,
    topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: '-1' }] }],
  })
  await admin.disconnect()
  const producer = kafka.producer({
    allowAutoTopicCreation: false,
    createPartitioner:
      () =>
      ({ message }) =>
        message.partition ?? 0,
  })
  await producer.connect()
  await produceRecords(producer, topic, records(), { batchSize: 1000, maxInFlight: 6 })
  await producer.disconnect()
  const rows = fixtureRows()
  const inMemory = sinkRecords(rows)
  const files = await referenceFiles(rows)
  console.log(
    `${N.toLocaleString('en-US')} JSON orders over ${PARTITIONS} partitions; sinks alone: batches of ${BATCH}, committed at most every ${DEFAULT_COMMIT_INTERVAL_MS} ms`,
  )

  if (runs('postgres')) {
    // PostgreSQL: the upsert sink vs a minimal pg COPY of the same rows into a table of the same shape.
    const pgTarget = '>= 50,000 rows/s and >= 0.5x'
    const endToEndGoal = '>= 0.4x, issue 16'
    let tables = 0
    const table = (what: string) => `bench_${what}_${stamp}_${tables++}`
    const counted = async (t: string) => {
      expectAll(t, ((await client.query(`SELECT count(*) AS n FROM ${t}`)).rows[0] as { n: string }).n)
      await client.query(`DROP TABLE ${t}`)
      // The replays' progress rows for the dropped table.
      // (A fresh database has no progress table until the first replay made it.)
      const progress = (await client.query(`SELECT to_regclass('recover_replay_checkpoints') AS t`)).rows[0] as { t: string | null }
      if (progress.t !== null) await client.query(`DELETE FROM recover_replay_checkpoints WHERE target = $1`, [t])
    }
    const replayInto = async (root: string | undefined) => {
      const t = table('upsert')
      const sink = `${PG}?table=${t}&key=order_id`
      const ms = recover(
        [
          '--topic',
          topic,
          '--value-format',
          'json',
          '--sink',
          sink,
          '--create-table',
          '--quarantine',
          `file:${join(work, `q-${t}.jsonl`)}`,
          '--checkpoint',
          join(work, `cp-${t}.json`),
        ],
        brokers!,
        root,
      )
      await counted(t)
      return ms
    }
    // The end-to-end contenders in alternating order, round by round: the machine's load at any moment falls on all of them.
    const samples = new Map<string, number[]>()
    const contenders: Record<string, () => Promise<number>> = {
      'pg COPY': async () => {
        const t = table('copy')
        await client.query(`CREATE TABLE ${t} ${TABLE_SHAPE}`)
        const ms = await pgCopy(t, rows)
        await counted(t)
        return ms
      },
      recover: () => replayInto(undefined),
      ...(values.baseline ? { baseline: () => replayInto(values.baseline) } : {}),
    }
    for (let round = 0; round < ROUNDS; round++) {
      const names = round % 2 === 0 ? Object.keys(contenders) : Object.keys(contenders).reverse()
      for (const name of names) {
        const ms = await contenders[name]!()
        samples.set(name, [...(samples.get(name) ?? []), ms])
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!
    const copyMs = median(samples.get('pg COPY')!)
    const upsertMs = median(samples.get('recover')!)
    if (ROUNDS > 1) for (const [name, xs] of samples) console.log(`  ${name}: ${xs.map((x) => (x / 1000).toFixed(1)).join(', ')} s (median of ${ROUNDS})`)
    line('PostgreSQL end to end (recover replay)', upsertMs, 'pg COPY of the same rows', copyMs, endToEndGoal)
    if (values.baseline) {
      const baselineMs = median(samples.get('baseline')!)
      line('PostgreSQL end to end (baseline replay)', baselineMs, 'pg COPY of the same rows', copyMs, endToEndGoal)
      console.log(`  recover / baseline: ${(baselineMs / upsertMs).toFixed(2)}x as fast`)
    }
    const sinkTable = table('sink')
    await client.query(`CREATE TABLE ${sinkTable} ${TABLE_SHAPE}`)
    const pgSinkMs = await sinkOnly(
      new PostgresSink(parseSinkLocation(`${PG}?table=${sinkTable}&key=order_id`) as PostgresLocation, { createTable: false }),
      inMemory,
    )
    await counted(sinkTable)
    line('PostgreSQL sink alone (in-memory records, upsert on order_id)', pgSinkMs, 'pg COPY of the same rows', copyMs, pgTarget)
    const pipeTable = table('pipe')
    await client.query(`CREATE TABLE ${pipeTable} ${TABLE_SHAPE}`)
    const pipeMs = kafkajsToDb(brokers, topic, `${PG}?table=${pipeTable}`)
    await counted(pipeTable)
    line('PostgreSQL end to end (recover replay)', upsertMs, 'a kafkajs consumer with pg COPY per batch', pipeMs, pgTarget)
    const psqlTable = table('psql')
    await client.query(`CREATE TABLE ${psqlTable} ${TABLE_SHAPE}`)
    const psqlMs = timed(() => {
      const copy = spawnSync('psql', [PG, '-v', 'ON_ERROR_STOP=1', '-c', `\\copy ${psqlTable} FROM '${files.csv}' WITH (FORMAT csv)`], { encoding: 'utf8' })
      if (copy.status !== 0) throw new Error(`psql \\copy failed: ${copy.stderr}`)
    })
    await counted(psqlTable)
    context('psql \\copy of the same rows from a CSV file (a C client)', psqlMs)
  }

  if (runs('parquet')) {
    // Parquet: the sink vs the plain DuckDB path over the same rows.
    const duckMs = await duckPlain(rows, join(work, 'anchor.parquet'))
    const pqSinkMs = await sinkOnly(DuckDbSink.parquet(join(work, 'sink-only.parquet')), inMemory)
    for (const f of ['anchor.parquet', 'sink-only.parquet']) expectAll(f, await parquetRows(join(work, f)))
    line('Parquet sink alone (in-memory records)', pqSinkMs, 'DuckDB Appender + COPY TO parquet', duckMs, '>= 0.8x')
    const parquetMs = recover(
      [
        '--topic',
        topic,
        '--value-format',
        'json',
        '--sink',
        `file:${join(work, 'out.parquet')}`,
        '--quarantine',
        `file:${join(work, 'q-pq.jsonl')}`,
        '--checkpoint',
        join(work, 'cp-pq.json'),
      ],
      brokers,
    )
    line('Parquet end to end (recover replay)', parquetMs, 'DuckDB Appender + COPY TO parquet', duckMs, '>= 0.8x')
    const pipeParquetMs = kafkajsToDb(brokers, topic, `file:${join(work, 'pipe.parquet')}`)
    expectAll('pipe.parquet', await parquetRows(join(work, 'pipe.parquet')))
    line('Parquet end to end (recover replay)', parquetMs, 'a kafkajs consumer with the DuckDB Appender + COPY TO parquet', pipeParquetMs, '>= 0.8x')
    const readJson = await DuckDBInstance.create(':memory:')
    const connection = await readJson.connect()
    const readJsonMs = Date.now()
    await connection.run(
      `COPY (SELECT * FROM read_json('${files.jsonl}', format = 'newline_delimited')) TO '${join(work, 'read-json.parquet')}' (FORMAT parquet)`,
    )
    context('DuckDB COPY (read_json of a JSONL file -> Parquet, no Node)', Date.now() - readJsonMs)
    connection.closeSync()
    readJson.closeSync()
  }

  if (runs('kafka')) {
    // Kafka: --exactly-once vs the plain idempotent replay.
    const plainMs = recover(
      ['--topic', topic, '--sink', `kafka:${topic}.plain`, '--quarantine', `file:${join(work, 'q-k1.jsonl')}`, '--checkpoint', join(work, 'cp-k1.json')],
      brokers,
    )
    const eosMs = recover(
      [
        '--topic',
        topic,
        '--sink',
        `kafka:${topic}.eos`,
        '--exactly-once',
        '--quarantine',
        `file:${join(work, 'q-k2.jsonl')}`,
        '--checkpoint',
        join(work, 'cp-k2.json'),
      ],
      brokers,
    )
    line('Kafka --exactly-once', eosMs, 'plain replay', plainMs, '>= 0.5x')
  }
} finally {
  await client.end()
  await broker?.stop()
}
