import type { ConnectClient } from '../connect/connect-client.js'
import type { ConnectOffsetEntry, ConnectorStatus } from '../connect/connect-types.js'
import type { KafkaGateway } from '../kafka/kafka-gateway.js'
import { tpKey } from '../kafka/kafka-gateway.js'
import { RecoveryError } from '../errors.js'
import type { Actor } from '../config/actor.js'
import { assertSameCluster, describeCluster, type ClusterIdentity } from '../core/cluster-identity.js'
import {
  connectorGroup,
  connectorTopics,
  describeOffset,
  describePartition,
  offsetsDiffer,
  partitionKey,
  sinkOffsetEntries,
  sinkOffsets,
  sinkPartitionKey,
  undoEntries,
} from '../core/connect-offsets.js'
import { describeMode, type SeekMode } from '../core/seek-plan.js'
import { describeFailures, resumeOutcome, resumeSettled, type ResumeOutcome } from '../core/connect-resume.js'
import {
  assertSnapshotApplies,
  type ConnectorJournalSnapshot,
  markConnectorSnapshotRefused,
  markConnectorSnapshotUnconfirmed,
  newestConnectorSnapshot,
  runbookRunConnectorSnapshots,
  writeConnectorSnapshot,
} from '../files/connector-journal.js'
import { planSeek, type SeekPlan, type SeekRequest } from './seek.js'

export interface ConnectorRef {
  name: string
  type: 'sink' | 'source'
  connectUrl: string
  /** The connector's state when the plan was made. */
  state: string
  group: string | null
  /** The workers (Connect's worker ids, host:port) its status named: which Connect cluster it is. */
  workers: string[]
}

/** A source connector's change, one row per partition map. */
export interface SourceOffsetRow {
  partition: Record<string, unknown>
  current: Record<string, unknown> | null
  next: Record<string, unknown> | null
}

export interface ConnectorSeekPlan {
  connector: ConnectorRef
  cluster: ClusterIdentity
  mode: SeekMode
  /** Sink connectors: the group seek plan of the connector's consumer group (the same table, the same rules). */
  plan?: SeekPlan
  /** Source connectors: the offset maps before and after. */
  sourceRows?: SourceOffsetRow[]
  /** What is PATCHed on --execute. */
  patch: ConnectOffsetEntry[]
  /** undo: the snapshot restored. */
  undoSnapshot?: string
  /** undo --runbook-run: the run did not change this connector, so there is nothing to revert. */
  nothingToUndo?: boolean
  warnings: string[]
}

export interface ConnectorSeekRequest {
  connector: string
  /** The group seek request (groups are filled in with the connector's group). */
  seek: SeekRequest
  /** Source connectors, or a sink given a JSON file: the offsets to set. */
  offsetsFile?: { file: string; entries: ConnectOffsetEntry[]; snapshot?: ConnectorJournalSnapshot }
  journalDir: string
}

/**
 * Read-only: what seek --connector would do. A sink connector is planned as a seek of its
 * consumer group (every mode); a source connector only from a file of offset maps or an undo.
 * Connect must be attached to the Kafka cluster recover is connected to.
 */
