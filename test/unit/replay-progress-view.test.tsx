import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { render } from 'ink-testing-library'
import { initialProgress, reduceProgress, type PartitionProgress, type ProgressState } from '../../src/core/replay-progress.js'
import { ReplayProgressView } from '../../src/ui/replay-progress-view.js'

const plain = (text: string | undefined) => (text ?? '').replace(/\x1b\[[0-9;]*m/g, '')

function partition(partition: number, next: bigint, read: number, quarantined = 0): PartitionProgress {
  return { partition, start: 0n, end: 1000n, next, read, quarantined, bytes: read * 1000 }
}

/** Two of three partitions half way, the third done, 7 quarantined, 2 s in. */
function midway(): ProgressState {
  let s = reduceProgress(initialProgress(), {
    type: 'start',
    topic: 'orders',
    sink: 'kafka:orders.fixed',
    resumed: false,
    resent: 0,
    partitions: [0, 1, 2].map((p) => ({ partition: p, start: 0n, end: 1000n, next: 0n })),
  })
  const partitions = [partition(0, 500n, 500, 7), partition(1, 500n, 500), partition(2, 1000n, 1000)]
  s = reduceProgress(s, {
    type: 'batch',
    records: 2000,
    bytes: 2_000_000,
    elapsedMs: 2000,
    partitions,
    totals: { read: 2000, written: 1990, dropped: 3, quarantined: 7, bytes: 2_000_000, remaining: 1000n, rangeSize: 3000n },
  })
  return s
}

test('the live view shows the totals with a bar, rate, ETA and quarantined, and a line per partition', () => {
  const { lastFrame, unmount } = render(<ReplayProgressView state={midway()} columns={60} />)
  const frame = plain(lastFrame())
  unmount()
  assert.match(frame, /Replaying orders → kafka:orders\.fixed/)
  assert.match(frame, /^█+░+\s+66\.7%\s+2,000 read\s+2\.0 MB\s+1,000 rec\/s\s+ETA 1s$/m)
  assert.match(frame, /1,990 written\s+3 dropped\s+7 quarantined/)
  const lines = frame.split('\n')
  const line = (p: number) => lines.find((l) => new RegExp(`^\\s+${p}\\s+[█░]`).test(l)) ?? ''
  assert.match(line(0), /(█+)(░+)\s+500\s+0\.5\s+7\s+500 \/ 1000/)
  const half = /(█+)(░+)/.exec(line(0))!
  assert.is(half[1]!.length, half[2]!.length, 'half way, half full')
  assert.match(line(1), /█+░+\s+500\s+0\.5\s+0\s+500 \/ 1000/)
  assert.match(line(2), /█+\s+1,000\s+1\.0\s+0\s+1000 \/ 1000/)
})

test('many partitions: the first rows are listed, the rest summed on one line', () => {
  let s = reduceProgress(initialProgress(), {
    type: 'start',
    topic: 'orders',
    sink: 'file:out.jsonl',
    resumed: true,
    resent: 0,
    partitions: Array.from({ length: 20 }, (_, p) => ({ partition: p, start: 0n, end: 1000n, next: 0n })),
  })
  const partitions = Array.from({ length: 20 }, (_, p) => partition(p, p % 2 === 0 ? 1000n : 10n, p % 2 === 0 ? 1000 : 10, 1))
  s = reduceProgress(s, {
    type: 'batch',
    records: 10_100,
    bytes: 1,
    elapsedMs: 1000,
    partitions,
    totals: { read: 10_100, written: 10_080, dropped: 0, quarantined: 20, bytes: 1, remaining: 9900n, rangeSize: 20_000n },
  })
  const { lastFrame, unmount } = render(<ReplayProgressView state={s} maxPartitionRows={4} />)
  const frame = plain(lastFrame())
  unmount()
  assert.match(frame, /\(resumed\)/)
  assert.is(frame.split('\n').filter((l) => /^\s+\d+\s+[█░]/.test(l)).length, 4)
  // Partitions 4..19: 8 done with 1,000 each, 8 at 10 each.
  assert.match(frame, /… 16 more partitions: 8,080 read, 16 quarantined, 8 done/)
})

test('notes are printed above the live part, and the finished view says so', () => {
  const done = reduceProgress(midway(), { type: 'done' })
  const { lastFrame, unmount } = render(<ReplayProgressView state={done} notes={['Retrying the sink after a broker error…']} />)
  const frame = plain(lastFrame())
  unmount()
  assert.match(frame, /Retrying the sink after a broker error…[\s\S]*Replayed orders/)
  assert.match(frame, /\bdone\b/)
  assert.not.match(frame, /ETA/)
})

test('the reducer keeps per-partition positions from the start event until batches report them', () => {
  const s = reduceProgress(initialProgress(), {
    type: 'start',
    resumed: false,
    resent: 0,
    partitions: [
      { partition: 1, start: 5n, end: 9n, next: 7n },
      { partition: 0, start: 0n, end: 3n, next: 0n },
    ],
  })
  assert.equal(
    s.partitions.map((p) => [p.partition, String(p.next), p.read]),
    [
      [0, '0', 0],
      [1, '7', 0],
    ],
  )
  const after = reduceProgress(s, { type: 'batch', records: 1, bytes: 1, elapsedMs: 10, totals: s.totals })
  assert.is(after.partitions, s.partitions)
})

test.run()
