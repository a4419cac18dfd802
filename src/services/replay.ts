import { randomUUID } from 'node:crypto'
import { rmSync } from 'node:fs'
import { resolve } from 'node:path'
import { isRetriableError, RecoveryError } from '../errors.js'
import type { CodecFormat } from '../codecs/codec.js'
import { createCodec, openSchemaSources, type SchemaSourceOptions, type SchemaSources } from '../codecs/create-codecs.js'
import { isDecodeError, isEncodeError } from '../codecs/decode-error.js'
import { createOutputEncoder, type OutputEncoder } from '../codecs/output-encoder.js'
import { RateLimiter } from '../core/rate-limiter.js'
import { retentionCutoff, retentionWarning } from '../core/retention.js'
import type { PartitionProgress } from '../core/replay-progress.js'
import { countsFromJson, countsToJson, describeUnreconciled, freshCounts, reconciles, totalsOf, type PartitionCounts, type ReplayTotals } from '../core/replay-counts.js'
import { checkRangeOrder, type PartitionRange, type RangeBound } from '../core/replay-range.js'
import { planReplay } from './replay-bounds.js'
import { recoverStateDir } from '../config/state-dir.js'
import { assertSameCluster, type ClusterIdentity, type RecordedCluster } from '../core/cluster-identity.js'
import { assertCheckpointCluster, checkpointExists, defaultCheckpointPath, legacyCheckpointPath, readCheckpoint, writeCheckpoint, type CheckpointPartition, type ReplayCheckpoint } from '../files/replay-checkpoint.js'
import type { KafkaGateway } from '../kafka/kafka-gateway.js'
import type { KafkaRecord } from '../kafka/kafka-record.js'
import { RangeReader, type PartitionChunk, type RangeReaderOptions } from '../kafka/range-reader.js'
import type { PluginContext, ReplayRecord, SinkRecord } from '../plugin-api.js'
import { loadTransformPlugin } from '../plugin-host/load-plugin.js'
import { isTransformInterrupted, pluginExitFailure, TransformRunner } from '../plugin-host/run-transform.js'
import { guardProcessExit, type ProcessExitGuard } from '../plugin-host/exit-guard.js'
import { transformStallReason } from '../plugin-host/transform-activity.js'
import { DEFAULT_FAILURE_RATE, FailureRateGuard, failureRateError, type FailureRateLimit, type RecordFailure } from '../core/failure-rate.js'
import type { Quarantine, QuarantineEntry, QuarantineStage } from '../quarantine/quarantine.js'
import { rangeScope, recordsScope } from '../quarantine/quarantined-sources.js'
import { CommitPacer, DEFAULT_COMMIT_INTERVAL_MS } from '../core/commit-pacer.js'
import { parseSinkUri, type CommittedProgress, type Sink, type SinkState } from '../sinks/sink.js'
import { buildQuarantine, buildSink, checkExactlyOnce, checkRetrySink, defaultQuarantineUri, isExactlyOnceSink, kafkaSinkTopic, requireSink, sinkRunsPluginCode, wasExactlyOnceSink } from '../replay/open-outputs.js'

export interface ReplayRequest {
  topic: string
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
  /** Deadline of each sink plugin hook (open, write of a batch, close). Default 2 minutes. */
  sinkTimeoutMs?: number
  /** kafka:TOPIC, postgres://…?table=T&key=K, duckdb:FILE?table=T, file:PATH.jsonl|.csv|.parquet, plugin:PATH#TARGET. Not needed for a dry run. */
  sink?: string
  /** Kafka sink: a transactional producer, each batch committed with the replay's progress. */
  exactlyOnce?: boolean
  /** Database sinks: create the table from the first batch when it does not exist. */
  createTable?: boolean
  /** Database sinks: how long to wait for a server that went away (default 60 s). */
  sinkReconnectMs?: number
  /** Default kafka:<topic>.quarantine. */
  quarantine?: string
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
  /** Scale-out: where each partition continues (the group's committed offsets), inside the range. */
  startAt?: Map<number, bigint>
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
  /** After every checkpoint (every commit, for a transactional sink): the positions and counts that are now durable (scale-out commits them to the group). */
  onCheckpoint?: (partitions: PartitionCounts[]) => Promise<void>
}

export type { PartitionCounts, ReplayTotals } from '../core/replay-counts.js'
export { totalsOf } from '../core/replay-counts.js'

export type ReplayEvent =
  | { type: 'start'; topic: string; sink: string; quarantine: string; resumed: boolean; resent: number; partitions: Array<Pick<PartitionCounts, 'partition' | 'start' | 'end' | 'next'>>; dryRun: boolean }
  | { type: 'batch'; records: number; bytes: number; totals: ReplayTotals; elapsedMs: number; partitions: PartitionProgress[] }
  | { type: 'quarantined'; stage: QuarantineStage; count: number }
  /** Kafka stopped answering (an error, giveUpAtMs set) or no batch finished for a while (a stall, giveUpAtMs null). */
  | { type: 'waiting'; reason: string; sinceMs: number; giveUpAtMs: number | null }
  /** Batches flow again after a wait; `resent` records the sink may now hold twice. */
  | { type: 'reconnected'; waitedMs: number; resent: number }
  /** Something the person should know that does not stop the replay (a bound clamped to the log). */
  | { type: 'warning'; message: string }
  | { type: 'done'; summary: ReplaySummary }

export interface DrySample {
  source: { partition: number; offset: bigint; timestamp: string }
  before: { key: unknown; value: unknown; headers: Array<{ key: string; value: string | null }> } | null
  outcome: 'written' | 'dropped' | 'quarantined'
  after: Array<{ key: unknown; value: unknown; headers: Array<{ key: string; value: string | null }>; timestamp: string }>
  quarantine?: { stage: QuarantineStage; errorClass: string; message: string; kind?: string }
}

export interface ReplaySummary {
  topic: string
  /** The cluster the records were read from (and a Kafka sink or quarantine written to). */
  cluster: ClusterIdentity
  sink: string | null
  quarantine: string | null
  transform: { name: string; version: string; file: string } | null
  checkpoint: string | null
  dryRun: boolean
  resumed: boolean
  /** Runs that continued this replay (this one included). */
  resumes: number
  finished: boolean
  interrupted: boolean
  /** Records the interrupted runs had written after their last checkpoint and this replay wrote again (duplicates in the sink). */
  resent: number
  /** Whether the sink can hold records twice after a crash (Kafka, plugins) or not (files, cut back to the checkpoint). */
  duplicatesPossible: boolean
  batchSize: number
  partitions: PartitionCounts[]
  totals: ReplayTotals
  quarantinedByStage: Record<QuarantineStage, number>
  /** Of the quarantined records, those the quarantine already held (an earlier run quarantined them): counted, not written again. */
  alreadyQuarantined: number
  reconciled: boolean
  /** This run only (a resumed replay's totals include the runs before). */
  readThisRun: number
  /** Times this run lost Kafka mid-replay, waited (--broker-wait) and reconnected. */
  outages: number
  elapsedMs: number
  recordsPerSecond: number
  sample?: DrySample[]
  resumeCommand?: string
  /** What the replay warned about on stderr (a bound clamped to what a partition holds). */
  warnings: string[]
  /**
   * Why the replay stopped before the end of its range, other than Ctrl-C: the failure-rate
   * guard (FAILURE_RATE_EXCEEDED) or a plugin that called process.exit (BAD_PLUGIN). The replay
   * then fails with that error, and this summary is in its details.
   */
  stopped?: { code: string; message: string }
}

