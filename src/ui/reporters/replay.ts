import { redactText } from '../../config/redact.js'
import { isFollowEnd } from '../../core/follow.js'
import { initialProgress, reduceProgress, type PartitionProgress, type ProgressState } from '../../core/replay-progress.js'
import { renderProgressLine, renderReplayEventLines } from '../../render/replay-progress.js'
import type { ReplayProgressEvent } from '../../services/replay-events.js'
import type { ReplaySummary } from '../../services/replay.js'
import type { Presenter, ProgressRecord } from '../reporter.js'

/**
 * `replay` and `replay --scale-out`: the one reducer (core/replay-progress.ts) behind the live
 * view, the plain progress line and the NDJSON `progress` record, so all three show the same figures.
 */
export const replayPresenter: Presenter<ReplayProgressEvent, ProgressState> = {
  initial: initialProgress,
  reduce(state, event, atMs) {
    // A --scale-out process's partitions each run their own replay, on their own clock.
    const next = reduceProgress(state, event, 'partition' in event && event.partition !== undefined ? atMs : undefined)
    return next.sink === state.sink ? next : { ...next, sink: redactText(next.sink) }
  },
  lines: renderReplayEventLines,
  record: replayRecord,
  progress: {
    moves: (event) => event.type === 'batch' || event.type === 'lag',
    line: renderProgressLine,
    record: progressRecord,
  },
  async loadLive() {
    const { LiveReplayProgress } = await import('../live-replay-progress.js')
    // A dry run prints its sample, not a live view.
    return (state, terminal) => (state.started && !state.dryRun ? new LiveReplayProgress(state, terminal) : undefined)
  },
}

function replayRecord(event: ReplayProgressEvent): ProgressRecord | undefined {
  const scope = 'partition' in event && event.partition !== undefined ? { partition: event.partition } : {}
  switch (event.type) {
    case 'start': {
      if ('partition' in scope) return { type: 'partition-start', ...range(event.partitions[0]!) }
      const { topic, sink, quarantine, resumed, resent, dryRun } = event
      const follow = event.partitions.some((p) => isFollowEnd(p.end))
      return { type: 'start', topic, sink, quarantine, resumed, resent, dryRun, follow, partitions: event.partitions.map(range) }
    }
    case 'warning':
      return { type: 'warning', message: event.message, ...scope }
    case 'waiting':
      return { type: 'waiting', reason: event.reason, since: iso(event.sinceMs), giveUpAt: event.giveUpAtMs === null ? null : iso(event.giveUpAtMs), ...scope }
    case 'reconnected':
      return { type: 'reconnected', waitedMs: event.waitedMs, resent: event.resent, ...scope }
    case 'done':
      // Under --scale-out, partition-stop says when a partition's replay ends, and done when this process's share does.
      if ('partition' in scope) return undefined
      return doneRecord(event.summary, { dryRun: event.summary.dryRun, stopped: event.summary.stopped?.code ?? null })
    case 'scale-out-done':
      return doneRecord(event.summary, { dryRun: false, stopped: null })
    case 'scale-out-joining':
      return { type: event.type, group: event.group, topic: event.topic }
    case 'scale-out-assigned':
      return { type: event.type, partitions: event.partitions }
    case 'partition-stop':
      return { type: event.type, partition: event.partition, finished: event.finished, fenced: event.fenced === true, read: event.read }
    case 'scale-out-waiting':
      return { type: event.type, unfinished: event.unfinished }
    case 'batch':
    case 'quarantined':
    case 'lag':
      // Their figures are in the progress record.
      return undefined
  }
}

type Ended = Pick<ReplaySummary, 'finished' | 'interrupted' | 'reconciled' | 'totals' | 'elapsedMs'>

function doneRecord(s: Ended, how: { dryRun: boolean; stopped: string | null }): ProgressRecord {
  const { read, written, dropped, quarantined, outputs, bytes } = s.totals
  const totals = { read, written, dropped, quarantined, outputs, bytes }
  return { type: 'done', finished: s.finished, interrupted: s.interrupted, ...how, reconciled: s.reconciled, totals, elapsedMs: s.elapsedMs }
}

function progressRecord(state: ProgressState): ProgressRecord {
  if (state.follow) return followProgressRecord(state)
  const t = state.totals
  return {
    type: 'progress',
    read: t.read,
    written: t.written,
    dropped: t.dropped,
    quarantined: t.quarantined,
    bytes: t.bytes,
    remaining: t.remaining,
    rangeSize: t.rangeSize,
    percent: Math.round((state.percent ?? 0) * 10) / 10,
    recordsPerSecond: Math.round(state.rate),
    bytesPerSecond: Math.round(state.bytesPerSecond),
    etaMs: state.done ? 0 : state.etaMs === undefined ? null : Math.round(state.etaMs),
    elapsedMs: state.elapsedMs,
    partitions: state.partitions.map((p: PartitionProgress) => ({ ...range(p), read: p.read, quarantined: p.quarantined, bytes: p.bytes })),
  }
}

/** --follow: no end, so no remaining, percent or ETA; the lag in records and in time instead. */
function followProgressRecord(state: ProgressState): ProgressRecord {
  const t = state.totals
  const lag = state.lag
  const ends = new Map(lag?.partitions.map((p) => [p.partition, p]) ?? [])
  return {
    type: 'progress',
    read: t.read,
    written: t.written,
    dropped: t.dropped,
    quarantined: t.quarantined,
    bytes: t.bytes,
    remaining: null,
    rangeSize: null,
    percent: null,
    recordsPerSecond: Math.round(state.rate),
    bytesPerSecond: Math.round(state.bytesPerSecond),
    etaMs: null,
    elapsedMs: state.elapsedMs,
    lag: lag
      ? { records: lag.behind, timeMs: lag.lagMs ?? null, lastWrittenAt: lag.lastWrittenMs === undefined ? null : iso(lag.lastWrittenMs) }
      : { records: null, timeMs: null, lastWrittenAt: null },
    partitions: state.partitions.map((p: PartitionProgress) => {
      const at = ends.get(p.partition)
      return {
        ...range(p),
        read: p.read,
        quarantined: p.quarantined,
        bytes: p.bytes,
        logEnd: at?.logEnd ?? null,
        lagRecords: at?.behind ?? null,
        lagMs: at?.lagMs ?? null,
      }
    }),
  }
}

/** A partition's range; a followed partition's end is null (it has none). */
function range(p: { partition: number; start: bigint; end: bigint; next: bigint }) {
  return { partition: p.partition, start: p.start, end: isFollowEnd(p.end) ? null : p.end, next: p.next }
}

const iso = (ms: number) => new Date(ms).toISOString()
