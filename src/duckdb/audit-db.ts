import { randomUUID } from 'node:crypto'
import { mkdirSync, rmdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { DuckDBInstance, type DuckDBAppender, type DuckDBConnection, type DuckDBValue, type JS } from '@duckdb/node-api'
import { RecoveryError } from '../errors.js'

/**
 * The audit's DuckDB: an in-memory database for the rows of one run (spilling to a temporary
 * directory past `memoryLimit`), and, attached as `history`, the audit file that keeps every
 * run. Only this folder imports DuckDB.
 */

/** One record of a scanned range: what an audit needs, never the payload itself. */
export interface ScanRow {
  partition: number
  offset: bigint
  timestampMs: number
  /** The audit key as text; null when the record has none (null key, field absent, value undecodable). */
  key: string | null
  /** 64-bit content hashes (src/core/content-hash.ts). */
  valueHash: bigint | null
  recordHash: bigint
  /** Key + value + header bytes. */
  size: number
  /** The decode failure kind, when the value could not be decoded. */
  problem: string | null
  problemDetail: string | null
}

export const SCAN_COLUMNS = `partition INTEGER, "offset" BIGINT, ts BIGINT, key VARCHAR, value_hash BIGINT, record_hash BIGINT, size INTEGER, problem VARCHAR, problem_detail VARCHAR`

export interface AuditDatabaseOptions {
  /** DuckDB's memory_limit for the run's rows, e.g. "1GB". Default 256MB: beyond it DuckDB spills to the temp directory, so memory stays flat in the range size. */
  memoryLimit?: string
  /** Where DuckDB spills past the limit. Default: a folder under the system temp directory. */
  tempDirectory?: string
  /** Scan rows kept in memory; a longer range moves the run's tables to a temporary file. Default: memoryLimit / 200 bytes. */
  rowsInMemory?: number
}

export type Row = Record<string, JS>

/** Bytes a scan row takes in DuckDB with room for the analysis: a range of more rows than memory_limit / this goes to disk. */
const BYTES_PER_ROW_IN_MEMORY = 200

export class AuditDatabase {
  private historyPath: string | undefined
  private diskPath: string | undefined

  private constructor(
    private readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
    private readonly tempDirectory: string,
    /** The temp directory is ours (not --given): removed at close when empty. */
    private readonly ownsTempDirectory: boolean,
    /** How many scan rows the run keeps in memory before its tables move to a file. */
    readonly rowsInMemory: number,
  ) {}

  static async open(options: AuditDatabaseOptions = {}): Promise<AuditDatabase> {
    const memoryLimit = options.memoryLimit ?? '256MB'
    const tempDirectory = options.tempDirectory ?? join(tmpdir(), `recover-duckdb-${process.pid}`)
    try {
      const instance = await DuckDBInstance.create(':memory:', {
        memory_limit: memoryLimit,
        temp_directory: tempDirectory,
        // Order of inserted rows is never relied on: let DuckDB parallelise freely.
        preserve_insertion_order: 'false',
      })
      const rowsInMemory = options.rowsInMemory ?? Math.floor((parseByteSize(memoryLimit) ?? 256e6) / BYTES_PER_ROW_IN_MEMORY)
      return new AuditDatabase(instance, await instance.connect(), tempDirectory, options.tempDirectory === undefined, rowsInMemory)
    } catch (error) {
      throw new RecoveryError('AUDIT_DB_FAILED', `DuckDB could not start: ${reason(error)}.`, { cause: error })
    }
  }

  /** Attaches the audit history file (created with its folder when missing) as `history`. */
  async attachHistory(path: string, options: { readOnly?: boolean } = {}): Promise<void> {
    try {
      if (!options.readOnly) mkdirSync(dirname(path), { recursive: true })
      await this.connection.run(`ATTACH ${literal(path)} AS history${options.readOnly ? ' (READ_ONLY)' : ''}`)
      this.historyPath = path
    } catch (error) {
      throw new RecoveryError('AUDIT_DB_FAILED', `The audit database ${path} could not be opened: ${reason(error)}.`, {
        nextSteps: /lock/i.test(reason(error))
          ? ['Another process has the file open (a running audit, a DuckDB shell); wait for it, or pass another --db.']
          : ['Check that the folder is writable, or pass another --db FILE.'],
        details: { db: path },
        cause: error,
      })
    }
  }

  get history(): string | undefined {
    return this.historyPath
  }

  /**
   * Makes a temporary DuckDB file (removed at close) the default database for the tables
   * created from now on. The rows of an in-memory table stay in memory whatever memory_limit
   * says; a file's are paged out, so a range of any size audits in the same memory. Slower,
   * so only for ranges that need it (`rowsInMemory`).
   */
  async moveTablesToDisk(): Promise<string> {
    if (this.diskPath) return this.diskPath
    mkdirSync(this.tempDirectory, { recursive: true })
    const path = join(this.tempDirectory, `run-${randomUUID()}.duckdb`)
    await this.run(`ATTACH ${literal(path)} AS run_on_disk`)
    await this.run('USE run_on_disk')
    this.diskPath = path
    return path
  }

  /** A fresh table with the scan columns, and an appender that flushes every `chunkRows` rows (64 Ki: a few MB held, and a quarter less time in flushes than 2 Ki). */
  async createScan(table: string, chunkRows = 65_536): Promise<ScanWriter> {
    await this.run(`CREATE OR REPLACE TABLE ${table} (${SCAN_COLUMNS})`)
    return new ScanWriter(await this.connection.createAppender(table), chunkRows, (error) => this.translate(error))
  }

  /** A fresh `sink_rows` table (key, source partition, source offset) and an appender for it. */
  async createSinkRows(table = 'sink_rows', chunkRows = 65_536): Promise<SinkRowWriter> {
    await this.run(`CREATE OR REPLACE TABLE ${table} (${SINK_COLUMNS})`)
    return new SinkRowWriter(await this.connection.createAppender(table), chunkRows)
  }

  async run(sql: string, values?: DuckDBValue[] | Record<string, DuckDBValue>): Promise<void> {
    try {
      await this.connection.run(sql, values)
    } catch (error) {
      throw this.translate(error)
    }
  }

  async all(sql: string, values?: DuckDBValue[] | Record<string, DuckDBValue>): Promise<Row[]> {
    try {
      const reader = await this.connection.runAndReadAll(sql, values)
      return reader.getRowObjectsJS()
    } catch (error) {
      throw this.translate(error)
    }
  }

  async one(sql: string, values?: DuckDBValue[] | Record<string, DuckDBValue>): Promise<Row> {
    const rows = await this.all(sql, values)
    return rows[0] ?? {}
  }

  /** Rows of a query a chunk at a time (about 2048 rows), for reports that may be large. */
  async *stream(sql: string, values?: DuckDBValue[] | Record<string, DuckDBValue>): AsyncGenerator<Row[]> {
    let result
    try {
      result = await this.connection.stream(sql, values)
    } catch (error) {
      throw this.translate(error)
    }
    for await (const rows of result.yieldRowObjectJs()) yield rows
  }

  close(): void {
    try {
      this.connection.closeSync()
    } catch {
      // already closed
    }
    try {
      this.instance.closeSync()
    } catch {
      // already closed
    }
    if (this.diskPath) for (const path of [this.diskPath, `${this.diskPath}.wal`]) rmSync(path, { force: true })
    if (this.ownsTempDirectory) {
      try {
        rmdirSync(this.tempDirectory)
      } catch {
        // absent, or DuckDB still has files there
      }
    }
  }

  private translate(error: unknown): RecoveryError {
    if (error instanceof RecoveryError) return error
    const text = reason(error)
    if (/out of memory|memory limit|failed to allocate/i.test(text)) {
      return new RecoveryError('AUDIT_DB_FAILED', `DuckDB ran out of memory for this audit: ${text.split(/\s*Possible solutions:/)[0]!.replace(/\.$/, '')}.`, {
        nextSteps: ['Audit a smaller range (--from/--to), or raise the limit with RECOVER_DUCKDB_MEMORY=4GB.'],
        cause: error,
      })
    }
    return new RecoveryError('AUDIT_DB_FAILED', `DuckDB failed${this.historyPath ? ` (history ${this.historyPath})` : ''}: ${text}.`, { cause: error })
  }
}

/** Appends scan rows through DuckDB's Appender, flushed in chunks so memory stays flat. */
export class ScanWriter {
  private pending = 0
  rows = 0

  constructor(
    private readonly appender: DuckDBAppender,
    private readonly chunkRows: number,
    private readonly translate: (error: unknown) => RecoveryError,
  ) {}

  append(row: ScanRow): void {
    try {
      this.appendRow(row)
    } catch (error) {
      // Out of memory while appending is the user's limit, not a bug.
      throw this.translate(error)
    }
  }

  private appendRow(row: ScanRow): void {
    const a = this.appender
    a.appendInteger(row.partition)
    a.appendBigInt(row.offset)
    a.appendBigInt(BigInt(row.timestampMs))
    if (row.key === null) a.appendNull()
    else a.appendVarchar(row.key)
    if (row.valueHash === null) a.appendNull()
    else a.appendBigInt(row.valueHash)
    a.appendBigInt(row.recordHash)
    a.appendInteger(row.size)
    if (row.problem === null) a.appendNull()
    else a.appendVarchar(row.problem)
    if (row.problemDetail === null) a.appendNull()
    else a.appendVarchar(row.problemDetail)
    a.endRow()
    this.rows++
    if (++this.pending >= this.chunkRows) this.flush()
  }

  flush(): void {
    if (this.pending === 0) return
    try {
      this.appender.flushSync()
    } catch (error) {
      throw this.translate(error)
    }
    this.pending = 0
  }

  close(): void {
    try {
      this.appender.closeSync()
    } catch (error) {
      throw this.translate(error)
    }
    this.pending = 0
  }
}

export const SINK_COLUMNS = `key VARCHAR, source_partition INTEGER, source_offset BIGINT`

/** Appends sink rows (from PostgreSQL) through the Appender, in chunks. */
export class SinkRowWriter {
  private pending = 0
  rows = 0

  constructor(
    private readonly appender: DuckDBAppender,
    private readonly chunkRows: number,
  ) {}

  append(key: string | null, partition: number | null, offset: bigint | null): void {
    const a = this.appender
    if (key === null) a.appendNull()
    else a.appendVarchar(key)
    if (partition === null) a.appendNull()
    else a.appendInteger(partition)
    if (offset === null) a.appendNull()
    else a.appendBigInt(offset)
    a.endRow()
    this.rows++
    if (++this.pending >= this.chunkRows) {
      this.appender.flushSync()
      this.pending = 0
    }
  }

  close(): void {
    this.appender.closeSync()
  }
}

/** "256MB", "4GB", "1GiB", "512 KB" as bytes; undefined when it is not a size DuckDB would read that way. */
export function parseByteSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb|kib|mib|gib|tib)?\s*$/i.exec(text)
  if (!m) return undefined
  const unit = (m[2] ?? 'b').toLowerCase()
  const factor: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 }
  return Number(m[1]) * factor[unit]!
}

/** A SQL string literal. */
export function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`
}

/** A SQL identifier, quoted. */
export function identifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}

export function reason(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error)
  return text.replace(/\s+/g, ' ').trim().replace(/[.]$/, '')
}

/** A DuckDB count/sum (bigint) or null as a number. */
export function num(value: JS | undefined): number {
  if (value === null || value === undefined) return 0
  return typeof value === 'bigint' ? Number(value) : Number(value)
}

/** A DuckDB BIGINT offset as bigint. */
export function big(value: JS | undefined): bigint {
  if (typeof value === 'bigint') return value
  if (typeof value === 'number') return BigInt(value)
  return 0n
}
