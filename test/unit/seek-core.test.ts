import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { clampOffset, planRow, planRows, seekTotals, SeekPlanError, type PartitionFacts } from '../../src/core/seek-plan.js'
import { mergeTopicScopes, parseTopicScope } from '../../src/core/topic-scope.js'
import { formatOffsetsCsv, parseOffsetsCsv } from '../../src/core/offsets-csv.js'
import { newestJournalSnapshot, runbookRunSnapshots, readJournalSnapshot, writeJournalSnapshot } from '../../src/files/seek-journal.js'
import type { RecoveryError } from '../../src/errors.js'

const facts = (over: Partial<PartitionFacts> = {}): PartitionFacts => ({
  group: 'g',
  topic: 't',
  partition: 0,
  currentOffset: 50n,
  logStartOffset: 10n,
  logEndOffset: 100n,
  ...over,
})
const s = (v: bigint | null | undefined) => (v === null || v === undefined ? String(v) : v.toString())

test('offsets above the log end go to the log end, below the log start to the log start', () => {
  assert.equal(s(clampOffset(150n, 10n, 100n).offset), '100')
  assert.is(clampOffset(150n, 10n, 100n).note, 'clamped-to-log-end')
  assert.equal(s(clampOffset(3n, 10n, 100n).offset), '10')
  assert.is(clampOffset(3n, 10n, 100n).note, 'clamped-to-log-start')
  assert.is(clampOffset(42n, 10n, 100n).note, undefined)
})

test('a time with no record at or after it sends the partition to its log end, with a note', () => {
  const row = planRow(facts({ offsetForTime: null }), { kind: 'to-time', instantMs: 0, display: '' })
  assert.is(s(row.newOffset), '100')
  assert.equal(row.notes, ['no-record-at-or-after-time'])
  assert.is(s(row.delta), '50')
})

test('moving back counts records to replay, forward counts records skipped', () => {
  const rows = planRows(
    [facts({ offsetForTime: 20n }), facts({ partition: 1, offsetForTime: 70n }), facts({ partition: 2, currentOffset: null, offsetForTime: 30n })],
    { kind: 'to-time', instantMs: 0, display: '' },
  )
  const totals = seekTotals(rows)
  assert.is(s(totals.replayed), '30')
  assert.is(s(totals.skipped), '20')
  assert.is(totals.neverCommitted, 1)
  assert.is(totals.changed, 3)
  assert.equal(rows[2]!.notes, ['never-committed'])
})

test('shift-by clamps, and refuses partitions never committed, naming all of them', () => {
  assert.is(s(planRow(facts(), { kind: 'shift-by', delta: -100n }).newOffset), '10')
  assert.is(s(planRow(facts(), { kind: 'shift-by', delta: 500n }).newOffset), '100')
  try {
    planRows([facts(), facts({ partition: 3, currentOffset: null }), facts({ partition: 4, currentOffset: null })], { kind: 'shift-by', delta: 1n })
    assert.unreachable()
  } catch (error) {
    assert.instance(error, SeekPlanError)
    assert.equal(
      (error as SeekPlanError).partitions.map((p) => p.partition),
      [3, 4],
    )
  }
})

test('a partition already at its target is marked unchanged', () => {
  assert.equal(planRow(facts({ currentOffset: 100n }), { kind: 'to-latest' }).notes, ['unchanged'])
})

test('topic scopes read "t" and "t:0,2", and merge repeated flags', () => {
  assert.equal(parseTopicScope('orders'), { topic: 'orders' })
  assert.equal(parseTopicScope('orders:2,0,2'), { topic: 'orders', partitions: [0, 2] })
  assert.equal(mergeTopicScopes([parseTopicScope('a:1'), parseTopicScope('a:0'), parseTopicScope('b'), parseTopicScope('b:3')]), [
    { topic: 'a', partitions: [0, 1] },
    { topic: 'b' },
  ])
  assert.throws(
    () => parseTopicScope('orders:x'),
    (e: RecoveryError) => e.code === 'USAGE' && /orders:0,2/.test(e.message),
  )
  assert.throws(
    () => parseTopicScope('bad topic'),
    (e: RecoveryError) => e.code === 'USAGE',
  )
})