export async function planConnectorSeek(gateway: KafkaGateway, client: ConnectClient, request: ConnectorSeekRequest): Promise<ConnectorSeekPlan> {
  const root = await client.root()
  assertSameCluster({ id: root.kafka_cluster_id }, gateway.cluster, `Kafka Connect at ${client.url}`, {
    nextSteps: ['Point --brokers (or --cluster) at the Kafka cluster the Connect workers use, or --connect-url at the workers of this cluster.'],
    details: { connectUrl: client.url },
  })
  const info = await client.info(request.connector)
  const status = await client.status(request.connector)
  const type = status.type === 'source' ? 'source' : 'sink'
  const group = type === 'sink' ? connectorGroup(request.connector, info.config) : null
  const workers = [...new Set([status.connector.worker_id, ...status.tasks.map((t) => t.worker_id)].filter((w): w is string => Boolean(w)))]
  const connector: ConnectorRef = { name: request.connector, type, connectUrl: client.url, state: status.connector.state, group, workers }
  const through = { url: client.url, workers }
  const mode = request.seek.mode
  const warnings: string[] = []
  if (request.offsetsFile?.snapshot) assertSnapshotApplies(request.offsetsFile.file, request.offsetsFile.snapshot, request.connector, gateway.cluster, through)

  if (mode.kind === 'undo') {
    const runId = request.seek.undo?.runbookRun
    const current = (await client.offsets(request.connector)).offsets
    let found: { path: string; snapshot: { previous: ConnectOffsetEntry[]; next: ConnectOffsetEntry[] } }
    if (runId !== undefined) {
      // A runbook's rollback: back to the offsets before the run's first change. A resumed
      // connector always moves on from where the run left it, so that is said, not refused.
      const runs = runbookRunConnectorSnapshots(request.journalDir, request.connector, gateway.cluster, through, runId)
      if (runs.length === 0) return { connector, cluster: gateway.cluster, mode, patch: [], warnings, nothingToUndo: true }
      const previous = new Map<string, ConnectOffsetEntry>()
      for (const f of runs) for (const e of f.snapshot.previous) if (!previous.has(partitionKey(e.partition))) previous.set(partitionKey(e.partition), e)
      const next = new Map<string, ConnectOffsetEntry>()
      for (const f of runs) for (const e of f.snapshot.next) next.set(partitionKey(e.partition), e)
      found = { path: runs.map((f) => f.path).join(', '), snapshot: { previous: [...previous.values()], next: [...next.values()] } }
    } else found = newestConnectorSnapshot(request.journalDir, request.connector, gateway.cluster, through)
    const patch = undoEntries(found.snapshot.previous, found.snapshot.next)
    const moved = offsetsDiffer(found.snapshot.next, current)
    if (moved.length > 0)
      warnings.push(
        `Connector ${request.connector} moved since the change being undone (${moved.join('; ')}): undo puts it back to the offsets before that change.`,
      )
    const base = { connector, cluster: gateway.cluster, mode: { ...mode, file: found.path }, patch, undoSnapshot: found.path, warnings }
    if (type === 'source') return { ...base, sourceRows: sourceRows(current, patch) }
    const plan = await sinkPlanFor(gateway, request, group!, patch, found.path, warnings)
    return { ...base, plan, patch: sinkPatch(plan, patch) }
  }

  if (type === 'source') {
    if (!request.offsetsFile)
      throw new RecoveryError(
        'USAGE',
        `Connector "${request.connector}" is a source connector: its offsets are its own maps, not Kafka offsets, so only --from-file OFFSETS.json (as recover connect describe --export writes) and --undo apply.`,
        { nextSteps: [`Export its offsets with: recover connect describe ${request.connector} --export offsets.json`] },
      )
    const current = (await client.offsets(request.connector)).offsets
    return {
      connector,
      cluster: gateway.cluster,
      mode,
      sourceRows: sourceRows(current, request.offsetsFile.entries),
      patch: request.offsetsFile.entries,
      warnings,
    }
  }

  if (request.offsetsFile) {
    const plan = await sinkPlanFor(gateway, request, group!, request.offsetsFile.entries, request.offsetsFile.file, warnings)
    return { connector, cluster: gateway.cluster, mode, plan, patch: sinkPatch(plan, request.offsetsFile.entries), warnings }
  }
  // No committed offsets yet (a new connector) still has topics to seek: the ones it reads.
  const topics = connectorTopics(info.config)
  const scope =
    request.seek.scope.kind === 'committed' && topics.length > 0 ? { kind: 'topics' as const, topics: topics.map((topic) => ({ topic })) } : request.seek.scope
  const plan = await planSeek(gateway, { ...request.seek, groups: [group!], scope })
  return { connector, cluster: gateway.cluster, mode, plan, patch: sinkOffsetEntries(plan.rows), warnings: [...plan.warnings] }
}

