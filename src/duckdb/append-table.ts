import { DuckDBInstance, DuckDBTimestampTZValue, type DuckDBAppender, type DuckDBConnection } from '@duckdb/node-api'

/** A column as DuckDB describes it (`VARCHAR`, `BIGINT`, `TIMESTAMP WITH TIME ZONE`, …). */
export interface DuckColumn {
  name: string
  type: string
}

/** One value ready for the Appender, or a reason the row cannot be appended. */
export type AppendValue = string | bigint | number | boolean | Uint8Array | null

const PROGRESS_TABLE = 'recover_replay_checkpoints'

/**
 * A DuckDB file as a replay sink: a landing table filled with the Appender (no key: DuckDB
 * appends several times faster without one; duplicates are found afterwards with GROUP BY),
 * and the replay's progress in a table of the same file, committed in the same transaction as
 * the rows. Only this folder imports DuckDB.
 */
export class DuckAppendTable {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    readonly path: string,
  ) {}

  /** Opens the file, or creates it; its directory must exist (creating folders is the caller's choice, never a side effect). */
  static async open(path: string): Promise<DuckAppendTable> {
    const instance = await DuckDBInstance.create(path)
    return new DuckAppendTable(instance, await instance.connect(), path)
  }

  async describe(table: string): Promise<DuckColumn[] | undefined> {
    const [schema, name] = table.includes('.') ? table.split('.') : ['main', table]
    const reader = await this.connection.runAndReadAll(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ${literal(schema!)} AND table_name = ${literal(name!)} ORDER BY ordinal_position`,
    )
    const rows = reader.getRows() as Array<[string, string]>
    return rows.length === 0 ? undefined : rows.map(([n, t]) => ({ name: n, type: t }))
  }

  async createTable(table: string, columns: DuckColumn[]): Promise<void> {
    await this.connection.run(`CREATE TABLE IF NOT EXISTS ${qualified(table)} (${columns.map((c) => `${quote(c.name)} ${c.type}`).join(', ')})`)
  }

  async ensureProgressTable(): Promise<void> {
    await this.connection.run(
      `CREATE TABLE IF NOT EXISTS ${PROGRESS_TABLE} (replay_id VARCHAR PRIMARY KEY, topic VARCHAR NOT NULL, target VARCHAR NOT NULL, progress VARCHAR NOT NULL, updated_at TIMESTAMPTZ NOT NULL)`,
    )
  }

  async loadProgress(replayId: string): Promise<unknown> {
    const reader = await this.connection.runAndReadAll(`SELECT progress FROM ${PROGRESS_TABLE} WHERE replay_id = ${literal(replayId)}`)
    const row = reader.getRows()[0] as [string] | undefined
    return row ? (JSON.parse(row[0]) as unknown) : undefined
  }

  async saveProgress(replayId: string, topic: string, table: string, progress: unknown): Promise<void> {
    await this.connection.run(
      `INSERT OR REPLACE INTO ${PROGRESS_TABLE} VALUES (${literal(replayId)}, ${literal(topic)}, ${literal(table)}, ${literal(JSON.stringify(progress))}, now())`,
    )
  }

  async begin(): Promise<void> {
    await this.connection.run('BEGIN TRANSACTION')
  }

  async commit(): Promise<void> {
    await this.connection.run('COMMIT')
  }

  async rollback(): Promise<void> {
    await this.connection.run('ROLLBACK').catch(() => undefined)
  }

  /** Appends rows (already converted for each column's type) inside the open transaction. */
  async append(table: string, columns: DuckColumn[], rows: AppendValue[][]): Promise<void> {
    const [schema, name] = table.includes('.') ? table.split('.') : [undefined, table]
    const appender = await this.connection.createAppender(name!, schema)
    const methods = columns.map((c) => appendMethod(c.type))
    try {
      for (const row of rows) {
        for (let j = 0; j < methods.length; j++) {
          const v = row[j]!
          if (v === null) appender.appendNull()
          else methods[j]!(appender, v)
        }
        appender.endRow()
      }
      appender.flushSync()
    } finally {
      appender.closeSync()
    }
  }

  /** Writes a query's rows to a Parquet file (DuckDB's own writer). */
  async copyToParquet(select: string, path: string): Promise<void> {
    await this.connection.run(`COPY (${select}) TO ${literal(path)} (FORMAT parquet)`)
  }

  /** Runs a statement of recover's own making (the S3 sink's staging queries). */
  async run(sql: string): Promise<void> {
    await this.connection.run(sql)
  }

  /** A query's rows, as arrays of values. */
  async rows(sql: string): Promise<unknown[][]> {
    return (await this.connection.runAndReadAll(sql)).getRows() as unknown[][]
  }

  close(): void {
    this.connection.closeSync()
    this.instance.closeSync()
  }
}

type AppendMethod = (a: DuckDBAppender, v: Exclude<AppendValue, null>) => void

/** The Appender call for a column type, chosen once per column rather than per value. */
function appendMethod(type: string): AppendMethod {
  switch (type) {
    case 'BIGINT':
      return (a, v) => a.appendBigInt(BigInt(v as bigint | number))
    case 'INTEGER':
      return (a, v) => a.appendInteger(Number(v))
    case 'DOUBLE':
      return (a, v) => a.appendDouble(Number(v))
    case 'BOOLEAN':
      return (a, v) => a.appendBoolean(Boolean(v))
    case 'BLOB':
      return (a, v) => a.appendBlob(v as Uint8Array)
    case 'TIMESTAMP WITH TIME ZONE':
      // Epoch milliseconds in, microseconds for DuckDB.
      return (a, v) => a.appendTimestampTZ(new DuckDBTimestampTZValue(BigInt(v as bigint | number) * 1000n))
    default:
      return (a, v) => a.appendVarchar(String(v))
  }
}

export function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`
}

function qualified(table: string): string {
  return table.split('.').map(quote).join('.')
}

function quote(name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}
