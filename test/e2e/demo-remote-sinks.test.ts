import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { runCli } from '../support/cli.js'
import { testBrokers } from '../support/kafka.js'
import { documentCount, startOpenSearch, type OpenSearchServer } from '../support/opensearch.js'
import { DuckAppendTable } from '../../src/duckdb/append-table.js'
import { ObjectStore } from '../../src/s3/object-store.js'
import { parseS3Location } from '../../src/s3/s3-location.js'
import { createBucket } from '../support/s3-objects.js'
import { startS3Proxy, type S3ProxyServer } from '../support/s3proxy.js'
import { withTimeout } from '../support/timeout.js'

/**
 * `recover demo --opensearch URL` and `--s3 s3://BUCKET/PREFIX` against a real OpenSearch and a
 * real S3Proxy (both started once for this file, side by side): the replay writes there, the
 * demo reads the sink back with audit compare, and its figures match what the server holds.
 */
const STEPS = ['groups-describe', 'peek', 'seek-dry-run', 'seek-execute', 'replay', 'quarantine-list', 'audit-compare', 'audit-duplicates']
const bucket = `recover-demo-${Date.now().toString(36)}`
let search: OpenSearchServer
let s3: S3ProxyServer

test.before(
  withTimeout(300_000, async () => {
    ;[search, s3] = await Promise.all([startOpenSearch(), startS3Proxy({ backend: 'transient' })])
    await createBucket(s3, bucket)
    // This process reads the objects back the AWS way too: credentials, region and endpoint from the environment.
    Object.assign(process.env, s3.env)
  }),
)

test.after(async () => {
  await Promise.all([search?.stop(), s3?.stop()])
})

/** The figures every sink must agree with: the window's records less the poison pills, every order id arrived. */
function assertFigures(demo: any): void {
  assert.equal(
    demo.steps.map((s: { id: string }) => s.id),
    STEPS,
  )
  const f = demo.figures
  assert.equal(f.replayed, {
    read: f.seeded.recordsInWindow,
    written: f.seeded.recordsInWindow - f.seeded.poisonPills,
    dropped: 0,
    quarantined: f.seeded.poisonPills,
  })
  assert.is(f.sink.missing, 0, JSON.stringify(f.sink))
}

test(
  'demo --opensearch URL indexes the corrected orders there, one document per order id, and audit compare finds them all',
  withTimeout(200_000, async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'recover-demo-os-'))
    try {
      const run = await runCli(['demo', '--brokers', testBrokers(), '--count', '500', '--opensearch', search.url, '--json'], { cwd, timeoutMs: 190_000 })
      assert.is(run.exitCode, 0, run.stderr.slice(-3000))
      const demo = run.json
      assertFigures(demo)
      const index = `${demo.topic}-fixed`
      assert.is(demo.sink, `opensearch://127.0.0.1:${search.port}/${index}`)
      // Duplicated order ids are one document each (ids from the record key).
      const documents = await documentCount(search, index)
      assert.is(documents, demo.figures.replayed.written - demo.figures.duplicates.keys)
      assert.is(demo.figures.sink.keys, documents)
    } finally {
      rmSync(cwd, { recursive: true, force: true })
    }
  }),
)

test(
  'demo --s3 s3://BUCKET/PREFIX writes the corrected orders as Parquet objects under PREFIX/<topic>-fixed, credentials the AWS way',
  withTimeout(200_000, async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'recover-demo-s3-'))
    try {
      const run = await runCli(['demo', '--brokers', testBrokers(), '--count', '500', '--s3', `s3://${bucket}/demo`, '--json'], {
        cwd,
        timeoutMs: 190_000,
        env: s3.env,
      })
      assert.is(run.exitCode, 0, run.stderr.slice(-3000))
      const demo = run.json
      assertFigures(demo)
      assert.is(demo.sink, `s3://${bucket}/demo/${demo.topic}-fixed?overwrite=true`)
      // Every written record is in exactly one object.
      assert.is(demo.figures.sink.rows, demo.figures.replayed.written)
      assert.is(await parquetRowsUnder(demo.sink), demo.figures.replayed.written)
    } finally {
      rmSync(cwd, { recursive: true, force: true })
    }
  }),
)

/** Rows of every Parquet object under an s3:// location, each downloaded and counted by DuckDB. */
async function parquetRowsUnder(location: string): Promise<number> {
  const parsed = parseS3Location(location)
  const store = new ObjectStore(parsed)
  const db = await DuckAppendTable.open(':memory:')
  const dir = mkdtempSync(join(tmpdir(), 'recover-demo-s3-read-'))
  try {
    const keys = (await store.list(`${parsed.prefix}/`)).map((o) => o.key).filter((k) => k.endsWith('.parquet'))
    assert.ok(keys.length > 0, `no Parquet objects under ${location}`)
    let rows = 0
    for (const [i, key] of keys.entries()) {
      const file = join(dir, `${i}.parquet`)
      await store.download(key, file)
      rows += Number((await db.rows(`SELECT count(*) FROM read_parquet('${file}')`))[0]![0])
    }
    return rows
  } finally {
    db.close()
    store.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

test('demo --opensearch with a URL that is not http(s) is a usage error naming the flag', async () => {
  const run = await runCli(['demo', '--brokers', testBrokers(), '--count', '100', '--opensearch', 'search:9200', '--json'])
  assert.is(run.exitCode, 2, run.stdout + run.stderr)
  assert.match(run.stdout + run.stderr, /BAD_SINK_URI/)
  assert.match(run.stdout + run.stderr, /--opensearch search:9200 is not an http\(s\):\/\/ URL/)
})

test.run()
