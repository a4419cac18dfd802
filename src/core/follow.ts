import { RecoveryError } from '../errors.js'
import type { RangeBound } from './replay-range.js'

/**
 * `replay --follow`: the ranges have no end. A followed partition's range ends at Kafka's
 * largest offset, so a checkpoint, the counts and the batch loop keep their bounded shape
 * (a follow is never finished) and a resumed follow takes its ranges from the checkpoint.
 */
export const FOLLOW_END = 2n ** 63n - 1n

export function isFollowEnd(end: bigint): boolean {
  return end === FOLLOW_END
}

/** A range end as people read it: the offset, or `log end` for a followed partition. */
export function showRangeEnd(end: bigint): string {
  return isFollowEnd(end) ? 'log end' : String(end)
}

/** What --follow is combined with, checked before any broker round trip. */
export interface FollowCombination {
  to?: RangeBound
  dryRun?: unknown
  scaleOut?: string
  /** --source file:…: a file has no new records to wait for. */
  source?: unknown
}

/** --follow replays until stopped: an end, a sample or a share of a group make no sense with it (FOLLOW_CONFLICT). */
export function checkFollowCombination(request: FollowCombination): void {
  const conflict = (flag: string, why: string, fix: string) =>
    new RecoveryError('FOLLOW_CONFLICT', `--follow cannot be combined with ${flag}: ${why}; ${fix}.`, { details: { flag } })
  if (request.to !== undefined) throw conflict('--to', 'a followed replay has no end', 'drop --to to follow, or drop --follow to replay up to --to and finish')
  if (request.dryRun !== undefined)
    throw conflict('--dry-run', 'a dry run reads a sample and stops', 'run the dry run without --follow first, then follow without --dry-run')
  if (request.source !== undefined)
    throw conflict('--source', 'a file gets no new records to wait for', 'replay the file without --follow, or follow its topic with --topic')
  if (request.scaleOut !== undefined)
    throw conflict('--scale-out', "a scale-out process ends when its group's ranges are done", 'run one --follow process per topic (a supervisor restarts it)')
}

/** A follow continues only a follow's checkpoint, and a bounded replay only a bounded one (CHECKPOINT_MISMATCH). */
export function checkFollowCheckpoint(checkpoint: { partitions: ReadonlyArray<{ end: string }> }, path: string, follow: boolean): void {
  const followed = checkpoint.partitions.some((p) => isFollowEnd(BigInt(p.end)))
  if (followed === follow) return
  const message = followed
    ? `The checkpoint ${path} belongs to a replay --follow, which has no end; continue it with --follow (and without --to).`
    : `The checkpoint ${path} belongs to a bounded replay; finish it with --resume and without --follow, or pass another --checkpoint to start a follow.`
  throw new RecoveryError('CHECKPOINT_MISMATCH', message, { details: { path, follow: followed } })
}

/** Where one followed partition stands against its log. */
export interface PartitionLag {
  partition: number
  /** The offset the replay continues at. */
  next: bigint
  /** The log end (high watermark) the last fetch saw; undefined before the first answer. */
  logEnd: bigint | undefined
  /** Records behind the log end: logEnd - next, never negative. */
  behind: bigint
  /** The timestamp of the last record written from this partition (this run), if any. */
  lastWrittenMs: number | undefined
  /** now - lastWrittenMs: how old the newest record in the sink is. */
  lagMs: number | undefined
}

/** The lag of a followed replay: per partition, and in total. */
export interface FollowLag {
  partitions: PartitionLag[]
  /** Records behind the log ends, summed. */
  behind: bigint
  /** now - the timestamp of the newest record written, over all partitions. */
  lagMs: number | undefined
  /** The newest record written, over all partitions. */
  lastWrittenMs: number | undefined
}

/** Lag from the positions, the log ends the source saw and the newest record written per partition. */
export function computeLag(
  positions: ReadonlyArray<{ partition: number; next: bigint }>,
  logEnds: ReadonlyMap<number, bigint>,
  lastWritten: ReadonlyMap<number, number>,
  nowMs: number,
): FollowLag {
  let behind = 0n
  let lastWrittenMs: number | undefined
  const partitions = positions.map((p): PartitionLag => {
    const logEnd = logEnds.get(p.partition)
    const partitionBehind = logEnd !== undefined && logEnd > p.next ? logEnd - p.next : 0n
    behind += partitionBehind
    const written = lastWritten.get(p.partition)
    if (written !== undefined && (lastWrittenMs === undefined || written > lastWrittenMs)) lastWrittenMs = written
    return {
      partition: p.partition,
      next: p.next,
      logEnd,
      behind: partitionBehind,
      lastWrittenMs: written,
      lagMs: written === undefined ? undefined : Math.max(0, nowMs - written),
    }
  })
  return { partitions, behind, lastWrittenMs, lagMs: lastWrittenMs === undefined ? undefined : Math.max(0, nowMs - lastWrittenMs) }
}

/** `2h05m`, `41s`, `850ms`: short enough for an 80-column line. */
export function formatLagTime(ms: number | undefined): string {
  if (ms === undefined) return '–'
  if (ms < 1_000) return `${Math.round(ms)}ms`
  const s = Math.floor(ms / 1000)
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`
  const h = Math.floor(m / 60)
  if (h < 48) return `${h}h${String(m % 60).padStart(2, '0')}m`
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`
}

/** `lag 1,204 records, 3s` or `caught up, last record 2m05s old`. */
export function formatLag(lag: Pick<FollowLag, 'behind' | 'lagMs'>): string {
  if (lag.behind === 0n) return lag.lagMs === undefined ? 'caught up' : `caught up, last record ${formatLagTime(lag.lagMs)} old`
  return `lag ${lag.behind.toLocaleString('en-US')} records, ${formatLagTime(lag.lagMs)}`
}
