import { randomBytes } from 'node:crypto'
import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isFencedError, RecoveryError } from '../errors.js'
import { isOutage, outageOutlasted } from '../replay/outage.js'
import { RateLimiter } from '../core/rate-limiter.js'
import { GroupMember } from '../kafka/group-member.js'
import { GroupShare } from '../replay/kafka-group-share.js'
import type { AnyLocation } from '../core/location.js'
import { checkShareableOutputs, sinkKeepsCounts } from '../replay/open-outputs.js'
import { replayGroupId } from '../core/replay-group-marker.js'
import { assertReplayGroupIsOurs } from '../replay/replay-group-guard.js'
import type { ReplayProgressEvent } from './replay-events.js'
import type { ClusterIdentity } from '../core/cluster-identity.js'
import { addCounts, reconciles, totalsOf, type PartitionCounts, type ReplayTotals } from '../core/replay-counts.js'
import { mergeOutageSpans, type OutageSpan } from '../core/outage-spans.js'
import { checkPartitions, parseOutputs, replayShare, type ReplayDeps, type ReplayRequest } from './replay.js'

export interface GroupReplayRequest extends ReplayRequest {
  /**
   * `--scale-out NAME`: the processes with the same NAME share the consumer group
   * recover-replay.NAME, whose offsets are the shared checkpoint.
   */
  scaleOut: string
  /** How long before a killed process's partitions move to the others (default 10 s). */
  sessionTimeoutMs?: number
}

export interface GroupReplaySummary {
  /** The Kafka consumer group the processes shared: recover-replay.NAME. */
  group: string
  /** The cluster the records were read from. */
  cluster: ClusterIdentity
  topic: string
  sink: string
  quarantine: string
  /** What this process replayed, per partition (summed over every time it held the partition). */
  partitions: PartitionCounts[]
  totals: ReplayTotals
  reconciled: boolean
  /** Every partition of the topic has reached the end of its range (in the group's offsets). */
  finished: boolean
  interrupted: boolean
  /** Assignments this process received (1 = no rebalance). */
  assignments: number
  /** Kafka sinks without --exactly-once may hold the batch in flight at a kill or rebalance twice. */
  duplicatesPossible: boolean
  /**
   * Kafka outages this process waited out (--broker-wait): its partitions' waits that overlap
   * (one broker killed stalls every partition it led) count as one.
   */
  outages: number
  /** How long those outages lasted in all, and the longest of them (0 without outages). */
  outageWaitedMs: number
  longestOutageMs: number
  elapsedMs: number
}

/**
 * Scale-out replay (`--scale-out NAME`): this process joins the consumer group
 * recover-replay.NAME, once it has checked that nothing but recover's replays of this topic use
 * it, and Kafka's group protocol splits the topic's partitions between every process that runs
 * the same command. Each partition keeps the replay's rules: a bounded range (planned once, by its first
 * owner, and kept in the group's offset metadata so every later owner replays the same range),
 * batches, and a checkpoint: the group's committed offset, committed through the member after
 * every durable batch, so the broker refuses it from a member that lost the partition. With a
 * transactional sink (PostgreSQL, Kafka --exactly-once) the progress the sink committed is the
 * truth, keyed by group, topic and partition, so the next owner continues exactly where the
 * last commit left it. The process ends once every partition of the topic is done.
 */
