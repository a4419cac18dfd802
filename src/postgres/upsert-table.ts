import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'

/** A column as the server describes it: `format_type()` text such as `bigint`, `jsonb`, `timestamp with time zone`. */
export interface PgColumn {
  name: string
  type: string
  /**
   * The type without its modifier (`pg_catalog.bpchar` for `character(2)`), what values are
   * cast to: an explicit cast to `character(2)` would cut 'EUR' to 'EU' silently, while the
   * assignment to the column refuses it (22001), which quarantines the row.
   */
  castType?: string
}

/** A row the server refused on its own (a constraint or a value its column cannot hold). */
export interface PgRowRejection {
  index: number
  error: Error & { code?: string }
}

const CONNECT_TIMEOUT_MS = 10_000
const PROGRESS_TABLE = 'recover_replay_checkpoints'

/**
 * The PostgreSQL side of the replay sink, and the only place that talks SQL for it: describe
 * or create the target table, upsert a batch of rows with `unnest` arrays (one statement per
 * batch, no parameter limit), and keep the replay's progress in a table next to it, in the
 * same transaction as the rows. Only this folder imports `pg`.
 */
export class PgUpsertTable {
  private broken: Error | undefined
  /** The savepoint of the last COPY, which went in, is still open (copyInsertText releases it with the next COPY). */
  private copySavepointOpen = false

  private constructor(private readonly client: pg.Client) {}

  static async connect(connection: string): Promise<PgUpsertTable> {
    const client = new pg.Client({ connectionString: connection, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, application_name: 'recover replay' })
    const table = new PgUpsertTable(client)
    // A server that goes away emits 'error' on an idle client: remember it rather than crash;
    // the next query fails with it and the sink decides whether to reconnect.
    client.on('error', (error) => (table.broken = error))
    try {
      await client.connect()
    } catch (error) {
      await client.end().catch(() => undefined)
      throw error
    }
    return table
  }

  private async query(text: string, values?: unknown[]): Promise<pg.QueryResult> {
    if (this.broken) throw this.broken
    return this.client.query(text, values)
  }

  /** The table's columns in order, or undefined when it does not exist. */
  async describe(table: string): Promise<PgColumn[] | undefined> {
    const found = await this.query(`SELECT to_regclass($1)::oid AS oid`, [qualified(table)])
    const oid = (found.rows[0] as { oid: number | null }).oid
    if (oid === null) return undefined
    const result = await this.query(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, quote_ident(n.nspname) || '.' || quote_ident(t.typname) AS "castType"
         FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
      [oid],
    )
    return result.rows as PgColumn[]
  }

  /** The column sets of the table's primary key and unique indexes (what ON CONFLICT can name). */
  async uniqueKeys(table: string): Promise<string[][]> {
    const result = await this.query(
      `SELECT array_agg(a.attname::text ORDER BY a.attname) AS cols
         FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
        WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
        GROUP BY i.indexrelid`,
      [qualified(table)],
    )
    return (result.rows as Array<{ cols: string[] }>).map((r) => r.cols)
  }

  /** CREATE TABLE IF NOT EXISTS with the key as primary key; a concurrent creator wins quietly. */
  async createTable(table: string, columns: PgColumn[], key: string[]): Promise<void> {
    const defs = columns.map((c) => `${quote(c.name)} ${c.type}${key.includes(c.name) ? ' NOT NULL' : ''}`)
    await this.createIfMissing(`CREATE TABLE IF NOT EXISTS ${qualified(table)} (${defs.join(', ')}, PRIMARY KEY (${key.map(quote).join(', ')}))`)
  }

  /** The table that keeps every replay's progress, in the target table's schema. */
  async ensureProgressTable(table: string): Promise<void> {
    await this.createIfMissing(
      `CREATE TABLE IF NOT EXISTS ${progressTable(table)} (replay_id text PRIMARY KEY, topic text NOT NULL, target text NOT NULL, progress jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(), owner_epoch bigint NOT NULL DEFAULT 0)`,
    )
    // A table made by an earlier version has no owner_epoch yet. Looked up first: ALTER TABLE
    // takes an exclusive lock even when there is nothing to add.
    const found = await this.query(`SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = 'owner_epoch' AND NOT attisdropped`, [
      progressTable(table),
    ])
    if (found.rowCount === 0) await this.createIfMissing(`ALTER TABLE ${progressTable(table)} ADD COLUMN IF NOT EXISTS owner_epoch bigint NOT NULL DEFAULT 0`)
  }

