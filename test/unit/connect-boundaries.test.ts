import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { sinkOffsets, sinkPartitionKey, parseConnectOffsetsFile } from '../../src/core/connect-offsets.js'
import { sameConnectCluster } from '../../src/files/connector-journal.js'
import { tpKey } from '../../src/kafka/kafka-gateway.js'
import { renderConnectorDetail } from '../../src/render/connect.js'
import { wrapWords } from '../../src/render/fit-width.js'
import type { ConnectorDetail } from '../../src/services/connect-describe.js'

const topic = 'orders.payments-v2.eu-central-1.incident-replay-2026-12-07'
const name = 'elasticsearch-sink-orders-payments-eu-central-1-prod'
const trace = [
  'org.apache.kafka.connect.errors.ConnectException: Exiting WorkerSinkTask due to unrecoverable exception: the mapping of index orders-payments-v2 rejected field customer.address.line2 (strict dynamic mapping)',
  '\tat org.apache.kafka.connect.runtime.WorkerSinkTask.deliverMessages(WorkerSinkTask.java:636)',
  '\tat org.apache.kafka.connect.runtime.WorkerSinkTask.poll(WorkerSinkTask.java:344)',
].join('\n')

function detail(overrides: Partial<ConnectorDetail> = {}): ConnectorDetail {
  return {
    name,
    type: 'sink',
    connectorClass: 'io.confluent.connect.elasticsearch.ElasticsearchSinkConnector',
    connectUrl: 'https://connect-prod-eu-central-1.internal.example.com:8083',
    state: 'RUNNING',
    workerId: 'connect-prod-eu-central-1-worker-07.internal.example.com:8083',
    trace: null,
    tasks: [
      { id: 0, state: 'FAILED', workerId: 'connect-prod-eu-central-1-worker-07.internal.example.com:8083', trace },
      { id: 1, state: 'RUNNING', workerId: 'connect-prod-eu-central-1-worker-02.internal.example.com:8083', trace: null },
    ],
    topics: [topic, 'orders.refunds'],
    topicsRegex: null,
    consumerGroup: `connect-${name}`,
    lag: {
      records: 123_456_789_012n,
      maxLagMs: 5_400_000,
      partitions: [
        { topic, partition: 0, committedOffset: 999_999_999_000n, logEndOffset: 999_999_999_999n, lag: 999n, lagMs: 5_400_000 },
        { topic: 'orders.refunds', partition: 11, committedOffset: 7n, logEndOffset: 123_456_788_020n, lag: 123_456_788_013n, lagMs: 60_000 },
      ] as never,
    },
    errors: {
      tolerance: 'all',
      deadLetterTopic: `dlq-${name}`,
      deadLetters: { total: 42, byError: [{ errorClass: 'org.apache.kafka.connect.errors.DataException', stage: 'VALUE_CONVERTER', count: 42 }] },
    },
    offsets: [],
    config: {},
    ...overrides,
  }
}

test('connect describe fits 80 columns with long names, a failed task, two topics and 12-digit offsets, and keeps the name, state and lag', () => {
  const text = renderConnectorDetail(detail())
  for (const line of text.split('\n')) assert.ok(line.length <= 80, `wider than 80 columns (${line.length}): ${line}`)
  assert.match(text, new RegExp(`^Connector ${name}: RUNNING \\(sink\\)\\.$`, 'm'))
  assert.match(text, /^Lag: 123456789012 records; /m)
  assert.match(text, new RegExp(`^Topic ${topic.replace(/\./g, '\\.')}:$`, 'm'))
  assert.match(text, /^ {3}0 {2}999999999000 {2}999999999999 +999 +1h30m$/m)
  assert.match(text, /^ {2}11 +7 {2}123456788020 {2}123456788013 +1m00s$/m)
  assert.match(text, /^Task 0 failed:$/m)
  assert.match(text, /^ +42 {2}VALUE_CONVERTER {2}org\.apache\.kafka\.connect\.errors\.DataException$/m)
})

test("a source connector's long partition maps go one per line rather than past 80 columns", () => {
  const file = `/var/lib/connect/spool/${'incoming-orders-'.repeat(4)}2026-12-07.jsonl`
  const text = renderConnectorDetail(
    detail({ type: 'source', lag: null, consumerGroup: null, topics: [], offsets: [{ partition: { filename: file }, offset: { position: 4 } }] }),
  )
  for (const line of text.split('\n')) assert.ok(line.length <= 80, `wider than 80 columns (${line.length}): ${line}`)
  assert.ok(text.replace(/\n {2}/g, '').includes(`{"filename":"${file}"}`), text)
  assert.match(text, /^ {2}offset \{"position":4\}$/m)
})

test('wrapWords never returns a line wider than asked and loses no character', () => {
  const text = `Reads: ${topic}, ${'x'.repeat(130)}. Consumer group: connect-${name}.`
  const lines = wrapWords(text, 80, '  ')
  for (const line of lines) assert.ok(line.length <= 80, line)
  assert.is(
    lines
      .map((l, i) => (i === 0 ? l : l.slice(2)))
      .join('')
      .replace(/ /g, ''),
    text.replace(/ /g, ''),
  )
})

test("a sink connector's offsets are keyed as the group plan keys its rows (a --shift-by plan finds where the connector is)", () => {
  const offsets = sinkOffsets([{ partition: { kafka_topic: 'orders', kafka_partition: 3 }, offset: { kafka_offset: 1952 } }])
  assert.is(offsets.get(tpKey('orders', 3)), 1952n)
  assert.is(sinkPartitionKey('orders', 3), tpKey('orders', 3))
})

test('the same Connect cluster: the same URL, or a worker in common; twins on other workers are another cluster', () => {
  const snapshot = { connectUrl: 'http://connect-a:8083', connectWorkers: ['10.0.0.4:8083', '10.0.0.5:8083'] }
  assert.ok(sameConnectCluster(snapshot, { url: 'http://connect-a:8083/', workers: [] }))
  assert.ok(sameConnectCluster(snapshot, { url: 'http://lb.example.com', workers: ['10.0.0.5:8083'] }), 'a load balancer in front of the same workers')
  assert.ok(
    sameConnectCluster({ connectUrl: 'http://127.0.0.1:8083' }, { url: 'http://proxy:9000', workers: ['127.0.0.1:8083'] }),
    'an old snapshot: its URL is a worker',
  )
  assert.not.ok(sameConnectCluster(snapshot, { url: 'http://connect-b:8083', workers: ['10.0.0.9:8083'] }))
})

test('a connector journal snapshot given to --from-file stands for the offsets it planned', () => {
  const next = [{ partition: { kafka_topic: 'orders', kafka_partition: 0 }, offset: { kafka_offset: 1 } }]
  const snapshot = JSON.stringify({
    kind: 'recover-connector-journal',
    connector: 'c',
    previous: [{ partition: next[0]!.partition, offset: { kafka_offset: 3 } }],
    next,
  })
  assert.equal(parseConnectOffsetsFile(snapshot, 'x.json'), next)
})

test.run()
