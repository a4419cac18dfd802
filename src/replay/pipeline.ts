import { randomUUID } from 'node:crypto'
import type { ClusterIdentity } from '../core/cluster-identity.js'
import { DEFAULT_COMMIT_INTERVAL_MS } from '../core/commit-pacer.js'
import { DEFAULT_FAILURE_RATE, FailureRateGuard } from '../core/failure-rate.js'
import { checkFollowCheckpoint, computeLag } from '../core/follow.js'
import type { OutageSpan } from '../core/outage-spans.js'
import { RateLimiter } from '../core/rate-limiter.js'
import { countsFromJson, freshCounts, totalsOf } from '../core/replay-counts.js'
import type { PartitionRange } from '../core/replay-range.js'
import { RecoveryError } from '../errors.js'
import { checkpointExists, readCheckpoint, type CheckpointPartition, type ReplayCheckpoint } from '../files/replay-checkpoint.js'
import type { KafkaRecord } from '../kafka/kafka-record.js'
import type { ProcessExitGuard } from '../plugin-host/exit-guard.js'
import { rangeScope } from '../quarantine/quarantined-sources.js'
import { readBatches, ReplayRun } from './batch-loop.js'
import {
  adoptCommitted,
  assertCommittedCluster,
  CheckpointFile,
  checkpointPathFor,
  checkResumable,
  recordedCluster,
  refuseUnfinishedCheckpoint,
} from './checkpoint.js'
import { isOutage, outageOutlasted, StallWatch, waitOutOutage } from './outage.js'
import { caughtPluginExit } from './plugin-exit.js'
import type { RecordSource, SourcePlan } from './record-source.js'
import type { ReplaySummary } from './replay-events.js'
import type { ReplayDeps, ReplayRequest } from './replay-request.js'
import type { Outputs, Stages } from './stages.js'
import { assertReconciled, stoppedWith, summarize } from './summary.js'
import { makeDurable } from './write-batch.js'

/** The parts a replay is assembled from: any source, any stages, any outputs. */
export interface ReplayParts {
  source: RecordSource
  /** The cluster the records are read from: recorded in the checkpoint, checked on resume. */
  cluster: ClusterIdentity
  stages: Stages
  /** Builds the sink and the quarantine (opened by the pipeline); absent for a dry run. */
  openOutputs?: () => Promise<Outputs>
  /** After the outputs are open: when records older than this go to the sink, its retention deletes them soon after. */
  retention?: (outputs: Outputs) => Promise<{ cutoffMs: number; warning: string } | undefined>
  /** Held while plugin code runs: a process.exit a plugin called and caught stops the replay too. */
  exitGuard?: ProcessExitGuard
}

export type PipelineDeps = Omit<ReplayDeps, 'gateway'>

const DEFAULT_BATCH = 5_000
const DEFAULT_STALL_MS = 10_000
const DEFAULT_FOLLOW_STATUS_MS = 30_000

/** --batch-size, else the sink's own default, else 5000; never more than a quarter second of --rate. */
function batchSizeFor(request: ReplayRequest, sinkDefault: number | undefined): number {
  return Math.max(1, Math.min(request.batchSize ?? sinkDefault ?? DEFAULT_BATCH, request.rate ? Math.max(1, Math.ceil(request.rate / 4)) : Infinity))
}

/**
 * Replays bounded ranges from a source through the stages into a sink: read → decode →
 * transform → encode → write, a batch at a time. Records that cannot be decoded, transformed
 * or written go to the quarantine, acknowledged before the checkpoint moves past them. After
 * every batch the sink is made durable, then the checkpoint (read positions, counts, sink
 * state) is written atomically, so a crash re-sends at most one batch, and `resume` continues
 * from the checkpoint. A transactional sink instead commits the batches of up to
 * `commitIntervalMs` together with the progress they bring: a crash rolls them back whole,
 * and `resume` continues from the sink's last commit. An outage of the source is waited out
 * (`brokerWaitMs`) and the outputs reopened from the checkpoint.
 */
