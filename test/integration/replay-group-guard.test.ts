import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { RecoveryError } from '../../src/errors.js'
import { GroupMember } from '../../src/kafka/group-member.js'
import { replayGroup } from '../../src/services/replay-group.js'
import { createTopic, readCommitted, testKafka, uniqueName, withGateway } from '../support/kafka.js'
import { waitFor, withTimeout } from '../support/timeout.js'

/**
 * The second line of defence behind the check before joining: a replay member offers only
 * recover's assignor, so Kafka itself refuses it into a group of an application's consumers,
 * without a rebalance of theirs (a group mid-rebalance does not show its assignor to the check).
 */
test(
  'a replay member cannot join a group whose live member is an ordinary consumer: NOT_A_REPLAY_GROUP, and the consumer is not rebalanced',
  withTimeout(60_000, async () => {
    const topic = uniqueName('guard-join')
    const group = uniqueName('recover-replay.guard-join')
    await createTopic(topic, 2)
    const app = testKafka().consumer({ groupId: group, sessionTimeout: 10_000, heartbeatInterval: 300, maxWaitTimeInMs: 200 })
    let joins = 0
    const heartbeats: Array<{ at: number; generation: number }> = []
    app.on(app.events.GROUP_JOIN, () => joins++)
    app.on(app.events.HEARTBEAT, (e) => heartbeats.push({ at: Date.now(), generation: e.payload.groupGenerationId }))
    await app.connect()
    try {
      await app.subscribe({ topics: [topic], fromBeginning: true })
      await app.run({ autoCommit: false, eachMessage: async () => undefined })
      await waitFor("the consumer's first heartbeat", () => (heartbeats.length > 0 ? true : undefined), 30_000, 20)
      const generation = heartbeats.at(-1)!.generation

      const refused = await withGateway((gateway) =>
        GroupMember.join(gateway, group, topic, { sessionTimeoutMs: 6_000 }).then(
          async (member) => {
            await member.leave()
            return undefined
          },
          (error: unknown) => error,
        ),
      )
      const refusedAt = Date.now()
      assert.instance(refused, RecoveryError)
      assert.is((refused as RecoveryError).code, 'NOT_A_REPLAY_GROUP')
      assert.is((refused as RecoveryError).exitCode, 4)

      await waitFor('a heartbeat after the refusal', () => (heartbeats.some((h) => h.at > refusedAt) ? true : undefined), 15_000, 20)
      assert.is(joins, 1, 'the consumer joined again (a rebalance)')
      assert.is(heartbeats.at(-1)!.generation, generation)
      assert.equal(await readCommitted(group), {})
    } finally {
      await app.disconnect()
    }
  }),
)

test(
  'replay --scale-out --partitions with a partition the topic does not have stops with PARTITION_NOT_FOUND (exit 2) before joining, instead of waiting for it forever',
  withTimeout(30_000, async () => {
    const topic = uniqueName('guard-partitions')
    const name = uniqueName('guard-partitions')
    await createTopic(topic, 2)
    const refused = await withGateway((gateway) => replayGroup({ topic, scaleOut: name, partitions: [1, 7], sink: `kafka:${topic}.out` }, { gateway })).then(
      () => undefined,
      (error: unknown) => error,
    )
    assert.instance(refused, RecoveryError)
    assert.is((refused as RecoveryError).code, 'PARTITION_NOT_FOUND')
    assert.is((refused as RecoveryError).exitCode, 2)
    assert.match((refused as RecoveryError).message, 'has no partition 7; it has partitions 0, 1')
    assert.equal(await readCommitted(`recover-replay.${name}`), {}, 'nothing committed to the group')
  }),
)

test.run()
