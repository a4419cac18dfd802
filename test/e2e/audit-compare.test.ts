import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import pg from 'pg'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { seedIncident } from '../../src/fixtures/seed-incident.js'
import type { IncidentTruth } from '../../src/fixtures/index.js'
import { envelopeLine } from '../../src/files/envelope.js'
import { runCli } from '../support/cli.js'
import { createTopic, produce, testBrokers, testKafka, uniqueName } from '../support/kafka.js'
import { withTimeout } from '../support/timeout.js'

/**
 * `recover audit compare` against every kind of sink, each holding the same rows: the fixture
 * topic as an upsert sink would keep it (the newest copy of each key, with its source
 * partition and offset), minus three rows the test deleted, one key inserted twice, one key
 * kept from its older copy (stale), and one key the source never had.
 */
const PG_URL = process.env.RECOVER_TEST_POSTGRES ?? 'postgres://root@127.0.0.1:5432/test'

interface SourceRow {
  key: string
  partition: number
  offset: number
}

let topic = ''
let truth: IncidentTruth
let dir = ''
let source: SourceRow[] = []
let sinkRows: Array<{ key: string; partition: number | null; offset: number | null }> = []
let deleted: SourceRow[] = []
let twiceKey = ''
let stale: SourceRow
const GHOST = 'ghost-0000001'
const pgTable = `audit_cmp_${Date.now().toString(36)}`

test.before(async () => {
  topic = uniqueName('e2e-audit-cmp')
  dir = mkdtempSync(join(tmpdir(), 'recover-audit-cmp-'))
  truth = (await seedIncident({ kafka: testKafka(), topic, count: 2_000, replicationFactor: 1 })).truth
  // What the topic holds, read by kcat (not by recover).
  const lines = execFileSync('kcat', ['-C', '-b', testBrokers(), '-t', topic, '-e', '-q', '-f', '%k\t%p\t%o\n'], { encoding: 'utf8', timeout: 60_000 })
    .split('\n')
    .filter((l) => l !== '')
  source = lines.map((l) => {
    const [key, p, o] = l.split('\t')
    return { key: key!, partition: Number(p), offset: Number(o) }
  })
  assert.is(source.length, truth.count)

  // An upsert sink keeps the newest copy of each key (copies of a key share a partition).
  const newest = new Map<string, SourceRow>()
  for (const r of source) if (!newest.has(r.key) || newest.get(r.key)!.offset < r.offset) newest.set(r.key, r)
  const duplicateKeys = new Set(truth.duplicates.map((d) => d.key))
  const plain = [...newest.values()].filter((r) => !duplicateKeys.has(r.key)).sort((a, b) => a.partition - b.partition || a.offset - b.offset)
  deleted = [plain[10]!, plain[500]!, plain[1_500]!]
  twiceKey = plain[700]!.key
  const staleDup = truth.duplicates[0]!
  stale = { key: staleDup.key, partition: staleDup.partition, offset: Number(staleDup.offset) }
  sinkRows = []
  for (const r of newest.values()) {
    if (deleted.some((d) => d.key === r.key)) continue
    const row = r.key === stale.key ? { key: r.key, partition: stale.partition, offset: Number(staleDup.original.offset) } : r
    sinkRows.push({ key: row.key, partition: row.partition, offset: row.offset })
    if (r.key === twiceKey) sinkRows.push({ key: row.key, partition: row.partition, offset: row.offset })
  }
  sinkRows.push({ key: GHOST, partition: null, offset: null })

  const client = new pg.Client({ connectionString: PG_URL })
  await client.connect()
  try {
    await client.query(`CREATE TABLE ${pgTable} (order_id text, source_partition int, source_offset bigint, note text)`)
    await client.query(`INSERT INTO ${pgTable} (order_id, source_partition, source_offset) SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[])`, [
      sinkRows.map((r) => r.key),
      sinkRows.map((r) => r.partition),
      sinkRows.map((r) => r.offset),
    ])
  } finally {
    await client.end()
  }

  // The same rows as DuckDB table, JSONL, CSV and Parquet files.
  const csv = ['order_id,source_partition,source_offset', ...sinkRows.map((r) => `${r.key},${r.partition ?? ''},${r.offset ?? ''}`)].join('\n')
  writeFileSync(join(dir, 'sink.csv'), `${csv}\n`)
  writeFileSync(
    join(dir, 'sink.jsonl'),
    `${sinkRows.map((r) => JSON.stringify({ order_id: r.key, source_partition: r.partition, source_offset: r.offset })).join('\n')}\n`,
  )
  const duck = await DuckDBInstance.create(join(dir, 'sink.duckdb'))
  const c = await duck.connect()
  await c.run(`CREATE TABLE delivered AS SELECT * FROM read_csv('${join(dir, 'sink.csv')}', header = true, all_varchar = true)`)
  await c.run(`COPY delivered TO '${join(dir, 'sink.parquet')}' (FORMAT parquet)`)
  c.closeSync()
  duck.closeSync()
  // recover's own envelope (what replay --sink file:X.jsonl writes): provenance is partition/offset.
  writeFileSync(
    join(dir, 'envelope.jsonl'),
    sinkRows
      .filter((r) => r.partition !== null)
      .map((r) =>
        envelopeLine({
          topic,
          partition: r.partition!,
          offset: BigInt(r.offset!),
          timestampMs: 0,
          timestampType: 'create',
          key: Buffer.from(r.key),
          value: null,
          headers: [],
        }),
      )
      .join(''),
  )
})

