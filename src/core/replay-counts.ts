/** What became of the records read: read = written + dropped + quarantined. */
export interface RecordCounts {
  read: number
  written: number
  dropped: number
  quarantined: number
  /** Records written to the sink (a transform may return several per input). */
  outputs: number
  /** Key and value bytes read. */
  bytes: number
}

/**
 * The one shape of a replay's per-partition progress: its range, where it continues, and what
 * became of its records. Checkpoint files, a transactional sink's committed progress, progress
 * events, summaries and --scale-out all carry this type (or its JSON form); the views derive
 * their subsets from it.
 */
export interface PartitionCounts extends RecordCounts {
  partition: number
  /** The range is [start, end). */
  start: bigint
  end: bigint
  /** Where the replay continues (= end when the partition is done). */
  next: bigint
}

/** PartitionCounts as JSON keeps it (checkpoint files, a transactional sink's progress): offsets as decimal strings. */
export type PartitionCountsJson = { [K in keyof PartitionCounts]: PartitionCounts[K] extends bigint ? string : PartitionCounts[K] }

/** The sums over partitions, and how many offsets are still to go. */
export interface ReplayTotals extends RecordCounts {
  /** Offsets still to go, an upper bound (gaps make it smaller). */
  remaining: bigint
  /** Offsets in all the ranges. */
  rangeSize: bigint
}

/** A partition's range and position, before any record was read. */
export function freshCounts(range: { partition: number; start: bigint; end: bigint }, next: bigint = range.start): PartitionCounts {
  return { partition: range.partition, start: range.start, end: range.end, next, read: 0, written: 0, dropped: 0, quarantined: 0, outputs: 0, bytes: 0 }
}

export function countsToJson(c: PartitionCounts): PartitionCountsJson {
  const { partition, read, written, dropped, quarantined, outputs, bytes } = c
  return { partition, start: c.start.toString(), end: c.end.toString(), next: c.next.toString(), read, written, dropped, quarantined, outputs, bytes }
}

export function countsFromJson(j: PartitionCountsJson): PartitionCounts {
  const { partition, read, written, dropped, quarantined, outputs, bytes } = j
  return { partition, start: BigInt(j.start), end: BigInt(j.end), next: BigInt(j.next), read, written, dropped, quarantined, outputs, bytes }
}

/** `later`'s range and position with the records of both (the runs of one partition in one process). */
export function addCounts(earlier: PartitionCounts, later: PartitionCounts): PartitionCounts {
  return {
    ...later,
    read: earlier.read + later.read,
    written: earlier.written + later.written,
    dropped: earlier.dropped + later.dropped,
    quarantined: earlier.quarantined + later.quarantined,
    outputs: earlier.outputs + later.outputs,
    bytes: earlier.bytes + later.bytes,
  }
}

export function totalsOf(counts: Iterable<PartitionCounts>): ReplayTotals {
  const t: ReplayTotals = { read: 0, written: 0, dropped: 0, quarantined: 0, outputs: 0, bytes: 0, remaining: 0n, rangeSize: 0n }
  for (const c of counts) {
    t.read += c.read
    t.written += c.written
    t.dropped += c.dropped
    t.quarantined += c.quarantined
    t.outputs += c.outputs
    t.bytes += c.bytes
    t.remaining += c.end > c.next ? c.end - c.next : 0n
    t.rangeSize += c.end - c.start
  }
  return t
}

/** read = written + dropped + quarantined: no record went missing. */
export function reconciles(c: Pick<PartitionCounts, 'read' | 'written' | 'dropped' | 'quarantined'>): boolean {
  return c.read === c.written + c.dropped + c.quarantined
}

/** What does not add up, partition by partition, for the RECONCILIATION_FAILED message. */
export function describeUnreconciled(counts: Iterable<PartitionCounts>): string {
  return [...counts]
    .filter((p) => !reconciles(p))
    .map((p) => `partition ${p.partition} read ${p.read} but wrote ${p.written}, dropped ${p.dropped} and quarantined ${p.quarantined}`)
    .join('; ')
}
