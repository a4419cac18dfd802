/**
 * Replay progress as view state: a pure reducer over the service's events, shared by every
 * renderer (plain lines off a terminal, Ink on one). Rate is measured over a sliding window so
 * it follows the current speed; the ETA counts the offsets still to go (an upper bound where
 * compaction or transaction markers left gaps).
 */
import { isFollowEnd, type FollowLag } from './follow.js'
import type { PartitionCounts, ReplayTotals } from './replay-counts.js'

/** What the views show of the totals. */
export type ProgressTotals = Omit<ReplayTotals, 'outputs'>

/** Where one partition stands: its range, position, and what happened to its records so far. */
export type PartitionProgress = Pick<PartitionCounts, 'partition' | 'start' | 'end' | 'next' | 'read' | 'quarantined' | 'bytes'>

type Range = { partition: number; start: bigint; end: bigint; next: bigint }

/**
 * The events of replay progress (src/services/replay-events.ts) as this reducer reads them.
 * Under --scale-out each partition runs its own replay, whose events carry `partition`: the
 * reducer keeps each one's latest totals and adds them up.
 */
export type ProgressEvent =
  | { type: 'start'; partition?: number; topic?: string; sink?: string; resumed: boolean; resent: number; dryRun?: boolean; partitions: Range[] }
  | {
      type: 'batch'
      partition?: number
      records: number
      bytes: number
      totals: ProgressTotals
      elapsedMs: number
      partitions?: PartitionProgress[]
      lag?: ProgressLag
    }
  | { type: 'done'; partition?: number }
  | { type: 'scale-out-done' }
  | { type: 'scale-out-joining'; group: string; topic: string }
  | { type: 'partition-stop'; partition: number; finished: boolean }
  /** --follow: the lag behind the log ends. */
  | ({ type: 'lag'; elapsedMs: number } & ProgressLag)
  /** Events that say something without moving the figures (warnings, waits, assignments). */
  | { type: 'quarantined' | 'warning' | 'waiting' | 'reconnected' | 'scale-out-assigned' | 'scale-out-waiting' }

/** What the views show of a follow's lag. */
export type ProgressLag = Pick<FollowLag, 'behind' | 'lagMs' | 'lastWrittenMs'> & {
  partitions: ReadonlyArray<Pick<FollowLag['partitions'][number], 'partition' | 'logEnd' | 'behind' | 'lagMs' | 'lastWrittenMs'>>
}

export interface ProgressState {
  started: boolean
  /** replay --follow: the ranges have no end; percent and ETA give way to the lag. */
  follow: boolean
  /** --follow: the last lag reported (undefined before the first). */
  lag: ProgressLag | undefined
  done: boolean
  resumed: boolean
  dryRun: boolean
  topic: string
  sink: string
  /** --scale-out: the group this process replays a share of. */
  scaleOut: { group: string } | undefined
  totals: ProgressTotals
  /** Per partition, in partition order (from the start event, then each batch). */
  partitions: PartitionProgress[]
  /** --scale-out: the latest totals of each partition's replay in this process. */
  runs: ReadonlyMap<number, ProgressTotals>
  /** Records read by this run (the totals include earlier runs when resumed). */
  readThisRun: number
  elapsedMs: number
  /** Records per second over the last few seconds. */
  rate: number
  bytesPerSecond: number
  etaMs: number | undefined
  percent: number | undefined
  window: Array<{ atMs: number; read: number; bytes: number }>
}

const WINDOW_MS = 5_000

const NO_TOTALS: ProgressTotals = { read: 0, written: 0, dropped: 0, quarantined: 0, bytes: 0, remaining: 0n, rangeSize: 0n }

export function initialProgress(): ProgressState {
  return {
    started: false,
    follow: false,
    lag: undefined,
    done: false,
    resumed: false,
    dryRun: false,
    topic: '',
    sink: '',
    scaleOut: undefined,
    totals: NO_TOTALS,
    partitions: [],
    runs: new Map(),
    readThisRun: 0,
    elapsedMs: 0,
    rate: 0,
    bytesPerSecond: 0,
    etaMs: undefined,
    percent: undefined,
    window: [],
  }
}

/**
 * `atMs`: when the event happened, in ms since the progress began. One replay's events carry
 * their own clock (a batch's elapsedMs); the replays of a --scale-out process started at
 * different times, so the caller gives their batches one clock.
 */
