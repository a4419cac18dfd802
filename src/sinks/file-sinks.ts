import { open } from 'node:fs/promises'
import { resolve } from 'node:path'
import { AppendFile } from '../files/append-file.js'
import { formatCsvRows, parseCsvFirstRow } from '../files/csv.js'
import { envelopeLine, type EnvelopeDecoded } from '../files/envelope.js'
import type { Sink, SinkOpenResult, SinkRecord, SinkRejection, SinkState } from './sink.js'

/** What the sink knows about the formats of the records it writes, for the envelope's decoded form. */
export interface FileSinkFormats {
  key: string
  value: string
}

export function decodedOf(r: SinkRecord, formats: FileSinkFormats): EnvelopeDecoded {
  const out: EnvelopeDecoded = {}
  // Raw bytes have no decoded form beyond the base64 itself.
  if (formats.key !== 'bytes' && r.key !== null) out.key = { format: formats.key, value: r.decodedKey }
  if (formats.value !== 'bytes' && r.value !== null) out.value = { format: formats.value, value: r.decodedValue }
  return out
}

/** `file:out.jsonl`: the lossless envelope, one record per line, provenance = the source record. */
export class JsonlSink implements Sink {
  readonly mayDuplicateOnResume = false
  private file: AppendFile | undefined

  constructor(
    private readonly path: string,
    private readonly formats: FileSinkFormats,
  ) {}

  get uri(): string {
    return `file:${resolve(this.path)}`
  }

  async open(resume?: SinkState): Promise<SinkOpenResult> {
    this.file = await AppendFile.open(this.path, {
      role: 'sink',
      errorCode: 'SINK_FAILED',
      resumeBytes: resume === undefined ? undefined : Number(resume.bytes ?? 0),
    })
    return { truncatedBytes: this.file.truncatedBytes, resent: 0 }
  }

  async write(records: SinkRecord[]): Promise<SinkRejection[]> {
    let text = ''
    for (const r of records) {
      text += envelopeLine(
        { ...r.source, timestampMs: r.timestamp, timestampType: r.timestampType, key: r.key, value: r.value, headers: r.headers },
        decodedOf(r, this.formats),
      )
    }
    await this.file!.append(text)
    return []
  }

  async checkpoint(): Promise<SinkState> {
    return { bytes: await this.file!.sync() }
  }

  async discard(): Promise<void> {
    await this.file?.discard()
  }

  async close(): Promise<void> {
    await this.file?.close()
  }
}

/**
 * `file:out.csv` (fast-csv): one column per field of the record values, in the order the
 * first batch shows them (a value that is not an object is one column, `value`). The columns
 * are fixed by the header row, so a later record with a field that has no column is refused
 * (quarantined, stage sink) rather than written without it; `--reader-schema` gives every
 * Avro record the same fields. Nested values are written as JSON, bytes as base64, null as an
 * empty cell. CSV is not lossless: keep a JSONL sink or the topic for that.
 */
export class CsvSink implements Sink {
  readonly mayDuplicateOnResume = false
  private file: AppendFile | undefined
  private columns: string[] | undefined

  constructor(private readonly path: string) {}

  get uri(): string {
    return `file:${resolve(this.path)}`
  }

  async open(resume?: SinkState): Promise<SinkOpenResult> {
    const resumeBytes = resume === undefined ? undefined : Number(resume.bytes ?? 0)
    this.file = await AppendFile.open(this.path, { role: 'sink', errorCode: 'SINK_FAILED', resumeBytes })
    if (resumeBytes !== undefined && resumeBytes > 0) {
      const fh = await open(this.file.path, 'r')
      try {
        const head = Buffer.alloc(Math.min(resumeBytes, 1 << 20))
        await fh.read(head, 0, head.length, 0)
        this.columns = await parseCsvFirstRow(head.toString('utf8'))
      } finally {
        await fh.close()
      }
    }
    return { truncatedBytes: this.file.truncatedBytes, resent: 0 }
  }

  async write(records: SinkRecord[]): Promise<SinkRejection[]> {
    const rows: string[][] = []
    const rejected: SinkRejection[] = []
    if (!this.columns && records.length > 0) {
      this.columns = csvColumnsOf(records)
      rows.push(this.columns)
    }
    const cellsOf = csvRowBuilder(this.columns ?? [], this.path)
    records.forEach((r, index) => {
      try {
        rows.push(cellsOf(r))
      } catch (error) {
        rejected.push({ index, error: error as Error })
      }
    })
    await this.file!.append(await formatCsvRows(rows))
    return rejected
  }

  async checkpoint(): Promise<SinkState> {
    return { bytes: await this.file!.sync() }
  }

  async discard(): Promise<void> {
    await this.file?.discard()
  }

  async close(): Promise<void> {
    await this.file?.close()
  }
}

/** The CSV columns of a first batch: the value fields in the order first seen (`value` for a value that is not an object). */
export function csvColumnsOf(records: readonly SinkRecord[]): string[] {
  const seen = new Set<string>()
  for (const r of records) for (const f of fieldsOf(r.decodedValue)) seen.add(f)
  return [...seen]
}

/**
 * A record's CSV cells in the columns' order (the file sink's and the S3 sink's); it throws a
 * CsvColumnError, which rejects the record, when the value has a field `where` has no column for.
 */
export function csvRowBuilder(columns: readonly string[], where: string): (r: SinkRecord) => string[] {
  const known = new Set(columns)
  return (r) => {
    const fields = fieldsOf(r.decodedValue)
    const extra = fields.filter((f) => !known.has(f))
    if (extra.length > 0) {
      throw Object.assign(
        new Error(
          `The value has field${extra.length > 1 ? 's' : ''} ${extra.join(', ')}, which ${where} has no column for (its columns are ${columns.join(', ')}, from the first batch).`,
        ),
        { name: 'CsvColumnError' },
      )
    }
    const v = r.decodedValue
    return isPlainObject(v) ? columns.map((c) => cell(v[c])) : columns.map((c) => (c === 'value' ? cell(v) : ''))
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v) && !(v instanceof Uint8Array) && !(v instanceof Date)
}

function fieldsOf(v: unknown): string[] {
  // A tombstone (null value) is a row of empty cells, whatever the columns.
  if (v === null || v === undefined) return []
  return isPlainObject(v) ? Object.keys(v) : ['value']
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return ''
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v)
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return Buffer.from(v).toString('base64')
  if (v instanceof Date) return v.toISOString()
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x))
}