test('plan CSVs read both Kafka forms and name the bad line', () => {
  assert.equal(
    parseOffsetsCsv('orders,0,10\norders,1,20\n', 'p.csv').map((l) => `${l.topic}/${l.partition}/${l.offset}`),
    ['orders/0/10', 'orders/1/20'],
  )
  assert.equal(parseOffsetsCsv('group,topic,partition,offset\ng,orders,0,10\n', 'p.csv')[0]!.group, 'g')
  assert.throws(
    () => parseOffsetsCsv('orders,0,10\norders,zero,20\n', 'p.csv'),
    (e: RecoveryError) => e.code === 'USAGE' && /p\.csv line 2: partition "zero"/.test(e.message),
  )
  assert.throws(
    () => parseOffsetsCsv('orders,0\n', 'p.csv'),
    (e: RecoveryError) => /line 1: expected 3 or 4 columns/.test(e.message),
  )
  assert.throws(
    () => parseOffsetsCsv('\n# nothing\n', 'p.csv'),
    (e: RecoveryError) => /no offsets/.test(e.message),
  )
  assert.throws(
    () => parseOffsetsCsv('orders,0,1\ng,orders,1,2\n', 'p.csv'),
    (e: RecoveryError) => /mixes/.test(e.message),
  )
  assert.is(formatOffsetsCsv([{ group: 'g', topic: 't', partition: 1, offset: 5n }], false), 't,1,5\n')
  assert.is(formatOffsetsCsv([{ group: 'g', topic: 't', partition: 1, offset: 5n }], true), 'g,t,1,5\n')
})

const clusterA = { id: 'cluster-A', bootstrap: ['a:9092'], source: '--brokers' }
const clusterB = { id: 'cluster-B', bootstrap: ['b:9092'], source: '--brokers' }

test('the journal keeps every snapshot, reads back exactly, and the newest wins for undo', () => {
  const dir = mkdtempSync(join(tmpdir(), 'recover-journal-'))
  const snapshot = (time: string, offset: bigint) => ({
    group: 'billing/eu',
    clusterId: clusterA.id,
    bootstrap: clusterA.bootstrap,
    time,
    user: 'ops',
    host: 'box',
    command: 'recover seek --group billing/eu --to-earliest --execute',
    mode: 'to-earliest',
    entries: [
      { topic: 'orders', partition: 0, previousOffset: offset, newOffset: 0n },
      { topic: 'orders', partition: 1, previousOffset: null, newOffset: 0n },
    ],
  })
  const first = writeJournalSnapshot(dir, snapshot('2026-01-01T00:00:00.000Z', 7n))
  const second = writeJournalSnapshot(dir, snapshot('2026-01-01T00:00:00.000Z', 9n))
  assert.is.not(first, second, 'two changes in the same millisecond keep two files')
  const read = readJournalSnapshot(first)
  assert.is(read.group, 'billing/eu')
  assert.is(read.user, 'ops')
  assert.is(s(read.entries[0]!.previousOffset), '7')
  assert.is(read.entries[1]!.previousOffset, null)
  assert.is(read.clusterId, 'cluster-A')
  assert.equal(read.bootstrap, ['a:9092'])
  assert.is(s(newestJournalSnapshot(dir, 'billing/eu', clusterA)!.snapshot.entries[0]!.previousOffset), '9')
  assert.is(newestJournalSnapshot(dir, 'other', clusterA), undefined)
  assert.equal(
    readdirSync(join(dir, encodeURIComponent('billing/eu'))).filter((f) => f.endsWith('.tmp')),
    [],
    'no temp file left',
  )
})

