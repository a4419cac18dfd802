import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { groupReplayId, replayGroup } from '../../src/services/replay-group.js'
import type { ReplayProgressEvent } from '../../src/services/replay-events.js'
import { transactionalIdFor } from '../../src/sinks/kafka-sink.js'
import { replayGroupId } from '../../src/core/replay-group-marker.js'
import { createTopic, produce, readCommitted, readTopic, testKafka, uniqueName, withGateway } from '../support/kafka.js'
import { waitFor, withTimeout } from '../support/timeout.js'

/**
 * In a rebalance, the new owner of a partition opens its transactional id while the old owner
 * may still be in a batch: the broker fences the old one. That is the group working, not a
 * failure: the fenced member leaves the partition to the other and the replay goes on.
 */
const N = 3_000

test(
  'a member fenced on a partition (another producer took its transactional id) stops only that partition, then finishes it from the committed progress: a read_committed reader sees every record once, in order',
  withTimeout(120_000, async () => {
    const topic = uniqueName('group-fence')
    const sink = uniqueName('group-fence-out')
    const scaleOut = uniqueName('group-fence-g')
    const group = replayGroupId(scaleOut)
    await createTopic(topic, 1)
    await produce(
      topic,
      Array.from({ length: N }, (_, i) => ({ partition: 0, key: `k-${i}`, value: `{"n":${i}}`, timestampMs: Date.now() })),
    )

    const events: ReplayProgressEvent[] = []
    const replaying = withGateway((gateway) =>
      replayGroup(
        {
          topic,
          scaleOut,
          sink: `kafka:${sink}`,
          exactlyOnce: true,
          quarantine: `kafka:${topic}.quarantine`,
          batchSize: 100,
          rate: 1_000,
          commitIntervalMs: 0,
          sessionTimeoutMs: 6_000,
        },
        { gateway, onEvent: (e) => events.push(e) },
      ),
    )
    // Awaited below; a failure meanwhile must not end the test run.
    replaying.catch(() => undefined)
    // Once part of the range is committed, another producer takes the partition's transactional id
    // over, as a member that was just assigned the partition does.
    await waitFor(
      'some progress committed to the group',
      async () => (Number((await readCommitted(group))[`${topic}-0`] ?? 0) >= 300 ? true : undefined),
      60_000,
      50,
    )
    const clusterId = await withGateway(async (gateway) => gateway.clusterId)
    const usurper = testKafka().producer({
      transactionalId: transactionalIdFor({ topic, runId: groupReplayId(clusterId, group, topic, 0) }, sink),
      maxInFlightRequests: 1,
      idempotent: true,
    })
    await usurper.connect()
    const transaction = await usurper.transaction()
    await transaction.abort()
    await usurper.disconnect()

    const summary = await replaying
    assert.ok(
      events.some((e) => e.type === 'partition-stop' && e.fenced === true),
      `no fenced stop in ${JSON.stringify(events, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`,
    )
    assert.ok(events.filter((e) => e.type === 'start' && e.partition === 0).length >= 2, 'the partition was started again after the fence')
    assert.is(summary.totals.read, N)
    assert.is(summary.totals.written, N)
    const out = await readTopic(sink)
    assert.equal(
      out.map((r) => r.key?.toString()),
      Array.from({ length: N }, (_, i) => `k-${i}`),
    )
  }),
)

test.run()
