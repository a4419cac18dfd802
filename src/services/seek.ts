import type { GroupDescription, KafkaGateway, PartitionLogOffsets, TopicPartitions } from '../kafka/kafka-gateway.js'
import { tpKey } from '../kafka/kafka-gateway.js'
import { RecoveryError } from '../errors.js'
import {
  compareRows,
  describeMode,
  planRows,
  SeekPlanError,
  seekTotals,
  type PartitionFacts,
  type SeekMode,
  type SeekPlanRow,
  type SeekTotals,
} from '../core/seek-plan.js'
import type { TopicScope } from '../core/topic-scope.js'
import type { OffsetLine } from '../core/offsets-csv.js'
import { isMissing } from './describe-group.js'
import { newestJournalSnapshot, runbookRunSnapshots, type FoundSnapshot } from '../files/seek-journal.js'
import type { ClusterIdentity } from '../core/cluster-identity.js'

export type SeekScope = { kind: 'committed' } | { kind: 'all-topics' } | { kind: 'topics'; topics: TopicScope[] }

export interface SeekRequest {
  groups: string[]
  mode: SeekMode
  scope: SeekScope
  /** from-file: the plan's lines. */
  fileLines?: OffsetLine[]
  /**
   * undo: where the journal is, and optionally the runbook run whose changes to revert (all of
   * them, back to the offsets before its first change; refused when the group moved since).
   */
  undo?: { journalDir: string; runbookRun?: string }
  /**
   * Compare-and-set: the plan is refused (exit 4) unless the group's committed offset is this
   * one on every partition in scope, e.g. "skip the poison pill at 1952" must not skip 1751.
   */
  expectCurrentOffset?: bigint
}

/** Offsets the group must still have when the plan is applied, per partition (tpKey), and why. */
export interface SeekExpectation {
  offsets: Map<string, bigint | null>
  /** Said in the refusal: "the poison pill offset given with --expect-current", "the offsets runbook run X left". */
  because: string
}

export interface GroupStateSummary {
  group: string
  state: string
  members: Array<{ clientId: string; host: string }>
}

export interface SeekPlan {
  /** The cluster the plan was made on, said in the plan, the prompt, the summary and the journal. */
  cluster: ClusterIdentity
  groups: GroupStateSummary[]
  mode: SeekMode
  rows: SeekPlanRow[]
  totals: SeekTotals
  /** Things the plan cannot do, said plainly (e.g. undo cannot remove an offset that did not exist). */
  warnings: string[]
  createdAt: string
  /** undo: the journal snapshots this plan restores, per group. */
  undoSnapshots?: Record<string, string[]>
  /** Per group: the committed offsets apply re-checks before it commits (compare-and-set). */
  expectations?: Record<string, SeekExpectation>
  /** undo --runbook-run: the run changed nothing in these groups on this cluster, so there is nothing to revert. */
  nothingToUndo?: string[]
}

