import type { AuditSink, SinkColumnPlan } from '../core/audit-sink.js'
import type { CompareTotals, LostRecord, MirrorExtra, MissingKey, OnlyInSinkKey, RecordPosition, TwiceKey } from '../core/audit-types.js'
import { RecoveryError } from '../errors.js'
import type { FindingRow } from '../files/audit-report.js'
import { big, identifier, literal, num, reason, type AuditDatabase, type Row } from './audit-db.js'
import { findingRows } from './duplicates-queries.js'

/**
 * The sink side of `audit compare` in DuckDB: files and DuckDB tables are read by DuckDB
 * itself (in parallel, never through Node); PostgreSQL and Kafka sinks are appended into
 * `sink_rows` by the service. Then keys are compared with anti-joins.
 */

export const SINK_TABLE = 'sink_rows'

/** The DuckDB relation a file or DuckDB-table sink is read from. */
export async function sinkRelation(db: AuditDatabase, sink: Extract<AuditSink, { kind: 'file' | 'duckdb' }>): Promise<string> {
  if (sink.kind === 'duckdb') {
    try {
      await db.connection.run(`ATTACH ${literal(sink.path)} AS sink_db (READ_ONLY)`)
    } catch (error) {
      throw unreadable(sink.display, error)
    }
    const parts = sink.table.split('.')
    return `sink_db.${parts.length === 1 ? 'main.' : ''}${parts.map(identifier).join('.')}`
  }
  switch (sink.format) {
    case 'jsonl':
    case 'json':
      return `read_json_auto(${literal(sink.path)})`
    case 'csv':
    case 'tsv':
      // all_varchar: a key like 007 must stay 007, not become the number 7.
      return `read_csv(${literal(sink.path)}, header = true, all_varchar = true)`
    case 'parquet':
      return `read_parquet(${literal(sink.path)})`
  }
}

/** The downloaded objects of an S3 sink, read as one relation (Parquet, recover's JSONL envelope, or CSV with a header row). */
export function objectsRelation(format: 'parquet' | 'jsonl' | 'csv', files: readonly string[]): string {
  const list = `[${files.map(literal).join(', ')}]`
  switch (format) {
    case 'parquet':
      return `read_parquet(${list}, union_by_name = true)`
    case 'jsonl':
      return `read_json_auto(${list}, union_by_name = true)`
    case 'csv':
      // all_varchar, as for a CSV file sink: a key like 007 must stay 007.
      return `read_csv(${list}, header = true, all_varchar = true, union_by_name = true)`
  }
}

export async function relationColumns(db: AuditDatabase, relation: string, display: string): Promise<string[]> {
  try {
    const reader = await db.connection.runAndReadAll(`DESCRIBE SELECT * FROM ${relation}`)
    return (await reader.getRowObjectsJS()).map((r) => String(r.column_name))
  } catch (error) {
    throw unreadable(display, error)
  }
}

/** `sink_rows` from a relation, with the key as text and the provenance columns as numbers. */
export async function loadSinkRelation(db: AuditDatabase, relation: string, plan: SinkColumnPlan, display: string): Promise<void> {
  let key: string
  if (plan.key.kind === 'column') key = `CAST(${plan.key.path.map(identifier).join('.')} AS VARCHAR)`
  else if (plan.key.kind === 'envelope-key')
    key = `CASE WHEN "key" IS NULL THEN NULL ELSE coalesce(try(decode(from_base64("key"))), '0x' || lower(hex(from_base64("key")))) END`
  else key = `json_extract_string(to_json("decoded"), ${literal(`$.value.${plan.key.path.join('.')}`)})`
  const p = plan.provenance ? `TRY_CAST(${identifier(plan.provenance.partition)} AS INTEGER)` : 'NULL::INTEGER'
  const o = plan.provenance ? `TRY_CAST(${identifier(plan.provenance.offset)} AS BIGINT)` : 'NULL::BIGINT'
  try {
    await db.connection.run(`CREATE OR REPLACE TABLE ${SINK_TABLE} AS SELECT ${key} AS key, ${p} AS source_partition, ${o} AS source_offset FROM ${relation}`)
  } catch (error) {
    throw unreadable(display, error)
  }
}

/**
 * `sink_rows` from the keys of a scanned topic (no provenance). Every record is a row: one the
 * sink side could not key (undecodable, no key) is a row without a key, as in a table.
 */
export async function loadSinkFromScan(db: AuditDatabase, scanTable: string): Promise<void> {
  await db.run(`CREATE OR REPLACE TABLE ${SINK_TABLE} AS SELECT key, NULL::INTEGER AS source_partition, NULL::BIGINT AS source_offset FROM ${scanTable}`)
}

