/**
 * A plugin that calls process.exit() would end recover on the spot: exit 0 with no summary,
 * outputs not flushed, the checkpoint behind what the sink holds. While a replay runs plugin
 * code, process.exit throws this instead, and the host turns it into a failure that stops the
 * replay the orderly way (summary, checkpoint, resume command).
 */
export class PluginExitError extends Error {
  constructor(readonly exitCode: string | number | null | undefined) {
    super(`process.exit(${exitCode === undefined ? '' : JSON.stringify(exitCode)}) was called; a plugin may not end recover`)
    this.name = 'PluginExitError'
  }
}

export function isPluginExitError(error: unknown): error is PluginExitError {
  return error instanceof PluginExitError
}

/** One holder of the guard (a replay); several can hold it at once (replay --group runs a replay per partition). */
export interface ProcessExitGuard {
  /** The first process.exit call while this guard was held, even one the plugin caught. */
  readonly attempt: PluginExitError | undefined
  /** Gives the guard back; the last holder restores process.exit. */
  release(): void
}

const holders = new Set<{ attempt: PluginExitError | undefined }>()
let realExit: typeof process.exit | undefined

function interceptedExit(code?: string | number | null): never {
  const error = new PluginExitError(code)
  for (const h of holders) h.attempt ??= error
  throw error
}

/** Replaces process.exit until every holder has released it. */
export function guardProcessExit(): ProcessExitGuard {
  const holder: { attempt: PluginExitError | undefined } = { attempt: undefined }
  if (holders.size === 0) {
    realExit = process.exit
    process.exit = interceptedExit as typeof process.exit
  }
  holders.add(holder)
  let released = false
  return {
    get attempt() {
      return holder.attempt
    },
    release() {
      if (released) return
      released = true
      holders.delete(holder)
      if (holders.size === 0 && realExit) {
        process.exit = realExit
        realExit = undefined
      }
    },
  }
}

/** The process's own exit, whether or not a guard is held: for recover's code (a second Ctrl-C quits at once). */
export function exitProcess(code: number): never {
  return (realExit ?? process.exit)(code)
}
