import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { render } from 'ink-testing-library'
import { jsonSafe } from '../../src/cli/base-command.js'
import { initialProgress, reduceProgress, type PartitionProgress, type ProgressState } from '../../src/core/replay-progress.js'
import { progressFigures } from '../../src/render/progress-figures.js'
import { renderProgressLine } from '../../src/render/replay-progress.js'
import type { ReplayProgressEvent } from '../../src/services/replay-events.js'
import type { ReplaySummary } from '../../src/services/replay.js'
import type { GroupReplaySummary } from '../../src/services/replay-group.js'
import { ReplayProgressView } from '../../src/ui/replay-progress-view.js'
import { chooseReporterMode, createReporter, type LiveView, type Presenter, type ReporterMode } from '../../src/ui/reporter.js'
import { auditScanPresenter, type AuditEvent } from '../../src/ui/reporters/audit-scan.js'
import { demoPresenter, type DemoEvent } from '../../src/ui/reporters/demo.js'
import { redrivePresenter } from '../../src/ui/reporters/redrive.js'
import { findPresenter } from '../../src/ui/reporters/find.js'
import type { FindEvent } from '../../src/services/find.js'
import { replayPresenter } from '../../src/ui/reporters/replay.js'
import type { RedriveProgress } from '../../src/services/quarantine-redrive.js'
import { progressLineProblems, progressSchema } from '../support/progress-schema.js'

