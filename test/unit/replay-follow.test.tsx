import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { render } from 'ink-testing-library'
import { jsonSafe } from '../../src/cli/base-command.js'
import { checkFollowCheckpoint, checkFollowCombination, computeLag, FOLLOW_END, formatLag, formatLagTime } from '../../src/core/follow.js'
import { initialProgress, reduceProgress, type ProgressState } from '../../src/core/replay-progress.js'
import { countsToJson, freshCounts, type PartitionCounts } from '../../src/core/replay-counts.js'
import { RecoveryError } from '../../src/errors.js'
import type { ReplayCheckpoint } from '../../src/files/replay-checkpoint.js'
import { adoptCommitted, CheckpointFile } from '../../src/replay/checkpoint.js'
import { renderProgressLine } from '../../src/render/replay-progress.js'
import type { ReplayProgressEvent } from '../../src/services/replay-events.js'
import { ReplayProgressView } from '../../src/ui/replay-progress-view.js'
import { createReporter, type ReporterMode } from '../../src/ui/reporter.js'
import { replayPresenter } from '../../src/ui/reporters/replay.js'
import { progressLineProblems, progressSchema } from '../support/progress-schema.js'

const plain = (text: string | undefined) => (text ?? '').replace(/\x1b\[[0-9;]*m/g, '')
const NOW = Date.UTC(2026, 11, 7, 6, 0, 0)

test('lag: records behind each log end and the age of the newest record written, in total and per partition', () => {
  const lag = computeLag(
    [
      { partition: 0, next: 100n },
      { partition: 1, next: 50n },
      { partition: 2, next: 7n },
    ],
    new Map([
      [0, 130n],
      [1, 50n],
    ]),
    new Map([
      [0, NOW - 4_000],
      [1, NOW - 90_000],
    ]),
    NOW,
  )
  assert.is(lag.behind, 30n)
  assert.is(lag.lagMs, 4_000, 'the newest record written decides the time lag')
  assert.is(lag.lastWrittenMs, NOW - 4_000)
  assert.equal(
    lag.partitions.map((p) => [p.partition, p.logEnd, p.behind, p.lagMs]),
    [
      [0, 130n, 30n, 4_000],
      [1, 50n, 0n, 90_000],
      [2, undefined, 0n, undefined],
    ],
  )
  // A log end the broker reports below the position (a fetch answered before the last one) is no negative lag.
  assert.is(computeLag([{ partition: 0, next: 10n }], new Map([[0, 5n]]), new Map(), NOW).behind, 0n)
})

test('lag as people read it: short times, records with separators, "caught up" at the log end', () => {
  assert.equal(
    [formatLagTime(undefined), formatLagTime(850), formatLagTime(41_000), formatLagTime(125_000), formatLagTime(7_500_000)],
    ['–', '850ms', '41s', '2m05s', '2h05m'],
  )
  assert.is(formatLagTime(3 * 86_400_000 + 3_600_000), '3d01h')
  assert.is(formatLag({ behind: 1204n, lagMs: 3_000 }), 'lag 1,204 records, 3s')
  assert.is(formatLag({ behind: 0n, lagMs: 125_000 }), 'caught up, last record 2m05s old')
  assert.is(formatLag({ behind: 0n, lagMs: undefined }), 'caught up')
})

test('--follow refuses --to, --dry-run and --scale-out with FOLLOW_CONFLICT (exit 2) before connecting', () => {
  for (const [request, flag] of [
    [{ to: { kind: 'latest' as const } }, '--to'],
    [{ dryRun: { limit: 10 } }, '--dry-run'],
    [{ scaleOut: 'fix' }, '--scale-out'],
  ] as const) {
    try {
      checkFollowCombination(request)
      assert.unreachable(`${flag} was accepted`)
    } catch (error) {
      assert.instance(error, RecoveryError)
      const e = error as RecoveryError
      assert.is(e.code, 'FOLLOW_CONFLICT')
      assert.is(e.exitCode, 2)
      assert.ok(e.message.includes(flag), e.message)
    }
  }
  checkFollowCombination({})
})

test('a follow continues only a follow checkpoint, a bounded replay only a bounded one', () => {
  const follow = { partitions: [{ end: FOLLOW_END.toString() }] }
  const bounded = { partitions: [{ end: '1000' }] }
  checkFollowCheckpoint(follow, 'f.json', true)
  checkFollowCheckpoint(bounded, 'b.json', false)
  assert.throws(
    () => checkFollowCheckpoint(follow, 'f.json', false),
    (e: RecoveryError) => e.code === 'CHECKPOINT_MISMATCH' && /with --follow/.test(e.message),
  )
  assert.throws(
    () => checkFollowCheckpoint(bounded, 'b.json', true),
    (e: RecoveryError) => e.code === 'CHECKPOINT_MISMATCH' && /without --follow/.test(e.message),
  )
})

test('a partition a follow took up after its last checkpoint starts over after an outage; one the sink committed first is adopted on resume', () => {
  const p0 = { ...freshCounts({ partition: 0, start: 0n, end: FOLLOW_END }, 40n), read: 40, written: 40 }
  const state = { partitions: [countsToJson(p0)] } as unknown as ReplayCheckpoint
  const counts = new Map<number, PartitionCounts>([
    [0, { ...p0, next: 55n, read: 55, written: 55 }],
    [1, { ...freshCounts({ partition: 1, start: 3n, end: FOLLOW_END }, 9n), read: 6, written: 6 }],
  ])
  new CheckpointFile('unused.json', state, false).restore(counts)
  assert.equal(
    [...counts.values()].map((c) => [c.partition, c.next, c.read, c.written]),
    [
      [0, 40n, 40, 40],
      [1, 3n, 0, 0],
    ],
  )

  const committed = {
    partitions: [
      countsToJson({ ...p0, next: 50n, read: 50, written: 50 }),
      countsToJson({ ...freshCounts({ partition: 1, start: 0n, end: FOLLOW_END }, 4n), read: 4, written: 4 }),
      countsToJson(freshCounts({ partition: 2, start: 0n, end: 100n })),
    ],
    quarantineState: {},
    batches: 7,
  }
  const checkpoint = { partitions: [countsToJson(p0)], quarantineState: {}, batches: 5 } as unknown as ReplayCheckpoint
  adoptCommitted(checkpoint, committed)
  assert.equal(
    checkpoint.partitions.map((p) => [p.partition, p.next]),
    [
      [0, '50'],
      [1, '4'],
    ],
    'the followed partition 1 is adopted; a bounded range the checkpoint lacks is not',
  )
})

/** A follow of two partitions: a batch (with its lag), then two lag statuses while no record arrives. */
const followEvents: ReplayProgressEvent[] = [
  {
    type: 'start',
    topic: 'orders',
    sink: 'kafka:orders.fixed',
    quarantine: 'kafka:orders.quarantine',
    resumed: false,
    resent: 0,
    dryRun: false,
    partitions: [0, 1].map((partition) => ({ partition, start: 10n, end: FOLLOW_END, next: 10n })),
  },
  {
    type: 'batch',
    records: 40,
    bytes: 4_000,
    elapsedMs: 1_000,
    totals: {
      read: 40,
      written: 40,
      dropped: 0,
      quarantined: 0,
      outputs: 40,
      bytes: 4_000,
      remaining: 2n * (FOLLOW_END - 30n),
      rangeSize: 2n * (FOLLOW_END - 10n),
    },
    partitions: [0, 1].map((partition) => ({ partition, start: 10n, end: FOLLOW_END, next: 30n, read: 20, quarantined: 0, bytes: 2_000 })),
    lag: {
      behind: 5n,
      lagMs: 2_000,
      lastWrittenMs: NOW - 2_000,
      partitions: [0, 1].map((partition) => ({
        partition,
        next: 30n,
        logEnd: partition === 0 ? 35n : 30n,
        behind: partition === 0 ? 5n : 0n,
        lastWrittenMs: NOW - 2_000,
        lagMs: 2_000,
      })),
    },
  },
  {
    type: 'lag',
    elapsedMs: 20_000,
    behind: 1_234_567n,
    lagMs: 7_500_000,
    lastWrittenMs: NOW - 7_500_000,
    partitions: [
      { partition: 0, next: 30n, logEnd: 1_000_030n, behind: 1_000_000n, lastWrittenMs: NOW - 7_500_000, lagMs: 7_500_000 },
      { partition: 1, next: 30n, logEnd: 234_597n, behind: 234_567n, lastWrittenMs: NOW - 9_000_000, lagMs: 9_000_000 },
    ],
  },
  {
    type: 'lag',
    elapsedMs: 50_000,
    behind: 0n,
    lagMs: 60_000,
    lastWrittenMs: NOW - 60_000,
    partitions: [
      { partition: 0, next: 1_000_030n, logEnd: 1_000_030n, behind: 0n, lastWrittenMs: NOW - 60_000, lagMs: 60_000 },
      { partition: 1, next: 234_597n, logEnd: 234_597n, behind: 0n, lastWrittenMs: NOW - 70_000, lagMs: 70_000 },
    ],
  },
]

function stateAfter(count: number): ProgressState {
  return followEvents.slice(0, count).reduce((s, e) => reduceProgress(s, e as never), initialProgress())
}

test('a follow has no percent nor ETA: the plain line shows the lag instead', () => {
  assert.is(stateAfter(2).percent, undefined)
  assert.is(stateAfter(2).etaMs, undefined)
  assert.is(renderProgressLine(stateAfter(1)), 'replay --follow: 0 read, 0 written, 0 dropped, 0 quarantined, 0.0 MB, 0 rec/s, lag –')
  assert.is(renderProgressLine(stateAfter(2)), 'replay --follow: 40 read, 40 written, 0 dropped, 0 quarantined, 0.0 MB, 40 rec/s, lag 5 records, 2s')
  assert.ok(renderProgressLine(stateAfter(3)).endsWith(', lag 1,234,567 records, 2h05m'), renderProgressLine(stateAfter(3)))
  assert.is(
    renderProgressLine(stateAfter(4)),
    'replay --follow: 40 read, 40 written, 0 dropped, 0 quarantined, 0.0 MB, 0 rec/s, caught up, last record 1m00s old',
    'idle: the rate falls to 0',
  )
})

test('the live view of a follow: total and per-partition lag, no line wider than 80 columns', () => {
  const { lastFrame, unmount } = render(<ReplayProgressView state={stateAfter(3)} columns={80} rows={24} now={NOW} />)
  const frame = plain(lastFrame())
  unmount()
  assert.match(frame, /^Following orders → kafka:orders\.fixed$/m)
  assert.match(frame, /^lag 1,234,567 records, 2h05m {2}40 read/m)
  assert.match(frame, /PART\s+BEHIND\s+READ\s+MB\s+QUAR\.\s+LAG\s+NEXT \/ LOG END/)
  assert.match(frame, /^\s+0\s+1,000,000\s+20\s+0\.0\s+0\s+2h05m\s+30 \/ 1000030$/m)
  assert.match(frame, /^\s+1\s+234,567\s+20\s+0\.0\s+0\s+2h30m\s+30 \/ 234597$/m)
  assert.not.match(frame, /9223372036854775807|%|ETA/)
  for (const line of frame.split('\n')) assert.ok([...line].length <= 80, `wider than 80: ${line}`)
})

async function records(mode: ReporterMode): Promise<{ records: string[]; lines: string[] }> {
  let now = NOW
  const out = { records: [] as string[], lines: [] as string[] }
  const reporter = await createReporter(
    replayPresenter,
    mode,
    { line: (text) => out.lines.push(text), record: (r) => out.records.push(JSON.stringify(jsonSafe(r))), terminal: {} as NodeJS.WriteStream },
    { intervalMs: 1_000, now: () => now },
  )
  for (const e of followEvents) {
    now += 1_500
    reporter.event(e)
  }
  reporter.finish()
  return out
}

test('--json: the follow progress records carry the lag, as docs/progress-events.md documents them', async () => {
  const { records: written } = await records('ndjson')
  const schema = progressSchema()
  assert.equal(
    written.flatMap((line) => progressLineProblems(line, schema)),
    [],
  )
  const start = JSON.parse(written.find((l) => l.includes('"type":"start"'))!) as { follow: boolean; partitions: Array<{ end: string | null }> }
  assert.is(start.follow, true)
  assert.equal(
    start.partitions.map((p) => p.end),
    [null, null],
  )
  const progress = written.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.type === 'progress')
  const last = progress.at(-1) as {
    percent: null
    remaining: null
    etaMs: null
    lag: { records: string; timeMs: number }
    partitions: Array<{ logEnd: string; lagRecords: string }>
  }
  assert.equal([last.percent, last.remaining, last.etaMs], [null, null, null])
  assert.equal(last.lag.records, '0')
  assert.is(last.lag.timeMs, 60_000)
  assert.equal(
    last.partitions.map((p) => [p.logEnd, p.lagRecords]),
    [
      ['1000030', '0'],
      ['234597', '0'],
    ],
  )
  const behind = progress.find((r) => (r.lag as { records: string }).records === '1234567')
  assert.ok(behind, 'the lag of the status while behind was written')
})

test('plain lines: the start says it follows and how to stop it; lag statuses print as progress lines', async () => {
  const { lines } = await records('lines')
  assert.equal(lines.slice(0, 2), [
    'Following orders (2 partitions, from 0@10, 1@10) into kafka:orders.fixed, quarantine kafka:orders.quarantine.',
    'Stop with SIGTERM or Ctrl-C: the batch in flight is finished and checkpointed.',
  ])
  assert.ok(
    lines.some((l) => l.endsWith('lag 1,234,567 records, 2h05m')),
    lines.join('\n'),
  )
  assert.ok(lines.at(-1)!.endsWith('caught up, last record 1m00s old'), lines.join('\n'))
})

test.run()