/** Read-only: what a seek would do, per partition, with Kafka's semantics. */
export async function planSeek(gateway: KafkaGateway, request: SeekRequest, options: { now?: () => number } = {}): Promise<SeekPlan> {
  const now = options.now ?? Date.now
  const descriptions = new Map((await gateway.describeGroups(request.groups)).map((d) => [d.groupId, d]))
  const facts: PartitionFacts[] = []
  const warnings: string[] = []
  const undoSnapshots: Record<string, string[]> = {}
  const expectations: Record<string, SeekExpectation> = {}
  const nothingToUndo: string[] = []
  const groups: GroupStateSummary[] = []
  const topicPartitions = new Map<string, number[]>()
  const partitionsOf = async (topic: string) => {
    if (!topicPartitions.has(topic)) topicPartitions.set(topic, await gateway.partitionsOf(topic))
    return topicPartitions.get(topic)!
  }
  const checkPartitions = async (topic: string, wanted: number[]) => {
    const existing = await partitionsOf(topic)
    const missing = wanted.filter((p) => !existing.includes(p))
    if (missing.length > 0) {
      throw new RecoveryError(
        'PARTITION_NOT_FOUND',
        `Topic "${topic}" has no partition ${missing.join(', ')}; it has partitions ${existing.join(', ')}. Nothing was changed.`,
        { details: { topic, partitions: existing } },
      )
    }
  }

  for (const group of request.groups) {
    const description: GroupDescription = descriptions.get(group) ?? {
      groupId: group,
      state: 'Dead',
      protocolType: '',
      rebalanceProtocol: 'classic',
      assignor: '',
      members: [],
    }
    groups.push({ group, state: description.state, members: description.members.map((m) => ({ clientId: m.clientId, host: m.host })) })
    const committed = await gateway.committedOffsets(group)
    const current = new Map(committed.map((c) => [tpKey(c.topic, c.partition), c.offset]))
    const wanted: Array<{ topic: string; partition: number; requestedOffset?: bigint; previousIsNull?: boolean }> = []

    if (request.mode.kind === 'from-file') {
      const lines = (request.fileLines ?? []).filter((l) => l.group === undefined || l.group === group)
      if (lines.length === 0) throw new RecoveryError('USAGE', `${request.mode.file} has no offsets for group "${group}"; nothing was changed.`)
      for (const topic of new Set(lines.map((l) => l.topic)))
        await checkPartitions(
          topic,
          lines.filter((l) => l.topic === topic).map((l) => l.partition),
        )
      for (const l of lines) wanted.push({ topic: l.topic, partition: l.partition, requestedOffset: l.offset })
    } else if (request.mode.kind === 'undo') {
      const snapshots = findUndoSnapshots(gateway.cluster, group, request.undo)
      if (snapshots.length === 0) {
        // A runbook run that failed before its seek step changed nothing: its rollback has nothing to do.
        nothingToUndo.push(group)
        continue
      }
      undoSnapshots[group] = snapshots.map((f) => f.path)
      // Several changes by one run: back to the offsets before its first one.
      const first = new Map<string, { topic: string; partition: number; previousOffset: bigint | null }>()
      for (const f of snapshots) for (const e of f.snapshot.entries) if (!first.has(tpKey(e.topic, e.partition))) first.set(tpKey(e.topic, e.partition), e)
      const last = snapshots.at(-1)!
      const strict = request.undo?.runbookRun !== undefined
      const moved: string[] = []
      const expected = new Map<string, bigint | null>()
      for (const e of last.snapshot.entries) {
        const now = current.get(tpKey(e.topic, e.partition)) ?? null
        expected.set(tpKey(e.topic, e.partition), e.newOffset)
        if (now !== e.newOffset) moved.push(`${e.topic}-${e.partition} is at ${now ?? 'no offset'}, the change set ${e.newOffset}`)
      }
      if (strict) {
        expectations[group] = { offsets: expected, because: `the offsets runbook run ${request.undo!.runbookRun} left` }
        if (moved.length > 0) throw groupMoved(group, moved, `runbook run ${request.undo!.runbookRun} set them`, last.path)
      } else if (moved.length > 0) {
        warnings.push(
          `Group ${group} moved since the change being undone (${moved.join('; ')}): undo puts it back to the offsets before that change, losing its progress since.`,
        )
      }
      for (const e of first.values()) {
        if (e.previousOffset === null) {
          warnings.push(
            `${e.topic}-${e.partition} had no committed offset before the change; undo leaves it at ${current.get(tpKey(e.topic, e.partition)) ?? 'its current offset'} (remove it with kafka-consumer-groups.sh --delete-offsets if needed).`,
          )
          continue
        }
        wanted.push({ topic: e.topic, partition: e.partition, requestedOffset: e.previousOffset })
      }
      for (const topic of new Set(wanted.map((w) => w.topic)))
        await checkPartitions(
          topic,
          wanted.filter((w) => w.topic === topic).map((w) => w.partition),
        )
    } else if (request.scope.kind === 'topics') {
      const unknown = request.scope.topics.map((t) => t.topic).filter((t) => !topicPartitions.has(t))
      for (const [topic, partitions] of await gateway.partitionsOfMany(unknown)) topicPartitions.set(topic, partitions)
      for (const scope of request.scope.topics) {
        const all = await partitionsOf(scope.topic)
        if (scope.partitions) await checkPartitions(scope.topic, scope.partitions)
        for (const partition of scope.partitions ?? all) wanted.push({ topic: scope.topic, partition })
      }
    } else {
      if (isMissing(description, committed.length) || committed.length === 0) {
        throw new RecoveryError(
          'GROUP_NOT_FOUND',
          `Group "${group}" has no committed offsets on ${gateway.settings.brokers.join(',')}, so there is nothing to move; name the topics with --topic to set its first offsets. Nothing was changed.`,
          { details: { group } },
        )
      }
      if (request.scope.kind === 'all-topics') {
        for (const c of committed) wanted.push({ topic: c.topic, partition: c.partition })
      } else {
        const topics = [...new Set(committed.map((c) => c.topic))]
        for (const [topic, partitions] of await gateway.partitionsOfMany(topics)) topicPartitions.set(topic, partitions)
        for (const topic of topics) for (const partition of await partitionsOf(topic)) wanted.push({ topic, partition })
      }
    }
    if (request.expectCurrentOffset !== undefined) {
      const expected = request.expectCurrentOffset
      const off = wanted.map((w) => ({ w, now: current.get(tpKey(w.topic, w.partition)) ?? null })).filter(({ now }) => now !== expected)
      if (off.length > 0) {
        throw groupMoved(
          group,
          off.map(({ w, now }) => `${w.topic}-${w.partition} is at ${now ?? 'no committed offset'}`),
          `--expect-current ${expected} names offset ${expected}`,
        )
      }
      expectations[group] = { offsets: new Map(wanted.map((w) => [tpKey(w.topic, w.partition), expected])), because: `--expect-current ${expected}` }
    }
    for (const w of wanted) {
      facts.push({
        group,
        topic: w.topic,
        partition: w.partition,
        currentOffset: current.get(tpKey(w.topic, w.partition)) ?? null,
        logStartOffset: 0n,
        logEndOffset: 0n,
        requestedOffset: w.requestedOffset,
      })
    }
  }

  if (facts.length === 0 && nothingToUndo.length > 0) {
    return {
      cluster: gateway.cluster,
      groups,
      mode: request.mode,
      rows: [],
      totals: seekTotals([]),
      warnings,
      createdAt: new Date(now()).toISOString(),
      nothingToUndo,
    }
  }
  const scope = toScope(facts)
  const logs = await gateway.logOffsetsMany(scope)
  let forTime: Map<string, bigint | null> | undefined
  if (request.mode.kind === 'to-time' || request.mode.kind === 'by-duration') forTime = await gateway.offsetsForTimestampMany(scope, request.mode.instantMs)
  for (const f of facts) {
    const log: PartitionLogOffsets | undefined = logs.get(tpKey(f.topic, f.partition))
    if (!log)
      throw new RecoveryError('KAFKA_ERROR', `Kafka returned no log offsets for ${f.topic}-${f.partition}; try again, and check the partition has a leader.`)
    f.logStartOffset = log.logStart
    f.logEndOffset = log.logEnd
    if (forTime) f.offsetForTime = forTime.get(tpKey(f.topic, f.partition)) ?? null
    if (request.mode.kind === 'to-offset') f.requestedOffset = request.mode.offset
  }
  if (request.mode.kind === 'to-match') await resolveMatchOffsets(gateway, facts, request.mode, warnings)

  let rows: SeekPlanRow[]
  try {
    rows = planRows(facts, request.mode)
  } catch (error) {
    if (error instanceof SeekPlanError) {
      const names = error.partitions.map((p) => `${p.topic}-${p.partition}`).join(', ')
      throw new RecoveryError(
        'USAGE',
        `Cannot shift ${names}: group "${error.partitions[0]!.group}" never committed an offset there (Kafka's tool refuses this too); limit the scope with --topic topic:partitions or use --to-earliest / --to TIME. Nothing was changed.`,
      )
    }
    throw error
  }
  // The times are for the reader of the plan; the plan stands without them (a partition whose
  // log start moved past the new offset since, a leader changing).
  const timesFailed = await fillNewRecordTimes(gateway, rows).then(
    () => undefined,
    (error: unknown) => error as Error,
  )
  if (timesFailed)
    warnings.push(`The times of the records at the new offsets could not be read (${timesFailed.message.replace(/\.$/, '')}); the offsets are right.`)
  return {
    cluster: gateway.cluster,
    groups,
    mode: request.mode,
    rows,
    totals: seekTotals(rows),
    warnings,
    createdAt: new Date(now()).toISOString(),
    ...(Object.keys(undoSnapshots).length > 0 ? { undoSnapshots } : {}),
    ...(Object.keys(expectations).length > 0 ? { expectations } : {}),
    ...(nothingToUndo.length > 0 ? { nothingToUndo } : {}),
  }
}

