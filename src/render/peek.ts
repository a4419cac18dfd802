import type { PeekedRecord, PeekRangeResult, PeekResult } from '../services/peek.js'
import type { Preview } from '../codecs/preview.js'
import { encodeJson } from '../codecs/json-codec.js'
import { renderTable } from './table.js'

const MAX_VALUE_CHARS = 120

export function renderPeek(result: PeekResult, resolvedAt: string): string {
  const lines = [`${result.topic} at ${resolvedAt}:`]
  const starts = result.partitions.map((p) => `p${p.partition}@${p.startOffset ?? `${p.logEndOffset} (log end: no record that late)`}`)
  lines.push(`Start offsets: ${starts.join(', ')}`, '')
  if (result.records.length === 0) {
    lines.push('No records at or after that time.')
    return lines.join('\n')
  }
  lines.push(
    renderTable(
      [{ header: 'TIMESTAMP' }, { header: 'PARTITION', align: 'right' }, { header: 'OFFSET', align: 'right' }, { header: 'KEY' }, { header: 'VALUE' }],
      result.records.map((r) => [r.timestamp, r.partition, r.offset, show(r.key), show(r.value)]),
    ),
  )
  return lines.join('\n')
}

/** A peek by position or with filters: where each partition was read, how much was scanned, then the records. */
export function renderPeekRange(result: PeekRangeResult, resolvedAt: string, filtered: boolean): string {
  const lines = [`${result.topic} from ${resolvedAt}:`]
  const ranges = result.partitions.map((p) => `p${p.partition} ${p.startOffset}..${p.endOffset}`)
  lines.push(`Read offsets [start..end): ${ranges.join(', ')}`)
  if (filtered) {
    const early = result.complete ? '' : ' (stopped early: each partition had --count matches)'
    lines.push(`Scanned ${result.scanned.toLocaleString('en-US')} record(s), ${result.matched.toLocaleString('en-US')} matched${early}.`)
  }
  if (result.records.length < result.matched) lines.push(`Showing the first ${result.records.length} by time; raise --count for more.`)
  lines.push('')
  if (result.records.length === 0) {
    lines.push(filtered ? 'No record in that range matches.' : 'No records in that range.')
    return lines.join('\n')
  }
  lines.push(
    renderTable(
      [{ header: 'TIMESTAMP' }, { header: 'PARTITION', align: 'right' }, { header: 'OFFSET', align: 'right' }, { header: 'KEY' }, { header: 'VALUE' }],
      result.records.map((r) => [r.timestamp, r.partition, r.offset, show(r.key), show(r.value)]),
    ),
  )
  return lines.join('\n')
}

/** One followed record on one line: time, partition@offset, key, value, and headers when it has any. */
export function renderFollowLine(r: PeekedRecord): string {
  const headers = r.headers.length === 0 ? '' : `  [${r.headers.map((h) => `${h.key}=${h.value ?? 'null'}`).join(', ')}]`
  return `${r.timestamp}  p${r.partition}@${r.offset}  ${show(r.key)}  ${show(r.value)}${headers}`
}

function show(p: Preview): string {
  let text: string
  if (p.format === 'null') text = 'null'
  else if (p.format === 'json' || p.format === 'avro' || p.format === 'json-schema' || p.format === 'protobuf') text = stringify(p.value)
  else if (p.format === 'bytes') text = `0x${String(p.value)}`
  else text = String(p.value)
  // A failure shows its kind (and where) before the bytes; the full message is in --json.
  if (p.kind) text = `(${p.kind}${p.position === undefined ? '' : ` at byte ${p.position}`}) ${text}`
  else if (p.error) text = `(${p.error}) ${text}`
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text
}

/** JSON for display: bigints (Avro longs beyond 2^53) as plain numbers, bytes as hex. */
function stringify(value: unknown): string {
  try {
    return encodeJson(bytesAsHex(value)).toString('utf8')
  } catch {
    return String(value)
  }
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
