import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { renderReconnectedLine, renderWaitingLine } from '../../src/render/replay.js'

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

test.run()
