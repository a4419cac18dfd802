import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { RecoveryError } from '../errors.js'

/** Per-partition progress: [start, end) is the range, next is where the replay continues. */
export interface CheckpointPartition {
  partition: number
  start: string
  end: string
  next: string
  read: number
  written: number
  dropped: number
  quarantined: number
  /** Records written to the sink (a transform may return several per input). */
  outputs: number
  bytes: number
}

export interface ReplayCheckpoint {
  kind: 'recover-replay-checkpoint'
  version: 1
  runId: string
  startedAt: string
  updatedAt: string
  topic: string
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
 */
export function writeCheckpoint(path: string, checkpoint: ReplayCheckpoint): void {
  const abs = resolve(path)
  const tmp = `${abs}.tmp-${process.pid}`
  try {
    mkdirSync(dirname(abs), { recursive: true })
    const fd = openSync(tmp, 'w', 0o644)
    try {
      writeSync(fd, `${JSON.stringify(checkpoint, null, 1)}\n`)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, abs)
    const dirFd = openSync(dirname(abs), 'r')
    try {
      fsyncSync(dirFd)
    } finally {
      closeSync(dirFd)
    }
  } catch (error) {
    rmTemp(tmp)
    if ((error as NodeJS.ErrnoException).code === 'ENOSPC') {
      throw new RecoveryError('CHECKPOINT_FAILED', `The disk holding the replay checkpoint ${abs} is full (ENOSPC); the previous checkpoint is intact: free space there, then run the same command with --resume.`, { cause: error, details: { path: abs } })
    }
    throw new RecoveryError('CHECKPOINT_FAILED', `The replay checkpoint ${abs} could not be written: ${(error as Error).message}.`, {
      cause: error,
      details: { path: abs },
      nextSteps: ['Check that the checkpoint directory is writable and has space, then run the same command with --resume.'],
    })
  }
}

/** A half-written temp file only takes the space the next attempt needs. */
function rmTemp(tmp: string): void {
  try {
    unlinkSync(tmp)
  } catch {
    // Not there, or not removable: the rename never happened, so it is harmless.
  }
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
    throw new RecoveryError('CHECKPOINT_MISMATCH', `--resume found no checkpoint at ${abs} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); pass the --checkpoint the interrupted replay used, or start without --resume.`, { cause: error, details: { path: abs } })
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new RecoveryError('CHECKPOINT_MISMATCH', `${abs} is not a replay checkpoint: it is not JSON (${(error as Error).message}).`, { cause: error, details: { path: abs } })
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