const _ORDER = `ts, partition, "offset"`

/** Builds cmp_missing, cmp_twice, cmp_only and (with provenance) cmp_lost. */
export async function buildComparison(db: AuditDatabase, source: string, provenance: boolean): Promise<void> {
  await db.run(`CREATE OR REPLACE TEMP TABLE cmp_missing AS
    SELECT s.key, count(*) AS copies, min(s.ts) AS first_ts,
      list({'partition': s.partition, 'offset': s."offset", 'ts': s.ts} ORDER BY s.ts, s.partition, s."offset") AS copies_list
    FROM ${source} s ANTI JOIN ${SINK_TABLE} k ON s.key = k.key
    WHERE s.key IS NOT NULL GROUP BY s.key`)
  await db.run(`CREATE OR REPLACE TEMP TABLE cmp_twice AS
    SELECT key, count(*) AS rows,
      list({'partition': source_partition, 'offset': source_offset} ORDER BY source_partition, source_offset) AS provenance
    FROM ${SINK_TABLE} WHERE key IS NOT NULL GROUP BY key HAVING count(*) > 1`)
  await db.run(`CREATE OR REPLACE TEMP TABLE cmp_only AS
    SELECT k.key, count(*) AS rows FROM ${SINK_TABLE} k
    ANTI JOIN (SELECT DISTINCT key FROM ${source} WHERE key IS NOT NULL) s ON k.key = s.key
    WHERE k.key IS NOT NULL GROUP BY k.key`)
  if (!provenance) return
  // A source record arrived when a sink row names its partition and offset. One that did not
  // is lost unless a later copy of its key arrived (an upsert keeps only the newest copy).
  await db.run(`CREATE OR REPLACE TEMP TABLE cmp_status AS
    SELECT s.partition, s."offset", s.ts, s.key, a.partition IS NOT NULL AS arrived
    FROM ${source} s LEFT JOIN (SELECT DISTINCT source_partition AS partition, source_offset AS "offset" FROM ${SINK_TABLE} WHERE source_partition IS NOT NULL AND source_offset IS NOT NULL) a
      ON s.partition = a.partition AND s."offset" = a."offset"
    WHERE s.key IS NOT NULL`)
  await db.run(`CREATE OR REPLACE TEMP TABLE cmp_lost AS
    WITH newest_arrived AS (
      SELECT key, arg_max(ts, (ts, partition, "offset")) AS ts, arg_max(partition, (ts, partition, "offset")) AS partition, arg_max("offset", (ts, partition, "offset")) AS "offset"
      FROM cmp_status WHERE arrived GROUP BY key
    )
    SELECT s.partition, s."offset", s.ts, s.key, n.key IS NOT NULL AS key_in_sink
    FROM cmp_status s LEFT JOIN newest_arrived n ON s.key = n.key
    WHERE NOT s.arrived AND (n.key IS NULL OR (s.ts, s.partition, s."offset") > (n.ts, n.partition, n."offset"))`)
}

export async function compareTotals(db: AuditDatabase, source: string, provenance: boolean): Promise<CompareTotals> {
  const s = await db.one(`SELECT count(*) AS records, count(key) AS keyed, count(DISTINCT key) AS keys,
      count(*) FILTER (WHERE problem IS NOT NULL) AS undecodable, count(*) FILTER (WHERE problem IS NULL AND key IS NULL) AS no_key FROM ${source}`)
  const k = await db.one(`SELECT count(*) AS rows, count(DISTINCT key) AS keys, count(*) FILTER (WHERE key IS NULL) AS null_keys FROM ${SINK_TABLE}`)
  const m = await db.one(`SELECT count(*) AS keys, coalesce(sum(copies), 0) AS records FROM cmp_missing`)
  const t = await db.one(`SELECT count(*) AS keys, coalesce(sum(rows - 1), 0) AS extra FROM cmp_twice`)
  const o = await db.one(`SELECT count(*) AS keys, coalesce(sum(rows), 0) AS rows FROM cmp_only`)
  const l = provenance ? await db.one(`SELECT count(*) AS lost, count(*) FILTER (WHERE key_in_sink) AS stale FROM cmp_lost`) : undefined
  return {
    sourceRecords: num(s.records),
    sourceKeyed: num(s.keyed),
    sourceKeys: num(s.keys),
    undecodable: num(s.undecodable),
    noKey: num(s.no_key),
    sinkRows: num(k.rows),
    sinkKeys: num(k.keys),
    sinkNullKeys: num(k.null_keys),
    missing: num(m.keys),
    missingRecords: num(m.records),
    twice: num(t.keys),
    twiceExtraRows: num(t.extra),
    onlyInSink: num(o.keys),
    onlyInSinkRows: num(o.rows),
    lost: l ? num(l.lost) : null,
    stale: l ? num(l.stale) : null,
  }
}

