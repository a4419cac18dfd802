import { RecoveryError } from '../errors.js'
import type { ConnectOffsetEntry } from '../connect/connect-types.js'

/** The consumer group of a sink connector: Connect's default, unless its config overrides it. */
export function connectorGroup(name: string, config: Record<string, string>): string {
  return config['consumer.override.group.id'] || `connect-${name}`
}

/** The topics a sink connector reads (empty when it uses topics.regex). */
export function connectorTopics(config: Record<string, string>): string[] {
  return (config.topics ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)
}

/** A partition map as a key: the same map whatever the order of its fields. */
export function partitionKey(partition: Record<string, unknown>): string {
  return canonical(partition)
}

function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value)
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  const obj = value as Record<string, unknown>
  return `{${Object.keys(obj)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(obj[k])}`)
    .join(',')}}`
}

/** The PATCH body of a sink plan: every planned partition at its new offset. */
export function sinkOffsetEntries(rows: Array<{ topic: string; partition: number; newOffset: bigint }>): ConnectOffsetEntry[] {
  return rows.map((r) => ({ partition: { kafka_topic: r.topic, kafka_partition: r.partition }, offset: { kafka_offset: Number(r.newOffset) } }))
}

/** The key of a topic-partition in `sinkOffsets`. */
export function sinkPartitionKey(topic: string, partition: number | string): string {
  return `${topic}\u0000${partition}`
}

/** A sink connector's offsets as topic-partition (`sinkPartitionKey`) -> offset. */
export function sinkOffsets(entries: ConnectOffsetEntry[]): Map<string, bigint> {
  const out = new Map<string, bigint>()
  for (const e of entries) {
    const topic = e.partition.kafka_topic
    const partition = e.partition.kafka_partition
    const offset = e.offset?.kafka_offset
    if (typeof topic === 'string' && (typeof partition === 'number' || typeof partition === 'string') && offset !== undefined && offset !== null)
      out.set(sinkPartitionKey(topic, partition), BigInt(String(offset)))
  }
  return out
}

/** What undo PATCHes: each partition the change set goes back to its offset before it, or is removed if it had none. */
export function undoEntries(previous: ConnectOffsetEntry[], next: ConnectOffsetEntry[]): ConnectOffsetEntry[] {
  const before = new Map(previous.map((e) => [partitionKey(e.partition), e.offset]))
  return next.map((e) => ({ partition: e.partition, offset: before.get(partitionKey(e.partition)) ?? null }))
}

/** The partitions whose offset read back from Connect is not the one PATCHed, said plainly. */
export function offsetsDiffer(patched: ConnectOffsetEntry[], readBack: ConnectOffsetEntry[]): string[] {
  const now = new Map(readBack.map((e) => [partitionKey(e.partition), e.offset]))
  const wrong: string[] = []
  for (const e of patched) {
    const got = now.get(partitionKey(e.partition)) ?? null
    if (canonical(got) !== canonical(e.offset))
      wrong.push(
        `${describePartition(e.partition)} reads ${got === null ? 'no offset' : canonical(got)}, set ${e.offset === null ? 'none' : canonical(e.offset)}`,
      )
  }
  return wrong
}

/** kafka_topic/kafka_partition as "orders-3", any other map as its JSON. */
export function describePartition(partition: Record<string, unknown>): string {
  if (typeof partition.kafka_topic === 'string' && partition.kafka_partition !== undefined) return `${partition.kafka_topic}-${partition.kafka_partition}`
  return canonical(partition)
}

export function describeOffset(offset: Record<string, unknown> | null | undefined): string {
  if (offset === null || offset === undefined) return '-'
  if (Object.keys(offset).length === 1 && offset.kafka_offset !== undefined) return String(offset.kafka_offset)
  return canonical(offset)
}

/**
 * An offsets file as `connect describe --export` writes it and Connect's PATCH takes it:
 * {"offsets": [{partition, offset}]}; or a connector journal snapshot, for the offsets it planned (`next`).
 */
export function parseConnectOffsetsFile(text: string, file: string): ConnectOffsetEntry[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (cause) {
    throw new RecoveryError('USAGE', `${file} is not JSON (${(cause as Error).message}); write it as recover connect describe --export does.`, { cause })
  }
  // A journal snapshot names the offsets its run planned: what a run whose PATCH answer was lost prints to set them exactly.
  const journal = (parsed as { kind?: unknown } | null)?.kind === 'recover-connector-journal'
  const offsets = journal ? (parsed as { next?: unknown }).next : (parsed as { offsets?: unknown } | null)?.offsets
  const bad = (why: string): never => {
    throw new RecoveryError(
      'USAGE',
      `${file}: ${why}; the file must be {"offsets": [{"partition": {...}, "offset": {...}}]}, as recover connect describe --export writes.`,
    )
  }
  if (!Array.isArray(offsets)) bad('there is no "offsets" list')
  const out: ConnectOffsetEntry[] = []
  for (const [i, e] of (offsets as unknown[]).entries()) {
    const entry = e as { partition?: unknown; offset?: unknown }
    if (!isObject(entry?.partition)) bad(`entry ${i + 1} has no "partition" object`)
    if (entry.offset !== null && !isObject(entry.offset)) bad(`entry ${i + 1} has no "offset" object (null removes the partition's offset)`)
    out.push({ partition: entry.partition as Record<string, unknown>, offset: entry.offset as Record<string, unknown> | null })
  }
  if (out.length === 0) bad('the "offsets" list is empty')
  return out
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
