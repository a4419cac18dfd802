import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { editDistance, nearestNames } from '../../src/core/nearest-name.js'
import { formatBytes, formatLength, renderTopicDetail, renderTopicList, showRetention, toSecond } from '../../src/render/topics.js'
import { timeHeld, type PartitionDetail, type TopicDetail } from '../../src/services/describe-topic.js'
import { summarise, type TopicList } from '../../src/services/list-topics.js'
import { isInternalTopic, toTopicMetadata } from '../../src/kafka/topic-metadata.js'

const cluster = { id: 'QHcOeZYTg1TeWSJMw9zU1g', bootstrap: ['127.0.0.1:9092'], source: '--brokers' }

test('a misspelt topic name suggests the nearest existing ones, and none when nothing is close', () => {
  const names = ['orders', 'orders.quarantine', 'orders.v2', 'payments', 'billing-events']
  assert.equal(nearestNames('ordres', names)[0], 'orders')
  assert.equal(nearestNames('order', names), ['orders', 'orders.v2', 'orders.quarantine'])
  assert.equal(nearestNames('Payments', names), ['payments'])
  assert.equal(nearestNames('inventory', names), [])
  assert.is(editDistance('ab', 'ba'), 1)
  assert.is(editDistance('kitten', 'sitting'), 3)
})

test('internal topics are the ones Kafka flags and names starting with "__"', () => {
  assert.ok(isInternalTopic('__consumer_offsets'))
  assert.ok(isInternalTopic('_schemas', true))
  assert.not.ok(isInternalTopic('_schemas'))
  const meta = toTopicMetadata({
    topic: 'orders',
    isInternal: false,
    partitionMetadata: [
      { partitionId: 1, leader: -1, replicas: [2, 3, 1], isr: [3], offlineReplicas: [2] },
      { partitionId: 0, leader: 1, replicas: [1, 2, 3], isr: [3, 1, 2], offlineReplicas: [] },
    ],
  })
  assert.equal(
    meta.partitions.map((p) => p.partition),
    [0, 1],
  )
  assert.equal(meta.partitions[0]!.isr, [1, 2, 3])
  const summary = summarise(
    meta,
    new Map([
      ['cleanup.policy', 'delete'],
      ['retention.ms', '604800000'],
      ['retention.bytes', '-1'],
    ]),
  )
  assert.equal(
    { rf: summary.replicationFactor, under: summary.underReplicatedPartitions, offline: summary.offlinePartitions, retention: summary.retention },
    { rf: 3, under: 1, offline: 1, retention: { ms: 604_800_000, bytes: null } },
  )
})

test('lengths, sizes and retention read the way people say them', () => {
  assert.is(formatLength(604_800_000), '7d')
  assert.is(formatLength(90_000_000), '1d1h')
  assert.is(formatLength(5_400_000), '1h30m')
  assert.is(formatLength(45_000), '45s')
  assert.is(formatLength(250), '250ms')
  assert.is(formatBytes(85), '85 B')
  assert.is(formatBytes(1536), '1.5 KiB')
  assert.is(formatBytes(1_073_741_824), '1.0 GiB')
  assert.is(showRetention({ ms: null, bytes: null }, 'delete'), 'forever')
  assert.is(showRetention({ ms: 604_800_000, bytes: 1_073_741_824 }, 'compact,delete'), '7d / 1.0 GiB')
  assert.is(showRetention({ ms: 604_800_000, bytes: null }, 'compact'), null)
  assert.is(showRetention(null, null), null)
  assert.is(toSecond('2018-03-21T00:00:01.999Z'), '2018-03-21T00:00:01Z')
})

test('the time a log holds: earliest first record, latest last record, and from when every partition has records', () => {
  const edge = (iso: string) => ({ offset: 0n, timestamp: iso })
  const held = timeHeld([
    { firstRecord: edge('2018-03-20T00:00:00.000Z'), lastRecord: edge('2018-03-21T00:00:00.000Z') },
    { firstRecord: edge('2018-03-20T06:00:00.000Z'), lastRecord: edge('2018-03-22T00:00:00.000Z') },
    { firstRecord: null, lastRecord: null },
  ])
  assert.equal(held, {
    from: '2018-03-20T00:00:00.000Z',
    to: '2018-03-22T00:00:00.000Z',
    spanMs: 2 * 86_400_000,
    allPartitionsFrom: '2018-03-20T06:00:00.000Z',
    emptyPartitions: 1,
  })
  assert.equal(timeHeld([{ firstRecord: null, lastRecord: null }]).from, null)
})

