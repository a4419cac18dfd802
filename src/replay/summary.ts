import type { ClusterIdentity } from '../core/cluster-identity.js'
import type { OutageSpan } from '../core/outage-spans.js'
import { describeUnreconciled, reconciles, totalsOf } from '../core/replay-counts.js'
import { RecoveryError } from '../errors.js'
import { checkpointExists } from '../files/replay-checkpoint.js'
import type { ReplayRun } from './batch-loop.js'
import type { ReplaySummary } from './replay-events.js'
import type { Outputs, Stages } from './stages.js'

export interface SummaryInput {
  topic: string
  cluster: ClusterIdentity
  run: ReplayRun
  stages: Stages
  outputs: Outputs | undefined
  checkpointPath: string | undefined
  checkpoint: { resumes: number; resent: number } | undefined
  /** The run continued a checkpoint (--resume). */
  resumed: boolean
  finished: boolean
  /** Records the checkpoint this run continued had read. */
  readBefore: number
  batchSize: number
  outages: number
  /** When each outage of this run began and how long it was waited out, in order. */
  outageSpans: readonly OutageSpan[]
  warnings: string[]
  startedMs: number
}

/** What a replay did: per partition and in total, reconciled, with what the person needs to know next. */
export function summarize(input: SummaryInput): ReplaySummary {
  const { run, outputs } = input
  const partitions = [...run.counts.values()].sort((a, b) => a.partition - b.partition)
  const totals = totalsOf(partitions)
  const readThisRun = totals.read - input.readBefore
  const elapsedMs = Date.now() - input.startedMs
  const dryRun = outputs === undefined
  return {
    topic: input.topic,
    cluster: input.cluster,
    sink: outputs?.sink.uri ?? null,
    quarantine: outputs?.quarantine.uri ?? null,
    transform: input.stages.transformInfo,
    checkpoint: input.checkpointPath ?? null,
    dryRun,
    resumed: input.resumed,
    resumes: input.checkpoint?.resumes ?? 0,
    finished: input.finished,
    interrupted: run.interrupted,
    resent: input.checkpoint?.resent ?? 0,
    duplicatesPossible: outputs?.sink.mayDuplicateOnResume ?? false,
    batchSize: input.batchSize,
    partitions,
    totals,
    quarantinedByStage: run.byStage,
    alreadyQuarantined: outputs?.quarantine.alreadyQuarantined ?? 0,
    reconciled: partitions.every(reconciles),
    elapsedMs,
    readThisRun,
    outages: input.outages,
    outageWaitedMs: input.outageSpans.reduce((sum, o) => sum + o.waitedMs, 0),
    longestOutageMs: input.outageSpans.reduce((max, o) => Math.max(max, o.waitedMs), 0),
    outageSpans: [...input.outageSpans],
    recordsPerSecond: elapsedMs > 0 ? Math.round((readThisRun / elapsedMs) * 1000) : 0,
    sample: dryRun ? run.sample : undefined,
    warnings: input.warnings,
    stopped: run.stop ? { code: run.stop.code, message: run.stop.message } : undefined,
  }
}

/** The summary as --json and error details carry it (offsets as decimal strings). */
export function jsonSafeSummary(summary: ReplaySummary): unknown {
  return JSON.parse(JSON.stringify(summary, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))) as unknown
}

/**
 * Read = written + dropped + quarantined for every partition, or RECONCILIATION_FAILED (a
 * bug: a record went missing between the stages).
 */
export function assertReconciled(summary: ReplaySummary): void {
  if (summary.reconciled) return
  throw new RecoveryError('RECONCILIATION_FAILED', `The replay of ${summary.topic} does not reconcile: ${describeUnreconciled(summary.partitions)}.`, {
    details: { summary: jsonSafeSummary(summary) },
  })
}

/** Why the replay stopped early (the failure-rate guard, a plugin's process.exit), with what it wrote. */
export function stoppedWith(stop: RecoveryError, summary: ReplaySummary): RecoveryError {
  // What was written is checkpointed and summed up; the error says why it stopped.
  stop.details.summary = jsonSafeSummary(summary)
  if (summary.checkpoint && checkpointExists(summary.checkpoint)) stop.details.checkpoint = summary.checkpoint
  if (summary.finished)
    stop.nextSteps.splice(0, stop.nextSteps.length, 'The whole range was written all the same: fix that flag and replay into another sink, or keep this one.')
  return stop
}
