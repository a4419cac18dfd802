import type { PartitionCounts } from '../core/replay-counts.js'
import type { PartitionRange } from '../core/replay-range.js'
import type { KafkaRecord } from '../kafka/kafka-record.js'

/** The records one read brought of one partition, in offset order. */
export interface SourceChunk {
  partition: number
  records: readonly KafkaRecord[]
  /** Where the partition continues after these records: past gaps (compaction, transaction markers), capped at its range end. */
  nextOffset: bigint
}

/** What a source covers: a bounded range per partition, planned once, when a replay starts. */
export interface SourcePlan {
  ranges: PartitionRange[]
  /** Bounds clamped to what a partition holds, for the person to know. */
  warnings: string[]
  /** Where partitions continue when not at the start of their range (a --scale-out partition's committed offset). */
  startAt?: ReadonlyMap<number, bigint>
}

/**
 * Where a replay's records come from (the first stage of the pipeline: source → decode →
 * transform → sink → checkpoint). A source reads bounded ranges, so every replay ends;
 * positions are offsets, so a checkpoint can say where to continue.
 *
 * Today: a Kafka topic's range (kafka-range-source.ts), the share of one a --scale-out
 * process holds in its group (kafka-group-share.ts), and a file of the JSONL envelope
 * (file-source.ts: positions are the records' own offsets per partition).
 */
export interface RecordSource {
  /** What is read, for messages, the checkpoint and the quarantine entries' scope. */
  readonly topic: string
  /** The ranges of a new replay (a resumed one takes them from its checkpoint). Called at most once. */
  plan(): Promise<SourcePlan>
  /**
   * Yields the records of [start, end) of each range, a read at a time. After a failure, or
   * close(), it can be called again: it starts afresh from the ranges it is given.
   */
  read(ranges: readonly PartitionRange[], signal: AbortSignal): AsyncIterable<readonly SourceChunk[]>
  /** After an outage: resolves once the source answers again, throws (its translated error) while it does not. */
  probe(): Promise<void>
  /**
   * After every checkpoint: the positions and counts that are now durable in the sink and the
   * checkpoint (a --scale-out share commits them to its group).
   */
  committed?(partitions: readonly PartitionCounts[]): Promise<void>
  /**
   * A source that follows its log (replay --follow, kafka-follow-source.ts): its ranges have no
   * end, read() yields an empty list when a fetch brought nothing, and logEnds() says how far
   * each partition's log reaches, for the lag.
   */
  readonly follows?: boolean
  logEnds?(): ReadonlyMap<number, bigint>
  close(): Promise<void>
}
