import { RecoveryError } from '../errors.js'
import { parseS3Location, type S3Location } from '../s3/s3-location.js'
import { parseLocationAs, type DuckDbLocation, type FileLocation, type KafkaLocation, type LocationRole, type PostgresLocation } from './location.js'
import { OPENSEARCH_SCHEMES, parseOpenSearchLocation, type OpenSearchLocation } from './opensearch-location.js'

/**
 * Where `audit compare` looks for what arrived, in the location grammar every command shares
 * (src/core/location.ts): a PostgreSQL table (a replay sink's &key= and &layout= are allowed
 * and ignored, so the --sink a replay wrote to audits verbatim), a DuckDB table
 * (`duckdb:PATH?table=T` or `duckdb:PATH#T`), another topic, or a file (`file:PATH` or a bare
 * PATH ending .jsonl/.ndjson/.json, .csv/.tsv or .parquet, optionally .gz/.zst), or the objects
 * a replay wrote to S3 (`s3://BUCKET/PREFIX`, the same text as the replay's --sink).
 */
export type AuditSink = PostgresLocation | DuckDbLocation | KafkaLocation | FileLocation | OpenSearchLocation | S3Location

const AUDIT_ROLE: LocationRole<AuditSink> = {
  code: 'BAD_SINK_URI',
  forms:
    'postgres://user@host:5432/db?table=T, duckdb:FILE?table=T (or #T), kafka:TOPIC, opensearch://HOST:9200/INDEX, s3://BUCKET/PREFIX, or a .jsonl/.json/.csv/.parquet file',
  fileRule: 'audit compare reads .jsonl, .ndjson, .json, .csv, .tsv and .parquet files (optionally .gz or .zst)',
  accept: (location) =>
    ['postgres', 'duckdb', 'kafka', 'file', 'opensearch', 's3'].includes(location.kind)
      ? (location as AuditSink)
      : { refused: 'audit compare cannot read a sink plugin' },
  parseOther: (scheme, text) => (OPENSEARCH_SCHEMES.includes(scheme) ? parseOpenSearchLocation(text) : scheme === 's3' ? parseS3Location(text) : undefined),
}

export function parseAuditSink(text: string, flag = '--sink'): AuditSink {
  return parseLocationAs(text, flag, AUDIT_ROLE)
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
export function planSinkColumns(
  columns: readonly string[],
  selector: { kind: 'record-key' } | { kind: 'field'; path: string[] },
  options: { sinkKey?: string; provenance?: string } = {},
): SinkColumnPlan {
  const lower = new Map(columns.map((c) => [c.toLowerCase(), c]))
  const has = (name: string) => lower.get(name.toLowerCase())
  const envelope = ENVELOPE_COLUMNS.every((c) => has(c) !== undefined)

  let provenance: SinkColumnPlan['provenance'] = null
  if (options.provenance !== undefined) {
    const parts = options.provenance.split(',').map((p) => p.trim())
    const found = parts.map(has)
    if (parts.length !== 2 || found.some((f) => f === undefined)) {
      throw new RecoveryError(
        'UNKNOWN_KEY_FIELD',
        `--sink-provenance ${options.provenance} must name two columns of the sink, PARTITION,OFFSET; it has ${columns.join(', ')}.`,
        { details: { availableFields: [...columns] } },
      )
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
      throw new RecoveryError(
        'UNKNOWN_KEY_FIELD',
        `The sink is a recover envelope file without decoded values (written with --value-format bytes), so it has no field ${selector.path.join('.')}; compare with --key key, or replay with --value-format json|avro.`,
      )
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