/** A sink's undo or JSON file planned as a group seek from a file, for the same table; removed offsets are said as notes. */
async function sinkPlanFor(
  gateway: KafkaGateway,
  request: ConnectorSeekRequest,
  group: string,
  entries: ConnectOffsetEntry[],
  file: string,
  warnings: string[],
): Promise<SeekPlan> {
  const set = entries.filter((e) => e.offset !== null)
  for (const e of entries.filter((x) => x.offset === null))
    warnings.push(
      `${describePartition(e.partition)} had no committed offset before: its offset is removed (the connector then starts it from auto.offset.reset).`,
    )
  const fileLines = [...sinkOffsets(set)].map(([key, offset]) => {
    const e = set.find((x) => sinkPartitionKey(String(x.partition.kafka_topic), String(x.partition.kafka_partition)) === key)!
    return { topic: String(e.partition.kafka_topic), partition: Number(e.partition.kafka_partition), offset }
  })
  if (fileLines.length !== set.length)
    throw new RecoveryError(
      'USAGE',
      `${file}: a sink connector's offsets are {"partition": {"kafka_topic": T, "kafka_partition": P}, "offset": {"kafka_offset": N}}.`,
    )
  const plan = await planSeek(gateway, { ...request.seek, groups: [group], mode: { kind: 'from-file', file }, scope: { kind: 'committed' }, fileLines })
  warnings.push(...plan.warnings)
  return plan
}

/** The plan's offsets (clamped to the log as a group seek is), and the removals the entries asked for. */
function sinkPatch(plan: SeekPlan, entries: ConnectOffsetEntry[]): ConnectOffsetEntry[] {
  return [...sinkOffsetEntries(plan.rows), ...entries.filter((e) => e.offset === null)]
}

function sourceRows(current: ConnectOffsetEntry[], patch: ConnectOffsetEntry[]): SourceOffsetRow[] {
  const now = new Map(current.map((e) => [partitionKey(e.partition), e.offset]))
  return patch.map((e) => ({ partition: e.partition, current: now.get(partitionKey(e.partition)) ?? null, next: e.offset }))
}

export interface ConnectorSeekOptions {
  journalDir: string
  actor: Actor
  /** Resume the connector after the offsets are set (the default); false leaves it STOPPED. */
  resume: boolean
  stopTimeoutMs: number
  /**
   * The exact commands printed in failures. `setExactly(journal)` sets the offsets that journal
   * snapshot planned (its `next`), for when a PATCH may have landed: the original command run
   * again would plan a relative move (--shift-by, --by-duration, -2h) from where it landed.
   */
  commands: { retry: string; undo: string; resume: string; describe: string; setExactly: (journal: string) => string }
  runbookRun?: string
  pollMs?: number
}

export interface ConnectorSeekResult {
  connector: string
  /** The snapshot of the offsets before the change; null when they were already as planned (nothing changed, nothing journalled). */
  journal: string | null
  /** The offsets already read as planned after the stop (a run finishing one whose PATCH answer was lost): no PATCH was sent. */
  alreadySet: boolean
  /** Said to the reader: the PATCH answer was lost but the offsets read back as planned. */
  notes: string[]
  /** The state the connector was left in. */
  state: string
  resumed: boolean
  /** Wall time of each step, ms: for the reader and the bench. */
  timings: { stopMs: number; patchMs: number; resumeMs: number; totalMs: number }
  offsets: ConnectOffsetEntry[]
}

/**
 * stop → wait for STOPPED (and, for a sink, its group to be empty) → re-check the offsets the
 * plan was made from → journal → PATCH → read back and compare → resume. Every failure says
 * the state the connector is in and the exact command to continue or undo.
 */
