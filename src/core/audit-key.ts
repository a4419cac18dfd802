import { decodeStrictUtf8 } from '../codecs/strict-utf8.js'

/**
 * What an audit groups records by: the Kafka record key (`--key key`), or a field of the
 * decoded value (`--key order_id`, nested as `--key customer.id`, `value.` optional).
 */
export type KeySelector = { kind: 'record-key' } | { kind: 'field'; path: string[]; display: string }

export function parseKeySelector(input: string): KeySelector {
  const text = input.trim()
  if (text === '' || /^(key|record-key|kafka-key)$/i.test(text)) return { kind: 'record-key' }
  const path = text.replace(/^value\./, '').split('.')
  return { kind: 'field', path, display: path.join('.') }
}

export function describeKeySelector(selector: KeySelector): string {
  return selector.kind === 'record-key' ? 'key' : selector.display
}

/**
 * A record key as text: UTF-8 when the bytes are valid UTF-8, else `0x` and hex, so that keys
 * compare byte for byte and still read as text in reports. Null stays null.
 */
export function recordKeyText(key: Buffer | null): string | null {
  if (key === null) return null
  const text = decodeStrictUtf8(key)
  return text ?? `0x${key.toString('hex')}`
}

/** The value at a field path, and whether every step of the path existed. */
export function fieldAt(value: unknown, path: readonly string[]): { found: boolean; value: unknown } {
  let current: unknown = value
  for (const step of path) {
    if (current === null || typeof current !== 'object' || Array.isArray(current) || !(step in (current as object))) return { found: false, value: undefined }
    current = (current as Record<string, unknown>)[step]
  }
  return { found: true, value: current }
}

/**
 * A field value as key text: strings as they are, numbers and bigints in decimal, booleans as
 * true/false, objects and arrays as JSON (bytes as base64). Null and undefined have no key.
 */
export function keyText(value: unknown): string | null {
  if (value === null || value === undefined) return null
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value)
  if (Buffer.isBuffer(value)) return value.toString('base64')
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : Buffer.isBuffer(v) ? v.toString('base64') : v))
}

/** Field paths of a decoded value (nested records one level down as `parent.child`), for "available fields" messages. */
export function fieldPaths(value: unknown, depth = 2): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || Buffer.isBuffer(value)) return []
  const out: string[] = []
  for (const [name, child] of Object.entries(value as Record<string, unknown>)) {
    out.push(name)
    if (depth > 1) for (const sub of fieldPaths(child, depth - 1)) out.push(`${name}.${sub}`)
  }
  return out
}
