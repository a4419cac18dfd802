import { isRetriableError, RecoveryError } from '../errors.js'
import type { TransformRunner } from '../plugin-host/run-transform.js'
import { transformStallReason } from '../plugin-host/transform-activity.js'
import type { RecordSource } from './record-source.js'
import type { ReplayEvent } from './replay-events.js'

const RECONNECT_POLL_MS = 1_000

/**
 * An outage the replay may wait out (--broker-wait): an error its translator marked retriable.
 * Only Kafka's are: a sink that gives up has already waited (--sink-retry).
 */
export function isOutage(error: unknown): error is RecoveryError {
  return isRetriableError(error)
}

/**
 * Waits until the source answers again and the outputs reopen (from the checkpoint's state,
 * as --resume does after a crash). Returns what the sink may now hold twice, or undefined when
 * the replay was stopped meanwhile; throws the outage, with what to do next, once `giveUpAt`
 * has passed.
 */
export async function waitOutOutage(
  outage: RecoveryError,
  giveUpAt: number,
  signal: AbortSignal,
  source: RecordSource,
  outputs: { reopen: () => Promise<number>; closeSink: () => Promise<void> },
): Promise<number | undefined> {
  for (;;) {
    if (!(await waitForSource(source, giveUpAt, signal, outage))) return undefined
    try {
      return await outputs.reopen()
    } catch (reopenError) {
      // The source answers but the sink's side of the cluster not yet: keep waiting.
      await outputs.closeSink()
      if (!isOutage(reopenError) || Date.now() >= giveUpAt) throw reopenError
      await sleep(RECONNECT_POLL_MS)
    }
  }
}

/**
 * Polls until the source answers again (true), the replay is stopped (false), or the deadline
 * passes (throws the outage, with what to do next).
 */
async function waitForSource(source: RecordSource, giveUpAt: number, signal: AbortSignal, outage: RecoveryError): Promise<boolean> {
  let last: unknown = outage
  for (;;) {
    if (signal.aborted) return false
    try {
      await source.probe()
      return true
    } catch (error) {
      last = error
    }
    if (Date.now() >= giveUpAt) {
      const e = last instanceof RecoveryError ? last : outage
      throw new RecoveryError(e.code, `${e.message.replace(/[.;]\s*$/, '')}. Kafka did not answer again within --broker-wait.`, {
        cause: e,
        details: e.details,
        nextSteps: ['Check that Kafka answers again.'],
      })
    }
    await sleep(Math.min(RECONNECT_POLL_MS, Math.max(50, giveUpAt - Date.now())))
  }
}

/**
 * An outage that went on past --broker-wait although Kafka answered in between (every write
 * refused, e.g. fewer in-sync replicas than min.insync.replicas): the replay stops with it.
 */
export function outageOutlasted(outage: RecoveryError, waitMs: number): RecoveryError {
  return new RecoveryError(
    outage.code,
    `${outage.message.replace(/[.;]\s*$/, '')}. Kafka still refused after --broker-wait (${Math.round(waitMs / 1000)} s).`,
    {
      cause: outage,
      details: outage.details,
      nextSteps: ['Check what the message names (the in-sync replicas of the topic, its leader), then resume.'],
    },
  )
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/**
 * Reports a stall (no batch finished for a while: a frozen broker, a sink that hangs, a
 * transform stuck in a call) without acting on it: requests time out by themselves, and then
 * count as an outage.
 */
export class StallWatch {
  private lastProgressAt = Date.now()
  private stalled = false
  private inOutage = false
  private readonly timer: NodeJS.Timeout

  constructor(
    readonly stallMs: number,
    readonly transform: TransformRunner | undefined,
    private readonly onEvent: ((event: ReplayEvent) => void) | undefined,
  ) {
    this.timer = setInterval(
      () => {
        if (this.inOutage || this.stalled || Date.now() - this.lastProgressAt < stallMs) return
        this.stalled = true
        onEvent?.({ type: 'waiting', reason: stallReason(transform, stallMs), sinceMs: this.lastProgressAt, giveUpAtMs: null })
      },
      Math.min(1_000, stallMs),
    )
    this.timer.unref()
  }

  /** A batch finished: a stall that was reported is over. */
  progressed(): void {
    if (this.stalled) this.onEvent?.({ type: 'reconnected', waitedMs: Date.now() - this.lastProgressAt, resent: 0 })
    this.stalled = false
    this.lastProgressAt = Date.now()
  }

  /** An outage is being waited out: it reports itself. */
  outage(): void {
    this.stalled = false
    this.inOutage = true
  }

  recovered(): void {
    this.lastProgressAt = Date.now()
    this.inOutage = false
  }

  stop(): void {
    clearInterval(this.timer)
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
