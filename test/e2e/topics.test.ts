import { execFileSync } from 'node:child_process'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { runCli } from '../support/cli.js'
import { commitOffsets, createTopic, produce, testBrokers, testKafka, uniqueName, withAdmin } from '../support/kafka.js'
import { withTimeout } from '../support/timeout.js'

const T0 = Date.UTC(2018, 2, 21, 0, 0, 0)
const MINUTE = 60_000

/** kcat -Q for one partition and one logical offset (-2 the log start, -1 the log end): the independent oracle. */
function kcatOffset(topic: string, partition: number, which: -2 | -1): string {
  const out = execFileSync('kcat', ['-Q', '-b', testBrokers(), '-t', `${topic}:${partition}:${which}`], { encoding: 'utf8', timeout: 30_000 })
  const match = /\[\d+\] offset (-?\d+)/.exec(out)
  if (!match) throw new Error(`kcat -Q said: ${out}`)
  return match[1]!
}

interface KcatMetadata {
  topics: Array<{ topic: string; partitions: Array<{ partition: number; leader: number; replicas: Array<{ id: number }>; isrs: Array<{ id: number }> }> }>
}

/**
 * A topic whose partitions show every edge case: plain records (p0), a log start moved by
 * DeleteRecords into the middle of a batch (p1), nothing at all (p2), and a transaction whose
 * commit marker is the last offset (p3), so the last offset holds no record.
 */
