import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { AnyLocation } from '../../src/core/location.js'
import { RecoveryError } from '../../src/errors.js'
import { replayGroup } from '../../src/services/replay-group.js'
import type { ReplayProgressEvent } from '../../src/services/replay-events.js'
import type { Sink, SinkOpenResult, SinkRecord, SinkRejection, SinkState } from '../../src/sinks/sink.js'
import { createTopic, produce, uniqueName, withGateway } from '../support/kafka.js'
import { registerSinkWhileRunning } from '../support/test-sink.js'
import { withTimeout } from '../support/timeout.js'

/*
 * In a --scale-out replay a partition starts whenever the group hands it over, and a group
 * rebalances exactly when a broker dies: the start (opening the sink: its topic's offsets, the
 * transactional id) can meet the outage. The member waits it out (--broker-wait) and starts
 * the partition again, as it does in the middle of a replay, instead of failing the process.
 * The sink below refuses its first opens as Kafka does while a partition leader is gone.
 */

const held = new Map<string, number[]>()
const refusalsLeft = new Map<string, number>()

interface StartOutageLocation extends AnyLocation {
  kind: 'start-outage'
  name: string
}

class StartOutageSink implements Sink {
  readonly mayDuplicateOnResume = true
  constructor(private readonly name: string) {}

  get uri(): string {
    return `start-outage:${this.name}`
  }

  async open(_resume: SinkState | undefined): Promise<SinkOpenResult> {
    const left = refusalsLeft.get(this.name) ?? 0
    if (left > 0) {
      refusalsLeft.set(this.name, left - 1)
      throw new RecoveryError('BROKER_UNREACHABLE', `Could not reach Kafka broker 127.0.0.1:1 (node 3) while reading the offsets of topic ${this.name}.`, {
        retriable: true,
      })
    }
    if (!held.has(this.name)) held.set(this.name, [])
    return { resent: 0 }
  }

  async write(records: SinkRecord[]): Promise<SinkRejection[]> {
    held.get(this.name)!.push(...records.map((r) => (r.decodedValue as { n: number }).n))
    return []
  }

  async checkpoint(): Promise<SinkState> {
    return {}
  }

  async close(): Promise<void> {}
}

registerSinkWhileRunning<StartOutageLocation>(test, {
  name: 'start-outage',
  scheme: 'start-outage',
  form: 'start-outage:NAME',
  parse: (text) => ({ kind: 'start-outage', name: text.slice('start-outage:'.length), display: text }),
  capabilities: { transactional: 'never', exactlyOnce: 'never', shareable: true, keyedUpsert: false, truncatedOnResume: false, runsPluginCode: false },
  create: async (location) => new StartOutageSink(location.name),
})

async function seeded(partitions: number, count: number): Promise<string> {
  const topic = uniqueName('group-start-outage')
  await createTopic(topic, partitions)
  await produce(
    topic,
    Array.from({ length: count }, (_, i) => ({ partition: i % partitions, key: `k${i}`, value: JSON.stringify({ n: i }), timestampMs: 1_700_000_000_000 + i })),
  )
  return topic
}

test(
  'scale-out: a partition that cannot start in a Kafka outage is started again once Kafka answers (--broker-wait): every record written, the wait in the events and the summary',
  withTimeout(90_000, async () => {
    const topic = await seeded(2, 200)
    const name = uniqueName('sink')
    refusalsLeft.set(name, 3)
    const events: ReplayProgressEvent[] = []
    const summary = await withGateway((gateway) =>
      replayGroup(
        {
          topic,
          scaleOut: uniqueName('start-outage'),
          valueFormat: 'json',
          sink: `start-outage:${name}`,
          quarantine: `kafka:${topic}.q`,
          brokerWaitMs: 60_000,
          sessionTimeoutMs: 6_000,
        },
        { gateway, onEvent: (e) => events.push(e) },
      ),
    )
    assert.equal(
      [...held.get(name)!].sort((a, b) => a - b),
      Array.from({ length: 200 }, (_, i) => i),
    )
    const waits = events.filter((e) => e.type === 'waiting')
    assert.ok(waits.length >= 1, 'a wait was reported')
    assert.ok(
      waits.every((e) => e.partition !== undefined && /Could not reach Kafka broker/.test((e as { reason: string }).reason)),
      JSON.stringify(waits),
    )
    assert.ok(
      events.some((e) => e.type === 'reconnected'),
      'the end of the wait was reported',
    )
    assert.ok(summary.outages >= 1 && summary.outageWaitedMs > 0, `the summary counts the wait: ${summary.outages} outages, ${summary.outageWaitedMs} ms`)
    assert.is(summary.totals.written, 200)
  }),
)

test(
  'scale-out without --broker-wait: a partition that cannot start fails the replay with the outage, and says the group keeps what was written',
  withTimeout(60_000, async () => {
    const topic = await seeded(1, 20)
    const name = uniqueName('sink')
    refusalsLeft.set(name, 1)
    try {
      await withGateway((gateway) =>
        replayGroup(
          {
            topic,
            scaleOut: uniqueName('start-outage'),
            valueFormat: 'json',
            sink: `start-outage:${name}`,
            quarantine: `kafka:${topic}.q`,
            sessionTimeoutMs: 6_000,
          },
          { gateway },
        ),
      )
      assert.unreachable('the replay should fail')
    } catch (error) {
      assert.instance(error, RecoveryError)
      const e = error as RecoveryError
      assert.is(e.code, 'BROKER_UNREACHABLE')
      assert.not.ok(
        e.nextSteps.some((s) => s.startsWith('Nothing was written')),
        e.nextSteps.join(' | '),
      )
    }
  }),
)

test.run()
