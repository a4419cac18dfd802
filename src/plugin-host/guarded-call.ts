import { Script, createContext } from 'node:vm'

/** A plugin hook that did not return (sync) or settle (async) in time. */
export class PluginTimeoutError extends Error {
  constructor(
    readonly hook: string,
    readonly timeoutMs: number,
  ) {
    super(`${hook} did not finish within ${timeoutMs} ms`)
    this.name = 'PluginTimeoutError'
  }
}

const CALL = new Script('__recoverHook()', { filename: 'recover-plugin-guard' })
const sandbox = createContext({})

/**
 * Calls one plugin hook with a deadline: its synchronous part runs under node:vm's `timeout`
 * (a watchdog thread that stops even an infinite loop), a promise it returns races a timer.
 * For hooks called once per batch or per run, where a watchdog thread start (about 0.1 ms)
 * does not matter; per-record calls use TransformRunner.applyAll's chunking instead.
 */
export async function callWithTimeout<T>(hook: string, timeoutMs: number, fn: () => T | Promise<T>): Promise<T> {
  const started = Date.now()
  let result: T | Promise<T> | undefined
  ;(sandbox as { __recoverHook?: () => void }).__recoverHook = () => {
    result = fn()
  }
  try {
    CALL.runInContext(sandbox, { timeout: timeoutMs })
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw new PluginTimeoutError(hook, timeoutMs)
    throw error
  } finally {
    ;(sandbox as { __recoverHook?: () => void }).__recoverHook = undefined
  }
  if (!(result instanceof Promise) && !(result && typeof (result as { then?: unknown }).then === 'function')) return result as T
  let timer: NodeJS.Timeout | undefined
  const left = Math.max(1, timeoutMs - (Date.now() - started))
  try {
    return await Promise.race([
      Promise.resolve(result as Promise<T>),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new PluginTimeoutError(hook, timeoutMs)), left)
      }),
    ])
  } finally {
    clearTimeout(timer)
  }
}