  private async createIfMissing(sql: string): Promise<void> {
    try {
      await this.query(sql)
    } catch (error) {
      // Two processes creating the same table at once (replay --scale-out): IF NOT EXISTS is not
      // atomic in PostgreSQL, and the loser gets a unique violation on the catalog.
      const code = (error as { code?: string }).code
      if (code !== '23505' && code !== '42P07' && code !== '42701') throw error
    }
  }

  /**
   * Takes the replay's progress row over (outside any transaction): a new owner epoch fences
   * every earlier writer of this replay, whose next saveProgress then finds a newer epoch. A
   * writer in the middle of committing holds the row, so this waits for that commit and returns
   * the progress it made. Progress is JSON null when the replay has committed nothing yet.
   */
  async claimProgress(table: string, replayId: string, topic: string): Promise<{ epoch: string; progress: unknown }> {
    const result = await this.query(
      `INSERT INTO ${progressTable(table)} AS p (replay_id, topic, target, progress, owner_epoch) VALUES ($1, $2, $3, 'null', 1)
       ON CONFLICT (replay_id) DO UPDATE SET owner_epoch = p.owner_epoch + 1
       RETURNING owner_epoch::text AS epoch, progress`,
      [replayId, topic, table],
    )
    return result.rows[0] as { epoch: string; progress: unknown }
  }

  /** Saves the progress in the open transaction; false when another owner has claimed the replay since `epoch`. */
  async saveProgress(table: string, replayId: string, epoch: string, progress: unknown): Promise<boolean> {
    const result = await this.query(`UPDATE ${progressTable(table)} SET progress = $3, updated_at = now() WHERE replay_id = $1 AND owner_epoch = $2`, [
      replayId,
      epoch,
      JSON.stringify(progress),
    ])
    return result.rowCount === 1
  }

  async begin(): Promise<void> {
    this.copySavepointOpen = false
    await this.query('BEGIN')
  }

  async commit(): Promise<void> {
    this.copySavepointOpen = false
    await this.query('COMMIT')
  }

  async rollback(): Promise<void> {
    this.copySavepointOpen = false
    await this.query('ROLLBACK').catch(() => undefined)
  }

  /**
   * Upserts rows (text per column, cast by the server to each column's type) inside the open
   * transaction. When the statement fails because of the data (SQLSTATE class 22 or 23), the
   * batch is bisected inside savepoints until the rows the server refuses are alone; those are
   * returned and every other row is written. Any other failure is thrown.
   */
  async upsert(table: string, columns: PgColumn[], key: string[], rows: Array<Array<string | null>>): Promise<PgRowRejection[]> {
    const rejected: PgRowRejection[] = []
    if (rows.length === 0) return rejected
    const sql = upsertSql(table, columns, key)
    const attempt = async (indexes: number[]): Promise<void> => {
      await this.query('SAVEPOINT recover_rows')
      try {
        await this.query(
          sql,
          columns.map((_, j) => textArray(rows, j, indexes)),
        )
        await this.query('RELEASE SAVEPOINT recover_rows')
        return
      } catch (error) {
        if (isConnectionError(error) || this.broken) throw error
        await this.query('ROLLBACK TO SAVEPOINT recover_rows')
        await this.query('RELEASE SAVEPOINT recover_rows')
        if (!isDataError(error)) throw error
        if (indexes.length === 1) {
          rejected.push({ index: indexes[0]!, error: error as PgRowRejection['error'] })
          return
        }
      }
      const half = indexes.length >> 1
      await attempt(indexes.slice(0, half))
      await attempt(indexes.slice(half))
    }
    await attempt(rows.map((_, i) => i))
    return rejected.sort((a, b) => a.index - b.index)
  }

