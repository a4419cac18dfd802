import type { KafkaGateway, PartitionLogOffsets } from '../kafka/kafka-gateway.js'
import { mapWithConcurrency } from '../core/map-with-concurrency.js'

export interface GroupOverview {
  groupId: string
  state: string
  protocolType: string
  members: number
  topics: string[]
  /** Sum over committed partitions of (log end - committed); null for groups that are not consumer groups. */
  totalLag: bigint | null
}

/** All groups with state, member count, topics and total lag in records. */
export async function listGroups(gateway: KafkaGateway): Promise<{ groups: GroupOverview[] }> {
  const listing = await gateway.listGroups()
  const descriptions = new Map((await gateway.describeGroups(listing.map((g) => g.groupId))).map((d) => [d.groupId, d]))
  const logCache = new Map<string, Promise<PartitionLogOffsets[]>>()
  const logOffsets = (topic: string) => {
    if (!logCache.has(topic)) logCache.set(topic, gateway.logOffsets(topic))
    return logCache.get(topic)!
  }
  const groups = await mapWithConcurrency(listing, 4, async (g): Promise<GroupOverview> => {
    const d = descriptions.get(g.groupId)
    const isConsumer = g.protocolType === 'consumer' || g.protocolType === ''
    const committed = isConsumer ? await gateway.committedOffsets(g.groupId) : []
    const topics = new Set(committed.map((c) => c.topic))
    for (const m of d?.members ?? []) for (const a of m.assignments) topics.add(a.topic)
    let totalLag: bigint | null = isConsumer ? 0n : null
    for (const topic of topics) {
      const ends = new Map((await logOffsets(topic)).map((p) => [p.partition, p.logEnd]))
      for (const c of committed) {
        if (c.topic !== topic || c.offset === null) continue
        const end = ends.get(c.partition)
        if (end !== undefined && end > c.offset) totalLag = (totalLag ?? 0n) + (end - c.offset)
      }
    }
    return {
      groupId: g.groupId,
      state: d?.state ?? 'Unknown',
      protocolType: g.protocolType || d?.protocolType || '',
      members: d?.members.length ?? 0,
      topics: [...topics].sort(),
      totalLag,
    }
  })
  return { groups }
}
