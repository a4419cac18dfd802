/**
 * Seek planning as pure functions: given what Kafka says about each partition, where does the
 * group go? The rules are Apache Kafka's own (kafka-consumer-groups.sh --reset-offsets), which
 * the integration tests use as the oracle.
 */

export type SeekMode =
  | { kind: 'to-time'; instantMs: number; display: string }
  | { kind: 'to-earliest' }
  | { kind: 'to-latest' }
  | { kind: 'to-offset'; offset: bigint }
  | { kind: 'shift-by'; delta: bigint }
  | { kind: 'by-duration'; durationMs: number; instantMs: number; display: string }
  | { kind: 'from-file'; file: string }
  | { kind: 'undo'; file: string }
  /** first: the first record matching `where`; last: one past the last (recover find's edges, found by the service). */
  | { kind: 'to-match'; edge: 'first' | 'last'; where: string; tz?: string }

/** What Kafka told us about one partition of one group. */
export interface PartitionFacts {
  group: string
  topic: string
  partition: number
  currentOffset: bigint | null
  logStartOffset: bigint
  logEndOffset: bigint
  /** to-time / by-duration: the earliest offset with timestamp >= the instant; null = none. */
  offsetForTime?: bigint | null
  /** from-file / undo / to-offset / to-match: the requested offset before clamping. */
  requestedOffset?: bigint
}

export type SeekNote = 'no-record-at-or-after-time' | 'clamped-to-log-start' | 'clamped-to-log-end' | 'never-committed' | 'unchanged'

export interface SeekPlanRow {
  group: string
  topic: string
  partition: number
  currentOffset: bigint | null
  newOffset: bigint
  logStartOffset: bigint
  logEndOffset: bigint
  /** new - current: negative means records replayed, positive means records skipped; null when never committed. */
  delta: bigint | null
  /** Timestamp of the record at the new offset; null at the log end. Filled in by the service. */
  newRecordTime: string | null
  notes: SeekNote[]
}

export interface SeekTotals {
  partitions: number
  changed: number
  replayed: bigint
  skipped: bigint
  neverCommitted: number
}

export class SeekPlanError extends Error {
  constructor(
    readonly partitions: Array<{ group: string; topic: string; partition: number }>,
    message: string,
  ) {
    super(message)
  }
}

/** Kafka's checkOffsetsRange: above the log end goes to the log end, below the log start to the log start. */
export function clampOffset(offset: bigint, logStart: bigint, logEnd: bigint): { offset: bigint; note?: SeekNote } {
  if (offset > logEnd) return { offset: logEnd, note: 'clamped-to-log-end' }
  if (offset < logStart) return { offset: logStart, note: 'clamped-to-log-start' }
  return { offset }
}

export function planRow(facts: PartitionFacts, mode: SeekMode): SeekPlanRow {
  const notes: SeekNote[] = []
  let target: bigint
  switch (mode.kind) {
    case 'to-earliest':
      target = facts.logStartOffset
      break
    case 'to-latest':
      target = facts.logEndOffset
      break
    case 'to-time':
    case 'by-duration':
      if (facts.offsetForTime === undefined) throw new Error('offsetForTime missing for a time seek')
      if (facts.offsetForTime === null) {
        target = facts.logEndOffset
        notes.push('no-record-at-or-after-time')
      } else target = facts.offsetForTime
      break
    case 'to-offset':
      target = mode.offset
      break
    case 'shift-by':
      if (facts.currentOffset === null) throw new SeekPlanError([facts], 'never committed')
      target = facts.currentOffset + mode.delta
      break
    case 'from-file':
    case 'undo':
    case 'to-match':
      if (facts.requestedOffset === undefined) throw new Error('requestedOffset missing for a file seek')
      target = facts.requestedOffset
      break
  }
  if (mode.kind === 'to-offset' || mode.kind === 'shift-by' || mode.kind === 'from-file' || mode.kind === 'undo' || mode.kind === 'to-match') {
    const clamped = clampOffset(target, facts.logStartOffset, facts.logEndOffset)
    target = clamped.offset
    if (clamped.note) notes.push(clamped.note)
  }
  if (facts.currentOffset === null) notes.push('never-committed')
  else if (facts.currentOffset === target) notes.push('unchanged')
  return {
    group: facts.group,
    topic: facts.topic,
    partition: facts.partition,
    currentOffset: facts.currentOffset,
    newOffset: target,
    logStartOffset: facts.logStartOffset,
    logEndOffset: facts.logEndOffset,
    delta: facts.currentOffset === null ? null : target - facts.currentOffset,
    newRecordTime: null,
    notes,
  }
}

/** Rows for every partition; shift-by on never-committed partitions fails for all of them at once. */
export function planRows(facts: PartitionFacts[], mode: SeekMode): SeekPlanRow[] {
  if (mode.kind === 'shift-by') {
    const never = facts.filter((f) => f.currentOffset === null)
    if (never.length > 0) throw new SeekPlanError(never, 'never committed')
  }
  return facts.map((f) => planRow(f, mode)).sort(compareRows)
}

export function compareRows(a: { group: string; topic: string; partition: number }, b: { group: string; topic: string; partition: number }): number {
  return a.group.localeCompare(b.group) || a.topic.localeCompare(b.topic) || a.partition - b.partition
}

export function seekTotals(rows: SeekPlanRow[]): SeekTotals {
  let replayed = 0n
  let skipped = 0n
  for (const r of rows) {
    if (r.delta === null) continue
    if (r.delta < 0n) replayed += -r.delta
    else skipped += r.delta
  }
  return {
    partitions: rows.length,
    changed: rows.filter((r) => r.currentOffset !== r.newOffset).length,
    replayed,
    skipped,
    neverCommitted: rows.filter((r) => r.currentOffset === null).length,
  }
}

/** The mode in words, for the plan's first line and the journal. */
export function describeMode(mode: SeekMode): string {
  switch (mode.kind) {
    case 'to-time':
      return `to ${mode.display}`
    case 'by-duration':
      return `by duration (${mode.display})`
    case 'to-offset':
      return `to offset ${mode.offset}`
    case 'to-earliest':
      return 'to the earliest offsets (log start)'
    case 'to-latest':
      return 'to the latest offsets (log end)'
    case 'shift-by':
      return `shift by ${mode.delta > 0n ? '+' : ''}${mode.delta}`
    case 'from-file':
      return `from file ${mode.file}`
    case 'undo':
      return `undo from ${mode.file}`
    case 'to-match':
      return mode.edge === 'first' ? `to the first record where ${mode.where}` : `to just after the last record where ${mode.where}`
  }
}