export function reduceProgress(state: ProgressState, event: ProgressEvent, atMs?: number): ProgressState {
  switch (event.type) {
    case 'start': {
      const named = { topic: event.topic ?? state.topic, sink: event.sink ?? state.sink, dryRun: event.dryRun ?? state.dryRun }
      if (event.partition !== undefined) {
        const runs = new Map(state.runs).set(event.partition, rangeTotals(event.partitions))
        const partitions = upsert(state.partitions, event.partitions.map(fresh))
        const window = state.window.length > 0 ? state.window : [{ atMs: atMs ?? 0, read: 0, bytes: 0 }]
        return withTotals({ ...state, ...named, started: true, partitions, runs, window }, sumTotals(runs.values()))
      }
      const partitions = event.partitions.map(fresh).sort((a, b) => a.partition - b.partition)
      const window = [{ atMs: 0, read: 0, bytes: 0 }]
      const follow = event.partitions.some((p) => isFollowEnd(p.end))
      return withTotals({ ...state, ...named, started: true, follow, resumed: event.resumed, partitions, window }, rangeTotals(event.partitions))
    }
    case 'batch': {
      const now = atMs ?? event.elapsedMs
      const figures = moved(state, event.records, event.bytes, now)
      if (event.partition === undefined) {
        const partitions = event.partitions ? [...event.partitions].sort((a, b) => a.partition - b.partition) : state.partitions
        return withTotals({ ...state, ...figures, partitions, lag: event.lag ? lagOf(event.lag) : state.lag }, event.totals)
      }
      const runs = new Map(state.runs).set(event.partition, event.totals)
      const partitions = event.partitions ? upsert(state.partitions, event.partitions) : state.partitions
      return withTotals({ ...state, ...figures, runs, partitions }, sumTotals(runs.values()))
    }
    case 'done':
      return event.partition === undefined ? { ...state, done: true, etaMs: 0 } : state
    case 'scale-out-done':
      return { ...state, done: true, etaMs: 0 }
    case 'lag':
      // Nothing read since the last batch: the rate falls to what the last seconds brought.
      return { ...state, ...moved(state, 0, 0, atMs ?? event.elapsedMs), lag: lagOf(event) }
    case 'scale-out-joining':
      return { ...state, topic: event.topic, scaleOut: { group: event.group } }
    case 'partition-stop': {
      if (event.finished) return state
      // Handed over: the figures are those of the partitions this process holds.
      const runs = new Map(state.runs)
      runs.delete(event.partition)
      return withTotals({ ...state, runs, partitions: state.partitions.filter((p) => p.partition !== event.partition) }, sumTotals(runs.values()))
    }
    default:
      return state
  }
}

/** The sliding window and its rates after `records` more were read at `now`. */
function moved(state: ProgressState, records: number, bytes: number, now: number) {
  const readThisRun = state.readThisRun + records
  const bytesThisRun = (state.window.at(-1)?.bytes ?? 0) + bytes
  const all = [...state.window, { atMs: now, read: readThisRun, bytes: bytesThisRun }]
  // The last few seconds, from the newest point before them: batches further apart than the
  // window (a slow sink, --rate) still give a rate.
  const cut = all.findIndex((w) => now - w.atMs <= WINDOW_MS)
  const window = all.slice(Math.max(0, cut - 1))
  const first = window[0]!
  const span = (now - first.atMs) / 1000
  const rate = span > 0 ? (readThisRun - first.read) / span : 0
  const bytesPerSecond = span > 0 ? (bytesThisRun - first.bytes) / span : 0
  return { readThisRun, elapsedMs: now, rate, bytesPerSecond, window }
}

/** The totals, and the percent and ETA they give at the current rate. */
function withTotals(state: ProgressState, totals: ProgressTotals): ProgressState {
  // A follow has no end to be a percent of, nor a time to reach it.
  if (state.follow) return { ...state, totals, percent: undefined, etaMs: undefined }
  const size = Number(totals.rangeSize)
  const percent = size > 0 ? Math.min(100, (100 * (size - Number(totals.remaining))) / size) : 100
  const etaMs = state.rate > 0 ? (Number(totals.remaining) / state.rate) * 1000 : undefined
  return { ...state, totals, percent, etaMs }
}

function lagOf(lag: ProgressLag): ProgressLag {
  return { behind: lag.behind, lagMs: lag.lagMs, lastWrittenMs: lag.lastWrittenMs, partitions: lag.partitions }
}

function fresh(p: Range): PartitionProgress {
  return { partition: p.partition, start: p.start, end: p.end, next: p.next, read: 0, quarantined: 0, bytes: 0 }
}

function upsert(partitions: readonly PartitionProgress[], updates: readonly PartitionProgress[]): PartitionProgress[] {
  const byPartition = new Map(partitions.map((p) => [p.partition, p]))
  for (const p of updates) byPartition.set(p.partition, p)
  return [...byPartition.values()].sort((a, b) => a.partition - b.partition)
}

function rangeTotals(ranges: readonly Range[]): ProgressTotals {
  let rangeSize = 0n
  let remaining = 0n
  for (const p of ranges) {
    rangeSize += p.end - p.start
    remaining += p.end > p.next ? p.end - p.next : 0n
  }
  return { ...NO_TOTALS, rangeSize, remaining }
}

function sumTotals(all: Iterable<ProgressTotals>): ProgressTotals {
  const sum = { ...NO_TOTALS }
  for (const t of all) {
    sum.read += t.read
    sum.written += t.written
    sum.dropped += t.dropped
    sum.quarantined += t.quarantined
    sum.bytes += t.bytes
    sum.remaining += t.remaining
    sum.rangeSize += t.rangeSize
  }
  return sum
}
