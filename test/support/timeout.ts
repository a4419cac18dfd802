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
    } catch (error) {
      // uvu's own report can fail on unusual errors and then prints nothing: log first.
      process.stderr.write(`\n[test failure] ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
      throw printable(error)
    } finally {
      clearTimeout(timer)
    }
  }
}

/** uvu's failure report JSON-encodes actual/expected and dies silently on bigint: make them printable. */
function printable(error: unknown): unknown {
  if (error && typeof error === 'object' && 'actual' in error) {
    const e = error as { actual: unknown; expected: unknown }
    e.actual = withoutBigInt(e.actual)
    e.expected = withoutBigInt(e.expected)
  }
  return error
}

function withoutBigInt(value: unknown): unknown {
  if (typeof value === 'bigint') return `${value}n`
  if (Array.isArray(value)) return value.map(withoutBigInt)
  if (value && typeof value === 'object' && !(value instanceof Error) && !Buffer.isBuffer(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutBigInt(v)]))
  }
  return value
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

/** `work`, or a failure after `ms` that says what `describe()` tells (what was going on), for waits inside a test. */
export async function withDeadline<T>(work: Promise<T>, ms: number, describe: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`not done within ${ms / 1000} s:\n${describe()}`)), ms)))
  try {
    return await Promise.race([work, expired])
  } finally {
    clearTimeout(timer)
  }
}