  /**
   * Inserts rows with COPY inside the open transaction, all or none: true when every row went
   * in; false when the server refused the data (a key already in the table, a value a column
   * cannot hold), and then nothing of it is written and the caller upserts the rows instead.
   * COPY is several times faster than the upsert: the server inserts rows in bulk and skips the
   * speculative insertion ON CONFLICT needs, so a replay into new keys goes at COPY speed.
   */
  async copyInsert(table: string, columns: PgColumn[], rows: ReadonlyArray<ReadonlyArray<string | null>>): Promise<boolean> {
    if (rows.length === 0) return true
    return this.copyInsertText(table, columns, copyText(rows))
  }

  /**
   * copyInsert of rows already in COPY's text format (whole lines per chunk), read as COPY sends them.
   *
   * The savepoint that makes the COPY all or none is set in the same query as the COPY, and the
   * one of the COPY before (left open when it went in) is released there too: one round trip
   * before the rows go instead of three around them. Each round trip waits for the replay's
   * event loop to come round between the next batch's CPU work, so they were what kept a batch's
   * COPY in flight long after its rows were formatted.
   */
  async copyInsertText(table: string, columns: PgColumn[], text: Iterable<string | Buffer>): Promise<boolean> {
    if (this.broken) throw this.broken
    const release = this.copySavepointOpen ? 'RELEASE SAVEPOINT recover_copy; ' : ''
    this.copySavepointOpen = false
    try {
      const copy = this.client.query(
        copyFrom(`${release}SAVEPOINT recover_copy; COPY ${qualified(table)} (${columns.map((c) => quote(c.name)).join(', ')}) FROM STDIN`),
      )
      await pipeline(Readable.from(text), copy)
      this.copySavepointOpen = true
      return true
    } catch (error) {
      if (isConnectionError(error) || this.broken) throw error
      // Only the COPY refuses data (RELEASE and SAVEPOINT fail otherwise), so the savepoint
      // named here is this COPY's: rolling back to it keeps the batches before. Any other
      // failure leaves the transaction as it is, aborted: the caller fails, nothing is committed.
      if (!isDataError(error)) throw error
      await this.query('ROLLBACK TO SAVEPOINT recover_copy')
      await this.query('RELEASE SAVEPOINT recover_copy')
      return false
    }
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined)
  }
}

/**
 * Rows in COPY's text format (tab-separated, \N for NULL, backslash escapes), in chunks of
 * about 16 KiB: the server parses the first chunks while the next are formatted (on two cores,
 * 1 MiB chunks made a 5000-row batch wait for all of its text first: 15% slower at 1 M rows).
 */
export function* copyText(rows: ReadonlyArray<ReadonlyArray<string | null>>): Generator<string> {
  let chunk = ''
  for (const row of rows) {
    chunk += copyLine(row)
    if (chunk.length >= 1 << 14) {
      yield chunk
      chunk = ''
    }
  }
  if (chunk.length > 0) yield chunk
}

/** One row in COPY's text format, with its line end. */
export function copyLine(row: ReadonlyArray<string | null>): string {
  return `${copyFields([...row]).join('\t')}\n`
}

/** A row's fields in place as COPY's text format writes them: escaped, and NULL as \N. */
export function copyFields(row: Array<string | null>): Array<string | null> {
  for (let j = 0; j < row.length; j++) {
    const v = row[j]
    row[j] = v === null || v === undefined ? COPY_NULL : copyEscaped(v)
  }
  return row
}

/** NULL in COPY's text format. */
export const COPY_NULL = '\\N'

/** Text as a field of COPY's text format: backslash, tab and line breaks escaped. */
export function copyEscaped(v: string): string {
  return COPY_SPECIAL.test(v) ? v.replace(COPY_SPECIALS, (c) => COPY_ESCAPES[c]!) : v
}

/** The rows of COPY text in whole lines (what copyText and copyLine write), read back. */
export function parseCopyText(chunks: Iterable<string | Buffer>): Array<Array<string | null>> {
  const rows: Array<Array<string | null>> = []
  for (const chunk of chunks) {
    const lines = (typeof chunk === 'string' ? chunk : chunk.toString('utf8')).split('\n')
    // Each chunk ends with a line end: the last piece is empty.
    for (let i = 0; i < lines.length - 1; i++) {
      rows.push(lines[i]!.split('\t').map((v) => (v === COPY_NULL ? null : v.includes('\\') ? v.replace(COPY_UNESCAPES, (e) => COPY_UNESCAPED[e]!) : v)))
    }
  }
  return rows
}

