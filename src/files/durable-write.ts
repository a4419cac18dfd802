import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs'
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
