/** Errors that mean "ask the cluster again in a moment": leadership moving, a topic just created. */
const LEADER_MOVING = new Set([
  'NOT_LEADER_FOR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'NOT_LEADER_OR_FOLLOWER',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
])

/**
 * Runs `work`, and again after a metadata refresh while partition leaders are moving (a topic
 * created a moment ago, a broker restarting): kafkajs's low-level cluster, which ListOffsets
 * goes through, does not retry these itself as its consumer and admin do.
 */
export async function whileLeadersMove<T>(cluster: { refreshMetadata(): Promise<void> }, work: () => Promise<T>, attempts = 6): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work()
    } catch (error) {
      const type = (error as { type?: string }).type ?? ''
      if (attempt >= attempts || !LEADER_MOVING.has(type)) throw error
      await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 100 * 2 ** attempt)))
      await cluster.refreshMetadata().catch(() => undefined)
    }
  }
}
