import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { Consumer } from 'kafkajs'
import { runCli } from '../support/cli.js'
import { commitOffsets, createTopic, produce, readCommitted, testKafka, uniqueName, withGateway } from '../support/kafka.js'
import { waitFor, withTimeout } from '../support/timeout.js'

/**
 * recover never joins, commits to or rebalances a consumer group it was not told to move:
 * `replay --group` (the old name of --scale-out) stops before connecting, and `--scale-out NAME`
 * refuses the group recover-replay.NAME when anything but recover's replays use it.
 */
const PARTITIONS = 3
const PER_PARTITION = 20

let topic = ''

test.before(
  withTimeout(60_000, async () => {
    topic = uniqueName('scale-out-guard')
    await createTopic(topic, PARTITIONS)
    const now = Date.now()
    await produce(
      topic,
      Array.from({ length: PARTITIONS * PER_PARTITION }, (_, i) => ({ partition: i % PARTITIONS, key: `k-${i}`, value: `{"n":${i}}`, timestampMs: now })),
    )
  }),
)

/** An application's consumer, running in `groupId`: its rebalances (GROUP_JOIN) and successful heartbeats are recorded. */
async function startAppConsumer(
  groupId: string,
): Promise<{ consumer: Consumer; joins: () => number; generation: () => number; memberId: () => string; heartbeatAfter: (at: number) => Promise<void> }> {
  const consumer = testKafka().consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 300, maxWaitTimeInMs: 200 })
  let joins = 0
  let memberId = ''
  const heartbeats: Array<{ at: number; generation: number; memberId: string }> = []
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    joins++
    memberId = e.payload.memberId
  })
  consumer.on(consumer.events.HEARTBEAT, (e) => heartbeats.push({ at: Date.now(), generation: e.payload.groupGenerationId, memberId: e.payload.memberId }))
  await consumer.connect()
  await consumer.subscribe({ topics: [topic], fromBeginning: true })
  await consumer.run({ autoCommit: false, eachMessage: async () => undefined })
  await waitFor(`the application's consumer to join ${groupId}`, () => (joins > 0 ? true : undefined), 30_000, 20)
  await waitFor('its first heartbeat', () => (heartbeats.length > 0 ? true : undefined), 30_000, 20)
  return {
    consumer,
    joins: () => joins,
    generation: () => heartbeats.at(-1)!.generation,
    memberId: () => memberId,
    // A heartbeat answered after `at` means the group was not rebalancing then; one that a
    // rebalance interrupted fails (REBALANCE_IN_PROGRESS) and the member joins again.
    heartbeatAfter: async (at) => {
      await waitFor(
        "a heartbeat of the application's consumer after the replay ended",
        () => (heartbeats.some((h) => h.at > at) ? true : undefined),
        15_000,
        20,
      )
    },
  }
}

/** Asserts the application's member kept its membership: same member, same generation, no join since it started. */
async function assertNeverRebalanced(
  app: Awaited<ReturnType<typeof startAppConsumer>>,
  before: { generation: number; memberId: string },
  endedAt: number,
): Promise<void> {
  await app.heartbeatAfter(endedAt)
  assert.is(app.joins(), 1, "the application's consumer joined again (a rebalance)")
  assert.is(app.memberId(), before.memberId)
  assert.is(app.generation(), before.generation)
}

test(
  "replay --group (the old name of --scale-out) with an application's group stops at once with exit 2 before connecting: its offsets and its live member are untouched",
  withTimeout(90_000, async () => {
    const group = uniqueName('billing')
    const app = await startAppConsumer(group)
    try {
      await app.consumer.commitOffsets(Array.from({ length: PARTITIONS }, (_, p) => ({ topic, partition: p, offset: String(5 + p) })))
      const committed = await readCommitted(group)
      const before = { generation: app.generation(), memberId: app.memberId() }

      const run = await runCli(['replay', '--topic', topic, '--group', group, '--sink', `kafka:${topic}.out`, '--quarantine', `kafka:${topic}.q`])
      const endedAt = Date.now()
      assert.is(run.exitCode, 2, run.stderr)
      assert.match(run.stderr, /replay --group was renamed to --scale-out NAME, and it never moves the consumer group/)
      assert.match(run.stderr, new RegExp(`recover seek --group ${group} --to TIME`))
      assert.not.match(run.stderr, /Kafka: cluster/, 'it connected to Kafka')

      assert.equal(await readCommitted(group), committed)
      await assertNeverRebalanced(app, before, endedAt)
    } finally {
      await app.consumer.disconnect()
    }
  }),
)

