import { randomUUID } from 'node:crypto'
import { describeKeySelector, parseKeySelector, type KeySelector } from '../core/audit-key.js'
import { planSinkColumns, type AuditSink, type SinkColumnPlan } from '../core/audit-sink.js'
import type { CompareTotals, LostRecord, MissingKey, OnlyInSinkKey, ProblemRecord, TwiceKey } from '../core/audit-types.js'
import { describeThreshold, evaluateFailOn, type FailOnOutcome, type Threshold } from '../core/fail-on.js'
import { auditWindow, type AuditWindow } from '../core/audit-window.js'
import type { CodecFormat } from '../codecs/codec.js'
import { RecoveryError } from '../errors.js'
import type { AuditDatabase, AuditDatabaseOptions } from '../duckdb/audit-db.js'
import {
  buildComparison,
  compareFindingRows,
  compareTotals,
  loadSinkFromScan,
  loadSinkRelation,
  lostRecords,
  relationColumns,
  sinkRelation,
  topMissing,
  topOnlyInSink,
  topTwice,
} from '../duckdb/compare-queries.js'
import { problemRecords } from '../duckdb/duplicates-queries.js'
import { openAuditRunDatabase, recordAuditRun, type AuditRunRecord } from '../duckdb/history.js'
import { reportFormatOf, writeAuditReport, type WrittenReport } from '../files/audit-report.js'
import type { KafkaGateway } from '../kafka/kafka-gateway.js'
import { PostgresTable } from '../postgres/table-reader.js'
import { scanTopic, type ScanEvent, type ScanRequest } from './audit-scan.js'
import { scanWarnings } from './audit-duplicates.js'

export interface CompareAuditRequest extends ScanRequest {
  sink: AuditSink
  /** The sink column holding the key (default: the --key field's name, or `key`); for a Kafka sink, a key selector. */
  sinkKey?: string
  /** The sink columns with the source partition and offset, `P,O` (default: source_partition,source_offset when present). */
  sinkProvenance?: string
  top?: number
  listLimit?: number
  historyPath?: string
  report?: string
  failOn?: Threshold[]
}

export interface CompareAuditDeps {
  gateway: KafkaGateway
  onEvent?: (event: ScanEvent | { type: 'sink-loaded'; sink: string; rows: number; elapsedMs: number }) => void
  duckdb?: AuditDatabaseOptions
}

export interface CompareAuditResult {
  audit: 'compare'
  runId: string
  topic: string
  key: string
  sink: string
  /** The sink column the key was read from. */
  sinkKey: string
  /** The sink columns naming the source partition and offset, when it has them. */
  provenance: { partition: string; offset: string } | null
  valueFormat: CodecFormat | null
  startedAt: string
  elapsedMs: number
  /** --from and --to, resolved (times as UTC instants). */
  window: AuditWindow
  partitions: Array<{ partition: number; start: bigint; end: bigint }>
  totals: CompareTotals
  /** Source keys the sink does not have, earliest first. */
  missing: MissingKey[]
  /** Keys the sink holds more than once, most rows first. */
  twice: TwiceKey[]
  /** Keys only the sink has. */
  onlyInSink: OnlyInSinkKey[]
  /** Source records that never arrived, by offset (null: the sink keeps no provenance). */
  lost: LostRecord[] | null
  undecodable: ProblemRecord[]
  noKey: ProblemRecord[]
  truncated: { missing: boolean; twice: boolean; onlyInSink: boolean; lost: boolean; undecodable: boolean; noKey: boolean }
  warnings: string[]
  history: { db: string; runId: string } | null
  report: WrittenReport | null
  /** The --fail-on conditions, those this run exceeded, and whether it passed (the exit code: 0 or 3). */
  failOn: FailOnOutcome | null
}

const SOURCE = 'scan_source'

/**
 * `recover audit compare`: the source range against what a sink holds. The sink is read
 * first (a wrong URL or column fails before a long scan), then the range is scanned, and keys
 * are compared in DuckDB: missing from the sink (loss), twice in the sink, only in the sink,
 * and, when the sink keeps the source partition and offset, the exact offsets that never
 * arrived. Read-only everywhere.
 */