export async function topMissing(db: AuditDatabase, limit: number): Promise<MissingKey[]> {
  const rows = await db.all(`SELECT key, copies, copies_list[1] AS first, copies_list[-1] AS last FROM cmp_missing ORDER BY first_ts, key LIMIT ${lim(limit)}`)
  return rows.map((r) => ({ key: String(r.key), copies: num(r.copies), first: position(r.first), last: position(r.last) }))
}

export async function topTwice(db: AuditDatabase, limit: number): Promise<TwiceKey[]> {
  const rows = await db.all(`SELECT key, rows, list_slice(provenance, 1, 50) AS provenance FROM cmp_twice ORDER BY rows DESC, key LIMIT ${lim(limit)}`)
  return rows.map((r) => ({
    key: String(r.key),
    rows: num(r.rows),
    provenance: (r.provenance as Row[]).map((p) => ({
      partition: p.partition === null ? null : num(p.partition),
      offset: p.offset === null ? null : big(p.offset),
    })),
  }))
}

export async function topOnlyInSink(db: AuditDatabase, limit: number): Promise<OnlyInSinkKey[]> {
  const rows = await db.all(`SELECT key, rows FROM cmp_only ORDER BY key LIMIT ${lim(limit)}`)
  return rows.map((r) => ({ key: String(r.key), rows: num(r.rows) }))
}

export async function lostRecords(db: AuditDatabase, limit: number): Promise<LostRecord[]> {
  const rows = await db.all(`SELECT partition, "offset", ts, key, key_in_sink FROM cmp_lost ORDER BY partition, "offset" LIMIT ${lim(limit)}`)
  return rows.map((r) => ({ ...position(r), key: r.key === null ? null : String(r.key), keyInSink: r.key_in_sink === true }))
}

/** Every finding of a comparison, streamed as report rows. */
export function compareFindingRows(db: AuditDatabase, source: string, provenance: boolean): AsyncGenerator<FindingRow[]> {
  const lost = provenance
    ? `UNION ALL
      SELECT 'lost-offset', key, NULL, CASE WHEN key_in_sink THEN 'stale' ELSE 'lost' END, partition, "offset", ts,
        CASE WHEN key_in_sink THEN 'the sink holds this key from an older copy' ELSE NULL END, 4, partition, NULL, "offset"
      FROM cmp_lost`
    : ''
  return findingRows(
    db,
    `SELECT finding, key, copies, kind, partition, "offset", ts, detail FROM (
      SELECT 'missing' AS finding, key, copies, 'missing' AS kind, c.partition AS partition, c."offset" AS "offset", c.ts AS ts, NULL AS detail, 1 AS section, first_ts AS s1, key AS s2, c."offset" AS s3
      FROM (SELECT key, copies, first_ts, unnest(copies_list) AS c FROM cmp_missing)
      UNION ALL
      SELECT 'twice', key, rows, 'twice', p.partition, p."offset", NULL, NULL, 2, NULL, key, p."offset"
      FROM (SELECT key, rows, unnest(provenance) AS p FROM cmp_twice)
      UNION ALL
      SELECT 'only-in-sink', key, rows, 'only-in-sink', NULL, NULL, NULL, NULL, 3, NULL, key, NULL FROM cmp_only
      ${lost}
      UNION ALL
      SELECT CASE WHEN problem IS NULL THEN 'no-key' ELSE 'undecodable' END, key, NULL, coalesce(problem, 'no-key'), partition, "offset", ts, problem_detail, 5, partition, NULL, "offset"
      FROM ${source} WHERE problem IS NOT NULL OR key IS NULL
    ) ORDER BY section, s1, s2, s3, ts, partition, "offset"`,
  )
}

function lim(limit: number): number {
  return Math.max(0, Math.trunc(limit))
}

function position(value: Row[string]): RecordPosition {
  const r = value as Row
  return { partition: num(r.partition), offset: big(r.offset), timestamp: new Date(num(r.ts)).toISOString() }
}

function unreadable(display: string, error: unknown): RecoveryError {
  return new RecoveryError('AUDIT_SINK_UNREADABLE', `The sink ${display} could not be read: ${reason(error)}.`, { details: { sink: display }, cause: error })
}

