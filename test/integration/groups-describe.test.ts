import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn } from 'node:child_process'
import { ensureKafkaJars, runKafkaTool } from '../../src/local-kafka/index.js'
import { describeGroup } from '../../src/services/describe-group.js'
import { listGroups } from '../../src/services/list-groups.js'
import { commitOffsets, createTopic, produce, testBrokers, testKafka, uniqueName, withGateway } from '../support/kafka.js'
import { waitFor, withTimeout } from '../support/timeout.js'

const CONSUMER_GROUP_COMMAND = 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand'

interface ToolRow {
  topic: string
  partition: number
  current: string
  logEnd: string
  lag: string
  consumerId: string
  host: string
  clientId: string
}

/** Parses kafka-consumer-groups.sh --describe output (the oracle). */
function parseToolDescribe(stdout: string): ToolRow[] {
  const rows: ToolRow[] = []
  for (const line of stdout.split('\n')) {
    const cols = line.trim().split(/\s+/)
    if (cols.length < 9 || cols[0] === 'GROUP' || !/^\d+$/.test(cols[2]!)) continue
    rows.push({
      topic: cols[1]!,
      partition: Number(cols[2]),
      current: cols[3]!,
      logEnd: cols[4]!,
      lag: cols[5]!,
      consumerId: cols[6]!,
      host: cols[7]!,
      clientId: cols[8]!,
    })
  }
  return rows.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)
}

async function oracle(group: string): Promise<ToolRow[]> {
  const out = await runKafkaTool(CONSUMER_GROUP_COMMAND, ['--bootstrap-server', testBrokers(), '--describe', '--group', group])
  assert.is(out.exitCode, 0, out.stderr)
  return parseToolDescribe(out.stdout)
}

const T0 = Date.UTC(2018, 2, 21, 0, 0, 0)

function records(partition: number, n: number, startMs: number) {
  return Array.from({ length: n }, (_, i) => ({ partition, key: `k${i}`, value: `{"n":${i}}`, timestampMs: startMs + i * 60_000 }))
}

test(
  'describe matches kafka-consumer-groups.sh for an empty group over two topics, with a partition never committed',
  withTimeout(120_000, async () => {
    const orders = uniqueName('orders')
    const payments = uniqueName('payments')
    const group = uniqueName('billing')
    await createTopic(orders, 3)
    await createTopic(payments, 2)
    await produce(orders, [...records(0, 10, T0), ...records(1, 7, T0), ...records(2, 4, T0)])
    await produce(payments, [...records(0, 5, T0), ...records(1, 3, T0)])
    await commitOffsets(group, orders, [
      { partition: 0, offset: 4 },
      { partition: 1, offset: 7 },
    ])
    await commitOffsets(group, payments, [
      { partition: 0, offset: 0 },
      { partition: 1, offset: 2 },
    ])

    const now = T0 + 3_600_000
    const detail = await withGateway((g) => describeGroup(g, group, { now: () => now }))
    const expected = await oracle(group)
    assert.is(expected.length, 4, 'Kafka lists the four committed partitions')

    for (const row of expected) {
      const ours = detail.partitions.find((p) => p.topic === row.topic && p.partition === row.partition)
      assert.ok(ours, `${row.topic}-${row.partition} is listed`)
      assert.is(String(ours!.committedOffset), row.current, `${row.topic}-${row.partition} committed`)
      assert.is(String(ours!.logEndOffset), row.logEnd, `${row.topic}-${row.partition} log end`)
      assert.is(String(ours!.lag), row.lag, `${row.topic}-${row.partition} lag`)
    }
    const never = detail.partitions.find((p) => p.topic === orders && p.partition === 2)
    assert.ok(never, 'the partition never committed is listed too')
    assert.is(never!.committedOffset, null)
    assert.is(never!.lag, null)
    assert.is(detail.totals.neverCommitted, 1)
    assert.is(String(detail.totals.lag), '12')

    // Lag in time: the age of the record at the committed offset (orders-0 offset 4 was written at T0 + 4 min).
    const o0 = detail.partitions.find((p) => p.topic === orders && p.partition === 0)!
    assert.is(o0.nextRecordTime, new Date(T0 + 4 * 60_000).toISOString())
    assert.is(o0.lagMs, now - (T0 + 4 * 60_000))
    const caughtUp = detail.partitions.find((p) => p.topic === orders && p.partition === 1)!
    assert.is(String(caughtUp.lag), '0')
    assert.is(caughtUp.lagMs, 0)
    assert.is(detail.state, 'Empty')
  }),
)