export async function applyConnectorSeek(
  gateway: KafkaGateway,
  client: ConnectClient,
  plan: ConnectorSeekPlan,
  options: ConnectorSeekOptions,
): Promise<ConnectorSeekResult> {
  const name = plan.connector.name
  const started = Date.now()
  if (gateway.clusterId !== plan.cluster.id)
    throw new RecoveryError(
      'CLUSTER_MISMATCH',
      `The plan was made on cluster ${plan.cluster.id} but this connection is to ${describeCluster(gateway.cluster)}; nothing was changed.`,
    )
  await client.stop(name)
  await waitForStopped(gateway, client, plan, options)
  const stopMs = Date.now() - started

  let before: ConnectOffsetEntry[]
  try {
    before = (await client.offsets(name)).offsets
  } catch (error) {
    throw stoppedFailure(error, name, options, 'nothing was changed')
  }
  checkUnmoved(plan, before, options)
  const notes: string[] = []
  // Already where the plan puts it (the PATCH of an earlier run landed but its answer was lost):
  // no new snapshot, so undo still restores the offsets from before that run.
  if (offsetsDiffer(plan.patch, before).length === 0) {
    const patchMs = 0
    const resumeStarted = Date.now()
    const state = options.resume ? await resumeAfterSeek(client, name, null, options) : 'STOPPED'
    return {
      connector: name,
      journal: null,
      alreadySet: true,
      notes,
      state,
      resumed: options.resume,
      timings: { stopMs, patchMs, resumeMs: Date.now() - resumeStarted, totalMs: Date.now() - started },
      offsets: before,
    }
  }
  const journal = writeConnectorSnapshot(options.journalDir, {
    connector: name,
    type: plan.connector.type,
    connectUrl: client.url,
    connectWorkers: plan.connector.workers,
    clusterId: plan.cluster.id,
    bootstrap: plan.cluster.bootstrap,
    ...(plan.connector.group ? { group: plan.connector.group } : {}),
    ...(options.runbookRun ? { runbookRun: options.runbookRun } : {}),
    time: new Date().toISOString(),
    user: options.actor.by,
    host: options.actor.host,
    command: options.actor.command ?? '',
    mode: describeMode(plan.mode),
    previous: before,
    next: plan.patch,
  })

  const patchStarted = Date.now()
  let response
  try {
    response = await client.patchOffsets(name, { offsets: plan.patch })
  } catch (error) {
    // The answer was lost, not necessarily the PATCH (a worker or a proxy that dropped the
    // connection after applying it): offsets that read back exactly as planned are a success.
    if (await readsBackAsPlanned(client, name, plan.patch)) {
      notes.push(`Kafka Connect did not answer the PATCH (${(error as Error).message.replace(/\.$/, '')}), but the offsets read back exactly as planned.`)
      response = { status: 200, body: null }
    } else if (plan.undoSnapshot !== undefined) throw unfinishedUndo(error, name, journal, options, 'Kafka Connect stopped answering while it set them back')
    else throw lostPatch(error, name, journal, options)
  }
  if (response.status < 200 || response.status >= 300) {
    const refusal = client.refusal(response, 'PATCH', `/connectors/${name}/offsets`, name)
    const refused = markConnectorSnapshotRefused(journal)
    throw new RecoveryError(
      'CONNECT_OFFSETS_REFUSED',
      `Kafka Connect refused the new offsets of connector "${name}" (${refusal.message.replace(/^Kafka Connect at \S+ answered /, '').replace(/\.$/, '')}); no offset was changed and the connector is left STOPPED.`,
      {
        nextSteps: [`Resume it as it was with: ${options.commands.resume}`, `Or fix the cause and run again: ${options.commands.retry}`],
        details: { connector: name, status: response.status, journal: refused, state: 'STOPPED' },
      },
    )
  }
  let after: ConnectOffsetEntry[]
  try {
    after = (await client.offsets(name)).offsets
  } catch (error) {
    throw new RecoveryError(
      'CONNECT_SEEK_PARTIAL',
      `Kafka Connect accepted the new offsets of connector "${name}" but reading them back failed (${(error as Error).message.replace(/\.$/, '')}), so they are set but unchecked${options.resume ? ' and it was not resumed' : ''}; the connector is STOPPED (if a worker is up) and its previous offsets are in ${journal}.`,
      {
        cause: error,
        nextSteps: [
          `When Connect is back, check with: ${options.commands.describe}`,
          `Then finish the seek (it reads them back${options.resume ? ' and resumes the connector' : ''}) with: ${options.commands.setExactly(journal)}`,
          `Or undo with: ${options.commands.undo}`,
        ],
        details: { connector: name, journal, state: 'STOPPED' },
      },
    )
  }
  const wrong = offsetsDiffer(plan.patch, after)
  if (wrong.length > 0 && plan.undoSnapshot !== undefined)
    throw unfinishedUndo(undefined, name, journal, options, `they read back otherwise (${wrong.join('; ')})`)
  if (wrong.length > 0)
    throw new RecoveryError(
      'CONNECT_SEEK_PARTIAL',
      `After the PATCH, connector "${name}" reads back other offsets than planned (${wrong.join('; ')}); it is left STOPPED and its previous offsets are in ${journal}.`,
      {
        nextSteps: [
          `Check with: ${options.commands.describe}`,
          `Set the plan again with: ${options.commands.setExactly(journal)}`,
          `Or undo with: ${options.commands.undo}`,
        ],
        details: { connector: name, journal, wrong, state: 'STOPPED' },
      },
    )
  const patchMs = Date.now() - patchStarted

  const resumeStarted = Date.now()
  const state = options.resume ? await resumeAfterSeek(client, name, journal, options) : 'STOPPED'
  const resumeMs = Date.now() - resumeStarted
  return {
    connector: name,
    journal,
    alreadySet: false,
    notes,
    state,
    resumed: options.resume,
    timings: { stopMs, patchMs, resumeMs, totalMs: Date.now() - started },
    offsets: after,
  }
}