export async function replayGroup(
  request: GroupReplayRequest,
  deps: Omit<ReplayDeps, 'onEvent'> & { onEvent?: (e: ReplayProgressEvent) => void },
): Promise<GroupReplaySummary> {
  const started = Date.now()
  const sink = checkGroupRequest(request)
  // Parsed once here, for every partition's replay.
  const outputs = parseOutputs(request)
  const { gateway } = deps
  const topic = request.topic
  const group = replayGroupId(request.scaleOut)
  const topicPartitions = await gateway.partitionsOf(topic)
  const partitionCount = topicPartitions.length
  const all = checkPartitions(topic, request.partitions, topicPartitions)
  await assertReplayGroupIsOurs(gateway, group, topic)
  deps.onEvent?.({ type: 'scale-out-joining', group, topic })
  const member = await GroupMember.join(gateway, group, topic, { sessionTimeoutMs: request.sessionTimeoutMs })
  const share = new GroupShare(gateway, member, topic, { from: request.from ?? { kind: 'earliest' }, to: request.to ?? { kind: 'latest' } }, request.fetch)
  const signal = deps.signal ?? new AbortController().signal
  const results = new Map<number, PartitionCounts>()
  const tasks = new Map<number, { controller: AbortController; done: Promise<void> }>()
  let wake: () => void = () => undefined
  /** Partitions whose range is done: never started again. */
  const settled = new Set<number>()
  let sinkUri = outputs.sink!.display
  let quarantineUri = outputs.quarantine!.display
  let duplicatesPossible = false
  const outageSpans: OutageSpan[] = []
  let failure: unknown
  // --rate is this process's: its partitions, replayed side by side, share one bucket.
  const rateLimiter = request.rate ? new RateLimiter(request.rate, Date.now()) : undefined
  const cumulative = sinkKeepsCounts(sink, request.exactlyOnce)

  /** Partitions whose transactional id another member took over, and until when they are left to it. */
  const fencedUntil = new Map<number, number>()
  const sessionMs = request.sessionTimeoutMs ?? 10_000
  /**
   * Partitions that could not start because Kafka did not answer (a broker killed just as the
   * group rebalanced hands out partitions led by it): tried again every second until
   * --broker-wait has passed since the first refusal, like an outage in the middle of a replay.
   */
  const startOutages = new Map<number, { sinceMs: number; giveUpAtMs: number }>()
  const brokerWaitMs = request.brokerWaitMs ?? 0
  /** The partition's wait to start is over (it started, or went to another member): its span counts in the summary. */
  const endStartOutage = (partition: number): number | undefined => {
    const outage = startOutages.get(partition)
    if (!outage) return undefined
    startOutages.delete(partition)
    const waitedMs = Date.now() - outage.sinceMs
    outageSpans.push({ sinceMs: outage.sinceMs, waitedMs })
    return waitedMs
  }

  member.onAssignment((partitions) => {
    deps.onEvent?.({ type: 'scale-out-assigned', partitions })
    fencedUntil.clear()
    for (const p of startOutages.keys()) if (!partitions.includes(p)) endStartOutage(p)
    // A partition this member lost stops after its current batch; the new owner continues.
    for (const [p, t] of tasks) if (!partitions.includes(p)) t.controller.abort()
    wake()
  })
  const onAbort = () => {
    for (const t of tasks.values()) t.controller.abort()
    wake()
  }
  signal.addEventListener('abort', onAbort)

  /** Replays what is left of a partition's range; true when the range is done. */
  const runPartition = async (partition: number, controller: AbortController): Promise<boolean> => {
    const claim = await share.claim(partition)
    if (!claim) return false
    const { end } = claim.range
    if (claim.next >= end) return true
    const checkpoint = join(tmpdir(), `recover-group-${process.pid}-${partition}-${randomBytes(4).toString('hex')}.json`)
    try {
      const summary = await replayShare(
        { ...request, partitions: [partition], runId: groupReplayId(gateway.clusterId, group, topic, partition), checkpoint, resume: false },
        outputs,
        // The group refused this member's commit (a rebalance): the partition stops after this batch.
        share.source(claim, () => controller.abort()),
        partitionCount,
        {
          ...deps,
          rateLimiter,
          signal: controller.signal,
          onEvent: (e) => {
            const waitedMs = e.type === 'start' ? endStartOutage(partition) : undefined
            if (waitedMs !== undefined) deps.onEvent?.({ type: 'reconnected', waitedMs, resent: 0, partition })
            deps.onEvent?.({ ...e, partition })
          },
        },
      )
      sinkUri = summary.sink ?? sinkUri
      quarantineUri = summary.quarantine ?? quarantineUri
      duplicatesPossible ||= summary.duplicatesPossible
      outageSpans.push(...summary.outageSpans)
      const p = summary.partitions[0]!
      const sum = results.get(partition)
      // A transactional sink's counts carry on from the committed progress (every owner's
      // work); otherwise each run counts from zero, and this process's runs add up.
      results.set(partition, sum && !cumulative ? addCounts(sum, p) : p)
      // Done only once the group says so: the last commit to the group can be refused (a
      // rebalance), and a partition this member settles while the group's offset is behind is
      // one every member waits for forever. A resumed run whose sink had committed the whole
      // range reads nothing and commits nothing, so the end is committed here too.
      const finished = p.next >= p.end && (await share.commit(claim, p.next))
      deps.onEvent?.({ type: 'partition-stop', partition, finished, read: p.read })
      return finished
    } finally {
      rmSync(checkpoint, { force: true })
    }
  }
  try {
    for (;;) {
      if (failure) throw failure
      if (signal.aborted) break
      for (const p of member.partitions) {
        // --partitions narrows the replay; the group still assigns every partition of the topic.
        if (tasks.has(p) || settled.has(p) || !all.includes(p) || (fencedUntil.get(p) ?? 0) > Date.now()) continue
        const controller = new AbortController()
        const done = runPartition(p, controller)
          .then((finished) => {
            if (finished) settled.add(p)
          })
          .catch((error: unknown) => {
            if (isOutage(error) && brokerWaitMs > 0 && !signal.aborted) {
              const now = Date.now()
              const outage = startOutages.get(p) ?? { sinceMs: now, giveUpAtMs: now + brokerWaitMs }
              if (now < outage.giveUpAtMs) {
                if (!startOutages.has(p)) {
                  startOutages.set(p, outage)
                  deps.onEvent?.({ type: 'waiting', reason: error.summary, sinceMs: outage.sinceMs, giveUpAtMs: outage.giveUpAtMs, partition: p })
                }
                fencedUntil.set(p, now + START_RETRY_MS)
                return
              }
              failure ??= outageOutlasted(error, brokerWaitMs)
              return
            }
            if (!isFencedError(error)) {
              // The group's offsets are the checkpoint: running the same command continues.
              if (error instanceof RecoveryError && error.details.summary !== undefined)
                error.nextSteps.splice(0, 1, 'Fix that, then run the same command again: the group keeps what was written.')
              else if (error instanceof RecoveryError) {
                // The group's offsets hold what every member wrote, whatever this partition's start did.
                const nothing = error.nextSteps.findIndex((step) => step.startsWith('Nothing was written and no checkpoint was kept'))
                if (nothing >= 0) error.nextSteps.splice(nothing, 1, 'Once the cause is fixed, run the same command again: the group keeps what was written.')
              }
              failure ??= error
              return
            }
            // The new owner of this partition (a rebalance this member has not seen yet, or saw
            // mid-batch) took the writer over (the Kafka transactional id, the PostgreSQL progress
            // row): what this run had not committed was aborted, and the owner continues from the
            // committed progress. Leave it to that member until the next assignment, or a session
            // timeout should it have died.
            fencedUntil.set(p, Date.now() + sessionMs)
            deps.onEvent?.({ type: 'partition-stop', partition: p, finished: false, read: 0, fenced: true })
          })
          .finally(() => {
            tasks.delete(p)
            wake()
          })
        tasks.set(p, { controller, done })
      }
      const woken = new Promise<void>((resolve) => (wake = resolve))
      if (tasks.size === 0) {
        // Nothing to do here: finished when every partition is, else wait for a rebalance
        // (a member that died leaves partitions behind) or look again in a moment.
        const unfinished = await share.unfinished(all)
        if (unfinished.length === 0) break
        deps.onEvent?.({ type: 'scale-out-waiting', unfinished })
        await Promise.race([woken, new Promise((r) => setTimeout(r, 1_000))])
      } else {
        await woken
      }
    }
  } finally {
    signal.removeEventListener('abort', onAbort)
    for (const t of tasks.values()) t.controller.abort()
    await Promise.all([...tasks.values()].map((t) => t.done))
    await member.leave()
    await share.close()
  }
  if (failure) throw failure

  const partitions = [...results.values()].sort((a, b) => a.partition - b.partition)
  const outages = mergeOutageSpans(outageSpans)
  const summary: GroupReplaySummary = {
    group,
    cluster: gateway.cluster,
    topic,
    sink: sinkUri,
    quarantine: quarantineUri,
    partitions,
    totals: totalsOf(partitions),
    reconciled: partitions.every(reconciles),
    finished: !signal.aborted,
    interrupted: signal.aborted,
    assignments: member.generationSeen,
    duplicatesPossible,
    outages: outages.outages,
    outageWaitedMs: outages.waitedMs,
    longestOutageMs: outages.longestMs,
    elapsedMs: Date.now() - started,
  }
  deps.onEvent?.({ type: 'scale-out-done', summary })
  return summary
}

