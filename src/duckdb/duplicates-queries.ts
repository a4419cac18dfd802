import type { DuplicateGroup, DuplicateKind, DuplicatesTotals, ProblemRecord, RecordPosition, ValueDuplicateGroup } from '../core/audit-types.js'
import type { FindingRow } from '../files/audit-report.js'
import { big, num, type AuditDatabase, type Row } from './audit-db.js'

/**
 * Duplicate analysis over a scan table, in SQL: no keys or payloads are held in Node. The
 * landing table has no constraints (they would slow the Appender several times); copies are
 * found afterwards with GROUP BY and window functions.
 */

const ORDER = `ts, partition, "offset"`
const MAX_OFFSETS = 50

/**
 * Builds `dup_groups` (one row per group of copies) from `table`. Without `withinMs` every key
 * with more than one record is one group; with it, the records of a key are split wherever
 * two consecutive copies (in time order) are more than `withinMs` apart.
 */
export async function buildDuplicateGroups(db: AuditDatabase, table: string, withinMs: number | null): Promise<void> {
  const cluster =
    withinMs === null
      ? '1 AS cluster'
      : `sum(CASE WHEN prev_ts IS NULL OR ts - prev_ts > ${Math.trunc(withinMs)} THEN 1 ELSE 0 END) OVER (PARTITION BY key ORDER BY ${ORDER} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cluster`
  const lag = withinMs === null ? '' : `, lag(ts) OVER (PARTITION BY key ORDER BY ${ORDER}) AS prev_ts`
  await db.run(`CREATE OR REPLACE TEMP TABLE dup_groups AS
    WITH repeated AS (
      SELECT key FROM ${table} WHERE key IS NOT NULL GROUP BY key HAVING count(*) > 1
    ), rows AS (
      SELECT s.partition, s."offset", s.ts, s.key, s.value_hash, s.record_hash${lag}
      FROM ${table} s SEMI JOIN repeated r ON s.key = r.key
    ), clustered AS (
      SELECT *, ${cluster} FROM rows
    )
    SELECT key, cluster, count(*) AS copies,
      count(DISTINCT record_hash) AS record_variants,
      count(DISTINCT value_hash) + max(CASE WHEN value_hash IS NULL THEN 1 ELSE 0 END) AS value_variants,
      min(ts) AS first_ts, max(ts) AS last_ts,
      list({'partition': partition, 'offset': "offset", 'ts': ts} ORDER BY ${ORDER}) AS copies_list
    FROM clustered GROUP BY key, cluster HAVING count(*) > 1`)
}

export async function buildValueGroups(db: AuditDatabase, table: string): Promise<void> {
  await db.run(`CREATE OR REPLACE TEMP TABLE value_groups AS
    WITH shared AS (
      SELECT value_hash FROM ${table} WHERE value_hash IS NOT NULL AND key IS NOT NULL GROUP BY value_hash HAVING count(DISTINCT key) > 1
    )
    SELECT s.value_hash, count(*) AS copies, count(DISTINCT s.key) AS keys,
      list(DISTINCT s.key ORDER BY s.key) AS key_list,
      list({'partition': s.partition, 'offset': s."offset", 'ts': s.ts, 'key': s.key} ORDER BY s.ts, s.partition, s."offset") AS copies_list,
      min(s.ts) AS first_ts
    FROM ${table} s SEMI JOIN shared v ON s.value_hash = v.value_hash
    WHERE s.key IS NOT NULL
    GROUP BY s.value_hash`)
}

export async function duplicatesTotals(db: AuditDatabase, table: string): Promise<DuplicatesTotals> {
  const scan = await db.one(`SELECT count(*) AS records, count(key) AS keyed,
      count(*) FILTER (WHERE problem IS NOT NULL) AS undecodable,
      count(*) FILTER (WHERE problem IS NULL AND key IS NULL) AS no_key,
      count(DISTINCT key) AS distinct_keys, coalesce(sum(size), 0) AS bytes
    FROM ${table}`)
  const groups = await db.one(`SELECT count(*) AS groups, count(DISTINCT key) AS keys, coalesce(sum(copies - 1), 0) AS extra,
      count(*) FILTER (WHERE record_variants = 1) AS identical,
      count(*) FILTER (WHERE record_variants > 1 AND value_variants = 1) AS same_value,
      count(*) FILTER (WHERE value_variants > 1) AS changed
    FROM dup_groups`)
  const values = await db.one(`SELECT count(*) AS groups, coalesce(sum(copies), 0) AS records FROM value_groups`)
  return {
    records: num(scan.records),
    keyed: num(scan.keyed),
    undecodable: num(scan.undecodable),
    noKey: num(scan.no_key),
    distinctKeys: num(scan.distinct_keys),
    duplicateKeys: num(groups.keys),
    duplicateGroups: num(groups.groups),
    extraCopies: num(groups.extra),
    identical: num(groups.identical),
    sameValue: num(groups.same_value),
    changed: num(groups.changed),
    valueDuplicates: num(values.groups),
    valueDuplicateRecords: num(values.records),
    bytes: num(scan.bytes),
  }
}

const KIND_SQL = `CASE WHEN record_variants = 1 THEN 'identical' WHEN value_variants = 1 THEN 'same-value' ELSE 'changed' END`

