/**
 * The S3 sink against an anchor measured on the same machine in the same run (target from
 * issue 20), both writing to the same real S3Proxy (Maven Central, filesystem backend):
 *   the S3 sink, Parquet objects (staged in DuckDB with the    vs  DuckDB's Appender into an in-memory
 *   progress, one object per partition, uploaded with the          table, COPY TO a local Parquet file,
 *   AWS SDK's multipart Upload)                                    and one upload of it (>= 0.7x)
 * Input: N JSON orders (about 300 bytes, 6 partitions) as SinkRecords in memory, written in
 * batches of 5000 with the progress committed at most once a second, as the replay commits
 * transactional sinks; the anchor appends the same rows value by value. Both upload through the
 * same SDK client settings (multipart in 8 MiB parts). Every object written is downloaded and
 * counted afterwards: each contender must have stored the N rows. --rounds N alternates the two
 * and reports medians.
 *
 *   node dist/test/bench/s3.bench.js [--records 1000000] [--rounds 1]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { DuckDBInstance } from '@duckdb/node-api'
import { CommitPacer, DEFAULT_COMMIT_INTERVAL_MS } from '../../src/core/commit-pacer.js'
import { createRng, partitionForKey } from '../../src/fixtures/index.js'
import { ObjectStore } from '../../src/s3/object-store.js'
import { parseS3Location } from '../../src/s3/s3-location.js'
import { S3Sink } from '../../src/sinks/s3-sink.js'
import type { CommittedProgress, SinkRecord } from '../../src/sinks/sink.js'
import { createBucket } from '../support/s3-objects.js'
import { startS3Proxy } from '../support/s3proxy.js'
import { appendOrderRow, DUCK_ORDERS_SHAPE, type Order } from './bench-orders.js'

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '1' },
  },
})
const N = Number(values.records)
const ROUNDS = Math.max(1, Number(values.rounds))
const PARTITIONS = 6
const BATCH = 5_000
const BUCKET = 'recover-bench'
const work = mkdtempSync(join(tmpdir(), 'recover-s3-bench-'))
process.env.RECOVER_HOME = work

interface Row {
  order: Order
  partition: number
  offset: bigint
}

function fixtureRows(): Row[] {
  const rng = createRng(11)
  const offsets = new Array<number>(PARTITIONS).fill(0)
  const rows: Row[] = []
  for (let i = 0; i < N; i++) {
    const o: Order = {
      order_id: `ord-${String(i).padStart(8, '0')}`,
      customer: `cust-${String(rng.int(20_000)).padStart(5, '0')}`,
      amount_cents: rng.between(1, 20_000),
      currency: 'EUR',
      status: 'PENDING',
      created_at: Date.UTC(2018, 2, 20) + i * 10,
      channel: 'web',
    }
    const p = partitionForKey(Buffer.from(o.order_id), PARTITIONS)
    rows.push({ order: o, partition: p, offset: BigInt(offsets[p]!++) })
  }
  return rows
}

function sinkRecords(rows: Row[]): SinkRecord[] {
  return rows.map(({ order: o, partition, offset }) => {
    const value = Buffer.from(JSON.stringify(o))
    return {
      key: Buffer.from(o.order_id),
      value,
      decodedKey: o.order_id,
      decodedValue: o,
      headers: [],
      timestamp: o.created_at,
      timestampType: 'create' as const,
      source: { topic: 'src', partition, offset },
    }
  })
}

/** The S3 sink alone: batches of 5000, the progress committed once a commit interval has passed and after the last batch, then finish(). */
async function s3Sink(prefix: string, all: SinkRecord[]): Promise<number> {
  const sink = new S3Sink(parseS3Location(`s3://${BUCKET}/${prefix}`), { key: 'string', value: 'json' })
  const progress = (batches: number): CommittedProgress => ({ partitions: [], quarantineState: {}, batches })
  const started = Date.now()
  await sink.open(undefined, { runId: `bench-${prefix}`, topic: 'src' })
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
  await sink.finish()
  await sink.close()
  return Date.now() - started
}

