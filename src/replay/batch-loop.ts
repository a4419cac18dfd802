import { CommitPacer } from '../core/commit-pacer.js'
import { FOLLOW_END } from '../core/follow.js'
import { failureRateError, type FailureRateGuard } from '../core/failure-rate.js'
import type { RateLimiter } from '../core/rate-limiter.js'
import { freshCounts, type PartitionCounts } from '../core/replay-counts.js'
import type { PartitionRange } from '../core/replay-range.js'
import { RecoveryError } from '../errors.js'
import type { KafkaRecord } from '../kafka/kafka-record.js'
import { isTransformInterrupted } from '../plugin-host/run-transform.js'
import type { QuarantineStage } from '../quarantine/quarantine.js'
import { applyHeaderStage } from './header-rules.js'
import { failuresOf, prepareBatch, prepareForSink, type PreparedBatch } from './prepare-batch.js'
import type { RecordSource } from './record-source.js'
import type { DrySample, ReplayEvent } from './replay-events.js'
import type { Outputs, Stages } from './stages.js'
import { WorkBatch, type WorkInputs } from './work-batch.js'
import { writeBatch } from './write-batch.js'

/** What a replay has done so far, across the reads an outage restarts. */
export class ReplayRun {
  readonly counts = new Map<number, PartitionCounts>()
  readonly byStage: Record<QuarantineStage, number> = { decode: 0, transform: 0, sink: 0 }
  readonly sample: DrySample[] = []
  /** Ctrl-C: the reading ends after the batch in flight. */
  interrupted = false
  /** Why the replay stops early, other than Ctrl-C: thrown once what was written is checkpointed. */
  stop: RecoveryError | undefined
  /** Some record went to the outputs (a fresh run that fails before any takes back what it created). */
  wroteRecords = false
  /** Batches sent to the sink, over every run of the replay. */
  batchesSent = 0
  /** Records read into a dry run's sample. */
  sampled = 0
}

export interface BatchLoop {
  run: ReplayRun
  source: RecordSource
  ranges: readonly PartitionRange[]
  stages: Stages
  /** Absent for a dry run: nothing is written. */
  outputs: Outputs | undefined
  topic: string
  batchSize: number
  /** A dry run reads this many records. */
  sampleLimit: number | undefined
  signal: AbortSignal
  failureGuard: FailureRateGuard | undefined
  limiter: RateLimiter | undefined
  now: () => number
  /** A transactional sink commits the batches of this long at once; 0 (every other sink) after each. */
  commitEveryMs: number
  /** Makes what the batches so far brought durable: quarantine, sink (with the progress), checkpoint, source. */
  commit: () => Promise<void>
  /** Before a batch goes to the sink. */
  beforeWrite?: (inputs: readonly KafkaRecord[]) => void
  /** After a batch was written, counted and (when due) committed. */
  written: (work: WorkInputs) => void
  /** A plugin that caught the error its process.exit threw: the replay stops all the same. */
  pluginExitCaught: () => RecoveryError | undefined
  onEvent?: (event: ReplayEvent) => void
  /** A source that follows its log: called after a fetch that brought nothing, once what was read is written and committed. */
  idle?: () => void
}

/** Following a log: records that trickle in wait at most this long for their batch to fill. */
const FOLLOW_LINGER_MS = 1_000

/**
 * Reads from where every partition's counts are to the end of its range, a sink batch at a
 * time. Thrown errors leave the checkpoint at the last durable batch, so a retry after an
 * outage starts there.
 *
 * Two batches overlap: while the sink writes one (I/O), the next is decoded and transformed
 * (CPU). Only one is ever in flight to the sink, and it is checkpointed before the next one is
 * sent, so a crash still re-sends at most one batch.
 */
