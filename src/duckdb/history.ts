import { resolve } from 'node:path'
import { AuditDatabase, num, type AuditDatabaseOptions, type Row } from './audit-db.js'

/**
 * The audit history: one row per audit run in the audit DuckDB file (attached as `history`),
 * so nightly runs build a trend per topic. Counts a kind of audit does not measure are NULL
 * (a duplicates run has no "missing"), so trends never mix "zero" with "not measured".
 */

/** 2: window_from and window_to (added to version 1 files when a run is recorded). */
export const HISTORY_SCHEMA_VERSION = 2

export interface AuditRunRecord {
  runId: string
  audit: 'duplicates' | 'compare'
  topic: string
  startedAt: string
  elapsedMs: number
  key: string
  within: string | null
  sink: string | null
  range: unknown
  /** --from and --to as the run resolved them (times as UTC instants). */
  windowFrom: string
  windowTo: string
  records: number
  distinctKeys: number | null
  duplicateKeys: number | null
  extraCopies: number | null
  identical: number | null
  sameValue: number | null
  changed: number | null
  valueDuplicates: number | null
  undecodable: number
  noKey: number
  missing: number | null
  twice: number | null
  onlyInSink: number | null
  lost: number | null
  /** `--fail-on` conditions this run exceeded, as written (`duplicates>0`). */
  exceeded: string[]
  result: unknown
}

const COLUMNS: Array<[keyof AuditRunRecord, string, string]> = [
  ['runId', 'run_id', 'VARCHAR NOT NULL'],
  ['audit', 'audit', 'VARCHAR NOT NULL'],
  ['topic', 'topic', 'VARCHAR NOT NULL'],
  ['startedAt', 'started_at', 'TIMESTAMPTZ NOT NULL'],
  ['elapsedMs', 'elapsed_ms', 'BIGINT'],
  ['key', 'key', 'VARCHAR'],
  ['within', 'within', 'VARCHAR'],
  ['sink', 'sink', 'VARCHAR'],
  ['range', 'range_json', 'VARCHAR'],
  ['records', 'records', 'BIGINT'],
  ['distinctKeys', 'distinct_keys', 'BIGINT'],
  ['duplicateKeys', 'duplicate_keys', 'BIGINT'],
  ['extraCopies', 'extra_copies', 'BIGINT'],
  ['identical', 'identical', 'BIGINT'],
  ['sameValue', 'same_value', 'BIGINT'],
  ['changed', 'changed', 'BIGINT'],
  ['valueDuplicates', 'value_duplicates', 'BIGINT'],
  ['undecodable', 'undecodable', 'BIGINT'],
  ['noKey', 'no_key', 'BIGINT'],
  ['missing', 'missing', 'BIGINT'],
  ['twice', 'twice', 'BIGINT'],
  ['onlyInSink', 'only_in_sink', 'BIGINT'],
  ['lost', 'lost', 'BIGINT'],
  ['exceeded', 'exceeded', 'VARCHAR'],
  ['result', 'result_json', 'VARCHAR'],
  ['windowFrom', 'window_from', 'VARCHAR'],
  ['windowTo', 'window_to', 'VARCHAR'],
]

/** Columns added after version 1: files written before them get them when a run is next recorded. */
const ADDED_COLUMNS = ['window_from', 'window_to']

export async function ensureHistorySchema(db: AuditDatabase): Promise<void> {
  await db.run(`CREATE TABLE IF NOT EXISTS history.audit_meta (name VARCHAR PRIMARY KEY, value VARCHAR)`)
  await db.run(`INSERT INTO history.audit_meta VALUES ('schema_version', '${HISTORY_SCHEMA_VERSION}') ON CONFLICT DO UPDATE SET value = excluded.value`)
  await db.run(`CREATE TABLE IF NOT EXISTS history.audit_runs (${COLUMNS.map(([, c, t]) => `${c} ${t}`).join(', ')})`)
  for (const column of ADDED_COLUMNS) await db.run(`ALTER TABLE history.audit_runs ADD COLUMN IF NOT EXISTS ${column} VARCHAR`)
}

