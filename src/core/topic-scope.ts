import { RecoveryError } from '../errors.js'

/** `--topic orders` or `--topic orders:0,2`: a topic and, optionally, some of its partitions. */
export interface TopicScope {
  topic: string
  /** undefined = every partition of the topic. */
  partitions?: number[]
}

const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/

/** Kafka's own rule for topic names: letters, digits, ".", "_" and "-", at most 249. */
export function isTopicName(name: string): boolean {
  return TOPIC_NAME.test(name)
}

export function parseTopicScope(spec: string): TopicScope {
  const colon = spec.lastIndexOf(':')
  const topic = colon === -1 ? spec : spec.slice(0, colon)
  if (!TOPIC_NAME.test(topic)) {
    throw new RecoveryError(
      'USAGE',
      `"${spec}" is not a topic; use --topic orders or --topic orders:0,2 (Kafka topic names use letters, digits, ".", "_" and "-").`,
    )
  }
  if (colon === -1) return { topic }
  const list = spec
    .slice(colon + 1)
    .split(',')
    .map((p) => p.trim())
  if (list.length === 0 || list.some((p) => !/^\d+$/.test(p))) {
    throw new RecoveryError('USAGE', `"${spec}" has a bad partition list; use --topic ${topic}:0,2 with partition numbers.`)
  }
  return { topic, partitions: [...new Set(list.map(Number))].sort((a, b) => a - b) }
}

/** Merges repeated --topic flags: a topic named without partitions means all of them. */
export function mergeTopicScopes(scopes: TopicScope[]): TopicScope[] {
  const merged = new Map<string, TopicScope>()
  for (const s of scopes) {
    const prev = merged.get(s.topic)
    if (!prev) merged.set(s.topic, { ...s })
    else if (!prev.partitions || !s.partitions) merged.set(s.topic, { topic: s.topic })
    else merged.set(s.topic, { topic: s.topic, partitions: [...new Set([...prev.partitions, ...s.partitions])].sort((a, b) => a - b) })
  }
  return [...merged.values()].sort((a, b) => a.topic.localeCompare(b.topic))
}
