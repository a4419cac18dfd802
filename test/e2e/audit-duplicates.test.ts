import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseString } from 'fast-csv'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { seedIncident } from '../../src/fixtures/seed-incident.js'
import type { IncidentTruth } from '../../src/fixtures/index.js'
import { parseKeySelector } from '../../src/core/audit-key.js'
import { auditDuplicates } from '../../src/services/audit-duplicates.js'
import { runCli } from '../support/cli.js'
import { createTopic, produce, testBrokers, testKafka, uniqueName, withGateway } from '../support/kafka.js'
import { repoRoot } from '../support/paths.js'
import { progressLineProblems } from '../support/progress-schema.js'
import { withTimeout } from '../support/timeout.js'

/** `recover audit duplicates` on the seeded fixture incident, against its ground truth and kcat. */
const SCHEMAS = join(repoRoot(), 'fixtures', 'schemas')
const AVRO = ['--value-format', 'avro', '--schema', SCHEMAS]

interface Position {
  partition: number
  offset: string
  timestamp: string
}
interface GroupJson {
  key: string
  copies: number
  kind: string
  first: Position
  last: Position
  offsets: Position[]
}

let topic = ''
let truth: IncidentTruth
let dir = ''

test.before(async () => {
  topic = uniqueName('e2e-audit-dup')
  dir = mkdtempSync(join(tmpdir(), 'recover-audit-'))
  truth = (await seedIncident({ kafka: testKafka(), topic, count: 4_000, replicationFactor: 1 })).truth
})

const db = () => join(dir, 'audit.duckdb')

test.after(() => {
  rmSync(dir, { recursive: true, force: true })
})

/** The fixture's duplicates as "key p@offset,p@offset kind", from the ground truth. */
function truthGroups(filter: (d: IncidentTruth['duplicates'][number]) => boolean = () => true): string[] {
  return truth.duplicates
    .filter(filter)
    .map((d) => `${d.key} ${d.partition}@${d.original.offset},${d.partition}@${d.offset} ${d.kind === 'duplicate-identical' ? 'identical' : 'changed'}`)
    .sort()
}

function auditGroups(groups: GroupJson[]): string[] {
  return groups.map((g) => `${g.key} ${g.offsets.map((o) => `${o.partition}@${o.offset}`).join(',')} ${g.kind}`).sort()
}

/** The independent oracle: kcat prints every key, and duplicates are the lines that repeat. */
function kcatDuplicateKeys(t: string): Map<string, number> {
  const out = execFileSync('kcat', ['-C', '-b', testBrokers(), '-t', t, '-e', '-q', '-f', '%k\n'], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 60_000 })
  const counts = new Map<string, number>()
  for (const key of out.split('\n').filter((l) => l !== '')) counts.set(key, (counts.get(key) ?? 0) + 1)
  return new Map([...counts].filter(([, n]) => n > 1))
}

test(
  'by record key: exactly the fixture duplicates (identical and changed, with their offsets), and kcat | uniq -d agrees',
  withTimeout(120_000, async () => {
    const run = await runCli(['audit', 'duplicates', '--topic', topic, '--key', 'key', '--db', db(), '--json'])
    assert.is(run.exitCode, 0, run.stderr)
    const r = run.json
    const identical = truth.duplicates.filter((d) => d.kind === 'duplicate-identical').length
    assert.is(r.totals.records, truth.count)
    assert.is(r.totals.duplicateKeys, truth.duplicates.length)
    assert.is(r.totals.extraCopies, truth.duplicates.length)
    assert.is(r.totals.identical, identical)
    assert.is(r.totals.changed, truth.duplicates.length - identical)
    assert.is(r.totals.sameValue, 0)
    assert.is(r.totals.undecodable, 0)
    assert.equal(auditGroups(r.duplicates), truthGroups())

    const oracle = kcatDuplicateKeys(topic)
    assert.equal([...oracle.keys()].sort(), (r.duplicates as GroupJson[]).map((g) => g.key).sort())
    for (const g of r.duplicates as GroupJson[]) assert.is(oracle.get(g.key), g.copies, g.key)

    // stdout was the one result; stderr streams the scan as documented NDJSON (docs/progress-events.md).
    const lines = run.stderr.split('\n').filter(Boolean)
    assert.equal(
      lines.flatMap((line) => progressLineProblems(line)),
      [],
    )
    const records = lines.map((line) => JSON.parse(line) as { type: string; records?: number | string })
    assert.equal(
      records.map((e) => e.type).filter((t) => t !== 'scan-progress'),
      ['scan-start', 'scan-done', 'analyse'],
    )
    assert.is(records.find((e) => e.type === 'scan-done')!.records, truth.count)
  }),
)

