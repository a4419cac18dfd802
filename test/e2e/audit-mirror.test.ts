import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { runCli } from '../support/cli.js'
import { createTopic, produce, readTopic, testBrokers, testBrokersB, uniqueName, type TestRecord } from '../support/kafka.js'
import { withTimeout } from '../support/timeout.js'

/**
 * `audit compare --sink kafka:T --sink-cluster B`: a topic on cluster A copied to the same
 * topic name on cluster B, as MirrorMaker 2 does (key, value, headers and timestamp kept),
 * into another partition count, with three records deliberately skipped, one record written
 * twice, and one of two identical source copies (a producer retry) left out.
 */
let topic = ''
let dir = ''
let skipped: string[] = []
let duplicatedFrom = ''
let retryKept = ''
let retryLost = ''
let unkeyedAt = ''
const SOURCE_RECORDS = 61

const at = (xs: Array<{ partition: number; offset: string }>) => xs.map((x) => `${x.partition}@${x.offset}`).sort()

test.before(async () => {
  topic = uniqueName('e2e-audit-mirror')
  dir = mkdtempSync(join(tmpdir(), 'recover-audit-mirror-'))
  await createTopic(topic, 2)
  const records: TestRecord[] = []
  for (let i = 0; i < SOURCE_RECORDS - 2; i++) {
    records.push({ partition: i % 2, key: `order-${i % 20}`, value: JSON.stringify({ n: i }), timestampMs: 1_700_000_000_000 + i, headers: { seq: String(i) } })
  }
  // A producer retry: the same record twice in the source.
  records.push({ ...records[10]! })
  // A record without a key is paired by its content alone.
  records.push({ partition: 0, key: null, value: 'no key here', timestampMs: 1_700_000_001_000 })
  await produce(topic, records)

  const source = await readTopic(topic)
  assert.is(source.length, SOURCE_RECORDS)
  const pos = (r: { partition: number; offset: bigint }) => `${r.partition}@${r.offset}`
  const copies = source.filter((r) => r.value?.toString() === JSON.stringify({ n: 10 }))
  assert.is(copies.length, 2)
  copies.sort((a, b) => a.partition - b.partition || Number(a.offset - b.offset))
  retryKept = pos(copies[0]!)
  retryLost = pos(copies[1]!)
  const plain = source.filter((r) => !copies.includes(r))
  const unkeyed = plain.find((r) => r.key === null)!
  unkeyedAt = pos(unkeyed)
  const skip = [plain[3]!, plain[20]!, plain[41]!, unkeyed]
  skipped = [...skip.map(pos), retryLost]
  const twice = plain[30]!
  duplicatedFrom = pos(twice)

  await createTopic(topic, 3, testBrokersB())
  const mirror: TestRecord[] = []
  let i = 0
  for (const r of source) {
    if (skip.includes(r) || pos(r) === retryLost) continue
    const copy: TestRecord = {
      partition: i++ % 3,
      key: r.key,
      value: r.value,
      timestampMs: r.timestampMs,
      headers: Object.fromEntries(r.headers.map((h) => [h.key, h.value?.toString() ?? ''])),
    }
    mirror.push(copy)
    if (r === twice) mirror.push({ ...copy })
  }
  await produce(topic, mirror, testBrokersB())
})

test.after(() => rmSync(dir, { recursive: true, force: true }))

const compare = (...extra: string[]) =>
  runCli(['audit', 'compare', '--topic', topic, '--key', 'key', '--sink', `kafka:${topic}`, '--db', join(dir, 'audit.duckdb'), ...extra], {
    timeoutMs: 90_000,
  })

test(
  '--sink-cluster HOST:PORT: exactly the skipped source offsets are lost, and the record written twice is the duplicate',
  withTimeout(120_000, async () => {
    const run = await compare('--sink-cluster', testBrokersB(), '--json')
    assert.is(run.exitCode, 0, run.stderr)
    const r = run.json
    assert.is(r.totals.sourceRecords, SOURCE_RECORDS)
    assert.is(r.totals.sinkRows, SOURCE_RECORDS - skipped.length + 1)
    assert.equal(at(r.lost), [...skipped].sort())
    assert.is(r.totals.lost, skipped.length)
    // Keys of the skipped records have other records in the mirror: each is "in the sink", not "missing".
    assert.is(r.totals.missing, 0)
    assert.is(r.mirror.match, 'record')
    assert.is(r.mirror.paired, SOURCE_RECORDS - skipped.length)
    assert.is(r.mirror.duplicated, 1)
    assert.is(r.mirror.unmatched, 0)
    const [dup] = r.mirror.duplicates
    assert.is(`${dup.copyOf.partition}@${dup.copyOf.offset}`, duplicatedFrom)
    assert.type(r.mirror.cluster.id, 'string')
    assert.equal(r.mirror.cluster.bootstrap, [testBrokersB()])
    // The record without a key is among them, as a record without a key.
    assert.equal(at(r.lost.filter((l: { key: string | null }) => l.key === null)), [unkeyedAt])
    assert.is(r.totals.noKey, 1)
    // Of the two identical source copies, the mirror's one copy pairs with the first.
    assert.ok(!at(r.lost).includes(retryKept))
  }),
)