const DEFAULT_BATCH = 5_000
const DEFAULT_STALL_MS = 10_000
const RECONNECT_POLL_MS = 1_000

interface Pipeline {
  sink?: Sink
  quarantine?: Quarantine
  transform?: TransformRunner
  codecs: { key: import('../codecs/codec.js').Codec; value: import('../codecs/codec.js').Codec }
  encoders?: { key: OutputEncoder; value: OutputEncoder }
  formats: { key: CodecFormat; value: CodecFormat }
}

/**
 * Replays a bounded range of a topic through an optional transform into a sink: read (never
 * joining a group) → decode → transform → encode → write, a batch at a time. Records that
 * cannot be decoded, transformed or written go to the quarantine, acknowledged before the
 * checkpoint moves past them. After every batch the sink is made durable, then the checkpoint
 * (read positions, counts, sink state) is written atomically, so a crash re-sends at most one
 * batch, and `resume` continues from the checkpoint. A transactional sink instead commits the
 * batches of up to `commitIntervalMs` together with the progress they bring: a crash rolls
 * them back whole, and `resume` continues from the sink's last commit.
 */
export async function replay(request: ReplayRequest, deps: ReplayDeps): Promise<ReplaySummary> {
  // Plugin code runs from its import on: process.exit must not end recover from inside it.
  const exitGuard = request.transform || sinkRunsPluginCode(request.sink) ? guardProcessExit() : undefined
  try {
    const summary = await runReplay(request, deps, exitGuard)
    // A plugin that caught the error its process.exit threw, or exited while being closed.
    if (exitGuard?.attempt) throw pluginExitFailure('A plugin', exitGuard.attempt, 'and caught the error it threw, or while it was being closed', { summary: jsonSafeSummary(summary) })
    return summary
  } finally {
    exitGuard?.release()
  }
}