test(
  'describe names the member holding each partition of an active group, as Kafka does',
  withTimeout(120_000, async () => {
    const topic = uniqueName('live')
    const group = uniqueName('live-group')
    await createTopic(topic, 2)
    await produce(topic, [...records(0, 6, T0), ...records(1, 6, T0)])
    const consumer = testKafka().consumer({ groupId: group, sessionTimeout: 10_000, heartbeatInterval: 500 })
    let seen = 0
    await consumer.connect()
    try {
      await consumer.subscribe({ topic, fromBeginning: true })
      await consumer.run({ autoCommit: false, eachMessage: async () => void seen++ })
      await waitFor('the consumer to read all records', () => (seen >= 12 ? true : undefined), 30_000)
      // Commit only partition 0, so partition 1 is assigned but never committed.
      await consumer.commitOffsets([{ topic, partition: 0, offset: '3' }])
      const expected = await waitFor(
        'Kafka to show both partitions assigned',
        async () => {
          const rows = await oracle(group)
          return rows.length === 2 && rows.every((r) => r.consumerId !== '-') ? rows : undefined
        },
        30_000,
        500,
      )
      const detail = await withGateway((g) => describeGroup(g, group))
      assert.is(detail.state, 'Stable')
      assert.is(detail.members.length, 1)
      for (const row of expected) {
        const ours = detail.partitions.find((p) => p.topic === row.topic && p.partition === row.partition)!
        assert.is(ours.committedOffset === null ? '-' : String(ours.committedOffset), row.current)
        assert.is(String(ours.logEndOffset), row.logEnd)
        assert.is(ours.lag === null ? '-' : String(ours.lag), row.lag)
        assert.is(ours.clientId, row.clientId)
        assert.is(`/${ours.host}`, row.host)
      }
    } finally {
      await consumer.disconnect()
    }
  }),
)

test(
  'a group on the new consumer protocol (KIP-848), Dead to the classic DescribeGroups, is described with its state and members, as Kafka does',
  withTimeout(120_000, async () => {
    // The new consumer protocol is on by default from Kafka 4.0; 3.9 brokers do not offer it.
    if (/^3\./.test(process.env.RECOVER_KAFKA_VERSION ?? '')) return
    const topic = uniqueName('kip848')
    const group = uniqueName('kip848-group')
    await createTopic(topic, 2)
    await produce(topic, [...records(0, 4, T0), ...records(1, 4, T0)])
    const { libDir } = await ensureKafkaJars()
    // Kafka's own console consumer with group.protocol=consumer joins as a KIP-848 member.
    const consumer = spawn(
      'java',
      [
        '-Xmx256m',
        '-XX:TieredStopAtLevel=1',
        '-cp',
        `${libDir}/*`,
        'org.apache.kafka.tools.consumer.ConsoleConsumer',
        '--bootstrap-server',
        testBrokers(),
        '--topic',
        topic,
        '--group',
        group,
        '--from-beginning',
        '--command-property',
        'group.protocol=consumer',
        '--command-property',
        'client.id=kip848-reader',
      ],
      { stdio: ['ignore', 'ignore', 'ignore'] },
    )
    try {
      const expected = await waitFor(
        'Kafka to show both partitions assigned',
        async () => {
          const rows = await oracle(group).catch(() => [])
          return rows.length === 2 && rows.every((r) => r.consumerId !== '-') ? rows : undefined
        },
        60_000,
        500,
      )
      const detail = await withGateway((g) => describeGroup(g, group))
      assert.is(detail.state, 'Stable')
      assert.is(detail.protocolType, 'consumer')
      assert.equal(
        detail.members.map((m) => [m.clientId, m.partitions]),
        [['kip848-reader', 2]],
      )
      for (const row of expected) {
        const ours = detail.partitions.find((p) => p.topic === row.topic && p.partition === row.partition)!
        assert.is(ours.memberId, row.consumerId)
        assert.is(ours.clientId, row.clientId)
        assert.is(`/${ours.host}`, row.host)
      }
    } finally {
      consumer.kill('SIGKILL')
    }
  }),
)

test(
  'groups lists each group with its state, topics and total lag',
  withTimeout(60_000, async () => {
    const topic = uniqueName('overview')
    const group = uniqueName('overview-group')
    await createTopic(topic, 2)
    await produce(topic, [...records(0, 5, T0), ...records(1, 5, T0)])
    await commitOffsets(group, topic, [
      { partition: 0, offset: 1 },
      { partition: 1, offset: 5 },
    ])
    const { groups } = await withGateway((g) => listGroups(g))
    const ours = groups.find((g) => g.groupId === group)
    assert.ok(ours)
    assert.is(ours!.state, 'Empty')
    assert.is(ours!.members, 0)
    assert.equal(ours!.topics, [topic])
    assert.is(String(ours!.totalLag), '4')
  }),
)

test.run()
