/**
 * Answers of a group coordinator that is starting (right after a broker restart, while it
 * loads __consumer_offsets) or moving: they pass within seconds, so they are waited for instead
 * of failing an undo the operator runs the moment the broker is back.
 */
const COORDINATOR_STARTING = new Set([
  'GROUP_LOAD_IN_PROGRESS',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'GROUP_COORDINATOR_NOT_AVAILABLE',
  'COORDINATOR_NOT_AVAILABLE',
  'NOT_COORDINATOR_FOR_GROUP',
  'NOT_COORDINATOR',
  // A stable offset read (offset-fetch-stable.ts) on a classic coordinator (Kafka 3.x) while a
  // transaction that commits the group's offsets is open: it passes when the transaction ends.
  'UNSTABLE_OFFSET_COMMIT',
])
/** Loading __consumer_offsets on a fresh, busy two-core broker has taken more than 9 s. */
const COORDINATOR_WAIT_MS = 30_000

export async function whileCoordinatorLoads<T>(work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + COORDINATOR_WAIT_MS
  for (let attempt = 0; ; attempt++) {
    try {
      return await work()
    } catch (error) {
      const type = (error as { type?: string }).type
      if (type === undefined || !COORDINATOR_STARTING.has(type) || Date.now() >= deadline) throw error
      await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 100 * 2 ** attempt)))
    }
  }
}