async function runReplay(request: ReplayRequest, deps: ReplayDeps, exitGuard: ProcessExitGuard | undefined): Promise<ReplaySummary> {
  const started = Date.now()
  const { gateway } = deps
  const dryRun = request.dryRun !== undefined
  const batchSize = Math.max(1, Math.min(request.batchSize ?? DEFAULT_BATCH, request.rate ? Math.max(1, Math.ceil(request.rate / 4)) : Infinity))
  const signal = deps.signal ?? new AbortController().signal

  // Everything that can be wrong with the command line fails before any broker round trip.
  const sinkUri = dryRun ? undefined : parseSinkUri(requireSink(request.sink), '--sink')
  checkExactlyOnce(sinkUri, request.exactlyOnce)
  const quarantineUri = dryRun ? undefined : parseSinkUri(request.quarantine ?? defaultQuarantineUri(request.topic), '--quarantine')
  if (!request.resume) checkRangeOrder(request.from ?? { kind: 'earliest' }, request.to ?? { kind: 'latest' })
  const sources = openSchemaSources(request.schemas ?? {})
  const formats = { key: request.keyFormat ?? 'bytes', value: request.valueFormat ?? 'bytes' }
  const codecs = { key: await createCodec({ format: formats.key }, sources), value: await createCodec({ format: formats.value }, sources) }
  const pluginCtx = (name: string, version: string): PluginContext => ({ signal, log: (m) => deps.log?.(`[${name}] ${m}`), plugin: { name, version } })
  const loaded = request.transform ? await loadTransformPlugin(request.transform.path) : undefined
  const transform = loaded ? new TransformRunner(loaded.plugin, pluginCtx(loaded.plugin.name, loaded.plugin.version), request.transform!.timeoutMs, deps.transformActivity) : undefined
  const transformInfo = loaded ? { name: loaded.plugin.name, version: loaded.plugin.version, file: loaded.file } : null
  const encoders = dryRun || !transform ? undefined : await createEncoders(formats, codecs, sources, request.outputSchemaId)

  const allPartitions = await gateway.partitionsOf(request.topic)
  const partitions = request.partitions ?? allPartitions
  const unknown = partitions.filter((p) => !allPartitions.includes(p))
  if (unknown.length > 0) {
    throw new RecoveryError('PARTITION_NOT_FOUND', `Topic "${request.topic}" has no partition ${unknown.join(', ')}; it has partitions ${allPartitions.join(', ')}.`, { details: { topic: request.topic, partitions: allPartitions } })
  }

  let reader = new RangeReader(gateway.kafka, gateway.settings, request.topic)
  const pipeline: Pipeline = { transform, codecs, encoders, formats }
  let checkpointPath: string | undefined
  // What this run made: a fresh run that fails before writing a record takes it back (D18).
  let resumed = false
  let wroteCheckpoint = false
  let wroteRecords = false
  try {
    // Sinks are built before the checkpoint is read: the checkpoint is keyed by the sink's URI.
    if (sinkUri) pipeline.sink = await buildSink(sinkUri, gateway, allPartitions.length, request, formats, pluginCtx)
    if (quarantineUri) pipeline.quarantine = buildQuarantine(quarantineUri, gateway, allPartitions.length)
    checkpointPath = dryRun ? undefined : checkpointPathFor(request, pipeline.sink!.uri)

    let checkpoint: ReplayCheckpoint | undefined
    let ranges: PartitionRange[]
    const warnings: string[] = []
    if (request.resume && !dryRun) {
      checkpoint = readCheckpoint(checkpointPath!)
      resumed = true
      assertCheckpointCluster(checkpoint, checkpointPath!, gateway.cluster)
      checkResumable(checkpoint, request, pipeline, checkpointPath!, partitions)
      ranges = checkpoint.partitions.map((p) => ({ partition: p.partition, start: BigInt(p.start), end: BigInt(p.end) }))
    } else {
      if (checkpointPath && checkpointExists(checkpointPath)) {
        const existing = safeRead(checkpointPath)
        if (existing && !existing.finished) {
          const elsewhere = existing.cluster?.id !== gateway.clusterId ? ` (read from ${existing.cluster?.id ? `cluster ${existing.cluster.id}` : 'a cluster it does not name'})` : ''
          throw new RecoveryError('CHECKPOINT_EXISTS', `${checkpointPath} holds an unfinished replay of ${existing.topic}${elsewhere} into ${existing.sink}; continue it with --resume, or remove the file (or pass another --checkpoint) to start over.`, {
            details: { path: checkpointPath },
            nextSteps: ['Add --resume to the same command to continue it.'],
          })
        }
      }
      const planned = await planReplay(request.topic, partitions, { from: request.from ?? { kind: 'earliest' }, to: request.to ?? { kind: 'latest' } }, { reader, gateway })
      ranges = planned.ranges
      warnings.push(...planned.warnings)
    }

    // Open the sink (continuing from the checkpoint's state) and write the first checkpoint
    // before any record, so a crash from here on is always resumable. A transactional sink
    // returns the progress it committed with its last batch: the checkpoint file is written
    // after that commit, so after a crash it may be a batch behind, and the sink's wins.
    const runId = checkpoint?.runId ?? request.runId ?? randomUUID()
    let resentNow = 0
    let committedFresh: CheckpointPartition[] | undefined
    if (!dryRun) {
      const opened = await pipeline.sink!.open(checkpoint?.sinkState, { runId, topic: request.topic })
      if (opened.committed) assertCommittedCluster(opened.committed, gateway.cluster, pipeline.sink!.uri)
      resentNow = opened.resent ?? 0
      if (checkpoint && opened.committed) adoptCommitted(checkpoint, opened.committed)
      // A partition taken over in a group: the previous owner's committed progress is the truth.
      if (!checkpoint && request.runId && opened.committed) committedFresh = opened.committed.partitions
      await pipeline.quarantine!.open(checkpoint ? checkpoint.quarantineState : undefined, rangeScope(request.topic, ranges))
    }
    // Records replayed with their original (old) timestamps into a topic with time retention
    // are deleted by the broker minutes later: say so, once, when the first such record goes.
    const retentionTopic = dryRun || request.newTimestamps ? undefined : kafkaSinkTopic(pipeline.sink)
    const retention = retentionTopic !== undefined ? retentionCutoff(await gateway.topicConfigs(retentionTopic, ['retention.ms', 'cleanup.policy', 'message.timestamp.type']).catch(() => new Map<string, string>()), Date.now()) : undefined
    let warnedRetention = false

    const counts = new Map<number, PartitionCounts>()
    for (const r of ranges) {
      const saved = checkpoint?.partitions.find((p) => p.partition === r.partition) ?? committedFresh?.find((p) => p.partition === r.partition && p.start === r.start.toString() && p.end === r.end.toString())
      const startAt = request.startAt?.get(r.partition)
      counts.set(r.partition, saved ? countsFromJson(saved) : freshCounts(r, startAt !== undefined && startAt > r.start && startAt <= r.end ? startAt : r.start))
    }

    await transform?.setup()
    const state: ReplayCheckpoint | undefined = dryRun
      ? undefined
      : {
          kind: 'recover-replay-checkpoint',
          version: 1,
          runId,
          startedAt: checkpoint?.startedAt ?? new Date(started).toISOString(),
          updatedAt: new Date().toISOString(),
          topic: request.topic,
          cluster: recordedCluster(gateway.cluster),
          sink: pipeline.sink!.uri,
          quarantine: pipeline.quarantine!.uri,
          transform: transformInfo,
          partitions: [],
          sinkState: await pipeline.sink!.checkpoint(),
          quarantineState: await pipeline.quarantine!.checkpoint(),
          batches: checkpoint?.batches ?? 0,
          resumes: (checkpoint?.resumes ?? 0) + (checkpoint ? 1 : 0),
          resent: (checkpoint?.resent ?? 0) + resentNow,
          finished: false,
        }
    const saveCheckpoint = (finished: boolean) => {
      if (!state || !checkpointPath) return
      state.partitions = [...counts.values()].map(countsToJson)
      state.updatedAt = new Date().toISOString()
      state.finished = finished
      writeCheckpoint(checkpointPath, state, { createDirectory: request.checkpoint === undefined })
      wroteCheckpoint = true
    }
    if (!checkpoint?.finished) saveCheckpoint(false)

    deps.onEvent?.({
      type: 'start',
      topic: request.topic,
      sink: pipeline.sink?.uri ?? '(dry run)',
      quarantine: pipeline.quarantine?.uri ?? '(dry run)',
      resumed: checkpoint !== undefined,
      resent: resentNow,
      partitions: [...counts.values()].map((c) => ({ partition: c.partition, start: c.start, end: c.end, next: c.next })),
      dryRun,
    })
    for (const message of warnings) deps.onEvent?.({ type: 'warning', message })

    const byStage: Record<QuarantineStage, number> = { decode: 0, transform: 0, sink: 0 }
    const sample: DrySample[] = []
    const limiter = deps.rateLimiter ?? (request.rate ? new RateLimiter(request.rate, (deps.now ?? Date.now)()) : undefined)
    let interrupted = false
    /** Why the replay stops early, other than Ctrl-C: thrown once what was written is checkpointed. */
    let stop: RecoveryError | undefined
    let sampled = 0
    const failureGuard = dryRun ? undefined : new FailureRateGuard(request.maxFailureRate ?? DEFAULT_FAILURE_RATE, Number(totalsOf(counts.values()).remaining))
    /** A plugin that caught the error its process.exit threw: the replay stops all the same. */
    const exitCaught = (doing: string): RecoveryError | undefined => {
      if (!exitGuard?.attempt) return undefined
      const who = transform ? `The transform plugin ${transform.name}@${transform.version}` : 'A sink plugin'
      return pluginExitFailure(who, exitGuard.attempt, doing, { plugin: transform?.name ?? null })
    }

    let batchDone = (): void => undefined
    // A transactional sink commits several batches at once (one commit per interval, not per
    // batch: a DuckDB or PostgreSQL commit waits for the disk); every other sink after each.
    const commitEveryMs = dryRun || pipeline.sink?.transactional !== true ? 0 : Math.max(0, request.commitIntervalMs ?? DEFAULT_COMMIT_INTERVAL_MS)
    let batchesSent = state?.batches ?? 0
    /** Makes what the batches so far brought durable: quarantine, sink (with the progress), checkpoint file, group. */
    const commitProgress = async (): Promise<void> => {
      const durable = await makeDurable(pipeline, counts, batchesSent, gateway.cluster)
      state!.sinkState = durable.sink
      state!.quarantineState = durable.quarantine
      state!.batches = batchesSent
      saveCheckpoint(false)
      await deps.onCheckpoint?.([...counts.values()])
    }
    /** Ctrl-C, or a stop: the reading ends after the batch in flight. */
    const halted = (): boolean => {
      if (signal.aborted) interrupted = true
      return interrupted || stop !== undefined
    }
    // Reads from where every partition's checkpoint is, to the end of its range. Thrown errors
    // leave the checkpoint at the last durable batch, so a retry after an outage starts there.
    const readRanges = async (): Promise<void> => {
      const remaining = ranges.map((r) => ({ partition: r.partition, start: counts.get(r.partition)!.next, end: r.end }))
      const batch = new WorkBatch()
      // Two batches overlap: while the sink writes one (I/O), the next is decoded and
      // transformed (CPU). Only one is ever in flight to the sink, and it is checkpointed
      // before the next one is sent, so a crash still re-sends at most one batch.
      let committing: Promise<void> | undefined
      const pacer = new CommitPacer(commitEveryMs)
      /** A batch was abandoned whole (Ctrl-C in the transform, a stop): nothing more is flushed. */
      let abandoned = false
      const flush = async (last = false): Promise<void> => {
        const work = batch.take()
        if (retention && !warnedRetention && work.inputs.some((r) => r.timestampMs < retention.cutoffMs)) {
          warnedRetention = true
          deps.log?.(retentionWarning(retentionTopic!, retention.retentionMs))
        }
        let prepared: PreparedBatch
        try {
          prepared = await prepareBatch(work, pipeline, dryRun ? { sample, limit: request.dryRun!.limit } : undefined)
        } catch (error) {
          // Ctrl-C inside the transform, or a plugin that tried to exit: this batch is not
          // written; the replay ends at the batches before it, checkpointed.
          if (isTransformInterrupted(error)) interrupted = true
          else if (error instanceof RecoveryError && error.details.pluginExit === true) stop = error
          else throw error
          abandoned = true
          return
        }
        stop ??= exitCaught('during a transform call and caught the error it threw')
        if (committing) await committing
        // The batch before this one may have passed the failure rate once the sink had its say.
        const verdict = stop ? undefined : failureGuard?.assess(failuresOf(prepared), last)
        if (verdict) stop = failureRateError(verdict, pipeline.formats, request.topic)
        if (stop) {
          abandoned = true
          return
        }
        if (limiter && work.inputs.length > 0) {
          const wait = limiter.delayFor(work.inputs.length, (deps.now ?? Date.now)())
          if (wait > 0) await new Promise((r) => setTimeout(r, wait))
        }
        if (work.inputs.length > 0) batchesSent++
        wroteRecords ||= !dryRun && work.inputs.length > 0
        committing = writeBatch(prepared, pipeline, counts, byStage, dryRun, deps).then(
          () => true,
          (error: unknown) => {
            // A sink plugin that tried to exit: the batch is not durable (nor counted); stop.
            if (!(error instanceof RecoveryError && error.details.pluginExit === true)) throw error
            stop ??= error
            return false
          },
        ).then(async (written) => {
          if (!written) return
          const after = failureGuard?.record(failuresOf(prepared), last)
          if (after) stop = failureRateError(after, pipeline.formats, request.topic)
          if (!dryRun) {
            if (pacer.written(signal.aborted || stop !== undefined)) {
              await commitProgress()
              pacer.committed()
            }
          }
          deps.onEvent?.({ type: 'batch', records: work.inputs.length, bytes: work.bytes, totals: totalsOf(counts.values()), elapsedMs: Date.now() - started, partitions: [...counts.values()].map((c) => ({ ...c })) })
          batchDone()
        })
        // Awaited before the next batch or at the end; never an unhandled rejection meanwhile.
        committing.catch(() => undefined)
      }
      try {
        reading: for await (const chunks of reader.read(remaining, request.fetch, signal)) {
          for (const chunk of chunks) {
            for (const record of chunk.records) {
              if (dryRun && sampled >= request.dryRun!.limit) break reading
              batch.add(record)
              sampled++
              if (batch.inputs.length >= batchSize) {
                await flush()
                if (halted()) break reading
              }
            }
            batch.advance(chunk)
          }
          if (halted()) break
        }
        // The last records, and positions moved past gaps at the ends of the ranges.
        if (!abandoned && (batch.inputs.length > 0 || batch.positions.size > 0)) await flush(!halted())
        if (committing) await committing
        // The end of the ranges, or a stop: what is written but not committed yet is committed now.
        if (pacer.uncommitted) {
          await commitProgress()
          pacer.committed()
        }
      } finally {
        // A failure while reading still lets the batch in flight finish (and be checkpointed,
        // when its commit is due); the batches after the last commit are rolled back with it.
        if (committing) await committing
      }
    }

    // A stall (nothing finished for a while: a frozen broker, a sink that hangs) is reported,
    // not acted on: requests time out by themselves and then count as an outage.
    let lastProgressAt = Date.now()
    let stalled = false
    const stallMs = request.stallMs ?? DEFAULT_STALL_MS
    const onBatch = () => {
      if (stalled) deps.onEvent?.({ type: 'reconnected', waitedMs: Date.now() - lastProgressAt, resent: 0 })
      stalled = false
      lastProgressAt = Date.now()
    }
    let inOutage = false
    const stallTimer = setInterval(() => {
      if (inOutage || stalled || Date.now() - lastProgressAt < stallMs) return
      stalled = true
      deps.onEvent?.({ type: 'waiting', reason: stallReason(transform, stallMs), sinceMs: lastProgressAt, giveUpAtMs: null })
    }, Math.min(1_000, stallMs))
    stallTimer.unref()
    batchDone = onBatch

    let outages = 0
    try {
      while (!checkpoint?.finished) {
        try {
          await readRanges()
          break
        } catch (error) {
          const waitMs = dryRun ? 0 : (request.brokerWaitMs ?? 0)
          // Only Kafka errors are translated as retriable: a sink that gave up already waited (--sink-retry).
          if (waitMs <= 0 || !isRetriableError(error)) throw error
          outages++
          const since = Date.now()
          const giveUpAt = since + waitMs
          // The outage's own message, without the generic advice after it.
          deps.onEvent?.({ type: 'waiting', reason: (error as RecoveryError).summary, sinceMs: since, giveUpAtMs: giveUpAt })
          stalled = false
          inOutage = true
          // Everything that talks to Kafka starts afresh; the sink and quarantine are reopened
          // from the checkpoint's state, exactly as --resume does after a crash.
          await reader.close()
          await pipeline.sink!.close().catch(() => undefined)
          await pipeline.quarantine!.close().catch(() => undefined)
          let resent: number | undefined
          while (resent === undefined) {
            if (!(await reconnect(gateway, request.topic, partitions, giveUpAt, signal, error))) break
            try {
              const reopened = await pipeline.sink!.open(state!.sinkState, { runId, topic: request.topic })
              await pipeline.quarantine!.open(state!.quarantineState, rangeScope(request.topic, ranges))
              resent = reopened.resent ?? 0
            } catch (reopenError) {
              // The source answers but the sink's side of the cluster not yet: keep waiting.
              await pipeline.sink!.close().catch(() => undefined)
              if (!isRetriableError(reopenError) || Date.now() >= giveUpAt) throw reopenError
              await new Promise((r) => setTimeout(r, RECONNECT_POLL_MS))
            }
          }
          if (resent === undefined) {
            interrupted = true
            break
          }
          reader = new RangeReader(gateway.kafka, gateway.settings, request.topic)
          // Batches written after the last commit were rolled back with the sink's transaction
          // (or are counted in `resent`): read again from where the checkpoint is.
          restoreCounts(counts, state!)
          batchesSent = state!.batches
          state!.resent += resent
          lastProgressAt = Date.now()
          inOutage = false
          deps.onEvent?.({ type: 'reconnected', waitedMs: Date.now() - since, resent })
        }
      }
    } finally {
      clearInterval(stallTimer)
    }

    const partitionsOut = [...counts.values()].sort((a, b) => a.partition - b.partition)
    const finished = !interrupted && !dryRun && partitionsOut.every((p) => p.next >= p.end)
    if (finished && !checkpoint?.finished) saveCheckpoint(true)
    // After the checkpoint says finished (a resumed finished replay comes here too, so a crash
    // in between is repaired): Parquet writes its file from the staged rows now.
    if ((finished || checkpoint?.finished) && !dryRun) await pipeline.sink!.finish?.()
    const reconciled = partitionsOut.every(reconciles)
    const totals = totalsOf(partitionsOut)
    const readThisRun = totals.read - (checkpoint?.partitions.reduce((n, p) => n + p.read, 0) ?? 0)
    const elapsedMs = Date.now() - started
    const summary: ReplaySummary = {
      topic: request.topic,
      cluster: gateway.cluster,
      sink: pipeline.sink?.uri ?? null,
      quarantine: pipeline.quarantine?.uri ?? null,
      transform: transformInfo,
      checkpoint: checkpointPath ?? null,
      dryRun,
      resumed: checkpoint !== undefined,
      resumes: state?.resumes ?? 0,
      finished: finished || checkpoint?.finished === true,
      interrupted,
      resent: state?.resent ?? 0,
      duplicatesPossible: pipeline.sink?.mayDuplicateOnResume ?? false,
      batchSize,
      partitions: partitionsOut,
      totals,
      quarantinedByStage: byStage,
      alreadyQuarantined: pipeline.quarantine?.alreadyQuarantined ?? 0,
      reconciled,
      elapsedMs,
      readThisRun,
      outages,
      recordsPerSecond: elapsedMs > 0 ? Math.round((readThisRun / elapsedMs) * 1000) : 0,
      sample: dryRun ? sample : undefined,
      warnings,
      stopped: stop ? { code: stop.code, message: stop.message } : undefined,
    }
    deps.onEvent?.({ type: 'done', summary })
    if (!reconciled) {
      throw new RecoveryError('RECONCILIATION_FAILED', `The replay of ${request.topic} does not reconcile: ${describeUnreconciled(partitionsOut)}.`, { details: { summary: jsonSafeSummary(summary) } })
    }
    if (stop) {
      // What was written is checkpointed and summed up; the error says why it stopped.
      stop.details.summary = jsonSafeSummary(summary)
      if (checkpointPath && checkpointExists(checkpointPath)) stop.details.checkpoint = checkpointPath
      if (summary.finished) stop.nextSteps.splice(0, stop.nextSteps.length, 'The whole range was written all the same: fix that flag and replay into another sink, or keep this one.')
      throw stop
    }
    return summary
  } catch (error) {
    // A fresh run that fails before any record was written leaves nothing it created: no
    // empty sink or quarantine file, no checkpoint that a --resume would continue from nothing.
    if (!dryRun && !resumed && !wroteRecords) {
      await pipeline.sink?.discard?.().catch(() => undefined)
      await pipeline.quarantine?.discard?.().catch(() => undefined)
      if (wroteCheckpoint && checkpointPath) rmSync(checkpointPath, { force: true })
      wroteCheckpoint = false
    }
    // A broker or sink that went away leaves a valid checkpoint: say which, so the command
    // can print the line that continues the replay; without one, --resume would find nothing.
    if (error instanceof RecoveryError && error.category === 'environment' && !dryRun) {
      if ((resumed || wroteCheckpoint) && checkpointPath && checkpointExists(checkpointPath)) error.details.checkpoint = checkpointPath
      else error.nextSteps.push('Nothing was written and no checkpoint was kept: once the cause is fixed, run the same command again.')
    }
    throw error
  } finally {
    await reader.close()
    await pipeline.sink?.close().catch(() => undefined)
    await pipeline.quarantine?.close().catch(() => undefined)
  }
}

