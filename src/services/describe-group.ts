import type { GroupDescription, KafkaGateway, PartitionLogOffsets } from '../kafka/kafka-gateway.js'
import { RecoveryError } from '../errors.js'
import { mapWithConcurrency } from '../core/map-with-concurrency.js'

export interface PartitionLag {
  topic: string
  partition: number
  /** null: the group never committed this partition. */
  committedOffset: bigint | null
  logStartOffset: bigint
  logEndOffset: bigint
  /** Records between the committed offset and the log end; null when never committed. */
  lag: bigint | null
  /** Age of the record at the committed offset (the next one the group will read); 0 when caught up. */
  lagMs: number | null
  /** Timestamp of the record at the committed offset, when there is one. */
  nextRecordTime: string | null
  /** The member holding the partition, if any. */
  memberId: string | null
  clientId: string | null
  host: string | null
}

export interface GroupDetail {
  groupId: string
  state: string
  protocolType: string
  members: Array<{ memberId: string; clientId: string; host: string; partitions: number }>
  partitions: PartitionLag[]
  totals: { partitions: number; lag: bigint; maxLagMs: number | null; neverCommitted: number }
  measuredAt: string
}

/** Per topic-partition: committed offset, log end, lag in records and in time, and the holder. */
export async function describeGroup(gateway: KafkaGateway, groupId: string, options: { now?: () => number } = {}): Promise<GroupDetail> {
  const now = options.now ?? Date.now
  const [description] = await gateway.describeGroups([groupId])
  const committed = await gateway.committedOffsets(groupId)
  const group = description ?? { groupId, state: 'Dead', protocolType: '', rebalanceProtocol: 'classic' as const, assignor: '', members: [] }
  if (isMissing(group, committed.length)) {
    throw new RecoveryError(
      'GROUP_NOT_FOUND',
      `Consumer group "${groupId}" does not exist on ${gateway.settings.brokers.join(',')} (no members, no committed offsets); list groups with: recover groups.`,
      {
        details: { group: groupId },
      },
    )
  }
  const topics = new Set<string>(committed.map((c) => c.topic))
  for (const m of group.members) for (const a of m.assignments) topics.add(a.topic)

  const holder = new Map<string, GroupDescription['members'][number]>()
  for (const m of group.members) for (const a of m.assignments) for (const p of a.partitions) holder.set(`${a.topic}\0${p}`, m)
  const committedAt = new Map(committed.map((c) => [`${c.topic}\0${c.partition}`, c.offset]))

  const logOffsets = new Map<string, PartitionLogOffsets[]>()
  await mapWithConcurrency([...topics], 4, async (topic) => logOffsets.set(topic, await gateway.logOffsets(topic)))

  const rows: PartitionLag[] = []
  for (const topic of [...topics].sort()) {
    for (const log of logOffsets.get(topic) ?? []) {
      const key = `${topic}\0${log.partition}`
      const offset = committedAt.get(key) ?? null
      const member = holder.get(key)
      rows.push({
        topic,
        partition: log.partition,
        committedOffset: offset,
        logStartOffset: log.logStart,
        logEndOffset: log.logEnd,
        lag: offset === null ? null : maxBig(0n, log.logEnd - offset),
        lagMs: offset === null ? null : 0,
        nextRecordTime: null,
        memberId: member?.memberId ?? null,
        clientId: member?.clientId ?? null,
        host: member?.host ?? null,
      })
    }
  }
  await fillTimeLag(gateway, rows, now)

  return {
    groupId: group.groupId,
    state: group.state,
    protocolType: group.protocolType,
    members: group.members.map((m) => ({
      memberId: m.memberId,
      clientId: m.clientId,
      host: m.host,
      partitions: m.assignments.reduce((n, a) => n + a.partitions.length, 0),
    })),
    partitions: rows,
    totals: {
      partitions: rows.length,
      lag: rows.reduce((sum, r) => sum + (r.lag ?? 0n), 0n),
      maxLagMs: rows.some((r) => r.lagMs !== null) ? Math.max(...rows.map((r) => r.lagMs ?? 0)) : null,
      neverCommitted: rows.filter((r) => r.committedOffset === null).length,
    },
    measuredAt: new Date(now()).toISOString(),
  }
}

/** A Dead group with nothing committed is one Kafka does not know; Dead with offsets is treated as Empty. */
export function isMissing(group: { state: string; members: unknown[] }, committedCount: number): boolean {
  return (group.state === 'Dead' || group.state === 'Unknown') && group.members.length === 0 && committedCount === 0
}

async function fillTimeLag(gateway: KafkaGateway, rows: PartitionLag[], now: () => number): Promise<void> {
  const behind = rows.filter((r) => r.committedOffset !== null && r.lag !== null && r.lag > 0n)
  if (behind.length === 0) return
  const fetcher = gateway.fetcher('read_uncommitted')
  await mapWithConcurrency(behind, 8, async (row) => {
    // Records before the log start are gone (retention); the next record the group reads is at log start.
    let offset = maxBig(row.committedOffset!, row.logStartOffset)
    for (let attempt = 0; attempt < 5 && offset < row.logEndOffset; attempt++) {
      const { records, nextOffset } = await fetcher.fetch(row.topic, row.partition, offset, { maxBytes: 64 * 1024, maxWaitMs: 50 })
      const first = records[0]
      if (first) {
        row.nextRecordTime = new Date(first.timestampMs).toISOString()
        row.lagMs = Math.max(0, now() - first.timestampMs)
        return
      }
      if (nextOffset <= offset) return
      offset = nextOffset
    }
  })
}

function maxBig(a: bigint, b: bigint): bigint {
  return a > b ? a : b
}
