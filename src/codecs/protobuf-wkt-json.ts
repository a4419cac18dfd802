import type protobuf from 'protobufjs'

/**
 * The canonical JSON forms of the commonest well-known types, printed from decoded messages
 * without protobufjs's ProtoJSON, whose per-value type-name lookups cost more than the decode.
 * The forms and range checks are ProtoJSON's (unit-tested against it); FieldMask and Empty,
 * rare in records, stay with the library.
 */

type Message = Record<string, unknown>
export type WellKnownPrinter = (message: protobuf.Message) => unknown

interface LongLike {
  low: number
  high: number
  unsigned: boolean
}

/** A 64-bit integer in decimal: through a double when it fits in 53 bits (far faster than Long's own toString). */
export function longToString(value: unknown): string {
  if (typeof value !== 'object' || value === null) return String(value)
  const { low, high, unsigned } = value as LongLike
  if (unsigned ? high >>> 0 < 0x200000 : high >= -0x200000 && high < 0x200000) return String((unsigned ? high >>> 0 : high) * 4294967296 + (low >>> 0))
  return String(value)
}

function longToNumber(value: unknown): number {
  if (value === undefined || value === null) return 0
  if (typeof value === 'number') return value
  return Number(longToString(value))
}

/** Nanoseconds as the mapping's fraction: 3, 6 or 9 digits. */
function fraction(nanos: number): string {
  let digits = String(nanos < 0 ? -nanos : nanos).padStart(9, '0')
  while (digits.length > 3 && digits.endsWith('000')) digits = digits.slice(0, -3)
  return digits
}

const MIN_TIMESTAMP_SECONDS = -62_135_596_800 // 0001-01-01T00:00:00Z
const MAX_TIMESTAMP_SECONDS = 253_402_300_799 // 9999-12-31T23:59:59Z
const DAY_SECONDS = 86_400

/** The date part of the last day printed: records of one topic mostly share their day. */
let lastDay = Number.NaN
let lastDayIso = ''

const two = (n: number): string => (n < 10 ? `0${n}` : String(n))

/** RFC 3339 in UTC with 0, 3, 6 or 9 fractional digits, as the canonical mapping prints a Timestamp. */
export function timestampToJson(message: protobuf.Message): string {
  const m = message as unknown as { seconds?: unknown; nanos?: number }
  const seconds = longToNumber(m.seconds)
  const nanos = m.nanos ?? 0
  if (seconds < MIN_TIMESTAMP_SECONDS || seconds > MAX_TIMESTAMP_SECONDS) throw new Error('google.protobuf.Timestamp out of range')
  if (!Number.isInteger(nanos) || nanos < 0 || nanos > 999_999_999) throw new Error('google.protobuf.Timestamp nanos out of range')
  const day = Math.floor(seconds / DAY_SECONDS)
  if (day !== lastDay) {
    lastDayIso = new Date(day * DAY_SECONDS * 1000).toISOString().slice(0, 10)
    lastDay = day
  }
  const inDay = seconds - day * DAY_SECONDS
  const time = `${two(Math.floor(inDay / 3600))}:${two(Math.floor(inDay / 60) % 60)}:${two(inDay % 60)}`
  return nanos === 0 ? `${lastDayIso}T${time}Z` : `${lastDayIso}T${time}.${fraction(nanos)}Z`
}

const MAX_DURATION_SECONDS = 315_576_000_000

/** "1.5s", "-0.001s": seconds with 0, 3, 6 or 9 fractional digits. */
function durationToJson(message: protobuf.Message): string {
  const m = message as unknown as { seconds?: unknown; nanos?: number }
  const seconds = longToNumber(m.seconds)
  const nanos = m.nanos ?? 0
  if (seconds > MAX_DURATION_SECONDS || seconds < -MAX_DURATION_SECONDS) throw new Error('google.protobuf.Duration out of range')
  if (nanos > 999_999_999 || nanos < -999_999_999 || (seconds !== 0 && nanos !== 0 && seconds < 0 !== nanos < 0))
    throw new Error('google.protobuf.Duration nanos invalid')
  const whole = `${seconds < 0 || nanos < 0 ? '-' : ''}${Math.abs(seconds)}`
  return nanos === 0 ? `${whole}s` : `${whole}.${fraction(nanos)}s`
}