export async function runPipeline(request: ReplayRequest, parts: ReplayParts, deps: PipelineDeps): Promise<ReplaySummary> {
  const started = Date.now()
  const { source, stages, cluster } = parts
  const dryRun = request.dryRun !== undefined
  let batchSize = batchSizeFor(request, undefined)
  const signal = deps.signal ?? new AbortController().signal
  const run = new ReplayRun()
  let outputs: Outputs | undefined
  let checkpointPath: string | undefined
  let file: CheckpointFile | undefined
  // What this run made: a fresh run that fails before writing a record takes it back (D18).
  let resumed = false
  try {
    // Sinks are built before the checkpoint is read: the checkpoint is keyed by the sink's URI.
    outputs = await parts.openOutputs?.()
    batchSize = batchSizeFor(request, outputs?.sink.defaultBatchSize)
    checkpointPath = outputs ? checkpointPathFor(request, outputs.sink.uri) : undefined

    let checkpoint: ReplayCheckpoint | undefined
    let plan: SourcePlan
    // A follow restarted by its supervisor continues its checkpoint: the same command line works every time.
    const continuesFollow =
      request.follow === true && checkpointPath !== undefined && checkpointExists(checkpointPath) && !readCheckpoint(checkpointPath).finished
    if ((request.resume || continuesFollow) && outputs && checkpointPath) {
      checkpoint = readCheckpoint(checkpointPath)
      resumed = true
      checkResumable(checkpoint, checkpointPath, request, outputs, stages.transform, cluster)
      checkFollowCheckpoint(checkpoint, checkpointPath, request.follow === true)
      plan = { ranges: checkpoint.partitions.map((p) => ({ partition: p.partition, start: BigInt(p.start), end: BigInt(p.end) })), warnings: [] }
    } else {
      if (checkpointPath) refuseUnfinishedCheckpoint(checkpointPath, cluster.id)
      plan = await source.plan()
    }
    const { ranges, warnings } = plan

    // Open the sink (continuing from the checkpoint's state) and write the first checkpoint
    // before any record, so a crash from here on is always resumable. A transactional sink
    // returns the progress it committed with its last batch: the checkpoint file is written
    // after that commit, so after a crash it may be a batch behind, and the sink's wins.
    const runId = checkpoint?.runId ?? request.runId ?? randomUUID()
    const opened = outputs ? await openOutputs(outputs, checkpoint, runId, request, ranges, cluster) : undefined
    if (opened) warnings.push(...opened.warnings)
    const retention = outputs && parts.retention ? await parts.retention(outputs) : undefined
    let warnedRetention = false

    for (const r of ranges) {
      const saved =
        checkpoint?.partitions.find((p) => p.partition === r.partition) ??
        opened?.committedFresh?.find((p) => p.partition === r.partition && p.start === r.start.toString() && p.end === r.end.toString())
      const startAt = plan.startAt?.get(r.partition)
      run.counts.set(
        r.partition,
        saved ? countsFromJson(saved) : freshCounts(r, startAt !== undefined && startAt > r.start && startAt <= r.end ? startAt : r.start),
      )
    }

    await stages.transform?.setup()
    if (outputs && checkpointPath) {
      const state: ReplayCheckpoint = {
        kind: 'recover-replay-checkpoint',
        version: 1,
        runId,
        startedAt: checkpoint?.startedAt ?? new Date(started).toISOString(),
        updatedAt: new Date().toISOString(),
        topic: request.topic,
        cluster: recordedCluster(cluster),
        sink: outputs.sink.uri,
        quarantine: outputs.quarantine.uri,
        transform: stages.transformInfo,
        partitions: [],
        sinkState: await outputs.sink.checkpoint(),
        quarantineState: await outputs.quarantine.checkpoint(),
        batches: checkpoint?.batches ?? 0,
        resumes: (checkpoint?.resumes ?? 0) + (checkpoint ? 1 : 0),
        resent: (checkpoint?.resent ?? 0) + (opened?.resent ?? 0),
        finished: false,
      }
      file = new CheckpointFile(checkpointPath, state, request.checkpoint === undefined)
      if (!checkpoint?.finished) file.save(run.counts.values(), false)
    }

    deps.onEvent?.({
      type: 'start',
      topic: request.topic,
      sink: outputs?.sink.uri ?? '(dry run)',
      quarantine: outputs?.quarantine.uri ?? '(dry run)',
      resumed: checkpoint !== undefined,
      resent: opened?.resent ?? 0,
      partitions: [...run.counts.values()].map((c) => ({ partition: c.partition, start: c.start, end: c.end, next: c.next })),
      dryRun,
    })
    for (const message of warnings) deps.onEvent?.({ type: 'warning', message })

    run.batchesSent = file?.state.batches ?? 0
    /** Makes what the batches so far brought durable: quarantine, sink (with the progress), checkpoint file, source. */
    const commit = async (): Promise<void> => {
      if (!outputs || !file) return
      const durable = await makeDurable(outputs, run.counts, run.batchesSent, cluster)
      file.state.sinkState = durable.sink
      file.state.quarantineState = durable.quarantine
      file.state.batches = run.batchesSent
      await file.saveInBackground(run.counts.values())
      await source.committed?.([...run.counts.values()])
    }
    // --follow: the lag behind the log ends, after every batch and, while idle, every followStatusMs.
    const lastWritten = new Map<number, number>()
    let lagShownAt = Date.now()
    const lagNow = () => {
      if (!source.follows || !source.logEnds) return undefined
      lagShownAt = Date.now()
      return computeLag([...run.counts.values()], source.logEnds(), lastWritten, lagShownAt)
    }
    const stall = new StallWatch(request.stallMs ?? DEFAULT_STALL_MS, stages.transform, deps.onEvent)
    let outages = 0
    const outageSpans: OutageSpan[] = []
    /**
     * The outage being waited out, until a batch is written again: a refusal that reopening
     * does not cure (fewer in-sync replicas than min.insync.replicas: the broker answers, and
     * refuses every write) stays one outage, with one deadline, instead of a new one per retry.
     */
    let ongoing: { since: number; giveUpAt: number; resent: number; resentBefore: number } | undefined
    const outageOver = (reconnected: boolean): void => {
      if (!ongoing) return
      const waitedMs = Date.now() - ongoing.since
      outageSpans.push({ sinceMs: ongoing.since, waitedMs })
      if (reconnected) deps.onEvent?.({ type: 'reconnected', waitedMs, resent: ongoing.resent })
      ongoing = undefined
    }
    const loop = {
      run,
      source,
      ranges,
      stages,
      outputs,
      topic: request.topic,
      batchSize,
      sampleLimit: request.dryRun?.limit,
      signal,
      failureGuard: dryRun ? undefined : new FailureRateGuard(request.maxFailureRate ?? DEFAULT_FAILURE_RATE, Number(totalsOf(run.counts.values()).remaining)),
      limiter: deps.rateLimiter ?? (request.rate ? new RateLimiter(request.rate, (deps.now ?? Date.now)()) : undefined),
      now: deps.now ?? Date.now,
      // A transactional sink commits several batches at once (one commit per interval, not per
      // batch: a DuckDB or PostgreSQL commit waits for the disk); every other sink after each.
      commitEveryMs: outputs?.sink.transactional === true ? Math.max(0, request.commitIntervalMs ?? DEFAULT_COMMIT_INTERVAL_MS) : 0,
      commit,
      // Records replayed with their original (old) timestamps into a topic with time retention
      // are deleted by the broker minutes later: say so, once, when the first such record goes.
      beforeWrite: (inputs: readonly KafkaRecord[]) => {
        if (!retention || warnedRetention || !inputs.some((r) => r.timestampMs < retention.cutoffMs)) return
        warnedRetention = true
        deps.log?.(retention.warning)
      },
      written: (work: { inputs: KafkaRecord[]; bytes: number }) => {
        const late = outputs?.sink.takeLateResent?.() ?? 0
        if (late > 0 && file) {
          file.state.resent += late
          if (ongoing) ongoing.resent += late
        }
        outageOver(true)
        for (const r of work.inputs) lastWritten.set(r.partition, r.timestampMs)
        const lag = lagNow()
        deps.onEvent?.({
          type: 'batch',
          records: work.inputs.length,
          bytes: work.bytes,
          totals: totalsOf(run.counts.values()),
          elapsedMs: Date.now() - started,
          partitions: [...run.counts.values()].map((c) => ({ ...c })),
          ...(lag ? { lag } : {}),
        })
        stall.progressed()
      },
      idle: () => {
        // Nothing to read is no stall when following; a status now and then says the follow is alive.
        stall.progressed()
        const lag = Date.now() - lagShownAt >= (request.followStatusMs ?? DEFAULT_FOLLOW_STATUS_MS) ? lagNow() : undefined
        if (lag) deps.onEvent?.({ type: 'lag', elapsedMs: Date.now() - started, ...lag })
      },
      pluginExitCaught: () => caughtPluginExit(parts.exitGuard, stages.transform, 'during a transform call and caught the error it threw'),
      onEvent: deps.onEvent,
    }

    try {
      while (!checkpoint?.finished) {
        try {
          await readBatches(loop)
          break
        } catch (error) {
          const waitMs = dryRun ? 0 : (request.brokerWaitMs ?? 0)
          if (waitMs <= 0 || !isOutage(error) || !outputs || !file) throw error
          if (!ongoing) {
            outages++
            ongoing = { since: Date.now(), giveUpAt: Date.now() + waitMs, resent: 0, resentBefore: file.state.resent }
            // The outage's own message, without the generic advice after it.
            deps.onEvent?.({ type: 'waiting', reason: error.summary, sinceMs: ongoing.since, giveUpAtMs: ongoing.giveUpAt })
          } else if (Date.now() >= ongoing.giveUpAt) throw outageOutlasted(error, waitMs)
          stall.outage()
          const resent = await reconnect(error, ongoing.giveUpAt, { source, outputs, file, runId, topic: request.topic, ranges, signal })
          if (resent === undefined) {
            outageOver(false)
            run.interrupted = true
            break
          }
          // Batches written after the last commit were rolled back with the sink's transaction
          // (or are counted in `resent`): read again from where the checkpoint is.
          file.restore(run.counts)
          run.batchesSent = file.state.batches
          // The checkpoint has not moved since the outage began: each reopen counts the same
          // records after it again, plus any that arrived since. The latest count is the one.
          ongoing.resent = resent
          file.state.resent = ongoing.resentBefore + resent
          stall.recovered()
        }
      }
      outageOver(true)
    } finally {
      stall.stop()
    }

    const finished = !run.interrupted && !dryRun && [...run.counts.values()].every((p) => p.next >= p.end)
    if (finished && !checkpoint?.finished) file?.save(run.counts.values(), true)
    // After the checkpoint says finished (a resumed finished replay comes here too, so a crash
    // in between is repaired): Parquet writes its file from the staged rows now.
    if (finished || checkpoint?.finished) await outputs?.sink.finish?.()
    const summary = summarize({
      topic: request.topic,
      cluster,
      run,
      stages,
      outputs,
      checkpointPath,
      checkpoint: file?.state,
      resumed: checkpoint !== undefined,
      finished: finished || checkpoint?.finished === true,
      readBefore: checkpoint?.partitions.reduce((n, p) => n + p.read, 0) ?? 0,
      batchSize,
      outages,
      outageSpans,
      warnings,
      startedMs: started,
    })
    deps.onEvent?.({ type: 'done', summary })
    assertReconciled(summary)
    if (run.stop) throw stoppedWith(run.stop, summary)
    return summary
  } catch (error) {
    // A fresh run that fails before any record was written leaves nothing it created: no
    // empty sink or quarantine file, no checkpoint that a --resume would continue from nothing.
    if (!dryRun && !resumed && !run.wroteRecords) {
      await outputs?.sink.discard?.().catch(() => undefined)
      await outputs?.quarantine.discard?.().catch(() => undefined)
      file?.remove()
    }
    // A broker or sink that went away leaves a valid checkpoint: say which, so the command
    // can print the line that continues the replay; without one, --resume would find nothing.
    if (error instanceof RecoveryError && error.category === 'environment' && !dryRun) {
      if ((resumed || file?.wrote) && checkpointPath && checkpointExists(checkpointPath)) error.details.checkpoint = checkpointPath
      else error.nextSteps.push('Nothing was written and no checkpoint was kept: once the cause is fixed, run the same command again.')
    }
    throw error
  } finally {
    await source.close()
    await outputs?.sink.close().catch(() => undefined)
    await outputs?.quarantine.close().catch(() => undefined)
  }
}

