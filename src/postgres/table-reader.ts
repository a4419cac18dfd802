import pg from 'pg'
import { RecoveryError } from '../errors.js'
import { redactUrl } from '../core/location.js'

/** One sink row as audit compare needs it: the key as text, and the source provenance when the table keeps it. */
export type SinkKeyRow = [key: string | null, partition: number | null, offset: bigint | null]

const CONNECT_TIMEOUT_MS = 10_000

/**
 * Reads a PostgreSQL table for `audit compare`, through a server-side cursor (a batch of rows
 * at a time, so a large table never sits in memory). Only this folder imports `pg`.
 */
export class PostgresTable {
  private constructor(
    private readonly client: pg.Client,
    readonly table: string,
    private readonly display: string,
  ) {}

  static async open(url: string, table: string): Promise<PostgresTable> {
    const display = `${redactUrl(url)} table ${table}`
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, application_name: 'recover audit compare' })
    // An idle connection that dies must not crash the process; queries report their own errors.
    client.on('error', () => undefined)
    try {
      await client.connect()
    } catch (error) {
      await client.end().catch(() => undefined)
      throw unreadable(display, error)
    }
    return new PostgresTable(client, table, display)
  }

  /** The table's column names, in order. */
  async columns(): Promise<string[]> {
    try {
      const result = await this.client.query(`SELECT * FROM ${qualified(this.table)} LIMIT 0`)
      return result.fields.map((f) => f.name)
    } catch (error) {
      throw unreadable(this.display, error)
    }
  }

  /** Key (as text) and provenance columns, `batch` rows at a time, in one read-only transaction. */
  async *rows(columns: { key: string; partition?: string; offset?: string }, batch = 10_000): AsyncGenerator<SinkKeyRow[]> {
    const select = [
      `${quote(columns.key)}::text`,
      columns.partition ? `${quote(columns.partition)}::int` : 'NULL::int',
      columns.offset ? `${quote(columns.offset)}::bigint` : 'NULL::bigint',
    ].join(', ')
    try {
      await this.client.query('BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY')
      await this.client.query(`DECLARE recover_audit NO SCROLL CURSOR FOR SELECT ${select} FROM ${qualified(this.table)}`)
      for (;;) {
        const result = await this.client.query({ text: `FETCH ${batch} FROM recover_audit`, rowMode: 'array' })
        if (result.rows.length === 0) break
        yield (result.rows as Array<[string | null, number | null, string | null]>).map(([k, p, o]) => [k, p, o === null ? null : BigInt(o)])
      }
      await this.client.query('COMMIT')
    } catch (error) {
      await this.client.query('ROLLBACK').catch(() => undefined)
      throw unreadable(this.display, error)
    }
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined)
  }
}

/** `public.orders` → "public"."orders"; a name that is one identifier stays one. */
function qualified(table: string): string {
  return table.split('.').map(quote).join('.')
}

function quote(name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}

function unreadable(display: string, error: unknown): RecoveryError {
  const e = error as { message?: string; code?: string }
  const reason = (e.message ?? String(error)).replace(/\s+/g, ' ').replace(/[.]$/, '')
  return new RecoveryError('AUDIT_SINK_UNREADABLE', `PostgreSQL sink ${display} could not be read: ${reason}${e.code ? ` (SQLSTATE ${e.code})` : ''}.`, {
    nextSteps:
      e.code === '42P01'
        ? ['Check the table name (schema-qualified as ?table=public.orders).']
        : ['Check the URL, the credentials and that the server accepts connections (psql with the same URL).'],
    details: { sink: display, sqlstate: e.code },
    cause: error,
  })
}
