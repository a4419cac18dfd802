import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { EachMessagePayload } from 'kafkajs'

import { runKafkaTool } from '../../src/local-kafka/index.js'
import { createTopic, testBrokers, testKafka, uniqueName, withAdmin } from '../support/kafka.js'
import { waitFor, withTimeout } from '../support/timeout.js'

const CONSUMER_GROUP_COMMAND = 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand'

/** Produces `count` records, consumes them in `group` and commits explicitly; returns the committed offset. */
async function produceConsumeCommit(topic: string, group: string, count: number): Promise<{ values: string[]; committed: string }> {
  const kafka = testKafka()
  const producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  try {
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: count }, (_, i) => ({ key: `k${i}`, value: `v${i}`, timestamp: String(Date.UTC(2024, 0, 1) + i * 1000) })),
    })
  } finally {
    await producer.disconnect()
  }

  // A short fetch wait: disconnect() waits for the fetch in flight (5 s by default).
  const consumer = kafka.consumer({ groupId: group, maxWaitTimeInMs: 250 })
  const values: string[] = []
  let last = -1n
  await consumer.connect()
  try {
    await consumer.subscribe({ topic, fromBeginning: true })
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }: EachMessagePayload) => {
        values.push(message.value?.toString() ?? '')
        last = BigInt(message.offset)
      },
    })
    await waitFor(`${count} records from ${topic}`, () => (values.length >= count ? true : undefined), 30_000)
    const committed = String(last + 1n)
    await consumer.commitOffsets([{ topic, partition: 0, offset: committed }])
    return { values, committed }
  } finally {
    await consumer.disconnect()
  }
}

test(
  'kafkajs creates a topic, produces, consumes and commits on the local broker',
  withTimeout(60_000, async () => {
    const topic = uniqueName('local-kafka')
    const group = uniqueName('local-kafka-group')
    await createTopic(topic, 1)
    try {
      const { values, committed } = await produceConsumeCommit(topic, group, 5)
      assert.equal(values, ['v0', 'v1', 'v2', 'v3', 'v4'])
      assert.is(committed, '5')
      const offsets = await withAdmin((admin) => admin.fetchOffsets({ groupId: group, topics: [topic] }))
      assert.equal(
        offsets[0]?.partitions.map((p) => [p.partition, p.offset]),
        [[0, '5']],
      )
      const described = await withAdmin((admin) => admin.describeGroups([group]))
      assert.is(described.groups[0]?.state, 'Empty')
      assert.is(described.groups[0]?.protocolType, 'consumer')
    } finally {
      await withAdmin(async (admin) => {
        await admin.deleteGroups([group]).catch(() => undefined)
        await admin.deleteTopics({ topics: [topic] })
      })
    }
  }),
)

test(
  'runKafkaTool runs ConsumerGroupCommand from the broker jars, which lists and describes the committed group',
  withTimeout(90_000, async () => {
    const topic = uniqueName('local-kafka-tool')
    const group = uniqueName('local-kafka-tool-group')
    await createTopic(topic, 1)
    try {
      await produceConsumeCommit(topic, group, 3)
      const list = await runKafkaTool(CONSUMER_GROUP_COMMAND, ['--bootstrap-server', testBrokers(), '--list'])
      assert.is(list.exitCode, 0, list.stderr)
      assert.ok(
        list.stdout
          .split('\n')
          .map((line) => line.trim())
          .includes(group),
        `--list did not show ${group}:\n${list.stdout}`,
      )

      const describe = await runKafkaTool(CONSUMER_GROUP_COMMAND, ['--bootstrap-server', testBrokers(), '--describe', '--group', group])
      assert.is(describe.exitCode, 0, describe.stderr)
      const row = describe.stdout
        .split('\n')
        .map((line) => line.trim().split(/\s+/))
        .find((cols) => cols[0] === group && cols[1] === topic)
      assert.ok(row, `--describe had no row for ${topic}:\n${describe.stdout}`)
      assert.equal(row.slice(2, 6), ['0', '3', '3', '0'], 'partition, current offset, log-end offset, lag')
    } finally {
      await withAdmin(async (admin) => {
        await admin.deleteGroups([group]).catch(() => undefined)
        await admin.deleteTopics({ topics: [topic] })
      })
    }
  }),
)

test(
  'runKafkaTool reports a failing tool by its exit code and stderr, without throwing',
  withTimeout(60_000, async () => {
    const result = await runKafkaTool(CONSUMER_GROUP_COMMAND, ['--bootstrap-server', testBrokers(), '--no-such-option'])
    assert.is.not(result.exitCode, 0)
    assert.match(result.stdout + result.stderr, /no-such-option/)
  }),
)

test(
  'the local broker never deletes by time: records stamped in 2018 (the fixture incident) stay in the log',
  withTimeout(60_000, async () => {
    await withAdmin(async (admin) => {
      const BROKER = 4 // kafkajs ConfigResourceTypes.BROKER
      const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: BROKER, name: '1', configNames: ['log.retention.ms'] }] })
      const entry = described.resources[0]!.configEntries.find((e) => e.configName === 'log.retention.ms')
      assert.is(entry?.configValue, '-1')
    })
  }),
)

test.run()