/** How long a partition that could not start in a Kafka outage waits before it is tried again. */
const START_RETRY_MS = 1_000

/** --scale-out needs a name, sinks and a quarantine that several processes can share, and no local checkpoint flags; returns the parsed sink. */
function checkGroupRequest(request: GroupReplayRequest): AnyLocation {
  if (request.scaleOut.trim() === '')
    throw new RecoveryError('USAGE', '--scale-out needs a NAME, the same in every process of the replay (it uses the consumer group recover-replay.NAME).')
  if (request.dryRun)
    throw new RecoveryError('USAGE', '--scale-out and --dry-run do not go together: a dry run writes nothing and needs no sharing; leave out --scale-out.')
  if (request.resume || request.checkpoint)
    throw new RecoveryError(
      'USAGE',
      "--scale-out keeps its checkpoint in the group's offsets: leave out --resume and --checkpoint, and run the same command again to continue.",
    )
  return checkShareableOutputs(request)
}

/**
 * The replay id of one partition of a --scale-out replay, shared by every member that ever owns it
 * (a transactional sink keys its committed progress and Kafka its transactional id by it). Per
 * cluster: the same group and topic names on another cluster are another replay, whose
 * progress this one must never take over.
 */
export function groupReplayId(clusterId: string, group: string, topic: string, partition: number): string {
  return `group:${clusterId}:${group}:${topic}:${partition}`
}