test.after(async () => {
  rmSync(dir, { recursive: true, force: true })
  const client = new pg.Client({ connectionString: PG_URL })
  await client.connect()
  await client.query(`DROP TABLE IF EXISTS ${pgTable}`)
  await client.end()
})

const keysOf = (xs: Array<{ key: string }>) => xs.map((x) => x.key).sort()
const at = (xs: Array<{ partition: number; offset: string }>) => xs.map((x) => `${x.partition}@${x.offset}`).sort()

function expectFindings(r: any, withProvenance: boolean): void {
  assert.is(r.totals.sourceRecords, truth.count)
  assert.is(r.totals.missing, deleted.length)
  assert.equal(keysOf(r.missing), keysOf(deleted))
  assert.equal(
    r.missing.map((m: { first: { partition: number; offset: string } }) => `${m.first.partition}@${m.first.offset}`).sort(),
    deleted.map((d) => `${d.partition}@${d.offset}`).sort(),
  )
  assert.is(r.totals.twice, 1)
  assert.equal(keysOf(r.twice), [twiceKey])
  assert.is(r.twice[0].rows, 2)
  assert.is(r.totals.onlyInSink, 1)
  assert.equal(keysOf(r.onlyInSink), [GHOST])
  if (withProvenance) {
    // The deleted rows' offsets, and the newest copy of the stale key (the sink kept the older one).
    assert.equal(at(r.lost), [...deleted, stale].map((d) => `${d.partition}@${d.offset}`).sort())
    assert.is(r.totals.lost, deleted.length + 1)
    assert.is(r.totals.stale, 1)
    assert.is(r.lost.find((l: { key: string }) => l.key === stale.key).keyInSink, true)
  } else {
    assert.is(r.lost, null)
    assert.is(r.totals.lost, null)
  }
}

const compare = (sink: string, ...extra: string[]) =>
  runCli(['audit', 'compare', '--topic', topic, '--key', 'key', '--sink', sink, '--db', join(dir, 'audit.duckdb'), '--json', ...extra], { timeoutMs: 90_000 })

test(
  'PostgreSQL: exactly the deleted keys missing with their offsets, the inserted duplicate, the stale key and the extra key',
  withTimeout(120_000, async () => {
    const run = await compare(`${PG_URL}?table=${pgTable}`, '--sink-key', 'order_id')
    assert.is(run.exitCode, 0, run.stderr)
    assert.is(run.json.sinkKey, 'order_id')
    assert.equal(run.json.provenance, { partition: 'source_partition', offset: 'source_offset' })
    assert.is(run.json.totals.sinkRows, sinkRows.length)
    expectFindings(run.json, true)
  }),
)

test(
  'a DuckDB table, JSONL, CSV and Parquet files give the same findings',
  withTimeout(180_000, async () => {
    for (const sink of [
      `duckdb:${join(dir, 'sink.duckdb')}?table=delivered`,
      join(dir, 'sink.jsonl'),
      `file:${join(dir, 'sink.csv')}`,
      join(dir, 'sink.parquet'),
    ]) {
      const run = await compare(sink, '--sink-key', 'order_id')
      assert.is(run.exitCode, 0, `${sink}: ${run.stderr}`)
      expectFindings(run.json, true)
    }
  }),
)