/** What a stalled replay waits for: the transform when a call of it is running, else Kafka or the sink. */
function stallReason(transform: TransformRunner | undefined, stallMs: number): string {
  const activity = transform?.activity()
  if (!activity) return `no batch finished for ${Math.round(stallMs / 1000)} s; waiting for Kafka or the sink to answer`
  const where = `${activity.topic}-${activity.partition}@${activity.offset}`
  const runningMs = Date.now() - activity.sinceMs
  if (runningMs < 1_000) return `no batch finished for ${Math.round(stallMs / 1000)} s; the transform is working through a batch (now on ${where})`
  return transformStallReason(where, runningMs)
}

function jsonSafeSummary(summary: ReplaySummary): unknown {
  return JSON.parse(JSON.stringify(summary, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))) as unknown
}


/**
 * Polls until the topic's partitions answer ListOffsets again (true), the replay is stopped
 * (false), or the deadline passes (throws the outage, with what to do next).
 */
async function reconnect(gateway: KafkaGateway, topic: string, partitions: number[], giveUpAt: number, signal: AbortSignal, outage: unknown): Promise<boolean> {
  let last: unknown = outage
  for (;;) {
    if (signal.aborted) return false
    const probe = new RangeReader(gateway.kafka, gateway.settings, topic)
    try {
      await probe.partitionFacts(partitions)
      return true
    } catch (error) {
      last = error
    } finally {
      await probe.close()
    }
    if (Date.now() >= giveUpAt) {
      const e = last instanceof RecoveryError ? last : (outage as RecoveryError)
      throw new RecoveryError(e.code, `${e.message.replace(/[.;]\s*$/, '')}. Kafka did not answer again within --broker-wait.`, { cause: e, details: e.details, nextSteps: ['Check that Kafka answers again.'] })
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(RECONNECT_POLL_MS, Math.max(50, giveUpAt - Date.now()))))
  }
}

