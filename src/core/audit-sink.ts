import { RecoveryError } from '../errors.js'

/**
 * Where `audit compare` looks for what arrived. Parsed once at the edge:
 * - `postgres://user@host:5432/db?table=T` (or `postgresql://`): a PostgreSQL table;
 * - `duckdb:PATH?table=T` (or `duckdb:PATH#T`): a table of a DuckDB file;
 * - `kafka:TOPIC`: another topic, keyed the same way as the source;
 * - `file:PATH` or a bare PATH ending .jsonl/.ndjson/.json, .csv or .parquet.
 */
export type AuditSink =
  | { kind: 'postgres'; url: string; table: string; display: string }
  | { kind: 'duckdb'; path: string; table: string; display: string }
  | { kind: 'kafka'; topic: string; display: string }
  | { kind: 'file'; path: string; format: 'json' | 'csv' | 'parquet'; display: string }

const FORMS = 'postgres://user@host:5432/db?table=T, duckdb:FILE?table=T, kafka:TOPIC, or a .jsonl/.json/.csv/.parquet file'

export function parseAuditSink(input: string): AuditSink {
  const text = input.trim()
  if (/^postgres(ql)?:\/\//i.test(text)) {
    let url: URL
    try {
      url = new URL(text)
    } catch {
      throw new RecoveryError('BAD_SINK_URI', `--sink ${redactUrl(text)} is not a valid PostgreSQL URL; use ${FORMS}.`)
    }
    const table = url.searchParams.get('table')
    if (!table) throw new RecoveryError('BAD_SINK_URI', `--sink ${redactUrl(text)} names no table; add ?table=NAME (schema-qualified as ?table=public.orders).`)
    url.searchParams.delete('table')
    return { kind: 'postgres', url: url.toString(), table, display: `${redactUrl(url.toString())}${url.search ? '&' : '?'}table=${table}` }
  }
  const duck = /^duckdb:(.+)$/i.exec(text)
  if (duck) {
    const m = /^(.*?)(?:\?table=|#)([^?#]+)$/.exec(duck[1]!)
    if (!m || m[1] === '') throw new RecoveryError('BAD_SINK_URI', `--sink ${text} names no table; use duckdb:FILE?table=NAME.`)
    return { kind: 'duckdb', path: m[1]!, table: m[2]!, display: text }
  }
  const kafka = /^kafka:(.+)$/i.exec(text)
  if (kafka) return { kind: 'kafka', topic: kafka[1]!, display: text }
  const path = text.replace(/^file:/i, '')
  const ext = /\.(jsonl|ndjson|json|csv|tsv|parquet)(\.gz|\.zst)?$/i.exec(path)?.[1]?.toLowerCase()
  if (path !== '' && ext) {
    const format = ext === 'parquet' ? 'parquet' : ext === 'csv' || ext === 'tsv' ? 'csv' : 'json'
    return { kind: 'file', path, format, display: `file:${path}` }
  }
  throw new RecoveryError('BAD_SINK_URI', `--sink ${text} is not a sink audit compare can read; use ${FORMS}.`)
}

/** A URL with its password replaced, for messages and history. */
export function redactUrl(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, '$1:***@')
}

/** How the sink's key (and provenance) is read from its columns. */
export interface SinkColumnPlan {
  key: { kind: 'column'; path: string[] } | { kind: 'envelope-key' } | { kind: 'envelope-field'; path: string[] }
  /** The source partition/offset columns, when the sink keeps them. */
  provenance: { partition: string; offset: string } | null
  /** The sink is recover's lossless JSONL envelope (replay's file sink): provenance is its partition/offset. */
  envelope: boolean
  /** The key column as shown to people. */
  keyColumn: string
}

const ENVELOPE_COLUMNS = ['v', 'topic', 'partition', 'offset', 'key', 'value', 'headers']
const PROVENANCE_GUESSES: Array<[string, string]> = [
  ['source_partition', 'source_offset'],
  ['kafka_partition', 'kafka_offset'],
  ['__partition', '__offset'],
]

/**
 * Chooses the sink columns: `--sink-key` when given, else the audit key's own name (the field
 * path, or `key`); provenance from `--sink-provenance P,O`, else source_partition/source_offset
 * (or kafka_partition/kafka_offset) when both exist. Columns compare case-insensitively, as
 * SQL does. A key column the sink lacks is UNKNOWN_KEY_FIELD, naming the columns it has.
 */
export function planSinkColumns(columns: readonly string[], selector: { kind: 'record-key' } | { kind: 'field'; path: string[] }, options: { sinkKey?: string; provenance?: string } = {}): SinkColumnPlan {
  const lower = new Map(columns.map((c) => [c.toLowerCase(), c]))
  const has = (name: string) => lower.get(name.toLowerCase())
  const envelope = ENVELOPE_COLUMNS.every((c) => has(c) !== undefined)

  let provenance: SinkColumnPlan['provenance'] = null
  if (options.provenance !== undefined) {
    const parts = options.provenance.split(',').map((p) => p.trim())
    const found = parts.map(has)
    if (parts.length !== 2 || found.some((f) => f === undefined)) {
      throw new RecoveryError('UNKNOWN_KEY_FIELD', `--sink-provenance ${options.provenance} must name two columns of the sink, PARTITION,OFFSET; it has ${columns.join(', ')}.`, { details: { availableFields: [...columns] } })
    }
    provenance = { partition: found[0]!, offset: found[1]! }
  } else if (envelope) provenance = { partition: has('partition')!, offset: has('offset')! }
  else {
    const guess = PROVENANCE_GUESSES.find(([p, o]) => has(p) && has(o))
    if (guess) provenance = { partition: has(guess[0])!, offset: has(guess[1])! }
  }

  if (options.sinkKey !== undefined) {
    const path = options.sinkKey.split('.')
    const first = has(path[0]!)
    if (!first) throw unknownColumn(`--sink-key ${options.sinkKey}`, columns)
    return { key: { kind: 'column', path: [first, ...path.slice(1)] }, provenance, envelope, keyColumn: options.sinkKey }
  }
  if (envelope) {
    if (selector.kind === 'record-key') return { key: { kind: 'envelope-key' }, provenance, envelope, keyColumn: 'key (base64)' }
    if (!has('decoded')) {
      throw new RecoveryError('UNKNOWN_KEY_FIELD', `The sink is a recover envelope file without decoded values (written with --value-format bytes), so it has no field ${selector.path.join('.')}; compare with --key key, or replay with --value-format json|avro.`)
    }
    return { key: { kind: 'envelope-field', path: selector.path }, provenance, envelope, keyColumn: `decoded.value.${selector.path.join('.')}` }
  }
  const path = selector.kind === 'record-key' ? ['key'] : selector.path
  const first = has(path[0]!)
  // A flat column named like the whole dotted path (a table with a column "customer.id") wins.
  const flat = path.length > 1 ? has(path.join('.')) : undefined
  if (flat) return { key: { kind: 'column', path: [flat] }, provenance, envelope, keyColumn: flat }
  if (!first) throw unknownColumn(`The sink key ${path.join('.')} (from --key; choose another with --sink-key)`, columns)
  return { key: { kind: 'column', path: [first, ...path.slice(1)] }, provenance, envelope, keyColumn: path.join('.') }
}

function unknownColumn(what: string, columns: readonly string[]): RecoveryError {
  return new RecoveryError('UNKNOWN_KEY_FIELD', `${what} is not a column of the sink; it has ${columns.join(', ')}.`, {
    nextSteps: ['Name the sink column that holds the key with --sink-key COLUMN.'],
    details: { availableFields: [...columns] },
  })
}