/** Opens the sink and the quarantine, continuing from the checkpoint's state or the progress the sink committed. */
async function openOutputs(
  outputs: Outputs,
  checkpoint: ReplayCheckpoint | undefined,
  runId: string,
  request: ReplayRequest,
  ranges: PartitionRange[],
  cluster: ClusterIdentity,
): Promise<{ resent: number; committedFresh?: CheckpointPartition[]; warnings: string[] }> {
  const fresh = !checkpoint && !request.runId
  const opened = await outputs.sink.open(checkpoint?.sinkState, { runId, topic: request.topic, ...(fresh ? { freshRanges: ranges } : {}) })
  if (opened.committed) assertCommittedCluster(opened.committed, cluster, outputs.sink.uri)
  if (checkpoint && opened.committed) adoptCommitted(checkpoint, opened.committed)
  await outputs.quarantine.open(checkpoint ? checkpoint.quarantineState : undefined, rangeScope(request.topic, ranges))
  // A partition taken over in a group: the previous owner's committed progress is the truth.
  return {
    resent: opened.resent ?? 0,
    committedFresh: !checkpoint && request.runId && opened.committed ? opened.committed.partitions : undefined,
    warnings: opened.warnings ?? [],
  }
}

/**
 * Everything that talks to Kafka starts afresh; the sink and quarantine are reopened from the
 * checkpoint's state, exactly as --resume does after a crash. The records the sink may now
 * hold twice, or undefined when the replay was stopped while it waited.
 */
async function reconnect(
  outage: RecoveryError,
  giveUpAt: number,
  at: { source: RecordSource; outputs: Outputs; file: CheckpointFile; runId: string; topic: string; ranges: PartitionRange[]; signal: AbortSignal },
): Promise<number | undefined> {
  const { source, outputs, file } = at
  await source.close()
  await outputs.sink.close().catch(() => undefined)
  await outputs.quarantine.close().catch(() => undefined)
  return waitOutOutage(outage, giveUpAt, at.signal, source, {
    reopen: async () => {
      const reopened = await outputs.sink.open(file.state.sinkState, { runId: at.runId, topic: at.topic })
      // A commit cut off by the outage may have been applied all the same (Kafka decided it
      // before its answer was lost): the progress the sink committed is the truth, not the file.
      if (reopened.committed) adoptCommitted(file.state, reopened.committed)
      await outputs.quarantine.open(file.state.quarantineState, rangeScope(at.topic, at.ranges))
      return reopened.resent ?? 0
    },
    closeSink: () => outputs.sink.close().catch(() => undefined),
  })
}