/** A replay of records already in hand (retried dead letters), not of a topic range. */
export interface RecordsReplayRequest {
  /** Where the records were read from: a Kafka sink may not be this topic. */
  readFrom: string
  /** Partition count the sink topic and quarantine topic are created with when missing. */
  partitions: number
  keyFormat?: CodecFormat
  valueFormat?: CodecFormat
  schemas?: SchemaSourceOptions
  outputSchemaId?: number
  transform?: { path: string; timeoutMs: number }
  sink: string
  quarantine: string
  newTimestamps?: boolean
  batchSize?: number
}

export interface RecordsReplayResult {
  sink: string
  quarantine: string
  transform: { name: string; version: string; file: string } | null
  /** One outcome per input record, in input order. */
  outcomes: Array<'written' | 'dropped' | 'quarantined'>
  totals: { read: number; written: number; dropped: number; quarantined: number; outputs: number }
  quarantinedByStage: Record<QuarantineStage, number>
  /** Of the quarantined records, those the quarantine already held: counted, not written again. */
  alreadyQuarantined: number
}

/**
 * The replay pipeline (decode → transform → encode → sink, failures to the quarantine) over
 * records given by the caller: what `quarantine retry` and the triage TUI's retry and edit use.
 * No checkpoint: a retry is small and is recorded in the quarantine's audit trail instead.
 */
