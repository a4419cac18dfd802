import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { freshCounts, totalsOf } from '../../src/core/replay-counts.js'
import { translateKafkaError, withLeaderScope } from '../../src/kafka/translate-error.js'
import { mergeOutageSpans } from '../../src/core/outage-spans.js'
import { renderGroupReplaySummary, renderOutages, renderReplaySummary } from '../../src/render/replay.js'
import { summarize } from '../../src/replay/summary.js'
import type { ReplaySummary } from '../../src/services/replay.js'
import type { GroupReplaySummary } from '../../src/services/replay-group.js'

type Settings = Parameters<typeof translateKafkaError>[1]
const cluster = { brokers: ['10.0.0.1:9092', '10.0.0.2:9092', '10.0.0.3:9092'], source: '--brokers' } as unknown as Settings
const named = (name: string, message: string, extra: object = {}) => Object.assign(new Error(message), { name, ...extra })
const connectionError = (broker: string) => named('KafkaJSConnectionError', `Connection error: connect ECONNREFUSED ${broker}`, { broker })

test('a broker of a cluster that stops answering a read is named with the partitions it led, not the whole bootstrap list', () => {
  const error = withLeaderScope(connectionError('10.0.0.2:9092'), { nodeId: 2, topic: 'orders', partitions: [0, 3] })
  const down = translateKafkaError(error, cluster, 'reading orders')
  assert.is(down.code, 'BROKER_UNREACHABLE')
  assert.ok(down.retriable, 'the replay waits it out')
  assert.is(
    down.summary,
    'Could not reach Kafka broker 10.0.0.2:9092 (node 2, leader of orders partitions 0, 3) of the cluster at 10.0.0.1:9092,10.0.0.2:9092,10.0.0.3:9092 (from --brokers) while reading orders',
  )
  assert.equal(down.details.partitions, [0, 3])
  assert.is(down.details.unreachableBroker, '10.0.0.2:9092')
})

test("a write whose leader is gone names that broker and the partitions it led when the writer opened (kafkajs's retries wrap the error)", () => {
  const leadership = {
    topic: 'orders.out',
    byBroker: new Map([
      ['10.0.0.1:9092', { nodeId: 1, partitions: [1] }],
      ['10.0.0.3:9092', { nodeId: 3, partitions: [2] }],
    ]),
  }
  const wrapped = named('KafkaJSNumberOfRetriesExceeded', 'Connection error: connect ECONNREFUSED 10.0.0.3:9092', {
    originalError: connectionError('10.0.0.3:9092'),
  })
  const down = translateKafkaError(wrapped, cluster, 'writing to sink topic orders.out', { leadership })
  assert.match(down.summary, /^Could not reach Kafka broker 10\.0\.0\.3:9092 \(node 3, leader of orders\.out partition 2\) of the cluster at /)
})

test('with one bootstrap address that is the broker itself, the message stays as it was', () => {
  const single = { brokers: ['127.0.0.1:9092'], source: 'test' } as unknown as Settings
  assert.is(
    translateKafkaError(connectionError('127.0.0.1:9092'), single, 'reading orders').summary,
    'Could not reach Kafka at 127.0.0.1:9092 (from test) while reading orders',
  )
})

test('a refusal a wait cures stays retriable when kafkajs wraps it after its retries: NOT_ENOUGH_REPLICAS, and CONCURRENT_TRANSACTIONS outside a commit', () => {
  const protocol = (type: string, message: string) => named('KafkaJSProtocolError', message, { type })
  const isr = named('KafkaJSNumberOfRetriesExceeded', 'Messages are rejected since there are fewer in-sync replicas than required', {
    originalError: protocol('NOT_ENOUGH_REPLICAS', 'Messages are rejected since there are fewer in-sync replicas than required'),
  })
  const refused = translateKafkaError(isr, cluster, 'writing to sink topic orders.out')
  assert.ok(refused.retriable)
  assert.match(refused.message, /answered NOT_ENOUGH_REPLICAS while writing/)
  const concurrent = named(
    'KafkaJSNumberOfRetriesExceeded',
    'The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing',
    {
      originalError: protocol(
        'CONCURRENT_TRANSACTIONS',
        'The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing',
      ),
    },
  )
  const writing = translateKafkaError(concurrent, cluster, 'writing', { transactional: true })
  assert.ok(writing.retriable && !writing.fenced, 'mid-transaction: wait, reopen the producer, continue from the checkpoint')
  assert.ok(translateKafkaError(concurrent, cluster, 'committing', { transactional: true, committing: true }).fenced, 'while committing it is still fencing')
})

const partitions = [{ ...freshCounts({ partition: 0, start: 0n, end: 10n }, 10n), read: 10, written: 10, outputs: 10, bytes: 100 }]