/**
 * Resumes the connector once its offsets are as planned; the state it reaches. Still STOPPED at
 * the deadline, or a task FAILED after the resume, is CONNECT_SEEK_PARTIAL: the offsets are set,
 * the pipeline does not run.
 */
async function resumeAfterSeek(client: ConnectClient, name: string, journal: string | null, options: ConnectorSeekOptions): Promise<string> {
  let outcome: ResumeOutcome
  try {
    await client.resume(name)
    outcome = await waitForResume(client, name, ['STOPPED'], options.stopTimeoutMs, options.pollMs)
  } catch (error) {
    throw new RecoveryError(
      'CONNECT_SEEK_PARTIAL',
      `The offsets of connector "${name}" are set as planned, but resuming it failed (${(error as Error).message.replace(/\.$/, '')}); it is STOPPED.`,
      {
        cause: error,
        nextSteps: [`Resume it with: ${options.commands.resume}`, `Or undo with: ${options.commands.undo}`],
        details: { connector: name, journal, state: 'STOPPED' },
      },
    )
  }
  if (outcome.kind === 'running') return outcome.state
  if (outcome.kind === 'halted')
    throw new RecoveryError(
      'CONNECT_SEEK_PARTIAL',
      `The offsets of connector "${name}" are set as planned and read back, but it was still ${outcome.state} ${Math.round(options.stopTimeoutMs / 1000)} s after Connect accepted the resume, so it reads nothing; the offsets stay set while it is stopped.`,
      {
        nextSteps: [`Resume it with: ${options.commands.resume}`, `Check with: ${options.commands.describe}`, `Or undo with: ${options.commands.undo}`],
        details: { connector: name, journal, state: outcome.state, offsetsSet: true },
      },
    )
  throw new RecoveryError(
    'CONNECT_SEEK_PARTIAL',
    `The offsets of connector "${name}" are set as planned and it was resumed, but ${describeFailures(outcome.failed)}; it is ${outcome.state} and what failed reads nothing until it is restarted.`,
    {
      nextSteps: [
        `See the whole trace with: ${options.commands.describe}`,
        `Fix the cause, then restart what failed: POST /connectors/${name}/restart?includeTasks=true&onlyFailed=true on Kafka Connect`,
        `Or undo with: ${options.commands.undo}`,
      ],
      details: { connector: name, journal, state: outcome.state, offsetsSet: true, failed: outcome.failed.map((f) => f.id) },
    },
  )
}

