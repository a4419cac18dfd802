import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs'
import { open, rename } from 'node:fs/promises'
import { dirname } from 'node:path'

/**
 * Writes `text` to `path` so that a crash leaves the old file or the whole new one: a temp file
 * written and fsynced, renamed over `path`, then the folder fsynced. Errors are thrown as they
 * come; the caller says what they mean.
 */
export function writeFileDurably(path: string, text: string, tmp = `${path}.tmp`): void {
  const fd = openSync(tmp, 'w', 0o644)
  try {
    writeSync(fd, text)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, path)
  const dirFd = openSync(dirname(path), 'r')
  try {
    fsyncSync(dirFd)
  } finally {
    closeSync(dirFd)
  }
}

/** writeFileDurably with the same steps off the main thread, for writes on a hot path (a running replay's checkpoint). */
export async function writeFileDurablyInBackground(path: string, text: string, tmp = `${path}.tmp`): Promise<void> {
  const file = await open(tmp, 'w', 0o644)
  try {
    await file.writeFile(text)
    await file.sync()
  } finally {
    await file.close()
  }
  await rename(tmp, path)
  const folder = await open(dirname(path), 'r')
  try {
    await folder.sync()
  } finally {
    await folder.close()
  }
}
