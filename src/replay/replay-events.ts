import type { ClusterIdentity } from '../core/cluster-identity.js'
import type { FollowLag } from '../core/follow.js'
import type { OutageSpan } from '../core/outage-spans.js'
import type { PartitionCounts, ReplayTotals } from '../core/replay-counts.js'
import type { PartitionProgress } from '../core/replay-progress.js'
import type { QuarantineStage } from '../quarantine/quarantine.js'

/** What a replay reports while it runs (deps.onEvent), and what it ends with. */
export type ReplayEvent =
  | {
      type: 'start'
      topic: string
      /** A file source (replay --source): where the records are read; absent when they are read from the topic. */
      source?: string
      sink: string
      quarantine: string
      resumed: boolean
      resent: number
      partitions: Array<Pick<PartitionCounts, 'partition' | 'start' | 'end' | 'next'>>
      dryRun: boolean
    }
  /** `lag`: --follow, where the replay stands against the log ends after this batch. */
  | { type: 'batch'; records: number; bytes: number; totals: ReplayTotals; elapsedMs: number; partitions: PartitionProgress[]; lag?: FollowLag }
  | { type: 'quarantined'; stage: QuarantineStage; count: number }
  /** Kafka stopped answering (an error, giveUpAtMs set) or no batch finished for a while (a stall, giveUpAtMs null). */
  | { type: 'waiting'; reason: string; sinceMs: number; giveUpAtMs: number | null }
  /** Batches flow again after a wait; `resent` records the sink may now hold twice. */
  | { type: 'reconnected'; waitedMs: number; resent: number }
  /** Something the person should know that does not stop the replay (a bound clamped to the log). */
  | { type: 'warning'; message: string }
  | { type: 'done'; summary: ReplaySummary }
  /** --follow, while no record arrives: how far the replay is behind the log ends, in records and in time (every 30 s). */
  | ({ type: 'lag'; elapsedMs: number } & FollowLag)

export interface DrySample {
  source: { partition: number; offset: bigint; timestamp: string }
  before: { key: unknown; value: unknown; headers: Array<{ key: string; value: string | null }> } | null
  outcome: 'written' | 'dropped' | 'quarantined'
  after: Array<{ key: unknown; value: unknown; headers: Array<{ key: string; value: string | null }>; timestamp: string }>
  quarantine?: { stage: QuarantineStage; errorClass: string; message: string; kind?: string }
}

export interface ReplaySummary {
  topic: string
  /** A file source (replay --source): where the records were read; absent when they were read from the topic. */
  source?: string
  /** The cluster the records were read from (and a Kafka sink or quarantine written to). */
  cluster: ClusterIdentity
  sink: string | null
  quarantine: string | null
  transform: { name: string; version: string; file: string } | null
  checkpoint: string | null
  dryRun: boolean
  resumed: boolean
  /** Runs that continued this replay (this one included). */
  resumes: number
  finished: boolean
  interrupted: boolean
  /** Records the interrupted runs had written after their last checkpoint and this replay wrote again (duplicates in the sink). */
  resent: number
  /** Whether the sink can hold records twice after a crash (Kafka, plugins) or not (files, cut back to the checkpoint). */
  duplicatesPossible: boolean
  batchSize: number
  partitions: PartitionCounts[]
  totals: ReplayTotals
  quarantinedByStage: Record<QuarantineStage, number>
  /** Of the quarantined records, those the quarantine already held (an earlier run quarantined them): counted, not written again. */
  alreadyQuarantined: number
  reconciled: boolean
  /** This run only (a resumed replay's totals include the runs before). */
  readThisRun: number
  /** Times this run lost Kafka mid-replay, waited (--broker-wait) and reconnected. */
  outages: number
  /** How long those waits took in all, and the longest of them (0 without outages). */
  outageWaitedMs: number
  longestOutageMs: number
  /** When each of those outages began (epoch ms) and how long it was waited out. */
  outageSpans: OutageSpan[]
  elapsedMs: number
  recordsPerSecond: number
  sample?: DrySample[]
  resumeCommand?: string
  /** What the replay warned about on stderr (a bound clamped to what a partition holds). */
  warnings: string[]
  /**
   * Why the replay stopped before the end of its range, other than Ctrl-C: the failure-rate
   * guard (FAILURE_RATE_EXCEEDED) or a plugin that called process.exit (BAD_PLUGIN). The replay
   * then fails with that error, and this summary is in its details.
   */
  stopped?: { code: string; message: string }
}
