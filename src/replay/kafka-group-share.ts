import type { PartitionCounts } from '../core/replay-counts.js'
import { encodeReplayRange, parseReplayRange, type ReplayRange } from '../core/replay-group-marker.js'
import { planReplayRanges, type PartitionRange, type RangeBound } from '../core/replay-range.js'
import type { GroupMember } from '../kafka/group-member.js'
import type { KafkaGateway } from '../kafka/kafka-gateway.js'
import { RangeReader, type RangeReaderOptions } from '../kafka/range-reader.js'
import { KafkaRangeSource } from './kafka-range-source.js'
import type { RecordSource, SourceChunk, SourcePlan } from './record-source.js'
import { notAReplayGroup } from './replay-group-guard.js'

/** A partition this process holds in a --scale-out group, ready to replay. */
export interface PartitionClaim {
  partition: number
  /** The range, fixed by the partition's first owner and kept in the group's offset metadata. */
  range: ReplayRange
  /** Where the replay continues: the group's committed offset, or this process's own durable writes. */
  next: bigint
  /** The range as the group's offset metadata keeps it (committed with every position). */
  metadata: string
}

/**
 * The share of a topic this process holds in recover's group recover-replay.NAME: for each
 * partition assigned to it, the range its first owner planned (planned once, and kept in the
 * group's offset metadata so every later owner replays the same range) and the group's
 * committed offset, which is the checkpoint. Positions are committed through the member, so
 * the broker refuses them from a member that lost the partition in a rebalance.
 */
export class GroupShare {
  /** How far this process's own durable writes reached, per partition (the group may have refused the commit). */
  private readonly durable = new Map<number, bigint>()
  private readonly planner: RangeReader

  constructor(
    private readonly gateway: KafkaGateway,
    private readonly member: GroupMember,
    readonly topic: string,
    private readonly bounds: { from: RangeBound; to: RangeBound },
    private readonly fetch?: RangeReaderOptions,
  ) {
    this.planner = new RangeReader(gateway.kafka, gateway.settings, topic)
  }

  /** A partition the group assigned to this member, with its range; undefined when the group refused a commit (a rebalance took it). */
  async claim(partition: number): Promise<PartitionClaim | undefined> {
    const { member, topic } = this
    const position = (await member.positions()).find((p) => p.partition === partition)
    let range = parseReplayRange(position?.metadata)
    // Committed after the check before joining, by something that is not a replay: never overwritten.
    if (!range && position?.offset !== null && position?.offset !== undefined)
      throw notAReplayGroup(member.groupId, topic, { members: [], offsets: [{ topic, partition, offset: position.offset }] })
    if (!range) {
      const { from, to } = this.bounds
      const facts = await this.planner.partitionFacts([partition], {
        fromMs: from.kind === 'time' ? from.instantMs : undefined,
        toMs: to.kind === 'time' ? to.instantMs : undefined,
      })
      const [planned] = planReplayRanges(from, to, facts)
      range = { start: planned!.start, end: planned!.end }
      if (!(await member.commit([{ partition, offset: planned!.start, metadata: encodeReplayRange(range) }]))) return undefined
    }
    const metadata = encodeReplayRange(range)
    const committed = position?.offset !== null && position?.offset !== undefined && position.offset > range.start ? position.offset : range.start
    // Back with this member after a rebalance that refused its last commit: what it wrote is in
    // the sink, so the group gets that position now rather than the records a second time.
    const ours = this.durable.get(partition)
    const next = ours !== undefined && ours > committed && ours <= range.end ? ours : committed
    const claim = { partition, range, next, metadata }
    if (next > committed && !(await this.commit(claim, next))) return undefined
    return claim
  }

  /** Commits a claimed partition's position as this member; false when the group refused it (a rebalance). */
  commit(claim: PartitionClaim, offset: bigint): Promise<boolean> {
    return this.member.commit([{ partition: claim.partition, offset, metadata: claim.metadata }])
  }

  /**
   * The records of a claimed partition, from where it continues. After every checkpoint of its
   * replay the position goes to the group; `refused` is called when the group refuses it.
   */
  source(claim: PartitionClaim, refused: () => void): RecordSource {
    return new GroupShareSource(this.gateway, this.topic, claim, this.fetch, async (next) => {
      this.durable.set(claim.partition, next)
      if (!(await this.commit(claim, next))) refused()
    })
  }

  /** The partitions of `all` whose range the group's offsets do not show as done. */
  async unfinished(all: readonly number[]): Promise<number[]> {
    const positions = new Map((await this.member.positions()).map((p) => [p.partition, p]))
    return all.filter((partition) => {
      const p = positions.get(partition)
      const range = parseReplayRange(p?.metadata)
      return !range || !p || p.offset === null || p.offset < range.end
    })
  }

  async close(): Promise<void> {
    await this.planner.close()
  }
}

/** One claimed partition: its range read as the Kafka range source reads, its position committed to the group. */
class GroupShareSource implements RecordSource {
  private readonly reader: KafkaRangeSource

  constructor(
    gateway: KafkaGateway,
    readonly topic: string,
    private readonly claim: PartitionClaim,
    fetch: RangeReaderOptions | undefined,
    private readonly durable: (next: bigint) => Promise<void>,
  ) {
    const { partition, range, next } = claim
    this.reader = new KafkaRangeSource(
      gateway,
      topic,
      [partition],
      { ranges: [{ partition, ...range }], warnings: [], startAt: new Map([[partition, next]]) },
      fetch,
    )
  }

  plan(): Promise<SourcePlan> {
    return this.reader.plan()
  }

  read(ranges: readonly PartitionRange[], signal: AbortSignal): AsyncIterable<readonly SourceChunk[]> {
    return this.reader.read(ranges, signal)
  }

  probe(): Promise<void> {
    return this.reader.probe()
  }

  async committed(partitions: readonly PartitionCounts[]): Promise<void> {
    const c = partitions.find((p) => p.partition === this.claim.partition)
    if (c) await this.durable(c.next)
  }

  close(): Promise<void> {
    return this.reader.close()
  }
}
