import { produce, withAdmin } from './kafka.js'
import { waitFor } from './timeout.js'

const MIN = 60_000

/**
 * A one-partition compacted topic that the log cleaner works on within seconds: segments roll
 * after 100 ms of record time, any dirt is worth cleaning, and tombstones go at once. `extra`
 * adds or overrides topic configs (segment.bytes, max.message.bytes, …).
 */
export async function createCompactedTopic(topic: string, extra: Array<{ name: string; value: string }> = []): Promise<void> {
  const base = [
    { name: 'cleanup.policy', value: 'compact' },
    { name: 'segment.ms', value: '100' },
    { name: 'min.cleanable.dirty.ratio', value: '0.0001' },
    { name: 'min.compaction.lag.ms', value: '0' },
    { name: 'delete.retention.ms', value: '0' },
  ]
  const configEntries = [...base.filter((c) => !extra.some((e) => e.name === c.name)), ...extra]
  await withAdmin((admin) => admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1, replicationFactor: 1, configEntries }] }))
}

/**
 * Appends a `tick` record to partition 0, a minute of record time after the one before (from
 * `fromMs`), so that segments roll and the cleaner can work on the old ones, until `check`
 * returns a value: what the test waits for once compaction has happened.
 */
export async function compactUntil<T>(topic: string, fromMs: number, what: string, check: () => Promise<T | undefined>, ms = 100_000): Promise<T> {
  let tick = 0
  return waitFor(
    what,
    async () => {
      await produce(topic, [{ partition: 0, key: 'tick', value: 'tick', timestampMs: fromMs + tick++ * MIN }])
      return check()
    },
    ms,
    1_000,
  )
}
