import { existsSync, renameSync, rmSync, statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { DuckAppendTable, type AppendValue, type DuckColumn } from '../duckdb/append-table.js'
import { RecoveryError } from '../errors.js'
import { refuseExistingOutput } from '../files/append-file.js'
import { columnText, inferColumns, jsonText, rowBuilder, type ColumnConverter, type LogicalType } from './value-columns.js'
import type { CommittedProgress, ReplayIdentity, Sink, SinkOpenResult, SinkRecord, SinkRejection, SinkState } from './sink.js'

export const DUCK_TYPES: Record<LogicalType, string> = {
  text: 'VARCHAR',
  bigint: 'BIGINT',
  double: 'DOUBLE',
  boolean: 'BOOLEAN',
  bytes: 'BLOB',
  timestamp: 'TIMESTAMP WITH TIME ZONE',
  json: 'JSON',
}

/** Where a Parquet sink stages its rows until the range is done. */
const STAGED_TABLE = 'replayed'

/**
 * `duckdb:FILE?table=T`: rows appended with DuckDB's Appender to a landing table (a column per
 * value field plus source_topic, source_partition, source_offset; created from the first batch
 * when missing), and the replay's progress committed in the same transaction, in the same
 * file. After kill -9, DuckDB drops the uncommitted batch on reopening and the resumed replay
 * continues from the committed progress: every record is in the table exactly once.
 *
 * `file:out.parquet` is the same, staged in `out.parquet.recover-staging.duckdb`; when the
 * whole range is written, DuckDB writes the Parquet file from it (temp file, then rename) and
 * the staging file is removed.
 *
 * Nothing is created that was not asked for: a missing directory is an error (never created),
 * a missing table needs --create-table (and then the file is created only when that is
 * allowed), a new Parquet replay refuses a file that already has content, and a replay that
 * fails before its first record removes the database file it created.
 */
export class DuckDbSink implements Sink {
  readonly mayDuplicateOnResume = false
  readonly transactional = true
  private db: DuckAppendTable | undefined
  private columns: DuckColumn[] | undefined
  /** A record as a row of `columns`, built once the columns are known. */
  private rowOf: ((r: SinkRecord) => AppendValue[]) | undefined
  private replay: ReplayIdentity | undefined
  private inTransaction = false
  /** This open created the database file (it did not exist): discard() removes it. */
  private createdFile = false

  private constructor(
    private readonly file: string,
    private readonly table: string,
    private readonly parquet: string | undefined,
    private readonly createTable: boolean,
  ) {}

  /** `duckdb:FILE?table=T`; a missing table is created from the first batch only with `createTable` (--create-table). */
  static duckdb(path: string, table: string, options: { createTable?: boolean } = {}): DuckDbSink {
    return new DuckDbSink(resolve(path), table, undefined, options.createTable === true)
  }

  static parquet(path: string): DuckDbSink {
    return new DuckDbSink(`${resolve(path)}.recover-staging.duckdb`, STAGED_TABLE, resolve(path), true)
  }

  get uri(): string {
    return this.parquet ? `file:${this.parquet}` : `duckdb:${this.file}?table=${this.table}`
  }

  async open(resume: SinkState | undefined, replay: ReplayIdentity): Promise<SinkOpenResult> {
    this.replay = replay
    this.requireDirectory()
    if (this.parquet && resume === undefined) {
      await refuseExistingOutput(this.parquet, 'sink')
      // A new Parquet replay starts from empty staging, whatever an abandoned one left.
      for (const f of [this.file, `${this.file}.wal`]) rmSync(f, { force: true })
    }
    if (this.parquet && resume !== undefined && !existsSync(this.file) && existsSync(this.parquet)) return { resent: 0 }
    const existed = existsSync(this.file)
    // A new file cannot hold the table: refuse before creating it.
    if (!existed && !this.createTable) throw this.noTable()
    try {
      this.db = await DuckAppendTable.open(this.file)
      this.createdFile = !existed
      this.useColumns(await this.db.describe(this.table))
    } catch (error) {
      throw this.failed('opening', error)
    }
    // Before the progress table goes in: a refused run leaves the person's file as it was.
    if (!this.columns && !this.createTable) throw this.noTable()
    try {
      await this.db.ensureProgressTable()
      const committed = (await this.db.loadProgress(replay.runId)) as CommittedProgress | undefined
      return { resent: 0, committed }
    } catch (error) {
      throw this.failed('opening', error)
    }
  }

  /** Like the file sinks: the file's directory must exist; it is never created. */
  private requireDirectory(): void {
    const target = this.parquet ?? this.file
    const dir = dirname(target)
    let isDir = false
    try {
      isDir = statSync(dir).isDirectory()
    } catch {
      isDir = false
    }
    if (!isDir) {
      throw new RecoveryError('SINK_FAILED', `The sink file ${target} could not be created: the directory ${dir} does not exist.`, {
        details: { path: target },
        nextSteps: ['Check that the directory exists and is writable, or choose another path.'],
      })
    }
  }

  private noTable(): RecoveryError {
    return new RecoveryError(
      'SINK_TABLE_INVALID',
      `Table ${this.table} does not exist in ${this.file}; create it, or add --create-table to create it from the first records.`,
      {
        details: { sink: this.uri },
      },
    )
  }

  async write(records: SinkRecord[]): Promise<SinkRejection[]> {
    const db = this.db!
    try {
      if (!this.columns) {
        const columns = inferColumns(records, [], 'fields').map((c) => ({ name: c.name, type: DUCK_TYPES[c.type] }))
        await db.createTable(this.table, columns)
        this.useColumns(await db.describe(this.table))
      }
    } catch (error) {
      throw this.failed('creating the table', error)
    }
    const columns = this.columns!
    const rowOf = this.rowOf!
    const rows: AppendValue[][] = []
    const rejected: SinkRejection[] = []
    records.forEach((r, index) => {
      try {
        rows.push(rowOf(r))
      } catch (error) {
        rejected.push({
          index,
          error: Object.assign(new Error(`${(error as Error).message} (table ${this.table} in ${this.file})`), { name: 'DuckDbRowError' }),
        })
      }
    })
    try {
      if (!this.inTransaction) {
        await db.begin()
        this.inTransaction = true
      }
      await db.append(this.table, columns, rows)
    } catch (error) {
      throw this.failed('appending a batch', error)
    }
    return rejected
  }

  private useColumns(columns: DuckColumn[] | undefined): void {
    this.columns = columns
    this.rowOf =
      columns &&
      rowBuilder(
        columns.map((c) => c.name),
        false,
        columns.map(duckConverter),
      )
  }

  async checkpoint(progress?: CommittedProgress): Promise<SinkState> {
    if (progress === undefined || !this.db) return {}
    try {
      if (!this.inTransaction) await this.db.begin()
      await this.db.saveProgress(this.replay!.runId, this.replay!.topic, this.table, progress)
      await this.db.commit()
      this.inTransaction = false
    } catch (error) {
      throw this.failed('committing a batch', error)
    }
    return { batches: progress.batches }
  }

  async finish(): Promise<void> {
    if (!this.parquet || !this.db) return
    const tmp = `${this.parquet}.tmp-${process.pid}`
    try {
      if (this.columns) await this.db.copyToParquet(`SELECT * FROM ${STAGED_TABLE}`, tmp)
      else
        await this.db.copyToParquet(
          `SELECT NULL::VARCHAR AS value, NULL::VARCHAR AS source_topic, NULL::BIGINT AS source_partition, NULL::BIGINT AS source_offset WHERE false`,
          tmp,
        )
      renameSync(tmp, this.parquet)
    } catch (error) {
      rmSync(tmp, { force: true })
      throw this.failed('writing the Parquet file', error)
    }
    this.db.close()
    this.db = undefined
    for (const f of [this.file, `${this.file}.wal`]) rmSync(f, { force: true })
  }

  async close(): Promise<void> {
    if (!this.db) return
    if (this.inTransaction) await this.db.rollback()
    this.db.close()
    this.db = undefined
  }

  /** Closes; removes the database file when this open created it (a Parquet replay's staging file always is). */
  async discard(): Promise<void> {
    await this.close()
    if (!this.createdFile) return
    for (const f of [this.file, `${this.file}.wal`]) rmSync(f, { force: true })
    this.createdFile = false
  }

  private failed(doing: string, error: unknown): RecoveryError {
    const reason = (error as Error).message?.replace(/\s+/g, ' ') ?? String(error)
    return new RecoveryError('SINK_FAILED', `The ${this.parquet ? 'Parquet' : 'DuckDB'} sink ${this.parquet ?? this.file} failed while ${doing}: ${reason}.`, {
      nextSteps: /lock/i.test(reason)
        ? ['Another process has the file open (a DuckDB shell, another replay); close it.']
        : doing === 'opening'
          ? ['Check that the file is a DuckDB database and its directory is writable, or choose another path.']
          : ['Fix the cause: nothing after the last committed batch was written.'],
      details: { sink: this.uri },
      cause: error,
    })
  }
}

/**
 * How a value becomes one for the column's DuckDB type (null stays null), chosen once per
 * column; the converter throws (the row is quarantined) for a value the column cannot hold.
 */
export function duckConverter(column: DuckColumn): ColumnConverter<AppendValue> {
  const convert = duckConversion(column)
  return (v) => (v === null || v === undefined ? null : convert(v))
}

function duckConversion({ name, type }: DuckColumn): (v: unknown) => AppendValue {
  switch (type) {
    case 'JSON':
      return jsonText
    case 'BLOB':
      return duckBlob
    case 'BIGINT':
    case 'INTEGER':
    case 'TIMESTAMP WITH TIME ZONE':
      // Timestamps go to the Appender as epoch milliseconds, like the integers they often are.
      return (v) => duckInteger(v, name, type)
    case 'DOUBLE':
      return (v) => duckDouble(v, name)
    case 'BOOLEAN':
      return (v) => duckBoolean(v, name)
    default:
      // VARCHAR, and the types the Appender is given as text.
      return columnText
  }
}

function duckBlob(v: unknown): AppendValue {
  return Buffer.isBuffer(v) || v instanceof Uint8Array ? v : Buffer.from(String(v), 'utf8')
}

function duckInteger(v: unknown, name: string, type: string): bigint {
  const n =
    v instanceof Date
      ? BigInt(v.getTime())
      : typeof v === 'bigint'
        ? v
        : typeof v === 'number' && Number.isInteger(v)
          ? BigInt(v)
          : typeof v === 'string' && /^-?\d+$/.test(v)
            ? BigInt(v)
            : undefined
  // Out of the column's range, the Appender would fail the whole batch, not this row.
  const [min, max] = INTEGER_RANGES[type] ?? INTEGER_RANGES.BIGINT!
  if (n === undefined || n < min || n > max) throw new Error(`column ${name} is ${type} and cannot hold ${JSON.stringify(jsonText(v)).slice(0, 80)}`)
  return n
}

/** What the Appender takes per integer type; timestamps travel as epoch milliseconds and are stored in microseconds. */
const INTEGER_RANGES: Record<string, [bigint, bigint]> = {
  BIGINT: [-(2n ** 63n), 2n ** 63n - 1n],
  INTEGER: [-(2n ** 31n), 2n ** 31n - 1n],
  'TIMESTAMP WITH TIME ZONE': [-(2n ** 63n - 1n) / 1000n, (2n ** 63n - 1n) / 1000n],
}

function duckDouble(v: unknown, name: string): number {
  const n = typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : Number.NaN
  if (Number.isNaN(n)) throw new Error(`column ${name} is DOUBLE and cannot hold ${jsonText(v).slice(0, 80)}`)
  return n
}

function duckBoolean(v: unknown, name: string): boolean {
  if (typeof v !== 'boolean') throw new Error(`column ${name} is BOOLEAN and cannot hold ${jsonText(v).slice(0, 80)}`)
  return v
}