/**
 * How a plan made again (after waiting for the group to drain) differs from the one shown:
 * 'targets' when a new offset moved (a relative move from a new place), 'current' when only
 * where the group stood moved (the counts to replay or skip change), else 'same'.
 */
export function plansDiffer(shown: SeekPlan, fresh: SeekPlan): 'same' | 'current' | 'targets' {
  const key = (r: SeekPlanRow) => `${r.group}\u0000${tpKey(r.topic, r.partition)}`
  const before = new Map(shown.rows.map((r) => [key(r), r]))
  if (fresh.rows.length !== shown.rows.length) return 'targets'
  let current = false
  for (const r of fresh.rows) {
    const was = before.get(key(r))
    if (!was || was.newOffset !== r.newOffset) return 'targets'
    if (was.currentOffset !== r.currentOffset) current = true
  }
  return current ? 'current' : 'same'
}

/** The snapshots an undo restores: this cluster's newest, or every one a runbook run wrote. */
function findUndoSnapshots(cluster: ClusterIdentity, group: string, undo: SeekRequest['undo']): FoundSnapshot[] {
  if (!undo) throw new RecoveryError('NO_JOURNAL', `No journal folder was given for the undo of group "${group}".`)
  if (undo.runbookRun !== undefined) return runbookRunSnapshots(undo.journalDir, group, cluster, undo.runbookRun)
  const newest = newestJournalSnapshot(undo.journalDir, group, cluster)
  if (!newest)
    throw new RecoveryError(
      'NO_JOURNAL',
      `No journal snapshot for group "${group}" in ${undo.journalDir}; nothing to undo. Snapshots are written by seek --execute (pass --journal DIR if they are elsewhere).`,
      { details: { group, journal: undo.journalDir } },
    )
  return [newest]
}