/**
 * A Kafka mirror keeps no provenance columns, but a faithful copy (MirrorMaker 2, Replicator)
 * keeps each record's key, value and headers: each source record is paired with a mirror
 * record of the same key and content (`record`: value and headers; `value`: the value only,
 * for a copier that adds headers). Identical copies pair in (partition, offset) order on both
 * sides, across partitions, since a mirror with another partition count moves records between
 * them. Builds cmp_lost (unpaired source records, the shape the provenance path gives) and
 * cmp_extra (unpaired mirror records: `duplicate` when their content is in the source, paired
 * already; `unmatched` when it is not).
 */
export async function buildMirrorPairing(db: AuditDatabase, source: string, mirror: string, match: 'record' | 'value'): Promise<void> {
  const content = match === 'record' ? 'record_hash' : 'value_hash'
  const numbered = (table: string) =>
    `SELECT partition, "offset", ts, key, ${content} AS content, row_number() OVER (PARTITION BY key, ${content} ORDER BY partition, "offset") AS n FROM ${table}`
  await db.run(`CREATE OR REPLACE TEMP TABLE mirror_src AS ${numbered(source)}`)
  await db.run(`CREATE OR REPLACE TEMP TABLE mirror_dst AS ${numbered(mirror)}`)
  const same = (a: string, b: string) => `${a}.key IS NOT DISTINCT FROM ${b}.key AND ${a}.content IS NOT DISTINCT FROM ${b}.content`
  await db.run(`CREATE OR REPLACE TEMP TABLE cmp_lost AS
    SELECT s.partition, s."offset", s.ts, s.key, s.key IS NOT NULL AND s.key IN (SELECT key FROM mirror_dst WHERE key IS NOT NULL) AS key_in_sink
    FROM mirror_src s ANTI JOIN mirror_dst d ON ${same('s', 'd')} AND s.n = d.n`)
  await db.run(`CREATE OR REPLACE TEMP TABLE cmp_extra AS
    WITH copies AS (
      SELECT key, content, count(*) AS copies, arg_max(partition, n) AS partition, arg_max("offset", n) AS "offset" FROM mirror_src GROUP BY key, content
    ), unpaired AS (
      SELECT d.* FROM mirror_dst d ANTI JOIN mirror_src s ON ${same('d', 's')} AND d.n = s.n
    )
    SELECT u.partition, u."offset", u.ts, u.key, CASE WHEN c.copies IS NULL THEN 'unmatched' ELSE 'duplicate' END AS kind,
      c.partition AS source_partition, c."offset" AS source_offset
    FROM unpaired u LEFT JOIN copies c ON ${same('u', 'c')}`)
}

export async function mirrorTotals(db: AuditDatabase): Promise<{ paired: number; duplicated: number; unmatched: number }> {
  const p = await db.one(`SELECT (SELECT count(*) FROM mirror_src) - (SELECT count(*) FROM cmp_lost) AS paired`)
  const e = await db.one(
    `SELECT count(*) FILTER (WHERE kind = 'duplicate') AS duplicated, count(*) FILTER (WHERE kind = 'unmatched') AS unmatched FROM cmp_extra`,
  )
  return { paired: num(p.paired), duplicated: num(e.duplicated), unmatched: num(e.unmatched) }
}

/** Mirror records without a source pair, of one kind, in (partition, offset) order. */
export async function mirrorExtras(db: AuditDatabase, kind: 'duplicate' | 'unmatched', limit: number): Promise<MirrorExtra[]> {
  const rows = await db.all(
    `SELECT partition, "offset", ts, key, source_partition, source_offset FROM cmp_extra WHERE kind = $1 ORDER BY partition, "offset" LIMIT ${lim(limit)}`,
    [kind],
  )
  return rows.map((r) => ({
    ...position(r),
    key: r.key === null ? null : String(r.key),
    copyOf: r.source_partition === null ? null : { partition: num(r.source_partition), offset: big(r.source_offset) },
  }))
}

/** Report rows of the mirror's unpaired records (after the comparison's own). */
export function mirrorFindingRows(db: AuditDatabase): AsyncGenerator<FindingRow[]> {
  return findingRows(
    db,
    `SELECT CASE WHEN kind = 'duplicate' THEN 'mirror-duplicate' ELSE 'mirror-unmatched' END AS finding, key, NULL AS copies, kind, partition, "offset", ts,
      CASE WHEN kind = 'duplicate' THEN 'mirror record; a copy of source ' || source_partition || '@' || source_offset ELSE 'mirror record; no source record has this key and content' END AS detail
    FROM cmp_extra ORDER BY kind, partition, "offset"`,
  )
}
