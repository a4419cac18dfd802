/**
 * How recover knows its own scale-out replay groups, so that `replay --scale-out NAME` never
 * joins, commits to or rebalances an application's consumer group: the group id carries a fixed
 * prefix, its members offer a partition assignor only recover offers (Kafka refuses a member
 * whose assignor the group's members do not share), and every offset it commits carries a
 * marker in its metadata (with the partition's replay range).
 */

export const REPLAY_GROUP_PREFIX = 'recover-replay.'
/** The assignor (classic protocol name) every replay member offers, and no application does. */
export const REPLAY_ASSIGNOR = 'RecoverReplay'

/** The Kafka group id of `--scale-out NAME`: `recover-replay.NAME` (a NAME copied with the prefix keeps it once). */
export function replayGroupId(name: string): string {
  return name.startsWith(REPLAY_GROUP_PREFIX) ? name : `${REPLAY_GROUP_PREFIX}${name}`
}

/** A partition's replay range, fixed by its first owner. */
export interface ReplayRange {
  start: bigint
  end: bigint
}

/** What a committed offset's metadata holds: recover's marker and the range. */
interface RangeMetadata {
  recover: 'replay'
  v: 1
  start: string
  end: string
}

export function encodeReplayRange(range: ReplayRange): string {
  const metadata: RangeMetadata = { recover: 'replay', v: 1, start: range.start.toString(), end: range.end.toString() }
  return JSON.stringify(metadata)
}

/** The range in a committed offset's metadata; undefined when recover's marker is not there. */
export function parseReplayRange(text: string | null | undefined): ReplayRange | undefined {
  if (!text) return undefined
  try {
    const m = JSON.parse(text) as Partial<RangeMetadata> | null
    if (m?.recover !== 'replay' || m.v !== 1 || typeof m.start !== 'string' || typeof m.end !== 'string' || !/^\d+$/.test(m.start) || !/^\d+$/.test(m.end))
      return undefined
    return { start: BigInt(m.start), end: BigInt(m.end) }
  } catch {
    return undefined
  }
}

/** What the group looks like before this process joins (structurally the gateway's description). */
export interface ReplayGroupSnapshot {
  state: string
  /** The classic protocol's type (consumer for every consumer client). */
  protocolType: string
  /** classic: JoinGroup/SyncGroup; consumer: the KIP-848 protocol, which replay members never use. */
  rebalanceProtocol: 'classic' | 'consumer'
  /** The assignor the classic group agreed on; '' while it rebalances (Kafka names it only once stable). */
  assignor: string
  members: Array<{ memberId: string; clientId: string; host: string; topics: string[] | null }>
}

export interface CommittedPosition {
  topic: string
  partition: number
  offset: bigint | null
  metadata: string | null
}

export interface ForeignUse {
  /** Members that are not recover replays of this topic, each with why. */
  members: Array<{ memberId: string; clientId: string; host: string; reason: string }>
  /** Committed offsets recover did not write (no marker in their metadata). */
  offsets: Array<{ topic: string; partition: number; offset: bigint }>
}

/**
 * Who else uses the group: members that are not recover replays of `topic`, and offsets
 * committed without recover's marker. Empty for a fresh group and for one recover's replays of
 * the same topic started. A classic group in the middle of a rebalance does not show its
 * assignor: its members are left to Kafka, which refuses the join of a member whose assignor
 * they do not all offer.
 */
export function foreignUseOf(topic: string, group: ReplayGroupSnapshot | undefined, committed: readonly CommittedPosition[]): ForeignUse {
  const members: ForeignUse['members'] = []
  for (const m of group?.members ?? []) {
    const who = { memberId: m.memberId, clientId: m.clientId, host: m.host }
    if (group!.rebalanceProtocol === 'consumer') members.push({ ...who, reason: 'a consumer on the KIP-848 group protocol' })
    else if (group!.protocolType !== 'consumer') members.push({ ...who, reason: `a ${group!.protocolType || 'non-consumer'} group member` })
    else if (group!.assignor !== '' && group!.assignor !== REPLAY_ASSIGNOR) members.push({ ...who, reason: `a consumer with assignor ${group!.assignor}` })
    else if (m.topics && (m.topics.length !== 1 || m.topics[0] !== topic)) members.push({ ...who, reason: `a recover replay of ${m.topics.join(', ')}` })
  }
  const offsets = committed
    .filter((c) => c.offset !== null && !parseReplayRange(c.metadata))
    .map((c) => ({ topic: c.topic, partition: c.partition, offset: c.offset! }))
  return { members, offsets }
}

export function isForeignUse(use: ForeignUse): boolean {
  return use.members.length > 0 || use.offsets.length > 0
}