/** The group is not where the person (or the runbook) said it is: refuse, nothing changed. */
function groupMoved(group: string, moved: string[], expectation: string, journal?: string): RecoveryError {
  return new RecoveryError('OFFSETS_CHANGED', `Group "${group}" is not where ${expectation}: ${moved.join('; ')}. Nothing was changed.`, {
    nextSteps: [`Look at the group with: recover groups describe --group ${group}`, 'Then plan again from where it is now (a dry run first).'],
    details: { group, moved, ...(journal ? { journal } : {}) },
  })
}

/**
 * seek --to first-match:/last-match: each partition goes to its edge (services/find.ts scans
 * [log start, last stable offset)). A partition without a match is left where it is, out of the
 * plan, and said in the warnings: moving it anywhere would be a guess. None matching in any
 * partition is NO_MATCH, nothing changed.
 */
async function resolveMatchOffsets(
  gateway: KafkaGateway,
  facts: PartitionFacts[],
  mode: Extract<SeekMode, { kind: 'to-match' }>,
  warnings: string[],
): Promise<void> {
  const { findMatchEdges } = await import('./find.js')
  const edges = new Map<string, Map<number, bigint>>()
  for (const { topic, partitions } of toScope(facts)) {
    try {
      const found = await findMatchEdges(gateway, { topic, partitions, where: mode.where, tz: mode.tz, edge: mode.edge, flag: '--to' })
      edges.set(topic, found.offsets)
    } catch (error) {
      // Another topic in scope may match; none matching anywhere is refused below.
      if (!(error instanceof RecoveryError && error.code === 'NO_MATCH')) throw error
      edges.set(topic, new Map())
    }
  }
  const unmatched: string[] = []
  for (let i = facts.length - 1; i >= 0; i--) {
    const f = facts[i]!
    const offset = edges.get(f.topic)?.get(f.partition)
    if (offset === undefined) {
      if (!unmatched.includes(`${f.topic}-${f.partition}`)) unmatched.unshift(`${f.topic}-${f.partition}`)
      facts.splice(i, 1)
    } else f.requestedOffset = offset
  }
  if (facts.length === 0) {
    throw new RecoveryError(
      'NO_MATCH',
      `--to ${mode.edge}-match: no record in ${unmatched.join(', ')} matches ${JSON.stringify(mode.where)}, so there is no offset to move to; nothing was changed.`,
      {
        nextSteps: [
          `Check the predicate with: recover find --topic ${facts[0]?.topic ?? unmatched[0]!.replace(/-\d+$/, '')} --where '${mode.where.replace(/'/g, "'\\''")}'`,
        ],
        details: { where: mode.where, partitions: unmatched },
      },
    )
  }
  if (unmatched.length > 0)
    warnings.push(
      `No record in ${unmatched.join(', ')} matches ${JSON.stringify(mode.where)}: ${unmatched.length > 1 ? 'those partitions are' : 'that partition is'} left where ${unmatched.length > 1 ? 'they are' : 'it is'} (not in the plan).`,
    )
}