/** One read of the offsets after a PATCH whose answer was lost: true only if Connect answers and they are exactly the plan. */
async function readsBackAsPlanned(client: ConnectClient, name: string, patch: ConnectOffsetEntry[]): Promise<boolean> {
  try {
    return offsetsDiffer(patch, (await client.offsets(name)).offsets).length === 0
  } catch {
    return false
  }
}

/**
 * A PATCH sent but not answered, and the offsets could not be read back as planned: it may have
 * landed or not (or may still land). The commands printed work either way: setting the
 * journalled plan exactly (not the original command, which would plan a relative move again
 * from where it landed), or restoring the offsets from before.
 */
function lostPatch(error: unknown, name: string, journal: string, options: ConnectorSeekOptions): RecoveryError {
  return new RecoveryError(
    'CONNECT_SEEK_PARTIAL',
    `Kafka Connect stopped answering while it set the offsets of connector "${name}", so whether they moved is unknown; the connector is STOPPED (if a worker is up) and its previous offsets are in ${journal}.`,
    {
      cause: error,
      nextSteps: [
        `When Connect is back, look with: ${options.commands.describe}`,
        `Then set the plan again with: ${options.commands.setExactly(journal)}`,
        `Or restore the previous offsets with: ${options.commands.undo}`,
      ],
      details: { connector: name, journal, state: 'unknown' },
    },
  )
}

/** The connector STOPPED with no tasks, and a sink's consumer group empty, within the bound. */
async function waitForStopped(gateway: KafkaGateway, client: ConnectClient, plan: ConnectorSeekPlan, options: ConnectorSeekOptions): Promise<void> {
  const name = plan.connector.name
  const deadline = Date.now() + options.stopTimeoutMs
  let last: ConnectorStatus | undefined
  let members = 0
  for (;;) {
    try {
      last = await client.status(name)
    } catch (error) {
      throw stoppedFailure(error, name, options, 'no offset was changed')
    }
    if (last.connector.state === 'STOPPED' && last.tasks.length === 0) {
      if (!plan.connector.group) return
      const [d] = await gateway.describeGroups([plan.connector.group])
      members = d?.members.length ?? 0
      if (members === 0) return
    }
    if (Date.now() >= deadline) break
    await new Promise((resolve) => setTimeout(resolve, Math.min(options.pollMs ?? 250, Math.max(10, deadline - Date.now()))))
  }
  const tasks = last?.tasks.map((t) => `task ${t.id} ${t.state}`).join(', ')
  throw new RecoveryError(
    'CONNECTOR_NOT_STOPPED',
    `Connector "${name}" did not stop within ${Math.round(options.stopTimeoutMs / 1000)} s: it is ${last?.connector.state ?? 'unknown'}${tasks ? ` (${tasks})` : ''}${members > 0 ? ` and its group ${plan.connector.group} still has ${members} member(s)` : ''}. No offset was changed; it was asked to stop and may still get there.`,
    {
      nextSteps: [
        `Run the same command again (perhaps with a longer --stop-timeout): ${options.commands.retry}`,
        `Or resume it as it was with: ${options.commands.resume}`,
      ],
      details: { connector: name, state: last?.connector.state ?? 'unknown', tasks: last?.tasks.map((t) => ({ id: t.id, state: t.state })) ?? [], members },
    },
  )
}