test(
  'a range larger than the audit may keep in memory goes through a temporary DuckDB file: the same findings, and the file removed',
  withTimeout(120_000, async () => {
    const scratch = mkdtempSync(join(dir, 'tmp-'))
    const inMemory = await withGateway((gateway) => auditDuplicates({ topic, key: parseKeySelector('key') }, { gateway, duckdb: { tempDirectory: scratch } }))
    const onDisk = await withGateway((gateway) =>
      auditDuplicates({ topic, key: parseKeySelector('key') }, { gateway, duckdb: { tempDirectory: scratch, rowsInMemory: 1_000 } }),
    )
    assert.is(onDisk.totals.records, truth.count)
    assert.equal(onDisk.totals, inMemory.totals)
    assert.equal(auditGroups(onDisk.duplicates as unknown as GroupJson[]), truthGroups())
    const left = readdirSync(scratch, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.duckdb') || f.endsWith('.wal'))
    assert.equal(left, [])
  }),
)

test(
  'DuckDB out of memory is an environment error with the knob to turn, not a bug',
  withTimeout(60_000, async () => {
    const run = await runCli(['audit', 'duplicates', '--topic', topic, '--key', 'key', '--no-history', '--json'], { env: { RECOVER_DUCKDB_MEMORY: '100KB' } })
    assert.is(run.exitCode, 5, run.stdout)
    assert.is(run.json.error.code, 'AUDIT_DB_FAILED')
    assert.match(run.json.error.message, /^DuckDB ran out of memory for this audit: [^\n]*\.$/)
    assert.not.match(run.json.error.message, /Possible solutions/)
    assert.match(run.json.error.nextSteps.join(' '), /RECOVER_DUCKDB_MEMORY/)
  }),
)

test(
  'by an Avro value field: the same duplicates, and every poison pill listed by offset as undecodable with its kind',
  withTimeout(120_000, async () => {
    const run = await runCli(['audit', 'duplicates', '--topic', topic, '--key', 'order_id', ...AVRO, '--db', db(), '--json'])
    assert.is(run.exitCode, 0, run.stderr)
    const r = run.json
    assert.equal(auditGroups(r.duplicates), truthGroups())
    assert.is(r.totals.undecodable, truth.poisonPills.length)
    assert.is(r.totals.keyed, truth.count - truth.poisonPills.length)
    const expected = truth.poisonPills.map((p) => `${p.partition}@${p.offset}`).sort()
    assert.equal((r.undecodable as Array<{ partition: number; offset: string; kind: string }>).map((u) => `${u.partition}@${u.offset}`).sort(), expected)
    for (const u of r.undecodable) assert.match(u.kind, /^avro-(truncated|bad-magic)$/)
    assert.is(
      Object.values(r.undecodableByKind as Record<string, number>).reduce((a, b) => a + b, 0),
      truth.poisonPills.length,
    )
  }),
)

test(
  '--within keeps only the copies that follow each other within the duration',
  withTimeout(120_000, async () => {
    const run = await runCli(['audit', 'duplicates', '--topic', topic, '--key', 'key', '--within', '15m', '--db', db(), '--json'])
    assert.is(run.exitCode, 0, run.stderr)
    assert.is(run.json.within, '15m')
    assert.equal(
      auditGroups(run.json.duplicates),
      truthGroups((d) => d.timestampMs - d.original.timestampMs <= 15 * 60_000),
    )
  }),
)

test(
  'the table shows the top offenders and the totals',
  withTimeout(60_000, async () => {
    const run = await runCli(['audit', 'duplicates', '--topic', topic, '--key', 'key', '--top', '2', '--db', db()])
    assert.is(run.exitCode, 0, run.stderr)
    assert.match(run.stdout, new RegExp(`Top 2 of ${truth.duplicates.length} duplicate groups`))
    assert.match(run.stdout, /KEY\s+COPIES\s+KIND\s+FIRST\s+LAST\s+SPREAD/)
    assert.match(run.stdout, new RegExp(`Totals: ${truth.count} records`))
  }),
)

test(
  'an unknown key field is a usage error naming the fields of the sampled values',
  withTimeout(60_000, async () => {
    const run = await runCli(['audit', 'duplicates', '--topic', topic, '--key', 'orderid', ...AVRO, '--db', db(), '--json'])
    assert.is(run.exitCode, 2)
    assert.is(run.json.error.code, 'UNKNOWN_KEY_FIELD')
    assert.ok(run.json.error.details.availableFields.includes('order_id'))
    assert.match(run.json.error.message, /order_id/)
  }),
)

test(
  'an empty range is an audit of nothing, not an error',
  withTimeout(60_000, async () => {
    const run = await runCli(['audit', 'duplicates', '--topic', topic, '--key', 'key', '--from', 'latest', '--db', db(), '--json'])
    assert.is(run.exitCode, 0, run.stderr)
    assert.is(run.json.totals.records, 0)
    assert.equal(run.json.duplicates, [])
    const table = await runCli(['audit', 'duplicates', '--topic', topic, '--key', 'key', '--from', 'latest', '--db', db()])
    assert.match(table.stdout, /The range is empty/)
  }),
)

test(
  'JSON values: identical payloads under different keys, records without the key and undecodable records are all reported',
  withTimeout(60_000, async () => {
    const t = uniqueName('e2e-audit-json')
    await createTopic(t, 2)
    const base = Date.parse('2024-05-01T10:00:00Z')
    const payload = JSON.stringify({ id: 'a-1', amount: 10 })
    await produce(t, [
      { partition: 0, key: 'k1', value: payload, timestampMs: base },
      { partition: 0, key: 'k2', value: JSON.stringify({ id: 'b-1', amount: 5 }), timestampMs: base + 1_000 },
      { partition: 1, key: 'k3', value: payload, timestampMs: base + 2_000 },
      { partition: 1, key: 'k4', value: JSON.stringify({ amount: 7 }), timestampMs: base + 3_000 },
      { partition: 1, key: 'k5', value: '{"id": "broken', timestampMs: base + 4_000 },
      { partition: 0, key: 'k6', value: JSON.stringify({ id: 'b-1', amount: 6 }), timestampMs: base + 5_000 },
      { partition: 0, key: 'k7', value: null, timestampMs: base + 6_000 },
    ])
    const run = await runCli(['audit', 'duplicates', '--topic', t, '--key', 'id', '--db', db(), '--json'])
    assert.is(run.exitCode, 0, run.stderr)
    const r = run.json
    assert.is(r.totals.records, 7)
    // a-1 twice (the same bytes, other Kafka keys and partitions), b-1 twice with different amounts.
    assert.equal(auditGroups(r.duplicates), ['a-1 0@0,1@0 identical', 'b-1 0@1,0@2 changed'])
    // The same bytes under the same audit key are a duplicate, not a value shared by keys.
    assert.is(r.totals.valueDuplicates, 0)
    assert.is(r.totals.undecodable, 1)
    assert.equal([r.undecodable[0].partition, r.undecodable[0].offset, r.undecodable[0].kind], [1, '2', 'not-json'])
    assert.is(r.totals.noKey, 2)
    assert.equal(
      r.noKey.map((p: Position) => `${p.partition}@${p.offset}`),
      ['0@3', '1@1'],
    )

    // Grouped by the Kafka key instead, the same payload under k1 and k3 is a value carried by two keys.
    const byKey = await runCli(['audit', 'duplicates', '--topic', t, '--key', 'key', '--db', db(), '--json'])
    assert.is(byKey.exitCode, 0, byKey.stderr)
    assert.is(byKey.json.totals.duplicateKeys, 0)
    assert.is(byKey.json.totals.valueDuplicates, 1)
    assert.equal(byKey.json.valueDuplicates[0].sampleKeys, ['k1', 'k3'])
    assert.is(byKey.json.valueDuplicates[0].copies, 2)
  }),
)

test(
  '--report FILE.csv holds every finding: each copy of each duplicate and each undecodable record, by offset',
  withTimeout(120_000, async () => {
    const report = join(dir, 'reports', 'dups.csv')
    const run = await runCli(['audit', 'duplicates', '--topic', topic, '--key', 'order_id', ...AVRO, '--top', '1', '--report', report, '--db', db(), '--json'])
    assert.is(run.exitCode, 0, run.stderr)
    assert.is(run.json.duplicates.length, 1)
    assert.is(run.json.report.path, report)
    assert.is(run.json.report.rows, truth.duplicates.length * 2 + truth.poisonPills.length)
    const rows = await parseCsv(readFileSync(report, 'utf8'))
    assert.equal(Object.keys(rows[0]!), ['finding', 'key', 'copies', 'kind', 'partition', 'offset', 'timestamp', 'detail'])
    const copies = new Map<string, string[]>()
    for (const r of rows.filter((x) => x.finding === 'duplicate-key')) copies.set(r.key!, [...(copies.get(r.key!) ?? []), `${r.partition}@${r.offset}`])
    const fromReport = [...copies].map(([key, offsets]) => `${key} ${offsets.join(',')} ${rows.find((x) => x.key === key)!.kind}`).sort()
    assert.equal(fromReport, truthGroups())
    const undecodable = rows.filter((x) => x.finding === 'undecodable')
    assert.equal(undecodable.map((x) => `${x.partition}@${x.offset}`).sort(), truth.poisonPills.map((p) => `${p.partition}@${p.offset}`).sort())
    for (const u of undecodable) assert.ok(u.detail && u.detail.length > 0)
  }),
)

test(
  '--report FILE.json holds the result and every finding',
  withTimeout(60_000, async () => {
    const report = join(dir, 'dups.json')
    const run = await runCli(['audit', 'duplicates', '--topic', topic, '--key', 'key', '--report', report, '--db', db(), '--json'])
    assert.is(run.exitCode, 0, run.stderr)
    const written = JSON.parse(readFileSync(report, 'utf8'))
    assert.is(written.audit.runId, run.json.runId)
    assert.equal(written.audit.totals, run.json.totals)
    assert.is(written.findings.length, truth.duplicates.length * 2)
    const bad = await runCli(['audit', 'duplicates', '--topic', topic, '--key', 'key', '--report', join(dir, 'dups.xml'), '--db', db(), '--json'])
    assert.is(bad.exitCode, 2)
    assert.match(bad.json.error.message, /\.csv or \.json/)
  }),
)

test(
  '--fail-on: exit 3 past a threshold (the same result JSON, failOn says what tripped), 0 within, 2 when malformed; history keeps what was exceeded',
  withTimeout(120_000, async () => {
    const historyDb = join(dir, 'fail-on.duckdb')
    const over = await runCli([
      'audit',
      'duplicates',
      '--topic',
      topic,
      '--key',
      'key',
      '--fail-on',
      `duplicates>${truth.duplicates.length - 1},undecodable>0`,
      '--db',
      historyDb,
      '--json',
    ])
    assert.is(over.exitCode, 3, over.stderr)
    assert.is(over.json.failOn.passed, false)
    assert.equal(over.json.failOn.exceeded, [{ metric: 'duplicates', op: '>', limit: truth.duplicates.length - 1, actual: truth.duplicates.length }])
    assert.is(over.json.totals.duplicateKeys, truth.duplicates.length)

    const human = await runCli(['audit', 'duplicates', '--topic', topic, '--key', 'key', '--fail-on', 'changed>=1', '--db', historyDb])
    assert.is(human.exitCode, 3)
    assert.match(human.stdout, /Top \d+ of \d+ duplicate groups/)
    assert.match(human.stderr, /changed is \d+ \(--fail-on changed>=1\)/)

    const within = await runCli([
      'audit',
      'duplicates',
      '--topic',
      topic,
      '--key',
      'key',
      '--fail-on',
      `duplicates>${truth.duplicates.length},copies>=${truth.duplicates.length + 1}`,
      '--db',
      historyDb,
      '--json',
    ])
    assert.is(within.exitCode, 0, within.stderr)
    assert.equal(within.json.failOn.exceeded, [])

    const malformed = await runCli(['audit', 'duplicates', '--topic', topic, '--key', 'key', '--fail-on', 'missing>0', '--db', historyDb, '--json'])
    assert.is(malformed.exitCode, 2)
    assert.is(malformed.json.error.code, 'BAD_FAIL_ON')

    const history = await runCli(['audit', 'history', '--db', historyDb, '--topic', topic, '--json'])
    assert.equal(
      history.json.topics[0].recent.map((r: { exceeded: string[] }) => r.exceeded),
      [[], ['changed>=1'], [`duplicates>${truth.duplicates.length - 1}`]],
    )
  }),
)

function parseCsv(text: string): Promise<Array<Record<string, string | undefined>>> {
  return new Promise((resolve, reject) => {
    const rows: Array<Record<string, string | undefined>> = []
    parseString(text, { headers: true })
      .on('error', reject)
      .on('data', (row: Record<string, string>) => rows.push(Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v === '' ? undefined : v]))))
      .on('end', () => resolve(rows))
  })
}

test.run()