function toScope(facts: Array<{ topic: string; partition: number }>): TopicPartitions[] {
  const byTopic = new Map<string, Set<number>>()
  for (const f of facts) {
    const set = byTopic.get(f.topic) ?? new Set<number>()
    set.add(f.partition)
    byTopic.set(f.topic, set)
  }
  return [...byTopic].map(([topic, partitions]) => ({ topic, partitions: [...partitions].sort((a, b) => a - b) }))
}

/** The timestamp of the record each partition would read next, so the plan shows where it lands. */
async function fillNewRecordTimes(gateway: KafkaGateway, rows: SeekPlanRow[]): Promise<void> {
  const wanted = rows.filter((r) => r.newOffset < r.logEndOffset)
  if (wanted.length === 0) return
  // One request per leader; the same partition may appear for several groups at different offsets.
  const rounds = new Map<number, SeekPlanRow[]>()
  const seen = new Map<string, number>()
  for (const r of wanted) {
    const k = tpKey(r.topic, r.partition)
    const round = seen.get(k) ?? 0
    seen.set(k, round + 1)
    rounds.set(round, [...(rounds.get(round) ?? []), r])
  }
  const fetcher = gateway.fetcher('read_uncommitted')
  for (const list of rounds.values()) {
    const firsts = await fetcher.firstRecords(list.map((r) => ({ topic: r.topic, partition: r.partition, offset: r.newOffset })))
    for (const r of list) {
      const first = firsts.get(tpKey(r.topic, r.partition))
      if (first) r.newRecordTime = new Date(first.timestampMs).toISOString()
    }
  }
}

export { compareRows, describeMode }
export { applySeek, assertGroupEmpty, waitForEmpty, type AppliedGroup, type SeekActor, type SeekApplyResult } from './seek-apply.js'
