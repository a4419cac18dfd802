import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { initialProgress, reduceProgress } from '../../src/core/replay-progress.js'
import { renderProgressLine, renderReconnectedLine, renderWaitingLine } from '../../src/render/replay-progress.js'

const at = Date.UTC(2026, 10, 26, 1, 34, 59)

test('a Kafka outage line says since when, until when, and what happens next', () => {
  assert.is(
    renderWaitingLine({ reason: 'Could not reach Kafka at 127.0.0.1:9092 (from --brokers) while reading orders.', sinceMs: at, giveUpAtMs: at + 120_000 }),
    'Waiting for Kafka since 01:34:59 UTC, until 01:36:59 UTC (--broker-wait), then continuing from the last checkpoint: Could not reach Kafka at 127.0.0.1:9092 (from --brokers) while reading orders.',
  )
})

test('a stall line has no deadline: the replay does not give up on a stall', () => {
  assert.is(
    renderWaitingLine({ reason: 'no batch finished for 10 s; waiting for Kafka or the sink to answer', sinceMs: at, giveUpAtMs: null }),
    'Waiting since 01:34:59 UTC: no batch finished for 10 s; waiting for Kafka or the sink to answer.',
  )
})

test('the reconnect line says how long it waited and how many records will be sent again', () => {
  assert.is(renderReconnectedLine({ waitedMs: 11_432, resent: 0 }), 'Kafka answers again after 11.4 s; continuing.')
  assert.is(
    renderReconnectedLine({ waitedMs: 2_000, resent: 1 }),
    'Kafka answers again after 2.0 s; continuing; 1 record written after the last checkpoint will be sent again.',
  )
  assert.is(
    renderReconnectedLine({ waitedMs: 2_000, resent: 500 }),
    'Kafka answers again after 2.0 s; continuing; 500 records written after the last checkpoint will be sent again.',
  )
})

test('--scale-out progress: the figures, then each partition of this process by number, percent of its range (or done) and records read', () => {
  const totals = (read: number, remaining: bigint, rangeSize: bigint) => ({ read, written: read, dropped: 0, quarantined: 0, bytes: 0, remaining, rangeSize })
  const p = (partition: number, start: bigint, end: bigint, next: bigint, read: number) => ({ partition, start, end, next, read, quarantined: 0, bytes: 0 })
  let s = reduceProgress(initialProgress(), { type: 'scale-out-joining', group: 'recover-replay.fix', topic: 'orders' })
  assert.is(renderProgressLine(s), 'replay: 0 read, 0 written, 0 dropped, 0 quarantined, 0.0 MB, 0 rec/s, 0.0%, ETA –; no partition yet')
  for (const [partition, start, end] of [
    [3, 100n, 200n],
    [0, 0n, 26_000n],
    [5, 7n, 7n],
  ] as const)
    s = reduceProgress(s, { type: 'start', partition, resumed: false, resent: 0, partitions: [{ partition, start, end, next: start }] }, 0)
  s = reduceProgress(
    s,
    { type: 'batch', partition: 3, records: 100, bytes: 0, elapsedMs: 500, totals: totals(100, 0n, 100n), partitions: [p(3, 100n, 200n, 200n, 100)] },
    500,
  )
  s = reduceProgress(
    s,
    {
      type: 'batch',
      partition: 0,
      records: 11_700,
      bytes: 0,
      elapsedMs: 1_000,
      totals: totals(11_700, 14_300n, 26_000n),
      partitions: [p(0, 0n, 26_000n, 11_700n, 11_700)],
    },
    1_500,
  )
  assert.is(
    renderProgressLine(s),
    'replay: 11,800 read, 11,800 written, 0 dropped, 0 quarantined, 0.0 MB, 7,867 rec/s, 45.2%, ETA 2s; partition 0 45.0% (11,700 read), partition 3 done (100 read), partition 5 done (0 read)',
  )
  // Handed over to another process: it leaves this process's figures.
  s = reduceProgress(s, { type: 'partition-stop', partition: 0, finished: false })
  assert.match(renderProgressLine(s), /^replay: 100 read, .*, 100\.0%, .*; partition 3 done \(100 read\), partition 5 done \(0 read\)$/)
})

test.run()
