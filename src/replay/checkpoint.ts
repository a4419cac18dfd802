import { rmSync } from 'node:fs'
import { resolve } from 'node:path'
import { recoverStateDir } from '../config/state-dir.js'
import { assertSameCluster, type ClusterIdentity, type RecordedCluster } from '../core/cluster-identity.js'
import { isFollowEnd } from '../core/follow.js'
import { countsFromJson, countsToJson, freshCounts, type PartitionCounts } from '../core/replay-counts.js'
import { RecoveryError } from '../errors.js'
import {
  assertCheckpointCluster,
  checkpointExists,
  defaultCheckpointPath,
  legacyCheckpointPath,
  readCheckpoint,
  writeCheckpoint,
  writeCheckpointInBackground,
  type ReplayCheckpoint,
} from '../files/replay-checkpoint.js'
import type { TransformRunner } from '../plugin-host/run-transform.js'
import type { CommittedProgress } from '../sinks/sink.js'
import type { Outputs } from './stages.js'

/**
 * Where a replay is, on disk: the checkpoint file a --resume continues from, and the checks
 * that it is this replay's, on this cluster.
 */

export interface CheckpointRequest {
  topic: string
  /** Names the default checkpoint instead of the topic (a file source: the topic and the file's hash). */
  checkpointName?: string
  /** --checkpoint */
  checkpoint?: string
  stateDir?: string
  resume?: boolean
  /** The partitions asked for (--partitions): a resume covers the same ones. */
  partitions?: number[]
}

/** What a checkpoint or a sink's committed progress keeps of the source cluster. */
export function recordedCluster(cluster: ClusterIdentity): Required<RecordedCluster> {
  return { id: cluster.id, bootstrap: cluster.bootstrap }
}

/**
 * --checkpoint, else the default under the state folder. When nothing is there but an earlier
 * version of recover left this replay's checkpoint in ./.recover, a --resume (or a fresh run,
 * if that replay is unfinished) gets that one: it records no cluster, so it is refused with how
 * to start over, rather than "no checkpoint" or a silent second replay into the same sink.
 */
export function checkpointPathFor(request: CheckpointRequest, sinkUri: string): string {
  if (request.checkpoint !== undefined) return resolve(request.checkpoint)
  const name = request.checkpointName ?? request.topic
  const path = defaultCheckpointPath(request.stateDir ?? recoverStateDir().dir, name, sinkUri)
  const legacy = legacyCheckpointPath(name, sinkUri)
  if (checkpointExists(path) || !checkpointExists(legacy)) return path
  return request.resume || safeRead(legacy)?.finished === false ? legacy : path
}

function safeRead(path: string): ReplayCheckpoint | undefined {
  try {
    return readCheckpoint(path)
  } catch {
    return undefined
  }
}

/** A new replay never continues, nor overwrites, the checkpoint of an unfinished one. */
export function refuseUnfinishedCheckpoint(path: string, clusterId: string): void {
  if (!checkpointExists(path)) return
  const existing = safeRead(path)
  if (!existing || existing.finished) return
  const elsewhere =
    existing.cluster?.id !== clusterId ? ` (read from ${existing.cluster?.id ? `cluster ${existing.cluster.id}` : 'a cluster it does not name'})` : ''
  throw new RecoveryError(
    'CHECKPOINT_EXISTS',
    `${path} holds an unfinished replay of ${existing.topic}${elsewhere} into ${existing.sink}; continue it with --resume, or remove the file (or pass another --checkpoint) to start over.`,
    {
      details: { path },
      nextSteps: ['Add --resume to the same command to continue it.'],
    },
  )
}