export async function replayRecords(records: readonly KafkaRecord[], request: RecordsReplayRequest, deps: Omit<ReplayDeps, 'now'>): Promise<RecordsReplayResult> {
  // As in replay: a plugin's process.exit fails the retry (BAD_PLUGIN) instead of ending recover.
  const exitGuard = request.transform || sinkRunsPluginCode(request.sink) ? guardProcessExit() : undefined
  try {
    return await retryRecords(records, request, deps)
  } finally {
    exitGuard?.release()
  }
}

async function retryRecords(records: readonly KafkaRecord[], request: RecordsReplayRequest, deps: Omit<ReplayDeps, 'now'>): Promise<RecordsReplayResult> {
  const { gateway } = deps
  const signal = deps.signal ?? new AbortController().signal
  const sinkUri = parseSinkUri(request.sink, '--sink')
  const quarantineUri = parseSinkUri(request.quarantine, '--quarantine')
  checkRetrySink(sinkUri, request.readFrom)
  const sources = openSchemaSources(request.schemas ?? {})
  const formats = { key: request.keyFormat ?? 'bytes', value: request.valueFormat ?? 'bytes' }
  const codecs = { key: await createCodec({ format: formats.key }, sources), value: await createCodec({ format: formats.value }, sources) }
  const pluginCtx = (name: string, version: string): PluginContext => ({ signal, log: (m) => deps.log?.(`[${name}] ${m}`), plugin: { name, version } })
  const loaded = request.transform ? await loadTransformPlugin(request.transform.path) : undefined
  const transform = loaded ? new TransformRunner(loaded.plugin, pluginCtx(loaded.plugin.name, loaded.plugin.version), request.transform!.timeoutMs) : undefined
  const encoders = transform ? await createEncoders(formats, codecs, sources, request.outputSchemaId) : undefined
  const pipeline: Pipeline = { transform, codecs, encoders, formats }
  const counts = new Map<number, PartitionCounts>()
  for (const r of records) if (!counts.has(r.partition)) counts.set(r.partition, freshCounts({ partition: r.partition, start: 0n, end: 0n }))
  const byStage: Record<QuarantineStage, number> = { decode: 0, transform: 0, sink: 0 }
  const outcomes: RecordsReplayResult['outcomes'] = []
  try {
    pipeline.sink = await buildSink(sinkUri, gateway, request.partitions, { topic: '', newTimestamps: request.newTimestamps }, formats, pluginCtx)
    pipeline.quarantine = buildQuarantine(quarantineUri, gateway, request.partitions)
    await pipeline.sink.open(undefined, { runId: randomUUID(), topic: request.readFrom })
    await pipeline.quarantine.open(undefined, recordsScope(records))
    await transform?.setup()
    const size = Math.max(1, request.batchSize ?? DEFAULT_BATCH)
    for (let i = 0, batches = 1; i < records.length; i += size, batches++) {
      const inputs = records.slice(i, i + size)
      const prepared = await prepareBatch({ inputs, bytes: 0, positions: new Map() }, pipeline, undefined)
      await writeBatch(prepared, pipeline, counts, byStage, false, deps)
      await makeDurable(pipeline, counts, batches, gateway.cluster)
      outcomes.push(...prepared.outcome)
    }
  } finally {
    await pipeline.sink?.close().catch(() => undefined)
    await pipeline.quarantine?.close().catch(() => undefined)
  }
  const t = totalsOf(counts.values())
  return {
    sink: pipeline.sink!.uri,
    quarantine: pipeline.quarantine!.uri,
    transform: loaded ? { name: loaded.plugin.name, version: loaded.plugin.version, file: loaded.file } : null,
    outcomes,
    totals: { read: t.read, written: t.written, dropped: t.dropped, quarantined: t.quarantined, outputs: t.outputs },
    quarantinedByStage: byStage,
    alreadyQuarantined: pipeline.quarantine!.alreadyQuarantined,
  }
}


/** Takes the progress a transactional sink committed as the truth about where the replay is. */
function adoptCommitted(checkpoint: ReplayCheckpoint, committed: CommittedProgress): void {
  const byPartition = new Map(committed.partitions.map((p) => [p.partition, p]))
  checkpoint.partitions = checkpoint.partitions.map((p) => {
    const c = byPartition.get(p.partition)
    // The range is the checkpoint's; only the position and counts come from the sink.
    return c ? { ...c, start: p.start, end: p.end } : p
  })
  checkpoint.quarantineState = committed.quarantineState
  checkpoint.batches = committed.batches
}

/**
 * --checkpoint, else the default under the state folder. When nothing is there but an earlier
 * version of recover left this replay's checkpoint in ./.recover, a --resume (or a fresh run,
 * if that replay is unfinished) gets that one: it records no cluster, so it is refused with how
 * to start over, rather than "no checkpoint" or a silent second replay into the same sink.
 */
function checkpointPathFor(request: ReplayRequest, sinkUri: string): string {
  if (request.checkpoint !== undefined) return resolve(request.checkpoint)
  const path = defaultCheckpointPath(request.stateDir ?? recoverStateDir().dir, request.topic, sinkUri)
  const legacy = legacyCheckpointPath(request.topic, sinkUri)
  if (checkpointExists(path) || !checkpointExists(legacy)) return path
  return request.resume || safeRead(legacy)?.finished === false ? legacy : path
}

/** What a checkpoint or a sink's committed progress keeps of the source cluster. */
function recordedCluster(cluster: ClusterIdentity): Required<RecordedCluster> {
  return { id: cluster.id, bootstrap: cluster.bootstrap }
}

/** Progress a transactional sink committed for this replay id on another cluster is not this replay's. */
function assertCommittedCluster(committed: CommittedProgress, current: ClusterIdentity, sink: string): void {
  assertSameCluster(committed.cluster ?? {}, current, `The progress of this replay in ${sink}`, { details: { sink } })
}

function safeRead(path: string): ReplayCheckpoint | undefined {
  try {
    return readCheckpoint(path)
  } catch {
    return undefined
  }
}

