/**
 * Secrets never reach output, logs, --json, journals or error messages. Every secret read
 * from a config source is registered here, and everything printed passes through redact().
 */
const secrets = new Set<string>()

const SECRET_KEY = /pass(word)?|secret|token|jaas|credential|private.?key|^sasl$/i

export function registerSecret(value: string): void {
  // Very short values would redact ordinary words; they are still never printed on purpose.
  if (value.length >= 3) secrets.add(value)
}

export function redactText(text: string): string {
  let out = text
  for (const secret of secrets) out = out.split(secret).join('***')
  // URLs with credentials: scheme://user:pass@host
  return out.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/\s@]+):[^@\s/]+@/gi, '$1:***@')
}

/** A deep copy with secret-looking keys and registered secret values replaced. */
export function redact<T>(value: T): T {
  return redactValue(value, undefined) as T
}

function redactValue(value: unknown, key: string | undefined): unknown {
  if (typeof value === 'string') return key !== undefined && SECRET_KEY.test(key) && value !== '' ? '***' : redactText(value)
  if (Array.isArray(value)) return value.map((item) => redactValue(item, undefined))
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = redactValue(v, k)
    return out
  }
  return value
}