const plain = (text: string | undefined) => (text ?? '').replace(/\x1b\[[0-9;]*m/g, '')

/** A reporter whose clock the test moves, writing into arrays. */
async function capture<E, S>(presenter: Presenter<E, S>, mode: ReporterMode, intervalMs = 1_000) {
  let now = Date.UTC(2026, 11, 6, 10, 0, 0)
  const lines: string[] = []
  const records: string[] = []
  const reporter = await createReporter(
    presenter,
    mode,
    { line: (text) => lines.push(text), record: (r) => records.push(JSON.stringify(jsonSafe(r))), terminal: {} as NodeJS.WriteStream },
    { intervalMs, now: () => now },
  )
  return { reporter, lines, records, tick: (ms: number) => (now += ms), types: () => records.map((r) => (JSON.parse(r) as { type: string }).type) }
}

const totals = (read: number, remaining: bigint, rangeSize: bigint, quarantined = 0) => ({
  read,
  written: read - quarantined,
  dropped: 0,
  quarantined,
  outputs: read - quarantined,
  bytes: read * 100,
  remaining,
  rangeSize,
})
const progress = (partition: number, next: bigint, read: number, quarantined = 0): PartitionProgress => ({
  partition,
  start: 0n,
  end: 1000n,
  next,
  read,
  quarantined,
  bytes: read * 100,
})

const summary = {
  finished: true,
  interrupted: false,
  dryRun: false,
  reconciled: true,
  elapsedMs: 2_000,
  totals: totals(2000, 0n, 2000n, 2),
} as unknown as ReplaySummary

/** A whole single-process replay: two partitions of 1,000, two quarantined, a warning, an outage. */
const replayEvents: ReplayProgressEvent[] = [
  {
    type: 'start',
    topic: 'orders',
    sink: 'file:orders.jsonl',
    quarantine: 'file:q.jsonl',
    resumed: false,
    resent: 0,
    dryRun: false,
    partitions: [0, 1].map((partition) => ({ partition, start: 0n, end: 1000n, next: 0n })),
  },
  { type: 'warning', message: '--from offset 999999 is past the end of partition 0' },
  {
    type: 'batch',
    records: 1000,
    bytes: 100_000,
    elapsedMs: 1_000,
    totals: totals(1000, 1000n, 2000n, 2),
    partitions: [progress(0, 500n, 500, 2), progress(1, 500n, 500)],
  },
  { type: 'quarantined', stage: 'decode', count: 2 },
  { type: 'waiting', reason: 'Could not reach Kafka', sinceMs: Date.UTC(2026, 11, 6, 10, 0, 1), giveUpAtMs: Date.UTC(2026, 11, 6, 10, 5, 1) },
  { type: 'reconnected', waitedMs: 1_500, resent: 0 },
  {
    type: 'batch',
    records: 1000,
    bytes: 100_000,
    elapsedMs: 3_000,
    totals: totals(2000, 0n, 2000n, 2),
    partitions: [progress(0, 1000n, 1000, 2), progress(1, 1000n, 1000)],
  },
  { type: 'done', summary },
]

/** A --scale-out process: joins, gets partitions 0 and 1, replays both, hands 1 over, waits for it. */
const scaleOutEvents: ReplayProgressEvent[] = [
  { type: 'scale-out-joining', group: 'recover-replay.fix', topic: 'orders' },
  { type: 'scale-out-assigned', partitions: [0, 1] },
  ...[0, 1].map(
    (partition): ReplayProgressEvent => ({
      type: 'start',
      partition,
      topic: 'orders',
      sink: 'kafka:orders.fixed',
      quarantine: 'kafka:orders.quarantine',
      resumed: false,
      resent: 0,
      dryRun: false,
      partitions: [{ partition, start: 0n, end: 1000n, next: 0n }],
    }),
  ),
  { type: 'batch', partition: 0, records: 500, bytes: 50_000, elapsedMs: 800, totals: totals(500, 500n, 1000n), partitions: [progress(0, 500n, 500)] },
  { type: 'batch', partition: 1, records: 300, bytes: 30_000, elapsedMs: 700, totals: totals(300, 700n, 1000n), partitions: [progress(1, 300n, 300)] },
  { type: 'waiting', partition: 1, reason: 'Could not reach Kafka', sinceMs: Date.UTC(2026, 11, 6, 10, 0, 1), giveUpAtMs: null },
  { type: 'partition-stop', partition: 1, finished: false, read: 300 },
  { type: 'batch', partition: 0, records: 500, bytes: 50_000, elapsedMs: 1_600, totals: totals(1000, 0n, 1000n), partitions: [progress(0, 1000n, 1000)] },
  { type: 'done', partition: 0, summary },
  { type: 'partition-stop', partition: 0, finished: true, read: 1000 },
  { type: 'scale-out-waiting', unfinished: [1] },
  {
    type: 'scale-out-done',
    summary: { finished: false, interrupted: true, reconciled: true, elapsedMs: 2_500, totals: totals(1300, 0n, 0n) } as unknown as GroupReplaySummary,
  },
]

const auditEvents: AuditEvent[] = [
  { type: 'sink-loaded', sink: 'file:orders.jsonl', rows: 10, elapsedMs: 20 },
  { type: 'scan-start', topic: 'orders', records: 10n, partitions: [{ partition: 0, start: 0n, end: 10n }] },
  { type: 'scan-progress', topic: 'orders', records: 5, bytes: 500, elapsedMs: 1_000 },
  { type: 'scan-done', topic: 'orders', records: 10, bytes: 1000, elapsedMs: 1_500 },
  { type: 'analyse', what: 'duplicates' },
]

const demoEvents: DemoEvent[] = [
  { type: 'local-kafka', event: { type: 'broker-ready', version: '4.4.0', pid: 42, brokers: '127.0.0.1:9092', ms: 3_000 } },
  { type: 'seeding', topic: 'orders', group: 'billing', count: 1000, brokers: '127.0.0.1:9092' },
  { type: 'step-start', id: 'peek', title: 'Look at the records', index: 1, total: 7, command: 'recover peek --topic orders' },
  { type: 'step-end', run: { id: 'peek', title: 'Look at the records', command: 'recover peek --topic orders', exitCode: 0, ms: 900 }, index: 1, total: 7 },
]

async function ndjsonOf<E, S>(presenter: Presenter<E, S>, events: E[]): Promise<string[]> {
  const c = await capture(presenter, 'ndjson')
  c.reporter.note('a plugin said hello')
  for (const e of events) {
    c.tick(600)
    c.reporter.event(e)
  }
  c.reporter.finish()
  return c.records
}

test('one choice at the start: NDJSON under --json, the live view on a wide enough terminal, plain lines otherwise', () => {
  assert.is(chooseReporterMode({ json: true, isTTY: true, columns: 120 }), 'ndjson')
  assert.is(chooseReporterMode({ json: true, isTTY: false }), 'ndjson')
  assert.is(chooseReporterMode({ json: false, isTTY: true, columns: 80 }), 'live')
  assert.is(chooseReporterMode({ json: false, isTTY: true, columns: 40 }), 'lines')
  assert.is(chooseReporterMode({ json: false, isTTY: true }), 'lines', 'a pty without a size')
  assert.is(chooseReporterMode({ json: false, isTTY: false, columns: 200 }), 'lines')
})

test('the live view and the plain line print the same figures from the same state, down to an ETA under half a second', () => {
  let s = reduceProgress(initialProgress(), {
    type: 'start',
    topic: 'orders',
    sink: 'kafka:orders.fixed',
    resumed: false,
    resent: 0,
    partitions: [{ partition: 0, start: 0n, end: 3000n, next: 0n }],
  })
  s = reduceProgress(s, {
    type: 'batch',
    records: 2700,
    bytes: 2_700_000,
    elapsedMs: 1000,
    partitions: [progress(0, 2700n, 2700, 7)],
    totals: totals(2700, 300n, 3000n, 7),
  })
  const figures = progressFigures(s)
  assert.equal(figures, { read: '2,700', written: '2,693', dropped: '0', quarantined: '7', mb: '0.3', rate: '2,700', percent: '90.0%', eta: 'ETA 1s' })
  const line = renderProgressLine(s)
  assert.is(line, 'replay: 2,700 read, 2,693 written, 0 dropped, 7 quarantined, 0.3 MB, 2,700 rec/s, 90.0%, ETA 1s')
  const { lastFrame, unmount } = render(<ReplayProgressView state={s} columns={80} />)
  const frame = plain(lastFrame())
  unmount()
  assert.match(frame, /\s90\.0%\s+2,700 read\s+0\.3 MB\s+2,700 rec\/s\s+ETA 1s$/m)
  assert.match(frame, /^2,693 written\s+0 dropped\s+7 quarantined$/m)
  for (const [name, figure] of Object.entries(figures)) {
    assert.ok(line.includes(figure), `the line lacks ${name} ${figure}`)
    assert.ok(frame.includes(figure), `the view lacks ${name} ${figure}`)
  }
})

test('batches further apart than the rate window (a slow sink, --rate) still give a rate and an ETA', () => {
  let s = reduceProgress(initialProgress(), {
    type: 'start',
    topic: 'orders',
    sink: 'file:o.jsonl',
    resumed: false,
    resent: 0,
    partitions: [{ partition: 0, start: 0n, end: 3000n, next: 0n }],
  })
  s = reduceProgress(s, { type: 'batch', records: 1000, bytes: 0, elapsedMs: 10_000, totals: totals(1000, 2000n, 3000n) })
  s = reduceProgress(s, { type: 'batch', records: 1000, bytes: 0, elapsedMs: 20_000, totals: totals(2000, 1000n, 3000n) })
  assert.equal([progressFigures(s).rate, progressFigures(s).eta], ['100', 'ETA 10s'])
})

test('on an 80x24 terminal the live view keeps every line within 80 columns and its live part under 24 rows', () => {
  const offset = 987_654_321_012n
  let s = reduceProgress(initialProgress(), {
    type: 'start',
    topic: 'orders.payments.v2-eu-west',
    sink: 'postgres://postgres@db.internal:5432/shop?table=orders_fixed&key=order_id',
    resumed: true,
    resent: 0,
    partitions: Array.from({ length: 40 }, (_, partition) => ({ partition, start: offset, end: offset * 2n, next: offset })),
  })
  const partitions = Array.from({ length: 40 }, (_, partition) => ({
    partition,
    start: offset,
    end: offset * 2n,
    next: offset + offset / 2n,
    read: 123_456_789,
    quarantined: 1_234_567,
    bytes: 98_765_432_100,
  }))
  s = reduceProgress(s, {
    type: 'batch',
    records: 1_234_567_890,
    bytes: 987_654_321_000,
    elapsedMs: 3_000_000,
    partitions,
    totals: {
      read: 4_938_271_560,
      written: 4_888_888_888,
      dropped: 12_345_678,
      quarantined: 49_382_716,
      bytes: 3_950_617_284_000,
      remaining: offset * 20n,
      rangeSize: offset * 40n,
    },
  })
  for (const [columns, rows] of [
    [80, 24],
    [60, 12],
  ] as const) {
    const { lastFrame, unmount } = render(<ReplayProgressView state={s} columns={columns} rows={rows} />)
    const lines = plain(lastFrame()).split('\n')
    unmount()
    const long = lines.filter((l) => l.length > columns)
    assert.equal(long, [], `longer than ${columns}:\n${long.join('\n')}`)
    assert.ok(lines.length < rows, `${lines.length} rows on a terminal of ${rows}`)
    assert.match(lines.join('\n'), /… \d+ more partitions: /)
  }
  // On 80 columns the bars give way: the figures are whole, only the title is cut.
  const { lastFrame, unmount } = render(<ReplayProgressView state={s} columns={80} rows={24} />)
  const frame = plain(lastFrame())
  unmount()
  const f = progressFigures(s)
  assert.match(frame, new RegExp(`${f.read} read  ${f.mb} MB  ${f.rate} rec/s  ${f.eta}\n`))
  assert.match(frame, new RegExp(`${f.written} written  ${f.dropped} dropped  ${f.quarantined} quarantined\n`))
  assert.match(frame, / 1481481481518 \/ 1975308642024\n/)
})

const findEvents: FindEvent[] = [
  { type: 'find-start', topic: 'orders', where: 'header app-version = 1.6.0', partitions: [{ partition: 0, start: 0n, end: 10n }], records: 10n },
  { type: 'find-progress', topic: 'orders', scanned: 5, matches: 2, records: 10n, elapsedMs: 100 },
  { type: 'find-done', topic: 'orders', scanned: 10, matches: 4, elapsedMs: 200 },
]

test('every NDJSON record the reporters write is in docs/progress-events.md, with the documented fields and types, and every documented type is written', async () => {
  const written = [
    ...(await ndjsonOf(replayPresenter, replayEvents)),
    ...(await ndjsonOf(replayPresenter, scaleOutEvents)),
    ...(await ndjsonOf(auditScanPresenter, auditEvents)),
    ...(await ndjsonOf(redrivePresenter, [{ redriven: 5, parked: 1, refused: 0 }])),
    ...(await ndjsonOf(demoPresenter, demoEvents)),
    ...(await ndjsonOf(findPresenter, findEvents)),
  ]
  const schema = progressSchema()
  assert.equal(
    written.flatMap((line) => progressLineProblems(line, schema)),
    [],
  )
  const types = new Set(written.map((line) => (JSON.parse(line) as { type: string }).type))
  assert.equal(
    [...schema.keys()].filter((t) => t !== '*' && !types.has(t)),
    [],
    'documented but never written',
  )
})

test('NDJSON: figures at most once per interval, brought up to date before any other record and at the end', async () => {
  const c = await capture(replayPresenter, 'ndjson', 1_000)
  const [start, , batch1, , waiting, , batch2, done] = replayEvents
  c.reporter.event(start!)
  c.tick(400)
  c.reporter.event(batch1!)
  assert.equal(c.types(), ['start'], 'the first batch falls within the interval')
  c.tick(100)
  c.reporter.event(waiting!)
  assert.equal(c.types(), ['start', 'progress', 'waiting'], 'the figures come first, then the event')
  c.tick(100)
  c.reporter.event(batch2!)
  c.reporter.event(done!)
  c.reporter.finish()
  c.reporter.finish()
  assert.equal(c.types(), ['start', 'progress', 'waiting', 'progress', 'done'])
  const last = JSON.parse(c.records[3]!) as { read: number; percent: number; remaining: string; etaMs: number | null }
  assert.equal([last.read, last.percent, last.remaining], [2000, 100, '0'])
  assert.is(c.lines.length, 0, 'nothing for people under --json')
})

test('plain lines: the events as sentences, the figures at most once per interval; --scale-out names the partitions', async () => {
  const single = await capture(replayPresenter, 'lines', 1_000)
  for (const e of replayEvents) {
    single.tick(600)
    single.reporter.event(e)
  }
  single.reporter.finish()
  assert.equal(single.lines, [
    'Replaying orders (2 partitions, up to 2000 records) into file:orders.jsonl, quarantine file:q.jsonl.',
    'Warning: --from offset 999999 is past the end of partition 0',
    'replay: 1,000 read, 998 written, 0 dropped, 2 quarantined, 0.1 MB, 1,000 rec/s, 50.0%, ETA 1s',
    'Waiting for Kafka since 10:00:01 UTC, until 10:05:01 UTC (--broker-wait), then continuing from the last checkpoint: Could not reach Kafka.',
    'Kafka answers again after 1.5 s; continuing.',
    'replay: 2,000 read, 1,998 written, 0 dropped, 2 quarantined, 0.2 MB, 667 rec/s, 100.0%, ETA 0s',
  ])
  assert.is(single.records.length, 0)

  const group = await capture(replayPresenter, 'lines', 1_000)
  for (const e of scaleOutEvents) {
    group.tick(400)
    group.reporter.event(e)
  }
  assert.equal(group.lines, [
    "Joining recover's replay group recover-replay.fix to replay a share of orders…",
    'Group recover-replay.fix assigned partitions 0, 1 to this process.',
    'Partition 0: replaying [0, 1000) from 0.',
    'Partition 1: replaying [0, 1000) from 0.',
    // 500 of the 2,000 offsets of both partitions, 500 records in the 0.8 s since the first start: 1,500 to go at 625/s.
    'replay: 500 read, 500 written, 0 dropped, 0 quarantined, 0.1 MB, 625 rec/s, 25.0%, ETA 3s; partition 0 50.0% (500 read), partition 1 0.0% (0 read)',
    'Partition 1: Waiting since 10:00:01 UTC: Could not reach Kafka.',
    'Partition 1: handed over (300 read).',
    // Partition 1 left this process's figures; the rate still counts every record this process read (1,300 in 2.4 s).
    'replay: 1,000 read, 1,000 written, 0 dropped, 0 quarantined, 0.1 MB, 542 rec/s, 100.0%, ETA 0s; partition 0 done (1,000 read)',
    'Partition 0: done (1000 read).',
  ])
})

test('on a terminal the live view takes over once the replay starts: lines above it, figures in it, the last state at the end', async () => {
  const calls: string[] = []
  const live: Presenter<ReplayProgressEvent, ProgressState> = {
    ...replayPresenter,
    loadLive: async () => (state) => {
      if (!state.started) return undefined
      const view: LiveView<ProgressState> = {
        update: (s) => calls.push(`update ${s.totals.read}`),
        note: (text) => calls.push(`note ${text}`),
        finish: (s) => calls.push(`finish ${s.totals.read}`),
      }
      return view
    },
  }
  const c = await capture(live, 'live', 1_000)
  c.reporter.note('before the start')
  for (const e of replayEvents) c.reporter.event(e)
  c.reporter.finish()
  assert.equal(c.lines, ['before the start', 'Replaying orders (2 partitions, up to 2000 records) into file:orders.jsonl, quarantine file:q.jsonl.'])
  assert.equal(calls, [
    'note Warning: --from offset 999999 is past the end of partition 0',
    'update 1000',
    'note Waiting for Kafka since 10:00:01 UTC, until 10:05:01 UTC (--broker-wait), then continuing from the last checkpoint: Could not reach Kafka.',
    'note Kafka answers again after 1.5 s; continuing.',
    'update 2000',
    'finish 2000',
  ])
})

test('a redrive says how far it got at most once a second, and under --json once more at the end', async () => {
  const lines = await capture(redrivePresenter, 'lines', 1_000)
  const ndjson = await capture(redrivePresenter, 'ndjson', 1_000)
  const steps: RedriveProgress[] = [
    { redriven: 100, parked: 0, refused: 0 },
    { redriven: 200, parked: 1, refused: 0 },
    { redriven: 250, parked: 1, refused: 2 },
  ]
  for (const p of steps) {
    for (const c of [lines, ndjson]) {
      c.tick(600)
      c.reporter.event(p)
    }
  }
  lines.reporter.finish()
  ndjson.reporter.finish()
  assert.equal(lines.lines, ['Redriven 200, parked 1, refused 0 so far…'])
  assert.equal(
    ndjson.records.map((r) => (JSON.parse(r) as RedriveProgress).redriven),
    [200, 250],
  )
})

test.run()
