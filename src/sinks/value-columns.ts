import type { SinkRecord } from './sink.js'

/**
 * Turning decoded record values into table rows, for the database sinks (PostgreSQL, DuckDB,
 * Parquet). A value that is an object gives one column per field; anything else is one column,
 * `value`. Every row also carries where it came from.
 */

export const PROVENANCE_COLUMNS = ['source_topic', 'source_partition', 'source_offset'] as const

/** The column types we infer, mapped to each database's own by the sink. */
export type LogicalType = 'text' | 'bigint' | 'double' | 'boolean' | 'bytes' | 'timestamp' | 'json'

export interface LogicalColumn {
  name: string
  type: LogicalType
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v) && !(v instanceof Uint8Array) && !(v instanceof Date)
}

/** The type a column needs for this value; undefined for null (it says nothing). */
export function logicalTypeOf(v: unknown): LogicalType | undefined {
  if (v === null || v === undefined) return undefined
  if (typeof v === 'string') return 'text'
  if (typeof v === 'boolean') return 'boolean'
  if (typeof v === 'bigint') return 'bigint'
  if (typeof v === 'number') return Number.isInteger(v) ? 'bigint' : 'double'
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return 'bytes'
  if (v instanceof Date) return 'timestamp'
  return 'json'
}

/** bigint and double meet in double; anything else that disagrees becomes text (json stays json). */
function widen(a: LogicalType | undefined, b: LogicalType | undefined): LogicalType | undefined {
  if (a === undefined) return b
  if (b === undefined || a === b) return a
  if ((a === 'bigint' && b === 'double') || (a === 'double' && b === 'bigint')) return 'double'
  if (a === 'json' || b === 'json') return 'json'
  return 'text'
}

/**
 * The columns of a new table, from the records of the first batch: the value's fields in the
 * order they are first seen (layout `fields`), or one `value` column holding the whole value as
 * JSON (layout `jsonb`, and any value that is not an object) plus the key fields; then the
 * provenance columns. Fields that are null throughout the batch become text.
 */
export function inferColumns(
  records: readonly SinkRecord[],
  key: readonly string[],
  layout: 'fields' | 'jsonb',
  declared?: ReadonlyMap<string, LogicalType>,
): LogicalColumn[] {
  const types = new Map<string, LogicalType | undefined>()
  const objects = records.some((r) => isPlainObject(r.decodedValue))
  const provenance = new Set<string>(PROVENANCE_COLUMNS)
  if (layout === 'fields' && objects) {
    for (const r of records) {
      if (!isPlainObject(r.decodedValue)) continue
      for (const [field, v] of Object.entries(r.decodedValue)) {
        if (provenance.has(field)) continue
        types.set(field, widen(types.get(field), logicalTypeOf(v)))
      }
    }
    if (declared) applyDeclared(types, declared, records, provenance)
  } else {
    for (const k of key) {
      if (provenance.has(k)) continue
      let t: LogicalType | undefined
      for (const r of records) if (isPlainObject(r.decodedValue)) t = widen(t, logicalTypeOf(r.decodedValue[k]))
      types.set(k, t === 'json' ? 'text' : t)
    }
    types.set('value', 'json')
  }
  for (const k of key) if (!types.has(k) && !provenance.has(k)) types.set(k, 'text')
  const columns: LogicalColumn[] = [...types].map(([name, type]) => ({ name, type: type ?? 'text' }))
  columns.push({ name: 'source_topic', type: 'text' }, { name: 'source_partition', type: 'bigint' }, { name: 'source_offset', type: 'bigint' })
  return columns
}

/**
 * A schema's declared types (JSON Schema's, see src/codecs/json-schema-columns.ts) where the
 * batch's values agree: a `number` whose values were all whole is double, not bigint; a
 * `date-time` string whose values all parse is a timestamp; a field that was null or absent in
 * every record takes its declared type (a column for what an older writer left out). Where the
 * values disagree with the schema, the values decide.
 */
function applyDeclared(
  types: Map<string, LogicalType | undefined>,
  declared: ReadonlyMap<string, LogicalType>,
  records: readonly SinkRecord[],
  provenance: ReadonlySet<string>,
): void {
  for (const [field, type] of declared) {
    if (provenance.has(field)) continue
    const seen = types.get(field)
    if (seen === undefined || seen === type) types.set(field, type)
    else if (seen === 'bigint' && type === 'double') types.set(field, 'double')
    else if (seen === 'text' && type === 'timestamp' && records.every((r) => isDateText(fieldOf(r, field)))) types.set(field, 'timestamp')
  }
}

function fieldOf(r: SinkRecord, field: string): unknown {
  return isPlainObject(r.decodedValue) ? r.decodedValue[field] : undefined
}

function isDateText(v: unknown): boolean {
  return v === null || v === undefined || (typeof v === 'string' && !Number.isNaN(Date.parse(v)))
}

/** Reads one column's value from a record, given the record's fields (see fieldsOf). */
export type ColumnReader = (r: SinkRecord, fields: Record<string, unknown> | undefined) => unknown