function checkResumable(c: ReplayCheckpoint, request: ReplayRequest, pipeline: Pipeline, path: string, partitions: number[]): void {
  const problems: string[] = []
  if (c.topic !== request.topic) problems.push(`it replays topic ${c.topic}, not ${request.topic}`)
  if (c.sink !== pipeline.sink!.uri) problems.push(`it writes to ${c.sink}, not ${pipeline.sink!.uri}`)
  if (c.quarantine !== pipeline.quarantine!.uri) problems.push(`it quarantines to ${c.quarantine}, not ${pipeline.quarantine!.uri}`)
  const saved = c.partitions.map((p) => p.partition).sort((a, b) => a - b)
  if (request.partitions && saved.join(',') !== [...partitions].sort((a, b) => a - b).join(',')) problems.push(`it covers partitions ${saved.join(',')}, not ${partitions.join(',')}`)
  const wasExactlyOnce = wasExactlyOnceSink(c.sinkState)
  const isExactlyOnce = isExactlyOnceSink(pipeline.sink!)
  if (wasExactlyOnce !== isExactlyOnce) problems.push(wasExactlyOnce ? 'it ran with --exactly-once (add it)' : 'it ran without --exactly-once (leave it out)')
  const t = pipeline.transform
  if ((c.transform?.name ?? null) !== (t?.name ?? null) || (c.transform?.version ?? null) !== (t?.version ?? null)) {
    problems.push(`it ran transform ${c.transform ? `${c.transform.name}@${c.transform.version}` : '(none)'}, not ${t ? `${t.name}@${t.version}` : '(none)'}`)
  }
  if (problems.length > 0) {
    throw new RecoveryError('CHECKPOINT_MISMATCH', `The checkpoint ${path} is for another replay: ${problems.join('; ')}.`, { details: { path, checkpoint: { topic: c.topic, sink: c.sink, quarantine: c.quarantine, transform: c.transform } } })
  }
}

async function createEncoders(formats: Pipeline['formats'], codecs: Pipeline['codecs'], sources: SchemaSources, outputSchemaId: number | undefined): Promise<{ key: OutputEncoder; value: OutputEncoder }> {
  return {
    key: await createOutputEncoder({ format: formats.key, codec: codecs.key, sources, side: 'key' }),
    value: await createOutputEncoder({ format: formats.value, codec: codecs.value, sources, outputSchemaId, side: 'value' }),
  }
}


/** Input records of one sink batch, and where each partition continues once it is written. */
class WorkBatch {
  inputs: KafkaRecord[] = []
  bytes = 0
  /** Partition -> next offset after this batch (past gaps for partitions whose chunk ended). */
  positions = new Map<number, bigint>()

  add(r: KafkaRecord): void {
    this.inputs.push(r)
    this.bytes += (r.key?.length ?? 0) + (r.value?.length ?? 0)
    this.positions.set(r.partition, r.offset + 1n)
  }

  advance(chunk: PartitionChunk): void {
    this.positions.set(chunk.partition, chunk.nextOffset)
  }

  /** Hands over the records and positions gathered so far and starts an empty batch. */
  take(): { inputs: KafkaRecord[]; bytes: number; positions: Map<number, bigint> } {
    const taken = { inputs: this.inputs, bytes: this.bytes, positions: this.positions }
    this.inputs = []
    this.bytes = 0
    this.positions = new Map()
    return taken
  }
}

type Outcome = 'written' | 'dropped' | 'quarantined'

/** A batch decoded, transformed and encoded: what the sink gets, what goes to quarantine. */
interface PreparedBatch {
  inputs: KafkaRecord[]
  bytes: number
  positions: Map<number, bigint>
  outcome: Outcome[]
  quarantine: QuarantineEntry[]
  outputs: SinkRecord[]
  /** For each output, the index of the input it came from. */
  outputOwner: number[]
}

/** Decode → transform → encode for one batch. No writes: those are commitBatch's. */
async function prepareBatch(work: { inputs: KafkaRecord[]; bytes: number; positions: Map<number, bigint> }, pipeline: Pipeline, dry: { sample: DrySample[]; limit: number } | undefined): Promise<PreparedBatch> {
  const { codecs, transform, encoders } = pipeline
  const inputs = work.inputs
  const prepared: PreparedBatch = { ...work, outcome: new Array<Outcome>(inputs.length), quarantine: [], outputs: [], outputOwner: [] }
  const { outcome, quarantine, outputs, outputOwner } = prepared
  const transformInfo = transform ? { name: transform.name, version: transform.version } : undefined
  const quarantineAt = (i: number, entry: Omit<QuarantineEntry, 'record' | 'transform'>) => {
    outcome[i] = 'quarantined'
    quarantine.push({ ...entry, record: inputs[i]!, transform: transformInfo })
  }

  // Registry lookups for the whole batch first: an unreachable registry stops the replay here
  // (exit 5) before any record of the batch is blamed.
  await codecs.key.prepare(inputs.map((r) => r.key))
  await codecs.value.prepare(inputs.map((r) => r.value))
  if (encoders) {
    await encoders.key.prepare(inputs.map((r) => r.key))
    await encoders.value.prepare(inputs.map((r) => r.value))
  }

  // Decode every record first, then transform the decoded ones in one guarded run (the
  // transform's watchdog is per chunk of calls, not per record), then encode in input order.
  const decoded = new Array<ReplayRecord | Omit<QuarantineEntry, 'record' | 'transform'>>(inputs.length)
  const toTransform: ReplayRecord[] = []
  for (let i = 0; i < inputs.length; i++) {
    const r = inputs[i]!
    let key: unknown = null
    let value: unknown = null
    try {
      key = r.key === null ? null : codecs.key.decode(r.key)
    } catch (error) {
      if (!isDecodeError(error)) throw error
      decoded[i] = { stage: 'decode', error, kind: error.kind, side: 'key' }
      continue
    }
    try {
      value = r.value === null ? null : codecs.value.decode(r.value)
    } catch (error) {
      if (!isDecodeError(error)) throw error
      decoded[i] = { stage: 'decode', error, kind: error.kind, side: 'value' }
      continue
    }
    const input: ReplayRecord = { key, value, headers: r.headers, timestamp: r.timestampMs, timestampType: r.timestampType, source: { topic: r.topic, partition: r.partition, offset: r.offset } }
    decoded[i] = input
    toTransform.push(input)
  }
  const transformed = transform ? await transform.applyAll(toTransform) : undefined
  let t = 0

  for (let i = 0; i < inputs.length; i++) {
    const r = inputs[i]!
    const d = decoded[i]!
    if (!('source' in d)) {
      quarantineAt(i, d)
      if (dry) addSample(dry, r, null, [], quarantine.at(-1))
      continue
    }
    const input = d
    let produced: ReplayRecord[]
    if (transformed) {
      const result = transformed[t++]!
      if (!result.ok) {
        quarantineAt(i, { stage: 'transform', error: result.error })
        if (dry) addSample(dry, r, input, [], quarantine.at(-1))
        continue
      }
      produced = result.outputs
    } else {
      produced = [input]
    }
    if (dry) {
      outcome[i] = produced.length === 0 ? 'dropped' : 'written'
      addSample(dry, r, input, produced, undefined)
      continue
    }
    if (produced.length === 0) {
      outcome[i] = 'dropped'
      continue
    }
    if (!transform) {
      // Without a transform the bytes go out exactly as they came in.
      outcome[i] = 'written'
      outputs.push({ key: r.key, value: r.value, decodedKey: input.key, decodedValue: input.value, headers: r.headers, timestamp: r.timestampMs, timestampType: r.timestampType, source: input.source })
      outputOwner.push(i)
      continue
    }
    const encoded: SinkRecord[] = []
    let failed = false
    for (const o of produced) {
      try {
        encoded.push({
          key: encoders!.key.encode(o.key, r.key),
          value: encoders!.value.encode(o.value, r.value),
          decodedKey: o.key,
          decodedValue: o.value,
          headers: o.headers,
          timestamp: o.timestamp,
          timestampType: o.timestampType,
          source: input.source,
        })
      } catch (error) {
        if (!isEncodeError(error)) throw error
        quarantineAt(i, { stage: 'sink', error, kind: error.kind })
        failed = true
        break
      }
    }
    if (failed) continue
    outcome[i] = 'written'
    for (const e of encoded) {
      outputs.push(e)
      outputOwner.push(i)
    }
  }
  return prepared
}