function stoppedFailure(error: unknown, name: string, options: ConnectorSeekOptions, changed: string): RecoveryError {
  if (!(error instanceof RecoveryError)) return new RecoveryError('INTERNAL', String(error), { cause: error })
  return new RecoveryError(error.code, `${error.message.replace(/\.$/, '')}; connector "${name}" was asked to stop and ${changed}.`, {
    cause: error,
    nextSteps: [`When Connect answers, run the same command again: ${options.commands.retry}`, `Or resume it as it was with: ${options.commands.resume}`],
    details: { ...error.details, connector: name, state: 'stopping or STOPPED' },
  })
}

/** A relative move (shift-by) or a compare-and-set plan is only right from where the plan saw the connector. */
function checkUnmoved(plan: ConnectorSeekPlan, before: ConnectOffsetEntry[], options: ConnectorSeekOptions): void {
  if (!plan.plan) return
  const now = sinkOffsets(before)
  const expected = plan.plan.expectations?.[plan.connector.group!]
  const changed = plan.plan.rows.filter((r) => {
    const at = now.get(sinkPartitionKey(r.topic, r.partition)) ?? null
    if (plan.mode.kind === 'shift-by' && at !== r.currentOffset) return true
    const want = expected?.offsets.get(tpKey(r.topic, r.partition))
    return want !== undefined && at !== want
  })
  if (changed.length > 0)
    throw new RecoveryError(
      'OFFSETS_CHANGED',
      `Connector "${plan.connector.name}" committed other offsets since the plan was made (${changed.map((r) => `${r.topic}-${r.partition} now ${now.get(sinkPartitionKey(r.topic, r.partition)) ?? 'none'}, planned from ${r.currentOffset ?? 'none'}`).join(', ')}); nothing was changed and it is left STOPPED.`,
      {
        nextSteps: [
          `Plan again (a dry run) from where it is now, then run: ${options.commands.retry}`,
          `Or resume it as it was with: ${options.commands.resume}`,
        ],
      },
    )
}

/** Polls the connector's status until `done`, bounded. */
export async function waitForState(
  client: ConnectClient,
  name: string,
  done: (status: ConnectorStatus) => boolean,
  timeoutMs: number,
  pollMs = 250,
): Promise<ConnectorStatus> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const status = await client.status(name)
    if (done(status) || Date.now() >= deadline) return status
    await new Promise((resolve) => setTimeout(resolve, pollMs))
  }
}

/**
 * After `PUT /connectors/NAME/resume`: polls until it left `halted` and its tasks settled
 * (running, or one failed), bounded; where it got to (core/connect-resume.ts).
 */
export async function waitForResume(client: ConnectClient, name: string, halted: readonly string[], timeoutMs: number, pollMs = 250): Promise<ResumeOutcome> {
  return resumeOutcome(await waitForState(client, name, (s) => resumeSettled(s, halted), timeoutMs, pollMs), halted)
}

export { describeOffset, describePartition }

/**
 * An undo that may not have landed: its own snapshot is moved out of undo's way, so the same
 * --undo run again restores the change it was undoing (not the half-done undo).
 */
function unfinishedUndo(cause: unknown, name: string, journal: string, options: ConnectorSeekOptions, what: string): RecoveryError {
  const kept = markConnectorSnapshotUnconfirmed(journal)
  return new RecoveryError(
    'CONNECT_SEEK_PARTIAL',
    `The undo of connector "${name}" may not have landed: ${what}; the connector is STOPPED (if a worker is up), and the offsets it had are in ${kept}.`,
    {
      ...(cause === undefined ? {} : { cause }),
      nextSteps: [`When Connect is back, look with: ${options.commands.describe}`, `Then finish the undo with: ${options.commands.retry}`],
      details: { connector: name, journal: kept, state: 'unknown' },
    },
  )
}
