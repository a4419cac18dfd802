import { randomUUID } from 'node:crypto'
import type { DuplicateGroup, DuplicatesTotals, ProblemRecord, ValueDuplicateGroup } from '../core/audit-types.js'
import { describeKeySelector } from '../core/audit-key.js'
import type { CodecFormat } from '../codecs/codec.js'
import type { AuditDatabaseOptions } from '../duckdb/audit-db.js'
import { describeThreshold, evaluateFailOn, type FailOnOutcome, type Threshold } from '../core/fail-on.js'
import { auditWindow, type AuditWindow } from '../core/audit-window.js'
import { reportFormatOf, writeAuditReport, type WrittenReport } from '../files/audit-report.js'
import {
  buildDuplicateGroups,
  duplicateFindingRows,
  buildValueGroups,
  duplicatesTotals,
  problemKinds,
  problemRecords,
  topDuplicateGroups,
  topValueGroups,
} from '../duckdb/duplicates-queries.js'
import { openAuditRunDatabase, recordAuditRun, type AuditRunRecord } from '../duckdb/history.js'
import type { KafkaGateway } from '../kafka/kafka-gateway.js'
import { scanTopic, type ScanEvent, type ScanRequest } from './audit-scan.js'

export interface DuplicatesAuditRequest extends ScanRequest {
  /** Copies of a key count as duplicates only when they follow each other within this many ms. */
  withinMs?: number
  /** Display form of --within. */
  within?: string
  /** Groups (and shared values) listed in the result. Default 20. */
  top?: number
  /** Undecodable and keyless records listed in the result (all of them are in a report). Default 1000. */
  listLimit?: number
  /** The audit DuckDB file that keeps every run (`--db`); none: the run is not recorded. */
  historyPath?: string
  /** `--report FILE.csv|FILE.json`: every finding, not only the top ones. */
  report?: string
  /** `--fail-on`: the result says which were exceeded (an empty range fails any); the command exits 3. */
  failOn?: Threshold[]
}

export interface DuplicatesAuditDeps {
  gateway: KafkaGateway
  onEvent?: (event: ScanEvent) => void
  duckdb?: AuditDatabaseOptions
}

export interface DuplicatesAuditResult {
  audit: 'duplicates'
  runId: string
  topic: string
  key: string
  within: string | null
  valueFormat: CodecFormat | null
  startedAt: string
  elapsedMs: number
  recordsPerSecond: number
  /** --from and --to, resolved (times as UTC instants). */
  window: AuditWindow
  partitions: Array<{ partition: number; start: bigint; end: bigint; records: number }>
  totals: DuplicatesTotals
  /** The groups with the most copies, up to --top. */
  duplicates: DuplicateGroup[]
  /** Identical values carried by different keys, up to --top. */
  valueDuplicates: ValueDuplicateGroup[]
  /** Records whose value could not be decoded, in offset order (up to the list limit). */
  undecodable: ProblemRecord[]
  undecodableByKind: Record<string, number>
  /** Records without a key, in offset order (up to the list limit). */
  noKey: ProblemRecord[]
  truncated: { duplicates: boolean; valueDuplicates: boolean; undecodable: boolean; noKey: boolean }
  /** Hints about the run itself (every value undecodable: probably the wrong --value-format). */
  warnings: string[]
  /** Where this run was recorded (`audit history` reads it back). */
  history: { db: string; runId: string } | null
  report: WrittenReport | null
  /** The --fail-on conditions, those this run exceeded, and whether it passed (the exit code: 0 or 3). */
  failOn: FailOnOutcome | null
}

const TABLE = 'scan_source'

/**
 * `recover audit duplicates`: scans the range into DuckDB and reports keys that occur more
 * than once (identical copies: producer retries; changed: double processing), values carried
 * by several keys, and every record that could not be audited. Read-only on Kafka.
 */
