/**
 * Replay progress as view state: a pure reducer over the service's events, shared by every
 * renderer (plain lines off a terminal, Ink on one). Rate is measured over a sliding window so
 * it follows the current speed; the ETA counts the offsets still to go (an upper bound where
 * compaction or transaction markers left gaps).
 */
import type { PartitionCounts, ReplayTotals } from './replay-counts.js'

/** What the views show of the totals. */
export type ProgressTotals = Omit<ReplayTotals, 'outputs'>

/** Where one partition stands: its range, position, and what happened to its records so far. */
export type PartitionProgress = Pick<PartitionCounts, 'partition' | 'start' | 'end' | 'next' | 'read' | 'quarantined' | 'bytes'>

export type ProgressEvent =
  | { type: 'start'; resumed: boolean; resent: number; partitions: Array<Pick<PartitionCounts, 'partition' | 'start' | 'end' | 'next'>> }
  | { type: 'batch'; records: number; bytes: number; totals: ProgressTotals; elapsedMs: number; partitions?: PartitionProgress[] }
  | { type: 'quarantined'; count: number }
  | { type: 'done' }

export interface ProgressState {
  started: boolean
  done: boolean
  resumed: boolean
  totals: ProgressTotals
  /** Per partition, in partition order (from the start event, then each batch). */
  partitions: PartitionProgress[]
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

export function initialProgress(): ProgressState {
  return {
    started: false,
    done: false,
    resumed: false,
    totals: { read: 0, written: 0, dropped: 0, quarantined: 0, bytes: 0, remaining: 0n, rangeSize: 0n },
    partitions: [],
    readThisRun: 0,
    elapsedMs: 0,
    rate: 0,
    bytesPerSecond: 0,
    etaMs: undefined,
    percent: undefined,
    window: [],
  }
}

export function reduceProgress(state: ProgressState, event: ProgressEvent): ProgressState {
  switch (event.type) {
    case 'start': {
      let rangeSize = 0n
      let remaining = 0n
      for (const p of event.partitions) {
        rangeSize += p.end - p.start
        remaining += p.end > p.next ? p.end - p.next : 0n
      }
      const partitions = event.partitions.map((p) => ({ ...p, read: 0, quarantined: 0, bytes: 0 })).sort((a, b) => a.partition - b.partition)
      return { ...state, started: true, resumed: event.resumed, totals: { ...state.totals, rangeSize, remaining }, partitions, window: [{ atMs: 0, read: 0, bytes: 0 }] }
    }
    case 'batch': {
      const readThisRun = state.readThisRun + event.records
      const bytesThisRun = (state.window.at(-1)?.bytes ?? 0) + event.bytes
      const window = [...state.window, { atMs: event.elapsedMs, read: readThisRun, bytes: bytesThisRun }].filter((w, i, all) => i === all.length - 1 || event.elapsedMs - w.atMs <= WINDOW_MS)
      const first = window[0]!
      const span = (event.elapsedMs - first.atMs) / 1000
      const rate = span > 0 ? (readThisRun - first.read) / span : 0
      const bytesPerSecond = span > 0 ? (bytesThisRun - first.bytes) / span : 0
      const remaining = event.totals.remaining
      const etaMs = rate > 0 ? (Number(remaining) / rate) * 1000 : undefined
      const size = Number(event.totals.rangeSize)
      const percent = size > 0 ? Math.min(100, (100 * (size - Number(remaining))) / size) : 100
      const partitions = event.partitions ? [...event.partitions].sort((a, b) => a.partition - b.partition) : state.partitions
      return { ...state, totals: event.totals, partitions, readThisRun, elapsedMs: event.elapsedMs, rate, bytesPerSecond, etaMs, percent, window }
    }
    case 'quarantined':
      return state
    case 'done':
      return { ...state, done: true, etaMs: 0 }
  }
}