export async function auditCompare(request: CompareAuditRequest, deps: CompareAuditDeps): Promise<CompareAuditResult> {
  const startedAt = new Date()
  if (request.report !== undefined) reportFormatOf(request.report)
  const { db, historyPath } = await openAuditRunDatabase(deps.duckdb, request.historyPath)
  try {
    const sinkStarted = Date.now()
    const plan = await loadSink(db, request, deps)
    deps.onEvent?.({
      type: 'sink-loaded',
      sink: request.sink.display,
      rows: Number((await db.one('SELECT count(*) AS n FROM sink_rows')).n),
      elapsedMs: Date.now() - sinkStarted,
    })

    const scan = await scanTopic(db, SOURCE, deps.gateway, request, deps.onEvent)
    deps.onEvent?.({ type: 'analyse', what: 'comparison' })
    const provenance = plan.provenance !== null
    await buildComparison(db, SOURCE, provenance)
    const totals = await compareTotals(db, SOURCE, provenance)
    const top = request.top ?? 20
    const listLimit = request.listLimit ?? 1_000
    const warnings = scanWarnings(totals.sourceRecords, totals.undecodable, totals.sourceKeyed, scan.valueFormat)
    if (totals.sinkRows === 0) warnings.push(`The sink ${request.sink.display} is empty.`)
    if (totals.sinkNullKeys > 0) warnings.push(`${totals.sinkNullKeys} sink rows have no key (${plan.keyColumn} is NULL).`)
    if (provenance && totals.missing > 0 && totals.lost === 0)
      warnings.push('Keys are missing but no offset is lost: the sink provenance may not belong to this topic.')

    const result: CompareAuditResult = {
      audit: 'compare',
      runId: randomUUID(),
      topic: request.topic,
      key: describeKeySelector(request.key),
      sink: request.sink.display,
      sinkKey: plan.keyColumn,
      provenance: plan.provenance,
      valueFormat: scan.valueFormat,
      startedAt: startedAt.toISOString(),
      elapsedMs: Date.now() - startedAt.getTime(),
      window: auditWindow(request.from, request.to),
      partitions: scan.ranges.map((r) => ({ partition: r.partition, start: r.start, end: r.end })),
      totals,
      missing: await topMissing(db, listLimit),
      twice: await topTwice(db, top),
      onlyInSink: await topOnlyInSink(db, top),
      lost: provenance ? await lostRecords(db, listLimit) : null,
      undecodable: await problemRecords(db, SOURCE, 'undecodable', listLimit),
      noKey: await problemRecords(db, SOURCE, 'no-key', listLimit),
      truncated: {
        missing: totals.missing > listLimit,
        twice: totals.twice > top,
        onlyInSink: totals.onlyInSink > top,
        lost: (totals.lost ?? 0) > listLimit,
        undecodable: totals.undecodable > listLimit,
        noKey: totals.noKey > listLimit,
      },
      warnings,
      history: null,
      report: null,
      failOn: request.failOn ? evaluateFailOn(request.failOn, compareMetrics(totals)) : null,
    }
    if (historyPath) {
      await recordAuditRun(db, compareRunRecord(result))
      result.history = { db: historyPath, runId: result.runId }
    }
    if (request.report !== undefined) {
      result.report = await writeAuditReport(request.report, { ...result, report: undefined }, compareFindingRows(db, SOURCE, provenance))
    }
    return result
  } finally {
    db.close()
  }
}

/** Fills `sink_rows` from the sink and says how its columns were read. */
async function loadSink(db: AuditDatabase, request: CompareAuditRequest, deps: CompareAuditDeps): Promise<SinkColumnPlan> {
  const sink = request.sink
  const options = { sinkKey: request.sinkKey, provenance: request.sinkProvenance }
  switch (sink.kind) {
    case 'file':
    case 'duckdb': {
      const relation = await sinkRelation(db, sink)
      const plan = planSinkColumns(await relationColumns(db, relation, sink.display), request.key, options)
      await loadSinkRelation(db, relation, plan, sink.display)
      return plan
    }
    case 'postgres': {
      const table = await PostgresTable.open(sink.connection, sink.table)
      try {
        const plan = planSinkColumns(await table.columns(), request.key, options)
        if (plan.key.kind !== 'column' || plan.key.path.length !== 1) {
          throw new RecoveryError('UNKNOWN_KEY_FIELD', `A PostgreSQL sink is keyed by one column; name it with --sink-key COLUMN (not ${plan.keyColumn}).`)
        }
        const writer = await db.createSinkRows()
        try {
          for await (const rows of table.rows({ key: plan.key.path[0]!, partition: plan.provenance?.partition, offset: plan.provenance?.offset })) {
            for (const [key, partition, offset] of rows) writer.append(key, partition, offset)
          }
        } finally {
          writer.close()
        }
        return plan
      } finally {
        await table.close()
      }
    }
    case 'kafka': {
      const selector: KeySelector = request.sinkKey === undefined ? request.key : parseKeySelector(request.sinkKey)
      await scanTopic(
        db,
        'scan_sink',
        deps.gateway,
        { topic: sink.topic, key: selector, valueFormat: request.valueFormat, schemas: request.schemas, fetch: request.fetch },
        deps.onEvent,
      )
      await loadSinkFromScan(db, 'scan_sink')
      return { key: { kind: 'column', path: ['key'] }, provenance: null, envelope: false, keyColumn: describeKeySelector(selector) }
    }
  }
}

/** The --fail-on metrics of a comparison (names as in COMPARE_METRICS). */
export function compareMetrics(t: CompareTotals): Record<string, number> & { records: number } {
  return {
    records: t.sourceRecords,
    missing: t.missing,
    twice: t.twice,
    'only-in-sink': t.onlyInSink,
    lost: t.lost ?? 0,
    undecodable: t.undecodable,
    'no-key': t.noKey,
  }
}

function compareRunRecord(r: CompareAuditResult): AuditRunRecord {
  const t = r.totals
  return {
    runId: r.runId,
    audit: 'compare',
    topic: r.topic,
    startedAt: r.startedAt,
    elapsedMs: r.elapsedMs,
    key: r.key,
    within: null,
    sink: r.sink,
    range: r.partitions,
    windowFrom: r.window.from,
    windowTo: r.window.to,
    records: t.sourceRecords,
    distinctKeys: t.sourceKeys,
    duplicateKeys: null,
    extraCopies: null,
    identical: null,
    sameValue: null,
    changed: null,
    valueDuplicates: null,
    undecodable: t.undecodable,
    noKey: t.noKey,
    missing: t.missing,
    twice: t.twice,
    onlyInSink: t.onlyInSink,
    lost: t.lost,
    exceeded: r.failOn?.exceeded.map(describeThreshold) ?? [],
    result: { ...r, history: undefined },
  }
}