export async function auditDuplicates(request: DuplicatesAuditRequest, deps: DuplicatesAuditDeps): Promise<DuplicatesAuditResult> {
  const startedAt = new Date()
  if (request.report !== undefined) reportFormatOf(request.report)
  const { db, historyPath } = await openAuditRunDatabase(deps.duckdb, request.historyPath)
  try {
    const scan = await scanTopic(db, TABLE, deps.gateway, request, deps.onEvent)
    deps.onEvent?.({ type: 'analyse', what: 'duplicates' })
    await buildDuplicateGroups(db, TABLE, request.withinMs ?? null)
    await buildValueGroups(db, TABLE)
    const top = request.top ?? 20
    const listLimit = request.listLimit ?? 1_000
    const totals = await duplicatesTotals(db, TABLE)
    const perPartition = new Map(
      (await db.all(`SELECT partition, count(*) AS n FROM ${TABLE} GROUP BY partition`)).map((r) => [Number(r.partition), Number(r.n)]),
    )
    const elapsedMs = Date.now() - startedAt.getTime()
    const result: DuplicatesAuditResult = {
      audit: 'duplicates',
      runId: randomUUID(),
      topic: request.topic,
      key: describeKeySelector(request.key),
      within: request.withinMs === undefined ? null : (request.within ?? `${request.withinMs}ms`),
      valueFormat: scan.valueFormat,
      startedAt: startedAt.toISOString(),
      elapsedMs,
      recordsPerSecond: scan.elapsedMs > 0 ? Math.round((scan.records * 1000) / scan.elapsedMs) : 0,
      window: auditWindow(request.from, request.to),
      partitions: scan.ranges.map((r) => ({ partition: r.partition, start: r.start, end: r.end, records: perPartition.get(r.partition) ?? 0 })),
      totals,
      duplicates: await topDuplicateGroups(db, top),
      valueDuplicates: await topValueGroups(db, top),
      undecodable: await problemRecords(db, TABLE, 'undecodable', listLimit),
      undecodableByKind: await problemKinds(db, TABLE),
      noKey: await problemRecords(db, TABLE, 'no-key', listLimit),
      truncated: {
        duplicates: totals.duplicateGroups > top,
        valueDuplicates: totals.valueDuplicates > top,
        undecodable: totals.undecodable > listLimit,
        noKey: totals.noKey > listLimit,
      },
      warnings: scanWarnings(totals.records, totals.undecodable, totals.keyed, scan.valueFormat),
      history: null,
      report: null,
      failOn: request.failOn ? evaluateFailOn(request.failOn, duplicatesMetrics(totals)) : null,
    }
    if (historyPath) {
      await recordAuditRun(db, duplicatesRunRecord(result))
      result.history = { db: historyPath, runId: result.runId }
    }
    if (request.report !== undefined) {
      const summary = { ...result, report: undefined }
      result.report = await writeAuditReport(request.report, summary, duplicateFindingRows(db, TABLE))
    }
    return result
  } finally {
    db.close()
  }
}

export const DUPLICATES_TABLE = TABLE

/** The --fail-on metrics of a duplicates audit (names as in DUPLICATES_METRICS). */
export function duplicatesMetrics(t: DuplicatesTotals): Record<string, number> & { records: number } {
  return {
    records: t.records,
    duplicates: t.duplicateKeys,
    copies: t.extraCopies,
    identical: t.identical,
    'same-value': t.sameValue,
    changed: t.changed,
    'value-duplicates': t.valueDuplicates,
    undecodable: t.undecodable,
    'no-key': t.noKey,
  }
}

function duplicatesRunRecord(r: DuplicatesAuditResult): AuditRunRecord {
  const t = r.totals
  return {
    runId: r.runId,
    audit: 'duplicates',
    topic: r.topic,
    startedAt: r.startedAt,
    elapsedMs: r.elapsedMs,
    key: r.key,
    within: r.within,
    sink: null,
    range: r.partitions,
    windowFrom: r.window.from,
    windowTo: r.window.to,
    records: t.records,
    distinctKeys: t.distinctKeys,
    duplicateKeys: t.duplicateKeys,
    extraCopies: t.extraCopies,
    identical: t.identical,
    sameValue: t.sameValue,
    changed: t.changed,
    valueDuplicates: t.valueDuplicates,
    undecodable: t.undecodable,
    noKey: t.noKey,
    missing: null,
    twice: null,
    onlyInSink: null,
    lost: null,
    exceeded: r.failOn?.exceeded.map(describeThreshold) ?? [],
    result: { ...r, history: undefined },
  }
}

/** What suggests the command line rather than the data is wrong. */
export function scanWarnings(records: number, undecodable: number, keyed: number, valueFormat: string | null): string[] {
  if (records === 0) return []
  if (undecodable === records) return [`Every record failed to decode as ${valueFormat}: check --value-format (and --schema for Avro).`]
  if (keyed === 0) return ['No record has a key: check --key.']
  return []
}