test('undo picks the newest snapshot of this cluster, never a newer one taken on another cluster with the same group name', () => {
  const dir = mkdtempSync(join(tmpdir(), 'recover-journal-'))
  const entries = (previous: bigint) => [{ topic: 'orders', partition: 0, previousOffset: previous, newOffset: 0n }]
  writeJournalSnapshot(dir, {
    group: 'billing',
    clusterId: clusterA.id,
    time: '2026-01-01T00:00:00.000Z',
    user: 'u',
    host: 'h',
    command: 'c',
    mode: 'm',
    entries: entries(100n),
  })
  writeJournalSnapshot(dir, {
    group: 'billing',
    clusterId: clusterB.id,
    time: '2026-01-01T00:00:01.000Z',
    user: 'u',
    host: 'h',
    command: 'c',
    mode: 'm',
    entries: entries(7n),
  })
  assert.is(s(newestJournalSnapshot(dir, 'billing', clusterA)!.snapshot.entries[0]!.previousOffset), '100')
  assert.is(s(newestJournalSnapshot(dir, 'billing', clusterB)!.snapshot.entries[0]!.previousOffset), '7')
})

test('undo on a cluster with no snapshot of its own refuses and names where the snapshots were taken', () => {
  const dir = mkdtempSync(join(tmpdir(), 'recover-journal-'))
  writeJournalSnapshot(dir, {
    group: 'billing',
    clusterId: clusterB.id,
    bootstrap: clusterB.bootstrap,
    time: '2026-01-01T00:00:00.000Z',
    user: 'u',
    host: 'h',
    command: 'c',
    mode: 'm',
    entries: [],
  })
  assert.throws(
    () => newestJournalSnapshot(dir, 'billing', clusterA),
    (e: RecoveryError) =>
      e.code === 'CLUSTER_MISMATCH' &&
      e.exitCode === 4 &&
      /cluster-B \(b:9092\)/.test(e.message) &&
      /cluster-A/.test(e.message) &&
      /nothing was changed/.test(e.message),
  )
})

test('a snapshot written before clusters were recorded is never restored blindly', () => {
  const dir = mkdtempSync(join(tmpdir(), 'recover-journal-'))
  writeJournalSnapshot(dir, { group: 'billing', time: '2026-01-01T00:00:00.000Z', user: 'u', host: 'h', command: 'c', mode: 'm', entries: [] })
  assert.throws(
    () => newestJournalSnapshot(dir, 'billing', clusterA),
    (e: RecoveryError) => e.code === 'CLUSTER_MISMATCH' && /does not say which cluster it was recorded on/.test(e.message),
  )
})

test("a runbook run's snapshots are found by its run id, on its cluster only", () => {
  const dir = mkdtempSync(join(tmpdir(), 'recover-journal-'))
  const base = { group: 'billing', user: 'u', host: 'h', command: 'c', mode: 'm', entries: [] }
  writeJournalSnapshot(dir, { ...base, clusterId: clusterA.id, time: '2026-01-01T00:00:00.000Z' })
  writeJournalSnapshot(dir, { ...base, clusterId: clusterA.id, runbookRun: 'run-1', time: '2026-01-01T00:00:01.000Z' })
  writeJournalSnapshot(dir, { ...base, clusterId: clusterB.id, runbookRun: 'run-1', time: '2026-01-01T00:00:02.000Z' })
  writeJournalSnapshot(dir, { ...base, clusterId: clusterA.id, runbookRun: 'run-2', time: '2026-01-01T00:00:03.000Z' })
  const found = runbookRunSnapshots(dir, 'billing', clusterA, 'run-1')
  assert.is(found.length, 1)
  assert.is(found[0]!.snapshot.time, '2026-01-01T00:00:01.000Z')
  assert.equal(runbookRunSnapshots(dir, 'billing', clusterA, 'run-3'), [])
})

test('a journal that cannot be written is an error that says nothing changed', () => {
  assert.throws(
    () => writeJournalSnapshot(join(fileInTheWay(), 'journal'), { group: 'g', time: 't', user: 'u', host: 'h', command: 'c', mode: 'm', entries: [] }),
    (e: RecoveryError) => e.code === 'JOURNAL_FAILED' && /nothing was changed/.test(e.message),
  )
})

function fileInTheWay(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'recover-journal-')), 'a-file')
  writeFileSync(path, 'not a folder')
  return path
}

test.run()