/** Appends one run (JSON columns are written with bigints as decimal strings). */
export async function recordAuditRun(db: AuditDatabase, run: AuditRunRecord): Promise<void> {
  const json = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x))
  const values = COLUMNS.map(([field]) => {
    const v = run[field]
    if (field === 'range' || field === 'result') return json(v)
    if (field === 'exceeded') return (v as string[]).join(',')
    if (typeof v === 'number') return BigInt(Math.round(v))
    return v as string | null
  })
  await db.run(
    `INSERT INTO history.audit_runs (${COLUMNS.map(([, c]) => c).join(', ')}) VALUES (${COLUMNS.map((_, i) => (COLUMNS[i]![1] === 'started_at' ? `$${i + 1}::TIMESTAMPTZ` : `$${i + 1}`)).join(', ')})`,
    values,
  )
}

export interface HistoryRun {
  runId: string
  audit: 'duplicates' | 'compare'
  startedAt: string
  elapsedMs: number
  key: string
  sink: string | null
  /** The audited window (null for runs recorded before it was kept). */
  windowFrom: string | null
  windowTo: string | null
  records: number
  duplicateKeys: number | null
  extraCopies: number | null
  identical: number | null
  changed: number | null
  undecodable: number
  noKey: number
  missing: number | null
  twice: number | null
  onlyInSink: number | null
  lost: number | null
  exceeded: string[]
}

export interface TopicHistory {
  topic: string
  runs: number
  firstRunAt: string
  lastRunAt: string
  /** The most recent runs, newest first. */
  recent: HistoryRun[]
}

/** Runs per topic (one topic or all), the newest `limit` of each, newest first. */
export async function readHistory(db: AuditDatabase, options: { topic?: string; limit: number }): Promise<TopicHistory[]> {
  const exists = await db.one(`SELECT count(*) AS n FROM duckdb_tables() WHERE database_name = 'history' AND table_name = 'audit_runs'`)
  if (num(exists.n) === 0) return []
  const where = options.topic === undefined ? '' : 'WHERE topic = $1'
  const params = options.topic === undefined ? undefined : [options.topic]
  const topics = await db.all(
    `SELECT topic, count(*) AS runs, min(started_at) AS first_at, max(started_at) AS last_at FROM history.audit_runs ${where} GROUP BY topic ORDER BY topic`,
    params,
  )
  const runs = await db.all(
    `SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY topic ORDER BY started_at DESC, run_id) AS n FROM history.audit_runs ${where}) WHERE n <= ${Math.max(1, Math.trunc(options.limit))} ORDER BY topic, started_at DESC, run_id`,
    params,
  )
  return topics.map((t) => ({
    topic: String(t.topic),
    runs: num(t.runs),
    firstRunAt: iso(t.first_at),
    lastRunAt: iso(t.last_at),
    recent: runs.filter((r) => r.topic === t.topic).map(toHistoryRun),
  }))
}

function toHistoryRun(r: Row): HistoryRun {
  const maybe = (v: Row[string]) => (v === null || v === undefined ? null : num(v))
  return {
    runId: String(r.run_id),
    audit: String(r.audit) as HistoryRun['audit'],
    startedAt: iso(r.started_at),
    elapsedMs: num(r.elapsed_ms),
    key: String(r.key),
    sink: r.sink === null ? null : String(r.sink),
    // Files of version 1 have no window columns.
    windowFrom: r.window_from === null || r.window_from === undefined ? null : String(r.window_from),
    windowTo: r.window_to === null || r.window_to === undefined ? null : String(r.window_to),
    records: num(r.records),
    duplicateKeys: maybe(r.duplicate_keys),
    extraCopies: maybe(r.extra_copies),
    identical: maybe(r.identical),
    changed: maybe(r.changed),
    undecodable: num(r.undecodable),
    noKey: num(r.no_key),
    missing: maybe(r.missing),
    twice: maybe(r.twice),
    onlyInSink: maybe(r.only_in_sink),
    lost: maybe(r.lost),
    exceeded: r.exceeded
      ? String(r.exceeded)
          .split(',')
          .filter((s) => s !== '')
      : [],
  }
}

function iso(value: Row[string]): string {
  return value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString()
}

/**
 * The working database of one audit run, with the history file attached first: a locked or
 * unwritable --db fails before a long scan, not after. The caller closes the database.
 */
export async function openAuditRunDatabase(
  options: AuditDatabaseOptions | undefined,
  historyFile: string | undefined,
): Promise<{ db: AuditDatabase; historyPath: string | undefined }> {
  const db = await AuditDatabase.open(options)
  const historyPath = historyFile === undefined ? undefined : resolve(historyFile)
  try {
    if (historyPath) {
      await db.attachHistory(historyPath)
      await ensureHistorySchema(db)
    }
  } catch (error) {
    db.close()
    throw error
  }
  return { db, historyPath }
}