/** The groups with the most copies first (then the earliest), `limit` of them. */
export async function topDuplicateGroups(db: AuditDatabase, limit: number): Promise<DuplicateGroup[]> {
  const rows = await db.all(`SELECT key, copies, ${KIND_SQL} AS kind, copies_list[1] AS first, copies_list[-1] AS last,
      list_slice(copies_list, 1, ${MAX_OFFSETS}) AS offsets
    FROM dup_groups ORDER BY copies DESC, first_ts, key, cluster LIMIT ${Math.max(0, Math.trunc(limit))}`)
  return rows.map((r) => {
    const first = position(r.first)
    const last = position(r.last)
    return {
      key: String(r.key),
      copies: num(r.copies),
      kind: String(r.kind) as DuplicateKind,
      first,
      last,
      spreadMs: Date.parse(last.timestamp) - Date.parse(first.timestamp),
      offsets: (r.offsets as Row[]).map(position),
    }
  })
}

export async function topValueGroups(db: AuditDatabase, limit: number): Promise<ValueDuplicateGroup[]> {
  const rows = await db.all(`SELECT value_hash, copies, keys, list_slice(key_list, 1, 10) AS sample_keys, copies_list[1] AS first, copies_list[-1] AS last
    FROM value_groups ORDER BY copies DESC, first_ts, value_hash LIMIT ${Math.max(0, Math.trunc(limit))}`)
  return rows.map((r) => ({
    valueHash: BigInt.asUintN(64, big(r.value_hash)).toString(16).padStart(16, '0'),
    copies: num(r.copies),
    keys: num(r.keys),
    sampleKeys: (r.sample_keys as string[]).map(String),
    first: { ...position(r.first), key: String((r.first as Row).key) },
    last: { ...position(r.last), key: String((r.last as Row).key) },
  }))
}

/** Records the audit could not use: undecodable values, and (kind `no-key`) records without a key. In offset order. */
export async function problemRecords(db: AuditDatabase, table: string, which: 'undecodable' | 'no-key', limit: number): Promise<ProblemRecord[]> {
  const where = which === 'undecodable' ? 'problem IS NOT NULL' : 'problem IS NULL AND key IS NULL'
  const rows = await db.all(
    `SELECT partition, "offset", ts, coalesce(problem, 'no-key') AS kind, problem_detail, key FROM ${table} WHERE ${where} ORDER BY partition, "offset" LIMIT ${Math.max(0, Math.trunc(limit))}`,
  )
  return rows.map((r) => ({
    ...position(r),
    kind: String(r.kind),
    message: r.problem_detail === null ? null : String(r.problem_detail),
    key: r.key === null ? null : String(r.key),
  }))
}

export async function problemKinds(db: AuditDatabase, table: string): Promise<Record<string, number>> {
  const rows = await db.all(`SELECT problem, count(*) AS n FROM ${table} WHERE problem IS NOT NULL GROUP BY problem ORDER BY problem`)
  return Object.fromEntries(rows.map((r) => [String(r.problem), num(r.n)]))
}

/**
 * Every finding as flat rows for a report, streamed: each copy of each duplicate group, each
 * record of each shared value, each undecodable record and each record without a key.
 */
export function duplicateFindingRows(db: AuditDatabase, table: string): AsyncGenerator<FindingRow[]> {
  return findingRows(
    db,
    `
    SELECT finding, key, copies, kind, partition, "offset", ts, detail FROM (
      SELECT 'duplicate-key' AS finding, key, copies, kind, c.partition AS partition, c."offset" AS "offset", c.ts AS ts, NULL AS detail,
        1 AS section, first_ts AS s1, key AS s2, cluster AS s3
      FROM (SELECT key, cluster, copies, first_ts, ${KIND_SQL} AS kind, unnest(copies_list) AS c FROM dup_groups)
      UNION ALL
      SELECT 'duplicate-value', c.key, copies, 'same-value-other-key', c.partition, c."offset", c.ts, printf('value %016x carried by %d keys', value_hash::UBIGINT, keys),
        2, first_ts, printf('%016x', value_hash::UBIGINT), 0
      FROM (SELECT value_hash, copies, keys, first_ts, unnest(copies_list) AS c FROM value_groups)
      UNION ALL
      SELECT CASE WHEN problem IS NULL THEN 'no-key' ELSE 'undecodable' END, key, NULL, coalesce(problem, 'no-key'), partition, "offset", ts, problem_detail,
        3, partition, NULL, "offset"
      FROM ${table} WHERE problem IS NOT NULL OR key IS NULL
    ) ORDER BY section, s1, s2, s3, ts, partition, "offset"`,
  )
}

/** Streams a query with the finding columns (ts as epoch ms) as report rows. */
export async function* findingRows(db: AuditDatabase, sql: string): AsyncGenerator<FindingRow[]> {
  for await (const rows of db.stream(sql)) {
    yield rows.map((r) => ({
      finding: String(r.finding),
      key: r.key === null ? null : String(r.key),
      copies: r.copies === null ? null : num(r.copies),
      kind: r.kind === null ? null : String(r.kind),
      partition: r.partition === null ? null : num(r.partition),
      offset: r.offset === null ? null : String(r.offset),
      timestamp: r.ts === null ? null : new Date(num(r.ts)).toISOString(),
      detail: r.detail === null ? null : String(r.detail),
    }))
  }
}

function position(value: JS): RecordPosition {
  const r = value as Row
  return { partition: num(r.partition), offset: big(r.offset), timestamp: new Date(num(r.ts)).toISOString() }
}

type JS = Row[string]