test(
  "recover's lossless envelope is recognised: key from base64, provenance from partition/offset",
  withTimeout(60_000, async () => {
    const run = await compare(join(dir, 'envelope.jsonl'))
    assert.is(run.exitCode, 0, run.stderr)
    assert.equal(run.json.provenance, { partition: 'partition', offset: 'offset' })
    const r = run.json
    assert.equal(keysOf(r.missing), keysOf(deleted))
    assert.equal(keysOf(r.twice), [twiceKey])
    assert.is(r.totals.onlyInSink, 0)
    assert.equal(at(r.lost), [...deleted, stale].map((d) => `${d.partition}@${d.offset}`).sort())
  }),
)

test(
  'another Kafka topic with --mirror-match key: keys missing, twice and only there (keys only, so no lost offsets)',
  withTimeout(120_000, async () => {
    const mirror = uniqueName('e2e-audit-cmp-mirror')
    await createTopic(mirror, 2)
    await produce(
      mirror,
      sinkRows.map((r, i) => ({ partition: i % 2, key: r.key, value: 'x', timestampMs: 1_700_000_000_000 + i })),
    )
    const run = await compare(`kafka:${mirror}`, '--mirror-match', 'key')
    assert.is(run.exitCode, 0, run.stderr)
    expectFindings(run.json, false)
  }),
)

test(
  '--fail-on missing>0 exits 3, --report lists every finding, and the run is in the history',
  withTimeout(120_000, async () => {
    const report = join(dir, 'compare.csv')
    const db = join(dir, 'compare-history.duckdb')
    const run = await runCli([
      'audit',
      'compare',
      '--topic',
      topic,
      '--key',
      'key',
      '--sink',
      `${PG_URL}?table=${pgTable}`,
      '--sink-key',
      'order_id',
      '--report',
      report,
      '--fail-on',
      'missing>0,twice>5',
      '--db',
      db,
      '--json',
    ])
    assert.is(run.exitCode, 3, run.stderr)
    assert.is(run.json.failOn.passed, false)
    assert.equal(
      run.json.failOn.exceeded.map((e: { metric: string; actual: number }) => `${e.metric}=${e.actual}`),
      [`missing=${deleted.length}`],
    )
    const { readFileSync } = await import('node:fs')
    const lines = readFileSync(report, 'utf8').trim().split('\n')
    assert.is(lines[0], 'finding,key,copies,kind,partition,offset,timestamp,detail')
    const findings = lines.slice(1).map((l) => l.split(',')[0])
    assert.is(findings.filter((f) => f === 'missing').length, deleted.length)
    assert.is(findings.filter((f) => f === 'twice').length, 2)
    assert.is(findings.filter((f) => f === 'only-in-sink').length, 1)
    assert.is(findings.filter((f) => f === 'lost-offset').length, deleted.length + 1)
    const history = await runCli(['audit', 'history', '--db', db, '--topic', topic, '--json'])
    const last = history.json.topics[0].recent[0]
    assert.equal(
      [last.audit, last.missing, last.twice, last.onlyInSink, last.lost, last.exceeded],
      ['compare', deleted.length, 1, 1, deleted.length + 1, ['missing>0']],
    )
  }),
)

test(
  'bad input: a sink key column that does not exist names the columns; a missing table or file is exit 5; a bad URI exit 2',
  withTimeout(60_000, async () => {
    const noColumn = await compare(`${PG_URL}?table=${pgTable}`)
    assert.is(noColumn.exitCode, 2)
    assert.is(noColumn.json.error.code, 'UNKNOWN_KEY_FIELD')
    assert.match(noColumn.json.error.message, /order_id, source_partition, source_offset, note/)
    const noTable = await compare(`${PG_URL}?table=no_such_table_here`, '--sink-key', 'order_id')
    assert.is(noTable.exitCode, 5)
    assert.is(noTable.json.error.code, 'AUDIT_SINK_UNREADABLE')
    const noFile = await compare(join(dir, 'nothing.parquet'), '--sink-key', 'order_id')
    assert.is(noFile.exitCode, 5)
    assert.is(noFile.json.error.code, 'AUDIT_SINK_UNREADABLE')
    const badUri = await compare('mysql://x/y', '--sink-key', 'order_id')
    assert.is(badUri.exitCode, 2)
    assert.is(badUri.json.error.code, 'BAD_SINK_URI')
  }),
)

test.run()
