import type { CodecFormat } from '../codecs/codec.js'
import type { SchemaSourceOptions } from '../codecs/create-codecs.js'
import type { FailureRateLimit } from '../core/failure-rate.js'
import type { RateLimiter } from '../core/rate-limiter.js'
import type { RangeBound } from '../core/replay-range.js'
import type { KafkaGateway } from '../kafka/kafka-gateway.js'
import type { RangeReaderOptions } from '../kafka/range-reader.js'
import type { ReplayEvent } from './replay-events.js'
import type { AnyLocation, FileLocation } from '../core/location.js'
import type { QuarantineLocation } from '../quarantine/quarantine-location.js'
import type { HeaderRules } from '../core/header-rules.js'

/** What `recover replay` is asked to do (the command's flags, parsed). */
export interface ReplayRequest {
  /** The topic read (a file source: the topic its records are of, set once the file is read). */
  topic: string
  /** Read this file of the lossless envelope instead of the topic (replay --source file:X.jsonl; src/replay/file-source.ts). */
  source?: FileLocation
  /** Names the default checkpoint instead of the topic (set for a file source). */
  checkpointName?: string
  /** Default: every partition of the topic. */
  partitions?: number[]
  /** Default earliest. Ignored on --resume (the checkpoint has the ranges). */
  from?: RangeBound
  /** Default latest: the last stable offsets captured at the start. */
  to?: RangeBound
  keyFormat?: CodecFormat
  valueFormat?: CodecFormat
  schemas?: SchemaSourceOptions
  /** Confluent Avro: write values with this schema id instead of each record's own. */
  outputSchemaId?: number
  transform?: { path: string; timeoutMs: number }
  /** --drop-header, --keep-header, --set-header and provenance (src/core/header-rules.ts); absent: headers as read. */
  headerRules?: HeaderRules
  /** Deadline of each sink plugin hook (open, write of a batch, close). Default 2 minutes. */
  sinkTimeoutMs?: number
  /** Where records go (docs/locations.md): parsed by the --sink flag, or text parsed here. Not needed for a dry run. */
  sink?: AnyLocation | string
  /** Kafka sink: 'key' places every keyed record where Kafka's default partitioner puts its key; default 'auto' keeps partitions when the topic has enough. */
  partitioning?: 'auto' | 'key'
  /** Kafka sink: a transactional producer, each batch committed with the replay's progress. */
  exactlyOnce?: boolean
  /** Database sinks: create the table from the first batch when it does not exist. */
  createTable?: boolean
  /** Database sinks: how long to wait for a server that went away (default 60 s). */
  sinkReconnectMs?: number
  /** Default kafka:<topic>.quarantine. */
  quarantine?: QuarantineLocation | string
  newTimestamps?: boolean
  /** Default: <stateDir>/checkpoints/replay-<topic>-<hash of the resolved sink>.json */
  checkpoint?: string
  /** recover's state folder, for the default checkpoint (default: recoverStateDir()). */
  stateDir?: string
  resume?: boolean
  /** Decode and transform only; keep a before/after sample of this many records; write nothing. */
  dryRun?: { limit: number }
  /** Records per second written to the sink. */
  rate?: number
  /**
   * Stop (FAILURE_RATE_EXCEEDED, exit 3) when more than this share of the first records read
   * fail to decode, transform or encode: a wrong flag, not bad data. Default 50 % of the first
   * 1,000; maxPercent 0 never stops. Not applied to a dry run.
   */
  maxFailureRate?: FailureRateLimit
  /** Input records per sink batch (the unit of checkpoints, and of duplicates after a crash). Default 5000. */
  batchSize?: number
  fetch?: RangeReaderOptions
  /**
   * Scale-out (--scale-out): the replay's identity, shared by every process that ever replays this
   * partition set, so a transactional sink's committed progress is found by the next owner.
   */
  runId?: string
  /**
   * How long to wait for Kafka when it stops answering mid-replay (a broker restart, a network
   * cut): the replay waits, reconnects, and continues from its last checkpoint. 0 or absent:
   * stop at once (exit 5) with the checkpoint saved.
   */
  brokerWaitMs?: number
  /** Report a stall (no batch finished) after this long; default 10 s. */
  stallMs?: number
  /**
   * Transactional sinks (PostgreSQL, DuckDB, Parquet, Kafka --exactly-once): commit the
   * progress at most this often, with every batch written since in the same transaction (as
   * Kafka Streams' commit.interval.ms); 0 commits after every batch. Default 1000 ms. Other
   * sinks are made durable after every batch whatever this says.
   */
  commitIntervalMs?: number
  /**
   * --follow: keep reading past the log ends seen at the start, until stopped (the signal).
   * An unfinished checkpoint of the same follow is continued without --resume (a restart by
   * a supervisor runs the same command).
   */
  follow?: boolean
  /** --follow: how often the lag is reported while no record arrives. Default 30 s. */
  followStatusMs?: number
}

export interface ReplayDeps {
  gateway: KafkaGateway
  /** Typed progress; the command picks the renderer. */
  onEvent?: (event: ReplayEvent) => void
  /** Aborted on Ctrl-C: the replay stops after the current batch, checkpointed. */
  signal?: AbortSignal
  /** Lines from plugins (ctx.log). */
  log?: (line: string) => void
  /** For tests: the clock of --rate. */
  now?: () => number
  /** A --rate shared by several replays (--scale-out: the partitions of one process share its rate). */
  rateLimiter?: RateLimiter
  /**
   * Shared memory the transform publishes its running call in (a TransformActivityBoard), so a
   * watcher on another thread can report a call that holds the main thread (a synchronous loop).
   */
  transformActivity?: SharedArrayBuffer
}