test(
  'the table names the lost offsets and the duplicate; --fail-on lost>0 exits 3 with the same JSON; --report lists them',
  withTimeout(150_000, async () => {
    const human = await compare('--sink-cluster', testBrokersB())
    assert.is(human.exitCode, 0, human.stderr)
    // Both clusters are named, each by its own id.
    assert.match(human.stderr, 'Sink Kafka: cluster')
    assert.match(human.stdout, `Source offsets that never arrived: ${skipped.length}`)
    assert.match(human.stdout, 'Mirror records written more than once: 1')
    assert.match(human.stdout, `copy of source ${duplicatedFrom}`)
    assert.match(human.stdout, `Mirror pairing: ${SOURCE_RECORDS - skipped.length} source records paired, 1 duplicated, 0 unmatched`)

    const report = join(dir, 'mirror.csv')
    const failing = await compare('--sink-cluster', testBrokersB(), '--fail-on', 'lost>0,duplicated>0', '--report', report, '--json')
    assert.is(failing.exitCode, 3, failing.stderr)
    assert.equal(
      failing.json.failOn.exceeded.map((e: { metric: string; actual: number }) => `${e.metric}=${e.actual}`),
      [`lost=${skipped.length}`, 'duplicated=1'],
    )
    assert.equal(at(failing.json.lost), [...skipped].sort())
    const rows = readFileSync(report, 'utf8').trim().split('\n').slice(1)
    assert.is(rows.filter((l) => l.startsWith('lost-offset,')).length, skipped.length)
    assert.is(rows.filter((l) => l.startsWith('mirror-duplicate,')).length, 1)

    const passing = await compare('--sink-cluster', testBrokersB(), '--fail-on', 'unmatched>0')
    assert.is(passing.exitCode, 0, passing.stderr)
  }),
)

test(
  '--mirror-match value ignores headers a copier changed; --mirror-match key lists no lost offsets',
  withTimeout(150_000, async () => {
    const relabelled = uniqueName('e2e-audit-mirror-hdr')
    await createTopic(relabelled, 1)
    const source = await readTopic(topic)
    await produce(
      relabelled,
      source.map((r) => ({ partition: 0, key: r.key, value: r.value, timestampMs: r.timestampMs, headers: { copier: 'replicator' } })),
    )
    const sink = (...extra: string[]) =>
      runCli(['audit', 'compare', '--topic', topic, '--key', 'key', '--sink', `kafka:${relabelled}`, '--json', '--no-history', ...extra], { timeoutMs: 90_000 })
    const byRecord = await sink()
    assert.is(byRecord.exitCode, 0, byRecord.stderr)
    assert.is(byRecord.json.totals.lost, SOURCE_RECORDS)
    assert.is(byRecord.json.mirror.unmatched, SOURCE_RECORDS)
    const byValue = await sink('--mirror-match', 'value')
    assert.is(byValue.exitCode, 0, byValue.stderr)
    assert.is(byValue.json.totals.lost, 0)
    assert.is(byValue.json.mirror.paired, SOURCE_RECORDS)
    const byKey = await sink('--mirror-match', 'key')
    assert.is(byKey.exitCode, 0, byKey.stderr)
    assert.is(byKey.json.lost, null)
    assert.is(byKey.json.mirror, null)
  }),
)

test(
  'the source topic on the source cluster is refused (MIRROR_IS_SOURCE), and --sink-cluster needs a kafka: sink',
  withTimeout(60_000, async () => {
    const itself = await compare('--json')
    assert.is(itself.exitCode, 2, itself.stderr)
    assert.is(itself.json.error.code, 'MIRROR_IS_SOURCE')
    const sameCluster = await compare('--sink-cluster', testBrokers(), '--json')
    assert.is(sameCluster.exitCode, 2, sameCluster.stderr)
    assert.is(sameCluster.json.error.code, 'MIRROR_IS_SOURCE')
    const file = await runCli(['audit', 'compare', '--topic', topic, '--key', 'key', '--sink', join(dir, 'x.jsonl'), '--sink-cluster', testBrokersB()])
    assert.is(file.exitCode, 2, file.stderr)
    assert.match(file.stderr, '--sink-cluster is for a kafka: sink')
    const match = await runCli(['audit', 'compare', '--topic', topic, '--key', 'key', '--sink', join(dir, 'x.jsonl'), '--mirror-match', 'value'])
    assert.is(match.exitCode, 2, match.stderr)
  }),
)

test.run()