async function seedEdgeCases(topic: string): Promise<void> {
  await createTopic(topic, 4)
  await produce(topic, [
    ...Array.from({ length: 10 }, (_, i) => ({ partition: 0, key: `k${i}`, value: `p0-${i}`, timestampMs: T0 + i * MINUTE })),
    ...Array.from({ length: 6 }, (_, i) => ({ partition: 1, key: `k${i}`, value: `p1-${i}`, timestampMs: T0 + 60 * MINUTE + i * MINUTE })),
  ])
  await withAdmin(async (admin) => {
    // kafkajs's deleteTopicRecords looks up leaders in metadata it does not load itself.
    await admin.fetchTopicMetadata({ topics: [topic] })
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 1, offset: '3' }] })
  })
  const producer = testKafka().producer({ transactionalId: uniqueName('tx'), idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  try {
    const transaction = await producer.transaction()
    await transaction.send({
      topic,
      messages: [0, 1, 2].map((i) => ({ partition: 3, key: `t${i}`, value: `p3-${i}`, timestamp: String(T0 - 30 * MINUTE + i * MINUTE) })),
    })
    await transaction.commit()
  } finally {
    await producer.disconnect()
  }
}

test(
  'topics describe: log start and end as kcat -Q reports them, the first and last record times, leader and ISR as kcat -L, sizes, and the span the log holds',
  withTimeout(90_000, async () => {
    const topic = uniqueName('topics-describe')
    await seedEdgeCases(topic)
    const run = await runCli(['topics', 'describe', '--topic', topic, '--json'])
    assert.is(run.exitCode, 0, run.stderr)
    const d = run.json
    assert.is(d.topic, topic)
    assert.is(d.replicationFactor, 1)
    assert.is(d.cleanupPolicy, 'delete')
    assert.ok(d.cluster.id.length > 0)

    for (const p of d.partitions) {
      assert.is(p.logStartOffset, kcatOffset(topic, p.partition, -2), `log start of partition ${p.partition}`)
      assert.is(p.logEndOffset, kcatOffset(topic, p.partition, -1), `log end of partition ${p.partition}`)
    }
    const meta = JSON.parse(execFileSync('kcat', ['-L', '-J', '-b', testBrokers(), '-t', topic], { encoding: 'utf8', timeout: 30_000 })) as KcatMetadata
    for (const k of meta.topics[0]!.partitions) {
      const p = d.partitions.find((x: { partition: number }) => x.partition === k.partition)
      assert.is(p.leader, k.leader)
      assert.equal(p.replicas, k.replicas.map((r) => r.id).sort())
      assert.equal(p.isr, k.isrs.map((r) => r.id).sort())
    }

    const [p0, p1, p2, p3] = d.partitions
    const iso = (ms: number) => new Date(ms).toISOString()
    assert.equal(p0.firstRecord, { offset: '0', timestamp: iso(T0) })
    assert.equal(p0.lastRecord, { offset: '9', timestamp: iso(T0 + 9 * MINUTE) })
    assert.is(p0.spanMs, 9 * MINUTE)
    // DeleteRecords moved the log start into the batch: the first record held is offset 3.
    assert.equal(p1.firstRecord, { offset: '3', timestamp: iso(T0 + 63 * MINUTE) })
    assert.equal(p1.lastRecord, { offset: '5', timestamp: iso(T0 + 65 * MINUTE) })
    assert.equal([p2.logStartOffset, p2.logEndOffset, p2.firstRecord, p2.lastRecord, p2.spanMs], ['0', '0', null, null, null])
    // The commit marker is offset 3, the last offset: the last record is the one before it.
    assert.is(p3.logEndOffset, '4')
    assert.equal(p3.lastRecord, { offset: '2', timestamp: iso(T0 - 28 * MINUTE) })
    for (const p of [p0, p1, p3]) assert.ok(typeof p.sizeBytes === 'number' && p.sizeBytes > 0, `size of partition ${p.partition}: ${p.sizeBytes}`)

    assert.equal(d.holds, {
      from: iso(T0 - 30 * MINUTE),
      to: iso(T0 + 65 * MINUTE),
      spanMs: 95 * MINUTE,
      allPartitionsFrom: iso(T0 + 63 * MINUTE),
      emptyPartitions: 1,
    })
    assert.is(d.totals.offsets, String(10 + 3 + 0 + 4))
    assert.is(d.totals.partitions, 4)
  }),
)

test(
  'topics describe prints two tables that fit 80 columns, the span the log holds, and which cluster it asked',
  withTimeout(60_000, async () => {
    const topic = uniqueName('topics-plain')
    await seedEdgeCases(topic)
    const run = await runCli(['topics', 'describe', '-t', topic])
    assert.is(run.exitCode, 0, run.stderr)
    assert.match(run.stderr, /^Kafka: cluster \S+ \(127\.0\.0\.1:\d+, from RECOVER_BROKERS\)$/m)
    for (const line of run.stdout.split('\n')) assert.ok(line.length <= 80, `wider than 80 columns: ${line}`)
    assert.match(run.stdout, /^PART {2}LOG-START {2}LOG-END {2}FIRST-RECORD {10}LAST-RECORD$/m)
    assert.match(run.stdout, /^ {3}1 {10}3 {8}6 {2}2018-03-21T01:03:00Z {2}2018-03-21T01:05:00Z$/m)
    assert.match(run.stdout, /^PART {2}LEADER {2}REPLICAS {2}ISR {2}SIZE$/m)
    assert.match(run.stdout, /^Holds records from 2018-03-20T23:30:00Z to 2018-03-21T01:05:00Z \(1h35m\)\.$/m)
    assert.match(run.stdout, /^All partitions with records reach back to 2018-03-21T01:03:00Z\.$/m)
    assert.match(run.stdout, /^1 partition holds no records/m)
  }),
)

test(
  'topics lists partitions, replication, retention and cleanup policy, and hides internal topics unless --internal',
  withTimeout(60_000, async () => {
    const plain = uniqueName('topics-list')
    const compacted = uniqueName('topics-compacted')
    await createTopic(plain, 3)
    await withAdmin((admin) =>
      admin.createTopics({
        waitForLeaders: true,
        topics: [
          {
            topic: compacted,
            numPartitions: 2,
            replicationFactor: 1,
            configEntries: [
              { name: 'cleanup.policy', value: 'compact,delete' },
              { name: 'retention.ms', value: String(7 * 24 * 60 * MINUTE) },
            ],
          },
        ],
      }),
    )
    // __consumer_offsets exists once a group has committed.
    await commitOffsets(uniqueName('topics-group'), plain, [{ partition: 0, offset: 0 }])

    const run = await runCli(['topics', '--json'])
    assert.is(run.exitCode, 0, run.stderr)
    const byName = new Map(run.json.topics.map((t: { name: string }) => [t.name, t]))
    assert.equal(byName.get(plain), {
      name: plain,
      internal: false,
      partitions: 3,
      replicationFactor: 1,
      retention: { ms: null, bytes: null },
      cleanupPolicy: 'delete',
      underReplicatedPartitions: 0,
      offlinePartitions: 0,
    })
    assert.equal((byName.get(compacted) as { retention: unknown }).retention, { ms: 7 * 24 * 60 * MINUTE, bytes: null })
    assert.is((byName.get(compacted) as { cleanupPolicy: string }).cleanupPolicy, 'compact,delete')
    assert.not.ok(byName.has('__consumer_offsets'))
    assert.ok(run.json.hiddenInternal >= 1)

    const all = await runCli(['topics', '--internal', '--json'])
    assert.is(all.exitCode, 0, all.stderr)
    const offsets = all.json.topics.find((t: { name: string }) => t.name === '__consumer_offsets')
    assert.ok(offsets?.internal, JSON.stringify(all.json.topics.map((t: { name: string }) => t.name)))
    assert.is(all.json.hiddenInternal, 0)

    const text = await runCli(['topics'])
    assert.is(text.exitCode, 0, text.stderr)
    assert.match(text.stdout, new RegExp(`^${compacted.replace(/[.-]/g, '\\$&')}\\s+2\\s+1\\s+7d\\s+compact,delete$`, 'm'))
    assert.match(text.stdout, /internal topics? not shown \(--internal shows (it|them)\)\./)
  }),
)

test(
  'a misspelt topic is exit 2 with the nearest names suggested, as JSON and as one sentence',
  withTimeout(60_000, async () => {
    const topic = uniqueName('topics-typo')
    await createTopic(topic, 1)
    const misspelt = topic.replace('typo', 'tpyo')
    const json = await runCli(['topics', 'describe', '--topic', misspelt, '--json'])
    assert.is(json.exitCode, 2, json.stderr)
    assert.is(json.json.error.code, 'TOPIC_NOT_FOUND')
    assert.equal(json.json.error.details.suggestions, [topic])
    assert.equal(json.json.error.nextSteps, [`recover topics describe --topic ${topic}`])
    const plain = await runCli(['topics', 'describe', '--topic', misspelt])
    assert.is(plain.exitCode, 2)
    assert.match(
      plain.stderr,
      new RegExp(
        `^Error: Topic "${misspelt}" does not exist on 127\\.0\\.0\\.1:\\d+; did you mean "${topic}"\\? List the topics with: recover topics\\.$`,
        'm',
      ),
    )
  }),
)

test(
  'an unreachable cluster is exit 5 for both commands',
  withTimeout(60_000, async () => {
    for (const args of [['topics'], ['topics', 'describe', '--topic', 'orders']]) {
      const run = await runCli([...args, '--brokers', '127.0.0.1:1', '--json'])
      assert.is(run.exitCode, 5, run.stderr)
      assert.is(run.json.error.code, 'BROKER_UNREACHABLE')
    }
  }),
)

test.run()