/** Anchor: the rows through the Appender into an in-memory table, COPY TO a local Parquet file, and one upload of it. */
async function duckCopyAndUpload(prefix: string, rows: Row[]): Promise<number> {
  const file = join(work, `${prefix}.parquet`)
  const store = new ObjectStore(parseS3Location(`s3://${BUCKET}/${prefix}`))
  const started = Date.now()
  const duck = await DuckDBInstance.create(':memory:')
  const connection = await duck.connect()
  try {
    await connection.run(`CREATE TABLE orders ${DUCK_ORDERS_SHAPE}`)
    const appender = await connection.createAppender('orders')
    for (const { order, partition, offset } of rows) appendOrderRow(appender, order, 'src', partition, offset)
    appender.flushSync()
    appender.closeSync()
    await connection.run(`COPY orders TO '${file}' (FORMAT parquet)`)
  } finally {
    connection.closeSync()
    duck.closeSync()
  }
  await store.upload(`${prefix}/orders.parquet`, file, 'application/vnd.apache.parquet')
  const ms = Date.now() - started
  store.close()
  rmSync(file, { force: true })
  return ms
}

/** The rows of every Parquet object under a prefix, downloaded and counted by DuckDB. */
async function storedRows(prefix: string): Promise<{ objects: number; rows: number }> {
  const store = new ObjectStore(parseS3Location(`s3://${BUCKET}/${prefix}`))
  const keys = (await store.list(`${prefix}/`)).map((o) => o.key).filter((k) => k.endsWith('.parquet'))
  const duck = await DuckDBInstance.create(':memory:')
  const connection = await duck.connect()
  let rows = 0
  try {
    for (const [i, key] of keys.entries()) {
      const file = join(work, `check-${i}.parquet`)
      await store.download(key, file)
      rows += Number((await connection.runAndReadAll(`SELECT count(*) FROM read_parquet('${file}')`)).getRows()[0]![0])
      rmSync(file, { force: true })
    }
  } finally {
    connection.closeSync()
    duck.closeSync()
    store.close()
  }
  return { objects: keys.length, rows }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const figure = (ms: number) => `${Math.round((N / ms) * 1000).toLocaleString('en-US')} rows/s (${(ms / 1000).toFixed(1)} s)`

const server = await startS3Proxy({ backend: 'filesystem' })
Object.assign(process.env, server.env)
try {
  await createBucket(server, BUCKET)
  const rows = fixtureRows()
  const records = sinkRecords(rows)
  const sinkMs: number[] = []
  const anchorMs: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which goes first, so neither always meets a warmer JVM or page cache.
    const order = round % 2 === 0 ? ['anchor', 'sink'] : ['sink', 'anchor']
    for (const which of order) {
      if (which === 'anchor') {
        const prefix = `anchor-${round}`
        anchorMs.push(await duckCopyAndUpload(prefix, rows))
        const stored = await storedRows(prefix)
        if (stored.rows !== N) throw new Error(`the anchor stored ${stored.rows} rows, not ${N}`)
      } else {
        const prefix = `sink-${round}`
        sinkMs.push(await s3Sink(prefix, records))
        const stored = await storedRows(prefix)
        if (stored.rows !== N) throw new Error(`the S3 sink stored ${stored.rows} rows, not ${N}`)
        if (round === 0) console.log(`  the S3 sink wrote ${stored.objects} Parquet objects (one per partition)`)
      }
    }
  }
  const s = median(sinkMs)
  const a = median(anchorMs)
  console.log(`${N.toLocaleString('en-US')} orders, ${PARTITIONS} partitions, ${ROUNDS} round(s), medians:`)
  console.log(
    `S3 sink, Parquet objects (in-memory records): ${figure(s)} vs DuckDB COPY to a local Parquet file + one upload ${figure(a)}: ${(a / s).toFixed(2)}x (target >= 0.7x)`,
  )
} finally {
  await server.stop()
  rmSync(work, { recursive: true, force: true })
}