test(
  '--scale-out NAME refuses recover-replay.NAME when it holds offsets recover did not commit (exit 4, NOT_A_REPLAY_GROUP): the offsets are unchanged',
  withTimeout(90_000, async () => {
    const name = uniqueName('foreign-offsets')
    const group = `recover-replay.${name}`
    await commitOffsets(group, topic, [
      { partition: 0, offset: 7 },
      { partition: 2, offset: 11 },
    ])
    const committed = await readCommitted(group)

    const run = await runCli(['replay', '--topic', topic, '--scale-out', name, '--sink', `kafka:${name}.out`, '--quarantine', `kafka:${name}.q`, '--json'])
    assert.is(run.exitCode, 4, run.stderr + run.stdout)
    assert.is(run.json?.error?.code, 'NOT_A_REPLAY_GROUP', run.stdout)
    assert.match(
      run.json.error.message,
      new RegExp(`Group ${group} is not one of recover's replay groups for ${topic}: it has offsets recover did not commit \\(${topic}:0@7, ${topic}:2@11\\)`),
    )
    assert.match(run.json.error.message, /nothing was joined or committed/)
    assert.not.match(run.stderr, /Joining/)
    assert.equal(await readCommitted(group), committed)
    assert.is((await withGateway((g) => g.describeGroups([group])))[0]?.members.length ?? 0, 0)
  }),
)

test(
  "--scale-out NAME refuses recover-replay.NAME while an application's consumer is a member (exit 4, naming it): the member is never rebalanced and nothing is committed",
  withTimeout(90_000, async () => {
    const name = uniqueName('foreign-member')
    const group = `recover-replay.${name}`
    const app = await startAppConsumer(group)
    try {
      const before = { generation: app.generation(), memberId: app.memberId() }
      const run = await runCli(['replay', '--topic', topic, '--scale-out', name, '--sink', `kafka:${name}.out`, '--quarantine', `kafka:${name}.q`])
      const endedAt = Date.now()
      assert.is(run.exitCode, 4, run.stderr)
      assert.match(
        run.stderr,
        new RegExp(
          `Group ${group} is not one of recover's replay groups for ${topic}: it has 1 member that is not a recover replay of ${topic} \\(recover-tests@[^:]+: a consumer with assignor RoundRobinAssigner\\)`,
        ),
      )
      assert.match(run.stderr, /Pick another --scale-out NAME/)
      assert.not.match(run.stderr, /Joining/)
      assert.equal(await readCommitted(group), {})
      await assertNeverRebalanced(app, before, endedAt)
    } finally {
      await app.consumer.disconnect()
    }
  }),
)

test(
  '--scale-out NAME replays through recover-replay.NAME, says so in the start line, the summary and --json, and a second run continues the group it started',
  withTimeout(90_000, async () => {
    const name = uniqueName('own')
    const group = `recover-replay.${name}`
    const args = ['replay', '--topic', topic, '--scale-out', name, '--sink', `kafka:${name}.out`, '--quarantine', `kafka:${name}.q`]
    const first = await runCli(args)
    assert.is(first.exitCode, 0, first.stderr)
    assert.match(first.stderr, new RegExp(`Joining recover's replay group ${group} to replay a share of ${topic}`))
    assert.match(first.stdout, new RegExp(`Replay of ${topic} on cluster \\S+ into kafka:${name}.out in group ${group}: every partition is done`))
    const committed = await readCommitted(group)
    assert.equal(committed, Object.fromEntries(Array.from({ length: PARTITIONS }, (_, p) => [`${topic}-${p}`, String(PER_PARTITION)])))

    const again = await runCli([...args, '--json'])
    assert.is(again.exitCode, 0, again.stderr + again.stdout)
    assert.is(again.json.group, group)
    assert.is(again.json.finished, true)
    assert.is(again.json.totals.read, 0, 'the second run read the range again')
    assert.equal(await readCommitted(group), committed)
  }),
)

test.run()
