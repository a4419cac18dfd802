import type { Actor } from '../config/actor.js'
import type { GroupDescription, KafkaGateway } from '../kafka/kafka-gateway.js'
import { tpKey } from '../kafka/kafka-gateway.js'
import { RecoveryError } from '../errors.js'
import { describeMode, type SeekPlanRow } from '../core/seek-plan.js'
import { describeCluster } from '../core/cluster-identity.js'
import { markJournalSnapshotRefused, writeJournalSnapshot } from '../files/seek-journal.js'
import type { SeekPlan } from './seek.js'

/** Who moves the group: the journal records it. */
export type SeekActor = Actor

export interface AppliedGroup {
  group: string
  /** Kafka's cluster id the change was made on. */
  clusterId: string
  journal: string
  partitions: number
}

export interface SeekApplyResult {
  applied: AppliedGroup[]
}

const ACTIVE_REFUSALS = new Set([
  'UNKNOWN_MEMBER_ID',
  'ILLEGAL_GENERATION',
  'REBALANCE_IN_PROGRESS',
  'FENCED_INSTANCE_ID',
  'STALE_MEMBER_EPOCH',
  'FENCED_MEMBER_EPOCH',
  'NON_EMPTY_GROUP',
])

/**
 * Applies a plan: re-checks that each group is empty, journals its previous offsets (fsynced),
 * commits the new ones, and reads them back. A failure half-way says which partitions moved.
 */
export async function applySeek(
  gateway: KafkaGateway,
  plan: SeekPlan,
  options: { journalDir: string; actor: SeekActor; undoCommand: (group: string) => string; runbookRun?: string },
): Promise<SeekApplyResult> {
  const applied: AppliedGroup[] = []
  const byGroup = new Map<string, SeekPlanRow[]>()
  for (const r of plan.rows) byGroup.set(r.group, [...(byGroup.get(r.group) ?? []), r])
  if (gateway.clusterId !== plan.cluster.id) {
    throw new RecoveryError(
      'CLUSTER_MISMATCH',
      `The plan was made on cluster ${plan.cluster.id} but this connection is to ${describeCluster(gateway.cluster)}; nothing was changed.`,
    )
  }
  // All groups must be empty before the first one moves.
  for (const group of byGroup.keys()) await assertGroupEmpty(gateway, group)

  for (const [group, rows] of byGroup) {
    const before = new Map((await gateway.committedOffsets(group, [...new Set(rows.map((r) => r.topic))])).map((c) => [tpKey(c.topic, c.partition), c.offset]))
    // Relative moves and compare-and-set plans are only right from where the plan saw the group.
    const expected = plan.expectations?.[group]
    const changed = rows.filter((r) => {
      const now = before.get(tpKey(r.topic, r.partition)) ?? null
      if (plan.mode.kind === 'shift-by' && now !== r.currentOffset) return true
      const want = expected?.offsets.get(tpKey(r.topic, r.partition))
      return want !== undefined && now !== want
    })
    if (changed.length > 0) {
      throw new RecoveryError(
        'OFFSETS_CHANGED',
        `The committed offsets of group "${group}" changed since the plan was made (${changed.map((r) => `${r.topic}-${r.partition} now ${before.get(tpKey(r.topic, r.partition)) ?? 'none'}, planned from ${r.currentOffset ?? 'none'}`).join(', ')}); run the dry run again and check it. Nothing was changed.`,
        {
          nextSteps: [`Look at the group with: recover groups describe --group ${group}`],
          details: { group, changed: changed.map((r) => `${r.topic}-${r.partition}`) },
        },
      )
    }
    const journal = writeJournalSnapshot(options.journalDir, {
      group,
      clusterId: plan.cluster.id,
      bootstrap: plan.cluster.bootstrap,
      ...(options.runbookRun ? { runbookRun: options.runbookRun } : {}),
      time: new Date().toISOString(),
      user: options.actor.by,
      host: options.actor.host,
      command: options.actor.command ?? '',
      mode: describeMode(plan.mode),
      entries: rows.map((r) => ({
        topic: r.topic,
        partition: r.partition,
        previousOffset: before.get(tpKey(r.topic, r.partition)) ?? null,
        newOffset: r.newOffset,
      })),
    })
    try {
      await gateway.commitGroupOffsets(
        group,
        rows.map((r) => ({ topic: r.topic, partition: r.partition, offset: r.newOffset })),
      )
    } catch (error) {
      throw await commitFailure(gateway, group, rows, before, error, journal, options.undoCommand(group))
    }
    let readBack
    try {
      readBack = await gateway.committedOffsets(group, [...new Set(rows.map((r) => r.topic))])
    } catch (error) {
      // The commit was acknowledged, so the offsets moved; only the check is missing.
      const reason = error instanceof Error ? error.message.replace(/[.;]\s*$/, '') : String(error)
      throw new RecoveryError(
        'SEEK_PARTIAL',
        `Kafka acknowledged the new offsets of group "${group}" (${rows.map((r) => `${r.topic}-${r.partition}`).join(', ')} moved), but reading them back failed (${reason}). The previous offsets are in ${journal}.`,
        {
          cause: error,
          nextSteps: [`Check with: recover groups describe --group ${group}`, `Restore the previous offsets with: ${options.undoCommand(group)}`],
          details: { group, journal, moved: rows.map((r) => `${r.topic}-${r.partition}`) },
        },
      )
    }
    const after = new Map(readBack.map((c) => [tpKey(c.topic, c.partition), c.offset]))
    const wrong = rows.filter((r) => after.get(tpKey(r.topic, r.partition)) !== r.newOffset)
    if (wrong.length > 0) {
      throw new RecoveryError(
        'SEEK_PARTIAL',
        `After the commit, group "${group}" reads back different offsets on ${wrong.map((r) => `${r.topic}-${r.partition}`).join(', ')}; the previous offsets are in ${journal}. Check with recover groups describe, and restore with: ${options.undoCommand(group)}`,
        { details: { journal } },
      )
    }
    applied.push({ group, clusterId: plan.cluster.id, journal, partitions: rows.length })
  }
  return { applied }
}