function partition(i: number, overrides: Partial<PartitionDetail> = {}): PartitionDetail {
  return {
    partition: i,
    leader: 1 + (i % 3),
    replicas: [1, 2, 3],
    isr: [1, 2, 3],
    offlineReplicas: [],
    logStartOffset: 123_456_789_012n,
    logEndOffset: 999_999_999_999n,
    firstRecord: { offset: 123_456_789_012n, timestamp: '2018-03-21T00:00:01.234Z' },
    lastRecord: { offset: 999_999_999_998n, timestamp: '2018-03-28T23:59:59.999Z' },
    spanMs: 7 * 86_400_000,
    sizeBytes: 123_456_789_012,
    ...overrides,
  }
}

test('topics describe fits 80 columns with 12-digit offsets, three replicas, an offline and an empty partition', () => {
  const partitions = [
    ...Array.from({ length: 98 }, (_, i) => partition(i)),
    partition(98, {
      leader: null,
      isr: [2],
      offlineReplicas: [1, 3],
      logStartOffset: null,
      logEndOffset: null,
      firstRecord: null,
      lastRecord: null,
      sizeBytes: null,
    }),
    partition(99, { logStartOffset: 5n, logEndOffset: 5n, firstRecord: null, lastRecord: null, spanMs: null }),
  ]
  const detail: TopicDetail = {
    cluster,
    topic: 'orders.payments-v2',
    internal: false,
    replicationFactor: 3,
    retention: { ms: 604_800_000, bytes: 1_073_741_824 },
    cleanupPolicy: 'compact,delete',
    timestampType: 'CreateTime',
    configs: {},
    partitions,
    holds: timeHeld(partitions),
    totals: { partitions: 100, offsets: 86_543_210_987_400n, sizeBytes: 98 * 123_456_789_012, underReplicatedPartitions: 1, offlinePartitions: 1 },
    measuredAt: '2026-12-07T02:40:05.045Z',
  }
  const text = renderTopicDetail(detail)
  const wide = text.split('\n').filter((line) => line.length > 80)
  assert.equal(wide, [])
  assert.match(text, /^ {3}0 {2}123456789012 {2}999999999999 {2}2018-03-21T00:00:01Z {2}2018-03-28T23:59:59Z$/m)
  assert.match(text, /^ {2}98 {4}none {2}1,2,3 {5}2 \(under\) {8}-$/m)
  assert.match(text, /^ {2}99 {13}5 {13}5 {2}- {21}-$/m)
  assert.match(text, /Holds records from 2018-03-21T00:00:01Z to 2018-03-28T23:59:59Z \(7d23h\)\./)
  assert.match(text, /1 partition holds no records/)
  assert.match(text, /Warning: 1 partition offline \(no leader\), 1 under-replicated \(smaller ISR\)\./)
})

test('topics lists one line per topic and says what it left out', () => {
  const list: TopicList = {
    cluster,
    topics: [
      {
        name: 'orders',
        internal: false,
        partitions: 12,
        replicationFactor: 3,
        retention: { ms: 604_800_000, bytes: null },
        cleanupPolicy: 'delete',
        underReplicatedPartitions: 2,
        offlinePartitions: 0,
      },
      {
        name: 'orders.recover-audit',
        internal: false,
        partitions: 1,
        replicationFactor: 3,
        retention: { ms: 604_800_000, bytes: null },
        cleanupPolicy: 'compact',
        underReplicatedPartitions: 0,
        offlinePartitions: 0,
      },
    ],
    hiddenInternal: 2,
  }
  const text = renderTopicList(list)
  assert.match(text, /^TOPIC {17}PARTITIONS {2}RF {2}RETENTION {2}CLEANUP$/m)
  assert.match(text, /^orders {24}12 {3}3 {2}7d {9}delete$/m)
  assert.match(text, /^orders\.recover-audit {11}1 {3}3 {2}- {10}compact$/m)
  assert.match(text, /2 internal topics not shown \(--internal shows them\)\./)
  assert.match(text, /Warning: orders has 2 partitions under-replicated \(smaller ISR\)\./)
  for (const line of text.split('\n')) assert.ok(line.length <= 80, line)
  assert.is(renderTopicList({ cluster, topics: [], hiddenInternal: 1 }).split('\n')[0], 'No topics other than internal ones.')
})

test.run()
