import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { writeFileDurably, writeFileDurablyInBackground } from './durable-write.js'
import { assertSameCluster, describeCluster, type ClusterIdentity, type RecordedCluster } from '../core/cluster-identity.js'
import type { PartitionCountsJson } from '../core/replay-counts.js'
import { RecoveryError } from '../errors.js'

/** Per-partition progress: [start, end) is the range, next is where the replay continues. */
export type CheckpointPartition = PartitionCountsJson

export interface ReplayCheckpoint {
  kind: 'recover-replay-checkpoint'
  version: 1
  runId: string
  startedAt: string
  updatedAt: string
  topic: string
  /**
   * The source cluster (Kafka's cluster id and the bootstrap servers): --resume refuses on
   * another one. Checkpoints written before recover recorded it have none and are refused too.
   */
  cluster?: RecordedCluster
  sink: string
  quarantine: string
  transform: { name: string; version: string; file: string } | null
  partitions: CheckpointPartition[]
  sinkState: Record<string, unknown>
  quarantineState: Record<string, unknown>
  /** Batches acknowledged by the sink over all runs. */
  batches: number
  /** Runs that continued this replay with --resume. */
  resumes: number
  /** Records the interrupted runs had written after their last checkpoint, written again when resumed. */
  resent: number
  finished: boolean
}

/**
 * Writes the checkpoint atomically and durably: a temp file, fsynced, renamed over the old one,
 * and the directory fsynced. A crash at any point leaves the previous checkpoint or the new one.
 * `createDirectory`: for the default location in the state folder; a --checkpoint the person
 * named must be in a directory that exists (nothing is created outside what was asked).
 */
export function writeCheckpoint(path: string, checkpoint: ReplayCheckpoint, options: { createDirectory?: boolean } = {}): void {
  const abs = resolve(path)
  const tmp = `${abs}.tmp-${process.pid}`
  try {
    if (options.createDirectory) mkdirSync(dirname(abs), { recursive: true })
    writeFileDurably(abs, checkpointText(checkpoint), tmp)
  } catch (error) {
    rmTemp(tmp)
    throw checkpointFailed(abs, error)
  }
}

/**
 * writeCheckpoint with the same steps off the main thread: the checkpoint after each commit of
 * a running replay, whose fsyncs (tens of milliseconds on a busy disk, several times a second)
 * would otherwise stop the next batch's decoding and the sink's I/O while they last. The
 * checkpoint is taken as it is when called.
 */
export async function writeCheckpointInBackground(path: string, checkpoint: ReplayCheckpoint, options: { createDirectory?: boolean } = {}): Promise<void> {
  const abs = resolve(path)
  const tmp = `${abs}.tmp-${process.pid}`
  const text = checkpointText(checkpoint)
  try {
    if (options.createDirectory) await mkdir(dirname(abs), { recursive: true })
    await writeFileDurablyInBackground(abs, text, tmp)
  } catch (error) {
    rmTemp(tmp)
    throw checkpointFailed(abs, error)
  }
}

function checkpointText(checkpoint: ReplayCheckpoint): string {
  return `${JSON.stringify(checkpoint, null, 1)}\n`
}

function checkpointFailed(abs: string, error: unknown): RecoveryError {
  // Whether there is a checkpoint to continue from (the previous one is intact) is the
  // replay's to say: a first run has none.
  if ((error as NodeJS.ErrnoException).code === 'ENOSPC') {
    return new RecoveryError('CHECKPOINT_FAILED', `The disk holding the replay checkpoint ${abs} is full (ENOSPC); free space there.`, {
      cause: error,
      details: { path: abs },
    })
  }
  return new RecoveryError('CHECKPOINT_FAILED', `The replay checkpoint ${abs} could not be written: ${(error as Error).message}.`, {
    cause: error,
    details: { path: abs },
    nextSteps: ["Check that the checkpoint's directory exists, is writable and has space, or pass another --checkpoint."],
  })
}

/** A half-written temp file only takes the space the next attempt needs. */
function rmTemp(tmp: string): void {
  try {
    unlinkSync(tmp)
  } catch {
    // Not there, or not removable: the rename never happened, so it is harmless.
  }
}

/**
 * `<state>/checkpoints/replay-<topic>-<8 hex of the sink>.json`: in recover's state folder, so a
 * resume from another folder (a cron job, a colleague's shell) finds it, and keyed by the
 * sink's resolved URI (an absolute path for files), so two folders' `file:out.jsonl` differ.
 */
export function defaultCheckpointPath(stateDir: string, topic: string, sinkUri: string): string {
  return join(stateDir, 'checkpoints', checkpointFileName(topic, sinkUri))
}

/** Where recover kept default checkpoints before the state folder: `./.recover/checkpoints/` of the current folder. */
export function legacyCheckpointPath(topic: string, sinkUri: string): string {
  return resolve('.recover', 'checkpoints', checkpointFileName(topic, sinkUri))
}

function checkpointFileName(topic: string, sinkUri: string): string {
  return `replay-${topic}-${createHash('sha256').update(sinkUri).digest('hex').slice(0, 8)}.json`
}

/**
 * --resume continues a replay only on the cluster it read from (exit 4, nothing written,
 * otherwise): the same topic name on another cluster holds other records at the same offsets.
 */
export function assertCheckpointCluster(checkpoint: ReplayCheckpoint, path: string, current: ClusterIdentity): void {
  const startOver = `To start over on ${describeCluster(current)}: remove ${path} (or pass another --checkpoint) and run the same command without --resume; remove or rename what the earlier run wrote to a file sink first (a new replay refuses a file that has content).`
  assertSameCluster(checkpoint.cluster ?? {}, current, `The replay checkpoint ${path}`, {
    nextSteps: checkpoint.cluster?.id
      ? ['Point recover at the cluster the replay read from (--brokers, --cluster or RECOVER_BROKERS), then run the same command again.', startOver]
      : [startOver],
    details: { path },
  })
}

export function checkpointExists(path: string): boolean {
  return existsSync(resolve(path))
}

/** Reads and checks a checkpoint; CHECKPOINT_MISMATCH when it is missing or not one of ours. */
export function readCheckpoint(path: string): ReplayCheckpoint {
  const abs = resolve(path)
  let text: string
  try {
    text = readFileSync(abs, 'utf8')
  } catch (error) {
    throw new RecoveryError(
      'CHECKPOINT_MISMATCH',
      `--resume found no checkpoint at ${abs} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); pass the --checkpoint the interrupted replay used, or start without --resume.`,
      { cause: error, details: { path: abs } },
    )
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new RecoveryError('CHECKPOINT_MISMATCH', `${abs} is not a replay checkpoint: it is not JSON (${(error as Error).message}).`, {
      cause: error,
      details: { path: abs },
    })
  }
  const c = parsed as Partial<ReplayCheckpoint>
  if (c?.kind !== 'recover-replay-checkpoint' || c.version !== 1 || !Array.isArray(c.partitions) || typeof c.topic !== 'string' || typeof c.sink !== 'string') {
    throw new RecoveryError('CHECKPOINT_MISMATCH', `${abs} is not a replay checkpoint of this version of recover.`, { details: { path: abs } })
  }
  for (const p of c.partitions) {
    if (!Number.isInteger(p.partition) || ![p.start, p.end, p.next].every((o) => typeof o === 'string' && /^\d+$/.test(o))) {
      throw new RecoveryError('CHECKPOINT_MISMATCH', `${abs} has a malformed partition entry (${JSON.stringify(p)}).`, { details: { path: abs } })
    }
  }
  return c as ReplayCheckpoint
}