export async function readBatches(loop: BatchLoop): Promise<void> {
  const { run, stages, outputs, signal } = loop
  // From the counts: a follow's partitions include those added to the topic while it ran.
  const remaining = [...run.counts.values()].map((c) => ({ partition: c.partition, start: c.next, end: c.end }))
  const batch = new WorkBatch()
  let committing: Promise<void> | undefined
  const pacer = new CommitPacer(loop.commitEveryMs)
  /** A batch was abandoned whole (Ctrl-C in the transform, a stop): nothing more is flushed. */
  let abandoned = false
  /** Ctrl-C, or a stop: the reading ends after the batch in flight. */
  const halted = (): boolean => {
    if (signal.aborted) run.interrupted = true
    return run.interrupted || run.stop !== undefined
  }
  const commit = async (): Promise<void> => {
    await loop.commit()
    pacer.committed()
  }
  let flushedAt = loop.now()

  const flush = async (last = false): Promise<void> => {
    flushedAt = loop.now()
    const work = batch.take()
    loop.beforeWrite?.(work.inputs)
    let prepared: PreparedBatch
    try {
      prepared = await prepareBatch(work, stages, loop.sampleLimit === undefined ? undefined : { sample: run.sample, limit: loop.sampleLimit }, outputs?.sink)
      if (outputs) {
        applyHeaderStage(prepared, stages.headers)
        await prepareForSink(prepared, outputs.sink)
      }
    } catch (error) {
      // Ctrl-C inside the transform, or a plugin that tried to exit: this batch is not
      // written; the replay ends at the batches before it, checkpointed.
      if (isTransformInterrupted(error)) run.interrupted = true
      else if (error instanceof RecoveryError && error.details.pluginExit === true) run.stop = error
      else throw error
      abandoned = true
      return
    }
    run.stop ??= loop.pluginExitCaught()
    if (committing) await committing
    // The batch before this one may have passed the failure rate once the sink had its say.
    const verdict = run.stop ? undefined : loop.failureGuard?.assess(failuresOf(prepared), last)
    if (verdict) run.stop = failureRateError(verdict, stages.formats, loop.topic)
    if (run.stop) {
      abandoned = true
      return
    }
    if (loop.limiter && work.inputs.length > 0) {
      const wait = loop.limiter.delayFor(work.inputs.length, loop.now())
      if (wait > 0) await new Promise((r) => setTimeout(r, wait))
    }
    if (work.inputs.length > 0) run.batchesSent++
    run.wroteRecords ||= outputs !== undefined && work.inputs.length > 0
    committing = writeBatch(prepared, outputs, stages.transform, run, loop.onEvent)
      .then(
        () => true,
        (error: unknown) => {
          // A sink plugin that tried to exit: the batch is not durable (nor counted); stop.
          if (!(error instanceof RecoveryError && error.details.pluginExit === true)) throw error
          run.stop ??= error
          return false
        },
      )
      .then(async (written) => {
        if (!written) return
        const after = loop.failureGuard?.record(failuresOf(prepared), last)
        if (after) run.stop = failureRateError(after, stages.formats, loop.topic)
        if (outputs && pacer.written(signal.aborted || run.stop !== undefined)) await commit()
        loop.written(work)
      })
    // Awaited before the next batch or at the end; never an unhandled rejection meanwhile.
    committing.catch(() => undefined)
  }

  try {
    reading: for await (const chunks of loop.source.read(remaining, signal)) {
      for (const chunk of chunks) {
        // A partition added to a followed topic: counted from its first chunk, which says where it starts.
        if (loop.source.follows && !run.counts.has(chunk.partition))
          run.counts.set(chunk.partition, freshCounts({ partition: chunk.partition, start: chunk.records[0]?.offset ?? chunk.nextOffset, end: FOLLOW_END }))
        const records = chunk.records
        // A run of the chunk's records at a time: up to a full batch, or the end of the sample.
        for (let at = 0; at < records.length; ) {
          let take = Math.min(records.length - at, loop.batchSize - batch.inputs.length)
          if (loop.sampleLimit !== undefined) take = Math.min(take, loop.sampleLimit - run.sampled)
          if (take <= 0) break reading
          batch.add(records, at, at + take)
          run.sampled += take
          at += take
          if (batch.inputs.length >= loop.batchSize) {
            await flush()
            if (halted()) break reading
          }
        }
        batch.advance(chunk)
      }
      if (halted()) break
      if (loop.source.follows) {
        // Following: a batch that is not full is written once the log has nothing more (an
        // empty fetch) or it waited long enough; an idle transactional sink commits what it holds.
        const idle = chunks.length === 0
        const pending = batch.inputs.length > 0 || batch.positions.size > 0
        if (pending && !abandoned && (idle || loop.now() - flushedAt >= FOLLOW_LINGER_MS)) {
          await flush()
          if (halted()) break
        }
        if (idle) {
          if (committing) await committing
          if (pacer.uncommitted) await commit()
          loop.idle?.()
        }
      }
    }
    // A read that ended because of Ctrl-C or SIGTERM (a follow ends no other way) is interrupted.
    halted()
    // The last records, and positions moved past gaps at the ends of the ranges.
    if (!abandoned && (batch.inputs.length > 0 || batch.positions.size > 0)) await flush(!halted())
    if (committing) await committing
    // The end of the ranges, or a stop: what is written but not committed yet is committed now.
    if (pacer.uncommitted) await commit()
  } finally {
    // A failure while reading still lets the batch in flight finish (and be checkpointed,
    // when its commit is due); the batches after the last commit are rolled back with it.
    if (committing) await committing
  }
}
