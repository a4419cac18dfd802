import { rmSync } from 'node:fs'

/** What must not outlive this Node process: a broker's pid and, if we made it, its data dir. */
export interface CleanupEntry {
  pid(): number | undefined
  ownedDir(): string | undefined
}

const live = new Set<CleanupEntry>()
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const

/**
 * Registers a broker for cleanup on exit. On a normal exit (or process.exit) it is killed
 * with SIGKILL and its owned data dir removed, synchronously, as 'exit' handlers must be.
 * On SIGINT/SIGTERM/SIGHUP with no other listener, Node would die without running 'exit'
 * handlers, so we clean up and then re-raise the signal; when the program has its own
 * handler (e.g. the kafka CLI, which stops gracefully), we leave the decision to it.
 */
export function registerForCleanup(entry: CleanupEntry): () => void {
  if (live.size === 0) install()
  live.add(entry)
  return () => {
    live.delete(entry)
    if (live.size === 0) uninstall()
  }
}

function install(): void {
  process.on('exit', cleanUpAll)
  for (const signal of SIGNALS) process.on(signal, onSignal)
}

function uninstall(): void {
  process.off('exit', cleanUpAll)
  for (const signal of SIGNALS) process.off(signal, onSignal)
}

function onSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return
  cleanUpAll()
  uninstall()
  process.kill(process.pid, signal)
}

function cleanUpAll(): void {
  for (const entry of live) {
    const pid = entry.pid()
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // Already gone.
      }
    }
    const dir = entry.ownedDir()
    if (dir !== undefined) {
      try {
        rmSync(dir, { recursive: true, force: true, maxRetries: 3 })
      } catch {
        // Best effort while exiting; a leftover temp dir is harmless.
      }
    }
  }
  live.clear()
}