/** out[key] = value, also for a key named __proto__ (a map key or Struct field from the record). */
export function setOwn(out: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true })
  else out[key] = value
}

const has = (m: Message, key: string): boolean => Object.hasOwn(m, key)

/** A google.protobuf.Value: the JSON value its set member holds (none set: null). */
function valueToJson(message: unknown, depth: number): unknown {
  if (depth > 100) throw new Error('max depth exceeded')
  if (message === undefined || message === null) return null
  const m = message as Message
  if (has(m, 'nullValue')) return null
  if (has(m, 'numberValue')) {
    const n = m.numberValue
    if (typeof n === 'number' && !Number.isFinite(n)) throw new Error('google.protobuf.Value cannot hold a non-finite number')
    return n
  }
  if (has(m, 'stringValue')) return m.stringValue
  if (has(m, 'boolValue')) return m.boolValue
  if (has(m, 'structValue')) return structToJson(m.structValue, depth + 1)
  if (has(m, 'listValue')) return listToJson(m.listValue, depth + 1)
  return null
}

function structToJson(message: unknown, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const fields = (message as Message | null | undefined)?.fields as Record<string, unknown> | undefined
  if (fields) for (const key of Object.keys(fields)) setOwn(out, key, valueToJson(fields[key], depth))
  return out
}

function listToJson(message: unknown, depth: number): unknown[] {
  const values = (message as Message | null | undefined)?.values as unknown[] | undefined
  if (!values) return []
  const out = new Array<unknown>(values.length)
  for (let i = 0; i < values.length; i++) out[i] = valueToJson(values[i], depth)
  return out
}

function wrapperPrinter(name: string): WellKnownPrinter {
  switch (name) {
    case 'Int64Value':
    case 'UInt64Value':
      return (m) => longToString((m as unknown as Message).value ?? 0)
    case 'DoubleValue':
    case 'FloatValue':
      return (m) => {
        const v = ((m as unknown as Message).value as number | undefined) ?? 0
        return Number.isFinite(v) ? v : String(v)
      }
    case 'BoolValue':
      return (m) => (m as unknown as Message).value ?? false
    case 'StringValue':
      return (m) => (m as unknown as Message).value ?? ''
    case 'BytesValue':
      return (m) => {
        // The library's default for absent bytes is a plain empty array, not a Uint8Array.
        const v = (m as unknown as Message).value as Uint8Array | number[] | undefined
        if (!v || v.length === 0) return ''
        return (v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : Buffer.from(v)).toString('base64')
      }
    default:
      return (m) => (m as unknown as Message).value ?? 0
  }
}

const WRAPPERS = ['DoubleValue', 'FloatValue', 'Int64Value', 'UInt64Value', 'Int32Value', 'UInt32Value', 'BoolValue', 'StringValue', 'BytesValue']

const PRINTERS = new Map<string, WellKnownPrinter>([
  ['.google.protobuf.Timestamp', timestampToJson],
  ['.google.protobuf.Duration', durationToJson],
  ['.google.protobuf.Struct', (m) => structToJson(m, 0)],
  ['.google.protobuf.Value', (m) => valueToJson(m, 0)],
  ['.google.protobuf.ListValue', (m) => listToJson(m, 0)],
  ...WRAPPERS.map((name) => [`.google.protobuf.${name}`, wrapperPrinter(name)] as [string, WellKnownPrinter]),
])

/** recover's printer for a well-known type by full name, or undefined (a message, or a type left to the library). */
export function wellKnownPrinter(fullName: string): WellKnownPrinter | undefined {
  return PRINTERS.get(fullName)
}
