import { formatDuration } from '../core/duration.js'
import { formatLag } from '../core/follow.js'
import type { ProgressState } from '../core/replay-progress.js'

/** The figures of a replay's progress as people read them: the live view and the plain line both print these. */
export interface ProgressFigures {
  read: string
  written: string
  dropped: string
  quarantined: string
  /** Megabytes read, one decimal. */
  mb: string
  /** Records per second over the last few seconds. */
  rate: string
  /** Of the offsets in the range, those behind the replay: `66.7%`. */
  percent: string
  /** `ETA 3m20s`, `ETA –` before a rate is known, `done` at the end. */
  eta: string
  /** --follow: `lag 1,204 records, 3s`, `caught up, last record 2m05s old`, or `lag –` before the first fetch. */
  lag?: string
}

export function progressFigures(state: ProgressState): ProgressFigures {
  const t = state.totals
  return {
    read: count(t.read),
    written: count(t.written),
    dropped: count(t.dropped),
    quarantined: count(t.quarantined),
    mb: (t.bytes / 1e6).toFixed(1),
    rate: count(Math.round(state.rate)),
    percent: `${(state.percent ?? 0).toFixed(1)}%`,
    // Whole seconds, rounded up: never "0s" while records are still to go.
    eta: state.done ? 'done' : state.etaMs === undefined ? 'ETA –' : `ETA ${formatDuration(Math.ceil(state.etaMs / 1000) * 1000)}`,
    ...(state.follow ? { lag: state.lag ? formatLag(state.lag) : 'lag –' } : {}),
  }
}

export function count(n: number): string {
  return n.toLocaleString('en-US')
}
