import type { ReplayEvent } from './replay.js'
import type { GroupReplaySummary } from './replay-group.js'

/** What a `--scale-out` process reports about its share of the group, beside its partitions' replays. */
export type ScaleOutEvent =
  /** The group passed the check (nothing but replays of this topic use it); this process joins it now. */
  | { type: 'scale-out-joining'; group: string; topic: string }
  | { type: 'scale-out-assigned'; partitions: number[] }
  /** A partition's replay ended: its range is done, or another member holds it now. */
  | { type: 'partition-stop'; partition: number; finished: boolean; read: number; fenced?: boolean }
  /** This process has no partition to replay, and these are not done yet (held by other members). */
  | { type: 'scale-out-waiting'; unfinished: number[] }
  /** This process's share is over: every partition is done, or it was interrupted. */
  | { type: 'scale-out-done'; summary: GroupReplaySummary }

/**
 * The one vocabulary of replay progress, for `replay` and `replay --scale-out` alike: a replay's
 * own events, and the scale-out's. Under --scale-out every partition runs its own replay, whose
 * events carry that `partition`; the reducer (src/core/replay-progress.ts) adds them up.
 */
export type ReplayProgressEvent = (ReplayEvent & { partition?: number }) | ScaleOutEvent