/** Turns one column's value into what the database takes; throws when the column cannot hold it. */
export type ColumnConverter<T> = (v: unknown) => T

/**
 * The value object when the record's value is one, else undefined. Rows call this once per
 * record and hand the result to every column's reader: isPlainObject is not cheap (Buffer,
 * Uint8Array and Date checks), and a row has ten or so columns.
 */
export function fieldsOf(r: SinkRecord): Record<string, unknown> | undefined {
  const v = r.decodedValue
  return isPlainObject(v) ? v : undefined
}

/**
 * What column `name` reads from a record: a provenance column, the field of that name, or (for
 * a `value` column) the whole value when the table keeps values whole or the value is not an
 * object. Fields with no column are not written: a table may keep only some of them. Decided
 * once per column, not per value.
 */
export function columnReader(name: string, wholeValue: boolean): ColumnReader {
  switch (name) {
    case 'source_topic':
      return (r) => r.source.topic
    case 'source_partition':
      return (r) => r.source.partition
    case 'source_offset':
      return (r) => r.source.offset
  }
  if (name === 'value') return (r, fields) => (wholeValue || fields === undefined ? (r.decodedValue ?? null) : (fields.value ?? null))
  return fieldReader(name)
}

/**
 * Reads field `name` with the name written into the function's code: each column then has a
 * property read of its own, which sees one shape of value object and stays fast, where one
 * shared `fields[name]` sees every column's name and falls back to a slow generic lookup.
 * JSON.stringify makes the name a string literal, whatever it holds.
 */
function fieldReader(name: string): ColumnReader {
  return new Function('r', 'fields', `return fields === undefined ? null : (fields[${JSON.stringify(name)}] ?? null)`) as ColumnReader
}

/** The value of column `name` for one record (columnReader, for a single value). */
export function columnValue(r: SinkRecord, name: string, wholeValue: boolean): unknown {
  return columnReader(name, wholeValue)(r, fieldsOf(r))
}

/**
 * The rows of a table whose columns are known: what each column reads and how its value is
 * converted are chosen once here, so that a row costs one isPlainObject check and two calls per
 * column. A converter that throws rejects the whole record (the caller quarantines it).
 */
export function rowBuilder<T>(names: readonly string[], wholeValue: boolean, converters: ReadonlyArray<ColumnConverter<T>>): (r: SinkRecord) => T[] {
  const readers = names.map((name) => columnReader(name, wholeValue))
  return (r) => {
    const fields = fieldsOf(r)
    // Sized once: growing by push reallocates several times per row.
    const row = new Array<T>(readers.length)
    for (let j = 0; j < readers.length; j++) row[j] = converters[j]!(readers[j]!(r, fields))
    return row
  }
}

/** rowBuilder's rows written into an array the caller keeps and reuses (one per batch, not one per record). */
export function rowWriter<T>(names: readonly string[], wholeValue: boolean, converters: ReadonlyArray<ColumnConverter<T>>): (r: SinkRecord, row: T[]) => void {
  const readers = names.map((name) => columnReader(name, wholeValue))
  return (r, row) => {
    const fields = fieldsOf(r)
    for (let j = 0; j < readers.length; j++) row[j] = converters[j]!(readers[j]!(r, fields))
  }
}

/** JSON text for json columns: bigints as numbers (as strings beyond 2^53), bytes as base64. */
export function jsonText(v: unknown): string {
  return JSON.stringify(v, function (this: Record<string, unknown>, k: string, x: unknown) {
    const raw = this[k]
    if (Buffer.isBuffer(raw) || raw instanceof Uint8Array) return Buffer.from(raw).toString('base64')
    if (typeof x === 'bigint') return x >= BigInt(Number.MIN_SAFE_INTEGER) && x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : x.toString()
    return x
  })
}

/** A value for a text column: strings as they are, scalars printed, dates in ISO 8601, bytes as base64, the rest as JSON. */
export function columnText(v: unknown): string {
  if (typeof v === 'string') return v
  if (typeof v === 'number') return numberText(v)
  if (typeof v === 'bigint' || typeof v === 'boolean') return String(v)
  if (v instanceof Date) return v.toISOString()
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return Buffer.from(v).toString('base64')
  return jsonText(v)
}

const ZEROS = ['', '0', '00', '000', '0000', '00000', '000000', '0000000']

/**
 * String(v), faster for whole numbers beyond 32 bits (epoch milliseconds, ids): V8 prints
 * those through its general double-to-text routine, while two halves below 10^8 go through
 * its integer fast path.
 */
export function numberText(v: number): string {
  if (v > -2147483648 && v < 2147483648) return String(v)
  if (!Number.isSafeInteger(v)) return String(v)
  const negative = v < 0
  const abs = negative ? -v : v
  let high = Math.trunc(abs / 1e8)
  let low = abs - high * 1e8
  // The division can round up across a multiple of 10^8.
  if (low < 0) {
    high--
    low += 1e8
  }
  const lowText = String(low)
  return `${negative ? '-' : ''}${high}${ZEROS[8 - lowText.length]}${lowText}`
}
