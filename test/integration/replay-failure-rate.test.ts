import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { RecoveryError } from '../../src/errors.js'
import { replayGroup } from '../../src/services/replay-group.js'
import { createTopic, produce, readTopic, uniqueName, withGateway } from '../support/kafka.js'
import { withTimeout } from '../support/timeout.js'

/** replay --group keeps the failure-rate guard: each partition's first records are counted. */
test(
  'replay --scale-out on values that are not what --value-format says stops with FAILURE_RATE_EXCEEDED (exit 3), not exit 0',
  withTimeout(90_000, async () => {
    const topic = uniqueName('group-guard')
    const group = uniqueName('group-guard-g')
    await createTopic(topic, 2)
    await produce(
      topic,
      Array.from({ length: 200 }, (_, i) => ({ partition: i % 2, key: `k${i}`, value: `plain text ${i}`, timestampMs: 1_700_000_000_000 + i })),
    )
    const sink = uniqueName('group-guard-out')
    let failure: unknown
    try {
      await withGateway((gateway) =>
        replayGroup(
          { topic, scaleOut: group, valueFormat: 'json', sink: `kafka:${sink}`, quarantine: `kafka:${sink}.q`, batchSize: 50, sessionTimeoutMs: 6_000 },
          { gateway },
        ),
      )
    } catch (error) {
      failure = error
    }
    assert.instance(failure, RecoveryError)
    const error = failure as RecoveryError
    assert.is(error.code, 'FAILURE_RATE_EXCEEDED', error.message)
    assert.is(error.exitCode, 3)
    assert.match(error.message, 'check --value-format')
    assert.match(error.nextSteps[0]!, 'run the same command again')
    // Each partition (100 records, batches of 50) stopped before the batch that passed half of
    // them: at most its first batch reached the quarantine.
    const quarantined = await readTopic(`${sink}.q`).catch(() => [])
    assert.ok(quarantined.length <= 2 * 50, `${quarantined.length} of 200 quarantined`)
  }),
)

test.run()
