import { randomBytes } from 'node:crypto'
import { decodeStrictUtf8 } from '../codecs/strict-utf8.js'
import type { KafkaRecord } from '../kafka/kafka-record.js'

/**
 * The lossless envelope: one JSON object per line, shared by file sinks,
 * file quarantines, exports and audits. The bytes are the truth (`key`, `value` and header
 * values in base64); the decoded forms beside them are for people and queries. What `recover`
 * writes this way, it can read back into the exact record.
 *
 * ```json
 * {"v":1,"topic":"orders","partition":0,"offset":"17","timestamp":1521590401000,
 *  "timestampType":"create","key":"b3JkLTE=","value":"AAAAAAE...",
 *  "headers":[{"key":"app-version","value":"MS42LjA=","text":"1.6.0"},{"key":"x","value":null}],
 *  "decoded":{"key":"ord-1","value":{"order_id":"ord-1", ...}},"format":{"key":"string","value":"avro"}}
 * ```
 *
 * - `offset` is a decimal string (offsets can exceed 2^53); `timestamp` is epoch ms.
 * - `headers` keeps every header in order, repeated keys and null values included; `text` is
 *   present when the value is valid UTF-8.
 * - `decoded` and `format` are present for the sides whose decoded form is known; Avro longs
 *   beyond 2^53 are JSON numbers with all their digits, bytes fields are base64 strings.
 */
export const ENVELOPE_VERSION = 1

/** A record as the envelope keeps it: a KafkaRecord (whose headers it only reads). */
export type EnvelopeRecord = Omit<KafkaRecord, 'headers'> & { headers: ReadonlyArray<KafkaRecord['headers'][number]> }

export interface EnvelopeDecoded {
  key?: { format: string; value: unknown }
  value?: { format: string; value: unknown }
}

export interface Envelope {
  v: number
  topic: string
  partition: number
  offset: string
  timestamp: number
  timestampType: 'create' | 'log-append'
  key: string | null
  value: string | null
  headers: Array<{ key: string; value: string | null; text?: string }>
  decoded?: { key?: unknown; value?: unknown }
  format?: { key?: string; value?: string }
}

export function toEnvelope(record: EnvelopeRecord, decoded: EnvelopeDecoded = {}): Envelope {
  const envelope: Envelope = {
    v: ENVELOPE_VERSION,
    topic: record.topic,
    partition: record.partition,
    offset: record.offset.toString(),
    timestamp: record.timestampMs,
    timestampType: record.timestampType,
    key: record.key === null ? null : record.key.toString('base64'),
    value: record.value === null ? null : record.value.toString('base64'),
    headers: record.headers.map((h) => {
      if (h.value === null) return { key: h.key, value: null }
      const text = decodeStrictUtf8(h.value)
      return text === undefined ? { key: h.key, value: h.value.toString('base64') } : { key: h.key, value: h.value.toString('base64'), text }
    }),
  }
  if (decoded.key || decoded.value) {
    envelope.decoded = {}
    envelope.format = {}
    if (decoded.key) {
      envelope.decoded.key = decoded.key.value
      envelope.format.key = decoded.key.format
    }
    if (decoded.value) {
      envelope.decoded.value = decoded.value.value
      envelope.format.value = decoded.value.format
    }
  }
  return envelope
}

// bigints are written as JSON numbers with all their digits (see json-codec.ts for why).
const BIGINT_MARK = `\u0000bigint:${randomBytes(6).toString('hex')}:`
const BIGINT_MARKED = new RegExp(`"\\\\u0000bigint:${BIGINT_MARK.slice(8, -1)}:(-?\\d+)"`, 'g')

/** One envelope as a JSON line (with the trailing newline). */
export function envelopeLine(record: EnvelopeRecord, decoded: EnvelopeDecoded = {}): string {
  let sawBigInt = false
  const text = JSON.stringify(toEnvelope(record, decoded), function (this: unknown, key: string, v: unknown) {
    if (typeof v === 'bigint') {
      sawBigInt = true
      return `${BIGINT_MARK}${v.toString()}`
    }
    // Buffer.prototype.toJSON ran already; `this[key]` is the Buffer itself.
    const raw = (this as Record<string, unknown>)[key]
    if (Buffer.isBuffer(raw) || raw instanceof Uint8Array) return Buffer.from(raw as Uint8Array).toString('base64')
    if (v instanceof Map) return Object.fromEntries(v)
    return v
  })
  return `${sawBigInt ? text.replace(BIGINT_MARKED, '$1') : text}\n`
}

/** A line that is not a valid envelope: the message says which field and why. */
export class EnvelopeError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'EnvelopeError'
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

/** Reads an envelope line back into the exact record it was written from. */
export function parseEnvelopeLine(line: string): EnvelopeRecord & { decoded?: Envelope['decoded']; format?: Envelope['format'] } {
  let obj: unknown
  try {
    obj = JSON.parse(line)
  } catch (error) {
    throw new EnvelopeError(`not JSON: ${(error as Error).message}`)
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new EnvelopeError('not a JSON object')
  const e = obj as Partial<Envelope>
  if (e.v !== ENVELOPE_VERSION) throw new EnvelopeError(`unknown envelope version ${String(e.v)} (this recover reads version ${ENVELOPE_VERSION})`)
  if (typeof e.topic !== 'string') throw new EnvelopeError('topic is not a string')
  if (!Number.isInteger(e.partition) || (e.partition as number) < 0) throw new EnvelopeError('partition is not a whole number >= 0')
  if (typeof e.offset !== 'string' || !/^\d+$/.test(e.offset)) throw new EnvelopeError('offset is not a decimal string')
  if (typeof e.timestamp !== 'number' || !Number.isFinite(e.timestamp)) throw new EnvelopeError('timestamp is not epoch milliseconds')
  if (e.timestampType !== 'create' && e.timestampType !== 'log-append') throw new EnvelopeError('timestampType is not create or log-append')
  const bytes = (field: string, v: unknown): Buffer | null => {
    if (v === null) return null
    if (typeof v !== 'string' || !BASE64.test(v)) throw new EnvelopeError(`${field} is not base64 or null`)
    return Buffer.from(v, 'base64')
  }
  if (!Array.isArray(e.headers)) throw new EnvelopeError('headers is not an array')
  const headers = e.headers.map((h, i) => {
    if (typeof h?.key !== 'string') throw new EnvelopeError(`headers[${i}].key is not a string`)
    return { key: h.key, value: bytes(`headers[${i}].value`, h.value) }
  })
  return {
    topic: e.topic,
    partition: e.partition as number,
    offset: BigInt(e.offset),
    timestampMs: e.timestamp,
    timestampType: e.timestampType,
    key: bytes('key', e.key),
    value: bytes('value', e.value),
    headers,
    decoded: e.decoded,
    format: e.format,
  }
}