export async function assertGroupEmpty(gateway: KafkaGateway, group: string): Promise<void> {
  const [d] = await gateway.describeGroups([group])
  if (d && d.members.length > 0) throw groupActive(group, d)
}

function groupActive(group: string, d: GroupDescription): RecoveryError {
  const who = d.members.map((m) => `${m.clientId}@${m.host}`).join(', ')
  return new RecoveryError(
    'GROUP_ACTIVE',
    `Group "${group}" has ${d.members.length} active member${d.members.length === 1 ? '' : 's'} (${who}); offsets can only move while it is empty. Nothing was changed.`,
    {
      nextSteps: ['Stop the consumers, then run the same command again.', 'Or add --wait-empty 5m to wait for the group to drain.'],
      details: { group, state: d.state, members: d.members.map((m) => ({ clientId: m.clientId, host: m.host, memberId: m.memberId })) },
    },
  )
}

/** Polls until every group is empty (or Dead), or fails with GROUP_ACTIVE after timeoutMs. */
export async function waitForEmpty(
  gateway: KafkaGateway,
  groups: string[],
  timeoutMs: number,
  onWaiting?: (group: string, members: number) => void,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const busy = (await gateway.describeGroups(groups)).filter((d) => d.members.length > 0)
    if (busy.length === 0) return
    if (Date.now() >= deadline) {
      const first = busy[0]!
      const error = groupActive(first.groupId, first)
      throw new RecoveryError(
        'GROUP_ACTIVE',
        `${error.message.replace(/ Nothing was changed\.$/, '')} It was still active after waiting ${Math.round(timeoutMs / 1000)} s. Nothing was changed.`,
        { nextSteps: error.nextSteps, details: error.details },
      )
    }
    for (const d of busy) onWaiting?.(d.groupId, d.members.length)
    await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, Math.max(50, deadline - Date.now()))))
  }
}

async function commitFailure(
  gateway: KafkaGateway,
  group: string,
  rows: SeekPlanRow[],
  before: Map<string, bigint | null>,
  error: unknown,
  journal: string,
  undo: string,
): Promise<RecoveryError> {
  const type = (error as { type?: string }).type ?? ''
  let moved: string[] = []
  let unknown = false
  try {
    const after = new Map((await gateway.committedOffsets(group, [...new Set(rows.map((r) => r.topic))])).map((c) => [tpKey(c.topic, c.partition), c.offset]))
    moved = rows
      .filter((r) => after.get(tpKey(r.topic, r.partition)) !== (before.get(tpKey(r.topic, r.partition)) ?? null))
      .map((r) => `${r.topic}-${r.partition}`)
  } catch {
    unknown = true
  }
  const movedText = unknown
    ? `which of ${rows.map((r) => `${r.topic}-${r.partition}`).join(', ')} moved is unknown, because Kafka did not answer the read-back (see with recover groups describe --group ${group} once it is back)`
    : moved.length === 0
      ? 'no partition moved'
      : `moved: ${moved.join(', ')}`
  if (!unknown && moved.length === 0) journal = markJournalSnapshotRefused(journal)
  if (ACTIVE_REFUSALS.has(type)) {
    const [d] = await gateway.describeGroups([group]).catch(() => [undefined])
    const who = d && d.members.length > 0 ? ` (${d.members.map((m) => `${m.clientId}@${m.host}`).join(', ')})` : ''
    return new RecoveryError(
      'GROUP_ACTIVE',
      `Kafka refused to move group "${group}" because it has active members${who} (the broker answered ${type}); ${movedText}. Stop the consumers and run the command again.`,
      {
        cause: error,
        nextSteps: moved.length > 0 || unknown ? [`Restore the previous offsets with: ${undo}`] : ['Stop the consumers, then run the same command again.'],
        details: { group, kafkaError: type, moved, journal },
      },
    )
  }
  const base = error instanceof RecoveryError ? error.message : `Kafka answered ${type || (error as Error).message}`
  return new RecoveryError(
    'SEEK_PARTIAL',
    `Committing the new offsets of group "${group}" failed (${base.replace(/\.$/, '')}); ${movedText}. The previous offsets are in ${journal}.`,
    {
      cause: error,
      nextSteps: [`When the cluster is back, restore them with: ${undo}`],
      details: { group, kafkaError: type, moved: unknown ? null : moved, journal },
    },
  )
}