/** Each input of a prepared batch: how it failed (decode, transform, encode, sink), or undefined. */
function failuresOf(prepared: PreparedBatch): Array<RecordFailure | undefined> {
  const entries = new Map(prepared.quarantine.map((e) => [e.record, e]))
  return prepared.inputs.map((r, i) => {
    const e = prepared.outcome[i] === 'quarantined' ? entries.get(r) : undefined
    if (!e) return undefined
    const kind = e.stage === 'decode' ? (e.side === 'key' ? 'decode-key' : 'decode-value') : e.stage === 'transform' ? 'transform' : isEncodeError(e.error) ? 'encode' : 'sink'
    return { kind, message: e.error.message, detail: e.kind }
  })
}

/** Write → quarantine → make durable → move positions and counts, for one prepared batch. */
/** Writes a prepared batch to the sink and its rejects to the quarantine, and counts it (in memory, until the next commit). */
async function writeBatch(
  prepared: PreparedBatch,
  pipeline: Pipeline,
  counts: Map<number, PartitionCounts>,
  byStage: Record<QuarantineStage, number>,
  dry: boolean,
  deps: ReplayDeps,
): Promise<void> {
  const { inputs, outcome, quarantine, outputs, outputOwner } = prepared
  if (!dry) {
    const rejected = outputs.length > 0 ? await pipeline.sink!.write(outputs) : []
    const transformInfo = pipeline.transform ? { name: pipeline.transform.name, version: pipeline.transform.version } : undefined
    for (const rej of rejected) {
      const owner = outputOwner[rej.index]!
      if (outcome[owner] === 'quarantined') continue
      outcome[owner] = 'quarantined'
      quarantine.push({ stage: 'sink', error: rej.error, record: inputs[owner]!, transform: transformInfo })
    }
    // The quarantine is acknowledged, and the sink durable, before the checkpoint moves.
    await pipeline.quarantine!.write(quarantine)
  }

  for (let i = 0; i < inputs.length; i++) {
    const c = counts.get(inputs[i]!.partition)!
    c.read++
    c.bytes += (inputs[i]!.key?.length ?? 0) + (inputs[i]!.value?.length ?? 0)
    const o = outcome[i]!
    if (o === 'written') c.written++
    else if (o === 'dropped') c.dropped++
    else c.quarantined++
  }
  if (!dry) {
    for (const owner of outputOwner) {
      if (outcome[owner] === 'written') counts.get(inputs[owner]!.partition)!.outputs++
    }
  }
  const stages: Record<QuarantineStage, number> = { decode: 0, transform: 0, sink: 0 }
  for (const e of quarantine) stages[e.stage]++
  for (const stage of ['decode', 'transform', 'sink'] as const) {
    byStage[stage] += stages[stage]
    if (stages[stage] > 0) deps.onEvent?.({ type: 'quarantined', stage, count: stages[stage] })
  }
  for (const [partition, next] of prepared.positions) {
    const c = counts.get(partition)
    if (c && next > c.next) c.next = next
  }
}

/**
 * The quarantine made durable first, then the sink: a transactional sink commits the batches
 * since its last commit together with the progress they bring (positions and counts after
 * them), so the counts are in memory only until that commit succeeds, and a failure here ends
 * the replay (or the outage retry) before the checkpoint file moves.
 */
async function makeDurable(pipeline: Pipeline, counts: Map<number, PartitionCounts>, batches: number, cluster: ClusterIdentity): Promise<{ sink: SinkState; quarantine: SinkState }> {
  const quarantineState = await pipeline.quarantine!.checkpoint()
  const progress: CommittedProgress | undefined = pipeline.sink!.transactional ? { partitions: [...counts.values()].map(countsToJson), quarantineState, batches, cluster: recordedCluster(cluster) } : undefined
  return { sink: await pipeline.sink!.checkpoint(progress), quarantine: quarantineState }
}

/** Back to the last checkpoint's positions and counts (after an outage rolled back what came after). */
function restoreCounts(counts: Map<number, PartitionCounts>, checkpoint: ReplayCheckpoint): void {
  for (const p of checkpoint.partitions) {
    const c = counts.get(p.partition)
    if (c) Object.assign(c, countsFromJson(p))
  }
}


function headersForDisplay(headers: ReplayRecord['headers']): Array<{ key: string; value: string | null }> {
  return headers.map((h) => ({ key: h.key, value: h.value === null ? null : h.value.toString('utf8') }))
}

function addSample(dry: { sample: DrySample[]; limit: number }, r: KafkaRecord, input: ReplayRecord | null, outputs: ReplayRecord[], q: QuarantineEntry | undefined): void {
  if (dry.sample.length >= dry.limit) return
  dry.sample.push({
    source: { partition: r.partition, offset: r.offset, timestamp: new Date(r.timestampMs).toISOString() },
    before: input ? { key: input.key, value: input.value, headers: headersForDisplay(input.headers) } : null,
    outcome: q ? 'quarantined' : outputs.length === 0 ? 'dropped' : 'written',
    after: outputs.map((o) => ({ key: o.key, value: o.value, headers: headersForDisplay(o.headers), timestamp: new Date(o.timestamp).toISOString() })),
    quarantine: q ? { stage: q.stage, errorClass: q.error.name, message: q.error.message, kind: q.kind } : undefined,
  })
}



