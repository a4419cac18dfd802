import { FOLLOW_END } from '../core/follow.js'
import { planReplayRanges, rangeClampWarnings, checkBoundPartitions, type PartitionRange, type RangeBound } from '../core/replay-range.js'
import type { KafkaGateway } from '../kafka/kafka-gateway.js'
import type { RangeReaderOptions } from '../kafka/range-reader.js'
import { resolveMatchBound } from './kafka-range-plan.js'
import { KafkaTopicSource } from './kafka-topic-source.js'
import type { RecordSource, SourceChunk, SourcePlan } from './record-source.js'

/** How long the broker holds a fetch that finds nothing new (a long poll, not a busy loop). */
const FOLLOW_MAX_WAIT_MS = 500
/** How often the topic's metadata is read for partitions added since the start. */
const NEW_PARTITIONS_CHECK_MS = 30_000

/**
 * `replay --follow`: a Kafka topic's partitions from --from on, past the log ends seen at the
 * start, until the replay is stopped. Reads as the range source does (by offset, read_committed,
 * no consumer group), with long-poll fetches: a fetch at the log end waits on the broker for
 * new records; a round that brings none yields an empty list, so the pipeline can flush, commit
 * and report while idle. A follow of the whole topic reads its metadata every 30 s and
 * follows partitions added to it from their log start (`newPartitions` is told first);
 * their first chunk may hold no record, to say where they start.
 */
export class KafkaFollowSource extends KafkaTopicSource implements RecordSource {
  readonly follows = true
  private readonly ends = new Map<number, bigint>()
  private checkedAt = Date.now()

  constructor(
    gateway: KafkaGateway,
    topic: string,
    partitions: readonly number[],
    private readonly from: RangeBound,
    fetch?: RangeReaderOptions,
    /** Partitions added to the topic, followed from now on (absent: only the partitions asked for). */
    private readonly newPartitions?: (added: readonly PartitionRange[]) => void,
  ) {
    super(gateway, topic, partitions, fetch)
  }

  /** From --from to no end; an empty topic is fine: the follow waits for its first records. */
  async plan(): Promise<SourcePlan> {
    const latest: RangeBound = { kind: 'latest' }
    // --from first-match:…: the edges found now; a partition without a match is followed from its end.
    const warnings: string[] = []
    const from = await resolveMatchBound(this.topic, this.partitions, this.from, { from: { kind: 'earliest' }, to: latest }, '--from', this.gateway, warnings)
    checkBoundPartitions(from, '--from', this.partitions)
    const facts = await this.open().partitionFacts(this.partitions, { fromMs: from.kind === 'time' ? from.instantMs : undefined })
    for (const f of facts) this.ends.set(f.partition, f.stableEnd)
    const ranges = planReplayRanges(from, latest, facts).map((r) => ({ ...r, end: FOLLOW_END }))
    return { ranges, warnings: [...warnings, ...rangeClampWarnings(from, latest, facts)] }
  }

  async *read(ranges: readonly PartitionRange[], signal: AbortSignal): AsyncIterable<readonly SourceChunk[]> {
    let current = [...ranges]
    // Where each partition continues after the chunks handed on: a read restarted with new partitions starts there.
    const next = new Map(current.map((r) => [r.partition, r.start]))
    for (;;) {
      let added: PartitionRange[] = []
      for await (const chunks of this.fetchFrom(current, signal)) {
        for (const c of chunks) next.set(c.partition, c.nextOffset)
        yield chunks
        // Also under steady traffic: the read restarts from where the chunks handed on end.
        if (this.newPartitions && Date.now() - this.checkedAt >= NEW_PARTITIONS_CHECK_MS) {
          added = await this.addedPartitions(current)
          if (added.length > 0) break
        }
      }
      if (added.length === 0 || signal.aborted) return
      this.newPartitions?.(added)
      // Their start first, as chunks without records, so the replay counts them before their records come.
      yield added.map((r) => ({ partition: r.partition, records: [], nextOffset: r.start }))
      for (const r of added) next.set(r.partition, r.start)
      current = [...current, ...added].map((r) => ({ ...r, start: next.get(r.partition)! }))
    }
  }

  /** Partitions the topic has beyond `followed`, from their log start (best effort: an outage shows in the fetches). */
  private async addedPartitions(followed: readonly PartitionRange[]): Promise<PartitionRange[]> {
    this.checkedAt = Date.now()
    const known = new Set(followed.map((r) => r.partition))
    const all = await this.gateway.partitionsOf(this.topic).catch(() => [] as number[])
    const added = all.filter((p) => !known.has(p))
    if (added.length === 0) return []
    const facts = await this.open()
      .partitionFacts(added)
      .catch(() => [])
    for (const f of facts) this.ends.set(f.partition, f.stableEnd)
    // The reader knows the leaders of the partitions it started with only: the next one reads the metadata afresh.
    if (facts.length > 0) await this.close()
    return facts.map((f) => ({ partition: f.partition, start: f.logStart, end: FOLLOW_END }))
  }

  private fetchFrom(ranges: readonly PartitionRange[], signal: AbortSignal): AsyncIterable<readonly SourceChunk[]> {
    return this.open().read(
      ranges,
      {
        ...this.fetch,
        maxWaitMs: this.fetch?.maxWaitMs ?? FOLLOW_MAX_WAIT_MS,
        // At the log end nothing comes back for as long as nobody writes: that is no stall.
        stallTimeoutMs: Number.POSITIVE_INFINITY,
        follow: { logEnd: (partition, highWatermark) => this.ends.set(partition, highWatermark) },
      },
      signal,
    )
  }

  /** The log end (high watermark) of each partition, as the last fetch answered. */
  logEnds(): ReadonlyMap<number, bigint> {
    return this.ends
  }
}
