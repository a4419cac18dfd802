import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { renderGroupProgressLine, renderReconnectedLine, renderWaitingLine } from '../../src/render/replay.js'

const at = Date.UTC(2026, 10, 26, 1, 34, 59)

test('a Kafka outage line says since when, until when, and what happens next', () => {
  assert.is(
    renderWaitingLine({ reason: 'Could not reach Kafka at 127.0.0.1:9092 (from --brokers) while reading orders.', sinceMs: at, giveUpAtMs: at + 120_000 }),
    'Waiting for Kafka since 01:34:59 UTC, until 01:36:59 UTC (--broker-wait), then continuing from the last checkpoint: Could not reach Kafka at 127.0.0.1:9092 (from --brokers) while reading orders.',
  )
})

test('a stall line has no deadline: the replay does not give up on a stall', () => {
  assert.is(renderWaitingLine({ reason: 'no batch finished for 10 s; waiting for Kafka or the sink to answer', sinceMs: at, giveUpAtMs: null }), 'Waiting since 01:34:59 UTC: no batch finished for 10 s; waiting for Kafka or the sink to answer.')
})

test('the reconnect line says how long it waited and how many records will be sent again', () => {
  assert.is(renderReconnectedLine({ waitedMs: 11_432, resent: 0 }), 'Kafka answers again after 11.4 s; continuing.')
  assert.is(renderReconnectedLine({ waitedMs: 2_000, resent: 1 }), 'Kafka answers again after 2.0 s; continuing; 1 record written after the last checkpoint will be sent again.')
  assert.is(renderReconnectedLine({ waitedMs: 2_000, resent: 500 }), 'Kafka answers again after 2.0 s; continuing; 500 records written after the last checkpoint will be sent again.')
})

test('--group progress: each partition of this process by number, percent of its range (or done), records read, and the rate', () => {
  const p = (partition: number, start: bigint, end: bigint, next: bigint, read: number) => ({ partition, start, end, next, read, quarantined: 0, bytes: 0 })
  assert.is(
    renderGroupProgressLine([p(3, 100n, 200n, 200n, 100), p(0, 0n, 26_000n, 11_700n, 11_700), p(5, 7n, 7n, 7n, 0)], 8_000.4),
    'replay: partition 0 45.0% (11,700 read), partition 3 done (100 read), partition 5 done (0 read); 8,000 rec/s',
  )
  assert.is(renderGroupProgressLine([], 0), 'replay: no partition yet; 0 rec/s')
})

test.run()