function summary(over: Partial<ReplaySummary>): ReplaySummary {
  return {
    topic: 'orders',
    cluster: { id: 'c1', bootstrap: ['127.0.0.1:9092'], source: '--brokers' },
    sink: 'kafka:orders.out',
    quarantine: 'file:q.jsonl',
    transform: null,
    checkpoint: null,
    dryRun: false,
    resumed: false,
    resumes: 0,
    finished: true,
    interrupted: false,
    resent: 0,
    duplicatesPossible: true,
    batchSize: 500,
    partitions,
    totals: totalsOf(partitions),
    quarantinedByStage: { decode: 0, transform: 0, sink: 0 },
    alreadyQuarantined: 0,
    reconciled: true,
    readThisRun: 10,
    outages: 0,
    outageWaitedMs: 0,
    longestOutageMs: 0,
    outageSpans: [],
    elapsedMs: 1_000,
    recordsPerSecond: 10,
    warnings: [],
    ...over,
  }
}

test('the summary says how many Kafka outages the replay waited out, how long, and what they cost the sink', () => {
  assert.is(renderOutages(summary({})), undefined)
  assert.ok(!renderReplaySummary(summary({})).includes('outage'), 'no outage, no line')
  const two = summary({ outages: 2, outageWaitedMs: 14_200, longestOutageMs: 9_100, resent: 500 })
  assert.is(
    renderOutages(two),
    'Waited out 2 Kafka outages (14.2 s in all, the longest 9.1 s; --broker-wait) and continued from the checkpoint each time; 500 records were written after the checkpoint and sent again, so kafka:orders.out holds them twice.',
  )
  assert.ok(renderReplaySummary(two).includes(renderOutages(two)!))
  assert.is(
    renderOutages(summary({ outages: 1, outageWaitedMs: 4_200, longestOutageMs: 4_200, duplicatesPossible: false, sink: 'kafka:orders.out (exactly once)' })),
    'Waited out 1 Kafka outage (4.2 s; --broker-wait) and continued from the checkpoint; nothing is duplicated.',
  )
})

test('summarize adds up the outage waits of the run', () => {
  const run = { counts: new Map(partitions.map((p) => [p.partition, p])), interrupted: false, byStage: { decode: 0, transform: 0, sink: 0 }, sample: [] }
  const s = summarize({
    topic: 'orders',
    cluster: { id: 'c1', bootstrap: ['127.0.0.1:9092'], source: '--brokers' },
    run: run as never,
    stages: { transformInfo: null } as never,
    outputs: undefined,
    checkpointPath: undefined,
    checkpoint: undefined,
    resumed: false,
    finished: true,
    readBefore: 0,
    batchSize: 500,
    outages: 3,
    outageSpans: [
      { sinceMs: 10_000, waitedMs: 1_000 },
      { sinceMs: 20_000, waitedMs: 5_500 },
      { sinceMs: 40_000, waitedMs: 2_000 },
    ],
    warnings: [],
    startedMs: Date.now() - 10_000,
  })
  assert.is(s.outages, 3)
  assert.is(s.outageWaitedMs, 8_500)
  assert.is(s.longestOutageMs, 5_500)
})

test("a --scale-out process's partitions that wait out one broker's death together count as one outage, from the first wait to the last", () => {
  const merged = mergeOutageSpans([
    { sinceMs: 10_000, waitedMs: 6_000 }, // partition 0
    { sinceMs: 10_400, waitedMs: 7_100 }, // partition 3, same broker: ends at 17.5 s
    { sinceMs: 40_000, waitedMs: 2_000 }, // a later outage
  ])
  assert.equal(merged, { outages: 2, waitedMs: 9_500, longestMs: 7_500 })
  assert.equal(mergeOutageSpans([]), { outages: 0, waitedMs: 0, longestMs: 0 })
})

test('the --scale-out summary says how many outages the process waited out and how long, and nothing about outages without one', () => {
  const totals = totalsOf([freshCounts({ partition: 0, start: 0n, end: 10n })])
  const group = (outages: Pick<GroupReplaySummary, 'outages' | 'outageWaitedMs' | 'longestOutageMs'>): GroupReplaySummary => ({
    group: 'recover-replay.fix',
    cluster: { id: 'c1', bootstrap: ['127.0.0.1:9092'], source: '--brokers' } as never,
    topic: 'orders',
    sink: 'postgres://127.0.0.1/test?table=orders&key=id',
    quarantine: 'kafka:orders.quarantine',
    partitions: [],
    totals,
    reconciled: true,
    finished: true,
    interrupted: false,
    assignments: 2,
    duplicatesPossible: false,
    elapsedMs: 20_000,
    ...outages,
  })
  assert.match(
    renderGroupReplaySummary(group({ outages: 2, outageWaitedMs: 9_500, longestOutageMs: 7_500 })),
    /\nWaited out 2 Kafka outages \(9\.5 s in all, the longest 7\.5 s; --broker-wait\) and continued each partition from where it was checkpointed each time\./,
  )
  assert.match(
    renderGroupReplaySummary(group({ outages: 1, outageWaitedMs: 4_200, longestOutageMs: 4_200 })),
    /\nWaited out 1 Kafka outage \(4\.2 s; --broker-wait\) and continued each partition from where it was checkpointed\./,
  )
  assert.not.match(renderGroupReplaySummary(group({ outages: 0, outageWaitedMs: 0, longestOutageMs: 0 })), /Waited out/)
})

test.run()