const COPY_SPECIAL = /[\\\t\n\r]/
const COPY_SPECIALS = /[\\\t\n\r]/g
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' }
const COPY_UNESCAPES = /\\[\\tnr]/g
const COPY_UNESCAPED: Record<string, string> = { '\\\\': '\\', '\\t': '\t', '\\n': '\n', '\\r': '\r' }

/**
 * `INSERT … SELECT u.c0::type, … FROM unnest($1::text[], …) ON CONFLICT (key) DO UPDATE`: every
 * value travels as text and the server casts it, so a value a column cannot hold fails with a
 * data error (class 22) that bisection pins on its row.
 */
export function upsertSql(table: string, columns: PgColumn[], key: string[]): string {
  const names = columns.map((c) => quote(c.name)).join(', ')
  const casts = columns.map((c, j) => `u.c${j}::${c.castType ?? c.type}`).join(', ')
  const arrays = columns.map((_, j) => `$${j + 1}::text[]`).join(', ')
  const aliases = columns.map((_, j) => `c${j}`).join(', ')
  const others = columns.filter((c) => !key.includes(c.name))
  const onConflict = others.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${others.map((c) => `${quote(c.name)} = EXCLUDED.${quote(c.name)}`).join(', ')}`
  return `INSERT INTO ${qualified(table)} (${names}) SELECT ${casts} FROM unnest(${arrays}) AS u(${aliases}) ON CONFLICT (${key.map(quote).join(', ')}) ${onConflict}`
}

/**
 * Column `j` of the rows at `indexes` as a text[] literal: exactly the text pg sends for a JS
 * array of strings and nulls (NULL, or the text in double quotes with backslashes and double
 * quotes escaped), built in one pass. Handing pg arrays instead costs a transposed copy of the
 * batch and two regular-expression replaces per value, a large share of the client's work.
 */
export function textArray(rows: ReadonlyArray<ReadonlyArray<string | null>>, j: number, indexes: readonly number[]): string {
  let literal = '{'
  for (let k = 0; k < indexes.length; k++) {
    const v = rows[indexes[k]!]![j]
    if (k > 0) literal += ','
    literal += v === null || v === undefined ? 'NULL' : `"${ARRAY_SPECIAL.test(v) ? v.replace(ARRAY_SPECIALS, '\\$&') : v}"`
  }
  return `${literal}}`
}

const ARRAY_SPECIAL = /[\\"]/
const ARRAY_SPECIALS = /[\\"]/g

/** The server went away or could not be reached: worth reconnecting, the data is not to blame. */
export function isConnectionError(error: unknown): boolean {
  const e = error as { code?: string; message?: string } | undefined
  if (!e) return false
  const code = e.code ?? ''
  // 08: connection exception; 57P01-57P03: admin shutdown, crash shutdown, cannot connect now.
  if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03') return true
  if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH'].includes(code)) return true
  return /Connection terminated|connection error and is not queryable|Client was closed|timeout expired/i.test(e.message ?? '')
}

/**
 * A failure caused by the data of some rows: a value its column cannot hold (22), a constraint
 * (23), or two rows the server sees as one key in one statement (21000: keys that differ as
 * text but not once cast, such as ' 1' and '1'), which bisection separates and applies in order.
 */
export function isDataError(error: unknown): boolean {
  const code = (error as { code?: string } | undefined)?.code ?? ''
  return code.startsWith('22') || code.startsWith('23') || code === '21000'
}

/** `public.orders` → "public"."orders"; a name that is one identifier stays one. */
function qualified(table: string): string {
  return table.split('.').map(quote).join('.')
}

function progressTable(table: string): string {
  const dot = table.indexOf('.')
  return dot < 0 ? quote(PROGRESS_TABLE) : `${quote(table.slice(0, dot))}.${quote(PROGRESS_TABLE)}`
}

function quote(name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}
