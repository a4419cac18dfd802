import type { RecoveryError } from '../errors.js'
import { guardProcessExit, type ProcessExitGuard } from '../plugin-host/exit-guard.js'
import { pluginExitFailure, type TransformRunner } from '../plugin-host/run-transform.js'

/**
 * Runs `work` with process.exit guarded when plugin code runs in it: from the plugin's import
 * on, a process.exit it calls throws instead of ending recover, so the replay stops the orderly
 * way (summary, checkpoint, resume command).
 */
export async function withProcessExitGuard<T>(runsPluginCode: boolean, work: (guard: ProcessExitGuard | undefined) => Promise<T>): Promise<T> {
  const guard = runsPluginCode ? guardProcessExit() : undefined
  try {
    return await work(guard)
  } finally {
    guard?.release()
  }
}

/** A plugin that caught the error its process.exit threw (so nothing else stopped): the BAD_PLUGIN error that stops the replay. */
export function caughtPluginExit(guard: ProcessExitGuard | undefined, transform: TransformRunner | undefined, doing: string): RecoveryError | undefined {
  if (!guard?.attempt) return undefined
  const who = transform ? `The transform plugin ${transform.name}@${transform.version}` : 'A sink plugin'
  return pluginExitFailure(who, guard.attempt, doing, { plugin: transform?.name ?? null })
}
