import type { RecordView } from '../kafka/record-batch-walker.js'
import type { Preview } from '../codecs/preview.js'
import { encodeJson } from '../codecs/json-codec.js'
import { RecoveryError } from '../errors.js'

/** What `peek --key / --header / --grep` select; every one given must match. */
export interface PeekFilter {
  /** The record key, byte for byte (UTF-8 of the text given). */
  key?: string
  /** A header by name (any value), or by name and exact value. Repeatable: all must be present. */
  headers?: Array<{ name: string; value?: string }>
  /** Text in the key or the value: their UTF-8 text, or a value as decoded (Avro shown as JSON). */
  grep?: string
}

/** Parses one --header: NAME or NAME=VALUE. */
export function parseHeaderFilter(input: string): { name: string; value?: string } {
  const at = input.indexOf('=')
  const name = at < 0 ? input : input.slice(0, at)
  if (name === '')
    throw new RecoveryError('USAGE', `--header ${input} has no header name: write --header NAME or --header NAME=VALUE, e.g. --header app-version=1.6.0.`)
  return at < 0 ? { name } : { name, value: input.slice(at + 1) }
}

export function isFiltering(filter: PeekFilter): boolean {
  return filter.key !== undefined || (filter.headers?.length ?? 0) > 0 || filter.grep !== undefined
}

/**
 * The key and header tests, on a record in place (record-batch-walker.ts): byte comparisons in
 * the fetch response, so records that do not match are never built, let alone decoded.
 */
export function compileViewFilter(filter: PeekFilter): (view: RecordView) => boolean {
  const key = filter.key === undefined ? undefined : Buffer.from(filter.key, 'utf8')
  const headers = (filter.headers ?? []).map((h) => ({
    name: Buffer.from(h.name, 'utf8'),
    value: h.value === undefined ? undefined : Buffer.from(h.value, 'utf8'),
  }))
  return (view) => {
    const bytes = view.bytes
    if (key && (view.keyStart < 0 || !sameBytes(bytes, view.keyStart, view.keyLength, key))) return false
    for (const wanted of headers) if (!hasHeader(view, wanted.name, wanted.value)) return false
    return true
  }
}

/**
 * The --grep test on the raw bytes: the text in the key or the value as they are. Cheap, and
 * what `kcat | grep` sees for text and JSON; decoded text is looked at only for records that
 * fail it and may be Avro.
 */
export function rawContains(key: Buffer | null, value: Buffer | null, text: string): boolean {
  return key?.includes(text, 0, 'utf8') === true || value?.includes(text, 0, 'utf8') === true
}

/** A decoded preview as one line of text (JSON for JSON and Avro, hex for bytes), what --grep also matches. */
export function previewText(p: Preview): string {
  if (p.format === 'null') return 'null'
  if (p.format === 'json' || p.format === 'avro' || p.format === 'json-schema' || p.format === 'protobuf') {
    try {
      return encodeJson(bytesAsHex(p.value)).toString('utf8')
    } catch {
      return String(p.value)
    }
  }
  if (p.format === 'bytes') return `0x${String(p.value)}`
  return String(p.value)
}

function bytesAsHex(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return `0x${value.toString('hex')}`
  if (Array.isArray(value)) return value.map(bytesAsHex)
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = bytesAsHex(v)
    return out
  }
  return value
}

function hasHeader(view: RecordView, name: Buffer, value: Buffer | undefined): boolean {
  const ranges = view.headerRanges
  for (let h = 0; h < view.headerCount; h++) {
    if (!sameBytes(view.bytes, ranges[4 * h]!, ranges[4 * h + 1]!, name)) continue
    if (value === undefined) return true
    const start = ranges[4 * h + 2]!
    if (start >= 0 && sameBytes(view.bytes, start, ranges[4 * h + 3]!, value)) return true
  }
  return false
}

function sameBytes(bytes: Buffer, start: number, length: number, wanted: Buffer): boolean {
  if (length !== wanted.length) return false
  for (let i = 0; i < length; i++) if (bytes[start + i] !== wanted[i]) return false
  return true
}