/** --resume continues only this replay's checkpoint: the same cluster, topic, sink, quarantine, transform and partitions. */
export function checkResumable(
  c: ReplayCheckpoint,
  path: string,
  request: CheckpointRequest,
  outputs: Outputs,
  transform: TransformRunner | undefined,
  cluster: ClusterIdentity,
): void {
  assertCheckpointCluster(c, path, cluster)
  const problems: string[] = []
  if (c.topic !== request.topic) problems.push(`it replays topic ${c.topic}, not ${request.topic}`)
  if (c.sink !== outputs.sink.uri) problems.push(`it writes to ${c.sink}, not ${outputs.sink.uri}`)
  if (c.quarantine !== outputs.quarantine.uri) problems.push(`it quarantines to ${c.quarantine}, not ${outputs.quarantine.uri}`)
  const saved = c.partitions.map((p) => p.partition).sort((a, b) => a - b)
  if (request.partitions && saved.join(',') !== [...request.partitions].sort((a, b) => a - b).join(','))
    problems.push(`it covers partitions ${saved.join(',')}, not ${request.partitions.join(',')}`)
  const mode = outputs.sink.resumeMismatch?.(c.sinkState)
  if (mode !== undefined) problems.push(mode)
  const t = transform
  if ((c.transform?.name ?? null) !== (t?.name ?? null) || (c.transform?.version ?? null) !== (t?.version ?? null)) {
    problems.push(`it ran transform ${c.transform ? `${c.transform.name}@${c.transform.version}` : '(none)'}, not ${t ? `${t.name}@${t.version}` : '(none)'}`)
  }
  if (problems.length > 0) {
    throw new RecoveryError('CHECKPOINT_MISMATCH', `The checkpoint ${path} is for another replay: ${problems.join('; ')}.`, {
      details: { path, checkpoint: { topic: c.topic, sink: c.sink, quarantine: c.quarantine, transform: c.transform } },
    })
  }
}

/** Progress a transactional sink committed for this replay id on another cluster is not this replay's. */
export function assertCommittedCluster(committed: CommittedProgress, current: ClusterIdentity, sink: string): void {
  assertSameCluster(committed.cluster ?? {}, current, `The progress of this replay in ${sink}`, { details: { sink } })
}

/** Takes the progress a transactional sink committed as the truth about where the replay is. */
export function adoptCommitted(checkpoint: ReplayCheckpoint, committed: CommittedProgress): void {
  const byPartition = new Map(committed.partitions.map((p) => [p.partition, p]))
  checkpoint.partitions = checkpoint.partitions.map((p) => {
    const c = byPartition.get(p.partition)
    // The range is the checkpoint's; only the position and counts come from the sink.
    return c ? { ...c, start: p.start, end: p.end } : p
  })
  // A partition a follow took up and committed before the checkpoint file said so.
  for (const c of committed.partitions)
    if (isFollowEnd(BigInt(c.end)) && !checkpoint.partitions.some((p) => p.partition === c.partition)) checkpoint.partitions.push(c)
  checkpoint.quarantineState = committed.quarantineState
  checkpoint.batches = committed.batches
}

/** The checkpoint of a running replay: written atomically after every commit, and once finished. */
export class CheckpointFile {
  /** This run wrote the file (a fresh run that fails before writing a record removes it again). */
  wrote = false

  constructor(
    readonly path: string,
    readonly state: ReplayCheckpoint,
    /** The default location in the state folder is created; a --checkpoint must be in a folder that exists. */
    private readonly createDirectory: boolean,
  ) {}

  save(counts: Iterable<PartitionCounts>, finished: boolean): void {
    this.state.partitions = [...counts].map(countsToJson)
    this.state.updatedAt = new Date().toISOString()
    this.state.finished = finished
    writeCheckpoint(this.path, this.state, { createDirectory: this.createDirectory })
    this.wrote = true
  }

  /** save() off the main thread (the checkpoint after a commit, while the next batch is decoded). Not to be called again before it settles. */
  async saveInBackground(counts: Iterable<PartitionCounts>): Promise<void> {
    this.state.partitions = [...counts].map(countsToJson)
    this.state.updatedAt = new Date().toISOString()
    this.state.finished = false
    await writeCheckpointInBackground(this.path, this.state, { createDirectory: this.createDirectory })
    this.wrote = true
  }

  /** Back to the last checkpoint's positions and counts (after an outage rolled back what came after). */
  restore(counts: Map<number, PartitionCounts>): void {
    for (const p of this.state.partitions) {
      const c = counts.get(p.partition)
      if (c) Object.assign(c, countsFromJson(p))
    }
    // A partition a follow took up after the last checkpoint: nothing of it is durable yet.
    for (const c of counts.values()) if (!this.state.partitions.some((p) => p.partition === c.partition)) Object.assign(c, freshCounts(c))
  }

  remove(): void {
    if (this.wrote) rmSync(this.path, { force: true })
    this.wrote = false
  }
}
