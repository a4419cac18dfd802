import type { DirectLines, JsonCopyText } from './json-copy-text.js'
import type { RecordedCluster } from '../core/cluster-identity.js'
import type { PartitionCountsJson } from '../core/replay-counts.js'
import type { SinkRecord, SinkRejection } from '../plugin-api.js'

export type { SinkRecord, SinkRejection } from '../plugin-api.js'

/**
 * What a sink remembers in the checkpoint, JSON-safe: for files the byte length that is
 * durable, for Kafka the log end after our last acknowledged write per partition.
 */
export type SinkState = Record<string, unknown>

export interface SinkOpenResult {
  /** Records written after the checkpoint by the interrupted run, which this run writes again (at most one batch). */
  resent?: number
  /** Files: bytes after the checkpoint that were cut off (they are written again, so nothing is duplicated). */
  truncatedBytes?: number
  /**
   * Transactional sinks: the progress committed together with the data by the last batch of
   * this replay. It wins over the checkpoint file, which is written after the commit and so may
   * be one batch behind after a crash.
   */
  committed?: CommittedProgress
  /** What the person should know before the first record is written (an index that already holds documents): shown with the plan's warnings and in the summary. */
  warnings?: string[]
}

/** The replay's progress as a transactional sink commits it with each batch (JSON-safe). */
export interface CommittedProgress {
  partitions: PartitionCountsJson[]
  quarantineState: SinkState
  batches: number
  /** The source cluster: progress committed on another cluster is never continued (absent before recover recorded it). */
  cluster?: RecordedCluster
}

/** Which replay a sink writes for: transactional sinks key their stored progress (and Kafka its transactional id) by it. */
export interface ReplayIdentity {
  /** The checkpoint's runId: the same across --resume. */
  runId: string
  topic: string
  /**
   * Set when a replay starts afresh (no checkpoint, no scale-out group): the offsets it will
   * write. A sink whose target may already hold another replay's output checks it against them.
   */
  freshRanges?: ReadonlyArray<{ partition: number; start: bigint; end: bigint }>
}

/** A batch in a sink's own form, made by Sink.prepare(): opaque to the pipeline. */
export interface PreparedWrite {
  /** How many records it holds (rejection indexes count in them). */
  readonly records: number
}

/**
 * The one small interface every sink implements (file, Kafka, plugin): open, write batches,
 * make them durable at a checkpoint, close. The replay writes one batch at a time, and
 * checkpoints its read positions only after `checkpoint()` resolved, so a crash re-sends at most
 * the batch that was in flight.
 */
export interface Sink {
  /** For messages and the summary: `kafka:orders.fixed`, `file:/tmp/out.jsonl`. */
  readonly uri: string
  /** True when a resumed run may write some records a second time (no transaction with the checkpoint). */
  readonly mayDuplicateOnResume: boolean
  /**
   * True when each batch and the replay's progress are committed in one transaction
   * (PostgreSQL, DuckDB, Kafka with --exactly-once): checkpoint() then gets the progress.
   */
  readonly transactional?: boolean
  /** Records per batch when --batch-size is not given, for a sink whose writes cost less per record in bigger batches (default 5000). */
  readonly defaultBatchSize?: number
  /** Opens the sink; with the state of a checkpoint, continues from it. */
  open(resume: SinkState | undefined, replay: ReplayIdentity): Promise<SinkOpenResult>
  /**
   * Records written before the last open that became visible only after it (a write that timed
   * out, appended but not yet committed when open() counted `resent`): sent again, so held
   * twice. Each is reported once; read after every write.
   */
  takeLateResent?(): number
  /** Writes a batch; records the sink will not take are returned (they go to quarantine, stage sink). */
  write(records: SinkRecord[]): Promise<SinkRejection[]>
  /**
   * Optional: turns a batch into the sink's own form (rows as COPY text, say) in the CPU stage
   * of the pipeline, while the batch before it is still being written; writePrepared() then only
   * sends it. The records are not kept: their decoded values can be collected at once instead of
   * living on until the write. Undefined when the sink cannot yet (write() then gets the records).
   * It should let the event loop run now and then, so that the write in flight moves on meanwhile.
   */
  prepare?(records: SinkRecord[], direct?: DirectLines): Promise<PreparedWrite | undefined>
  /**
   * Optional: for a replay of JSON values with no transform, a writer of the sink's lines
   * straight from each value's bytes (json-copy-text.ts), for one batch of about `bytes` bytes.
   * The values it takes are not decoded; prepare() then gets their lines. Undefined when the
   * sink cannot (yet).
   */
  directJson?(bytes: number): JsonCopyText | undefined
  /** Writes what prepare() made, as write() would have written its records. */
  writePrepared?(prepared: PreparedWrite): Promise<SinkRejection[]>
  /**
   * Makes everything written so far durable and returns what the checkpoint keeps. A
   * transactional sink commits `progress` (the replay's positions after this batch) in the
   * same transaction as the batch; without `progress` it commits nothing.
   */
  checkpoint(progress?: CommittedProgress): Promise<SinkState>
  /**
   * A sink that deletes records by their timestamp (a Kafka topic's time retention): the time
   * before which records written now are deleted soon, and what to tell the person. Undefined
   * when it keeps records of any age.
   */
  retention?(): Promise<{ cutoffMs: number; warning: string } | undefined>
  /** Why this sink cannot continue a replay that left `state` in its checkpoint (it ran in another mode), or undefined. */
  resumeMismatch?(state: SinkState): string | undefined
  /** Called once when the whole range has been written (Parquet writes its file then). */
  finish?(): Promise<void>
  /**
   * Closes, and removes what open() created (a new file, a new database file): called when the
   * replay fails before writing any record, so a refused run leaves nothing behind.
   */
  discard?(): Promise<void>
  close(): Promise<void>
}
