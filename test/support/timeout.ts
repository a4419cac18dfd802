/**
 * uvu has no per-test timeout: wrap every test that waits on Kafka so a hang fails loudly
 * with the test's name instead of stalling CI.
 */
export function withTimeout<A extends unknown[]>(ms: number, fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`test timed out after ${ms} ms`)), ms)
    })
    try {
      await Promise.race([fn(...args), timeout])
    } finally {
      clearTimeout(timer)
    }
  }
}

/** Polls until `check` returns a value (not undefined), or fails after `ms`. Never a fixed sleep. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, ms = 15_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + ms
  let lastError: unknown
  for (;;) {
    try {
      const value = await check()
      if (value !== undefined) return value
    } catch (error) {
      lastError = error
    }
    if (Date.now() > deadline) throw new Error(`waited ${ms} ms for ${what}${lastError ? `: ${String(lastError)}` : ''}`)
    await new Promise((r) => setTimeout(r, everyMs))
  }
}
