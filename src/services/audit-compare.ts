import { randomUUID } from 'node:crypto'
import { describeKeySelector, parseKeySelector, type KeySelector } from '../core/audit-key.js'
import { planSinkColumns, type AuditSink, type SinkColumnPlan } from '../core/audit-sink.js'
import type { CompareTotals, LostRecord, MirrorPairing, MissingKey, OnlyInSinkKey, ProblemRecord, TwiceKey } from '../core/audit-types.js'
import { describeThreshold, evaluateFailOn, type FailOnOutcome, type Threshold } from '../core/fail-on.js'
import { auditWindow, type AuditWindow } from '../core/audit-window.js'
import type { CodecFormat } from '../codecs/codec.js'
import { RecoveryError } from '../errors.js'
import type { AuditDatabase, AuditDatabaseOptions } from '../duckdb/audit-db.js'
import {
  buildComparison,
  buildMirrorPairing,
  mirrorExtras,
  mirrorFindingRows,
  mirrorTotals,
  compareFindingRows,
  compareTotals,
  loadSinkFromScan,
  loadSinkRelation,
  lostRecords,
  relationColumns,
  objectsRelation,
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
  /**
   * A Kafka sink: pair source and mirror records by key and content (`record`: value and
   * headers, the default; `value`: the value only) to list the source offsets that never
   * arrived, or compare keys only (`key`).
   */
  mirrorMatch?: 'record' | 'value' | 'key'
}

export interface CompareAuditDeps {
  gateway: KafkaGateway
  /** The cluster a kafka: sink is read from when it is not the source's (--sink-cluster). */
  sinkGateway?: KafkaGateway
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
  /** A Kafka sink paired record by record with the source (null: another kind of sink, or --mirror-match key). */
  mirror: MirrorPairing | null
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
const MIRROR = 'scan_sink'

/** How a kafka: sink is paired with the source; null for other sinks or keys only. */
function mirrorMatchOf(request: CompareAuditRequest): 'record' | 'value' | null {
  if (request.sink.kind !== 'kafka') return null
  const match = request.mirrorMatch ?? 'record'
  return match === 'key' ? null : match
}

async function mirrorPairing(db: AuditDatabase, match: 'record' | 'value', deps: CompareAuditDeps, listLimit: number): Promise<MirrorPairing> {
  const totals = await mirrorTotals(db)
  const cluster = deps.sinkGateway?.cluster
  return {
    match,
    cluster: cluster ? { id: cluster.id, bootstrap: cluster.bootstrap, source: cluster.source } : null,
    ...totals,
    duplicates: await mirrorExtras(db, 'duplicate', listLimit),
    unmatchedRecords: await mirrorExtras(db, 'unmatched', listLimit),
  }
}

/** A kafka: sink of the source topic on the source cluster is the source itself. */
function assertNotItself(request: CompareAuditRequest, deps: CompareAuditDeps): void {
  if (request.sink.kind !== 'kafka' || request.sink.topic !== request.topic) return
  if (deps.sinkGateway && deps.sinkGateway.cluster.id !== deps.gateway.cluster.id) return
  const where = deps.sinkGateway ? `--sink-cluster reaches the source cluster ${deps.gateway.cluster.id} itself` : 'no --sink-cluster was given'
  throw new RecoveryError(
    'MIRROR_IS_SOURCE',
    `--sink kafka:${request.topic} is the source topic and ${where}, so the topic would be compared with itself; name the mirror's cluster with --sink-cluster NAME or HOST:PORT.`,
    { details: { topic: request.topic, clusterId: deps.gateway.cluster.id } },
  )
}

async function* concatRows<T>(...parts: Array<AsyncGenerator<T>>): AsyncGenerator<T> {
  for (const part of parts) yield* part
}

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
  assertNotItself(request, deps)
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
    const warnings0: string[] = []
    const match = mirrorMatchOf(request)
    await buildComparison(db, SOURCE, plan.provenance !== null)
    if (match) await buildMirrorPairing(db, SOURCE, MIRROR, match)
    // A mirror paired by content lists lost offsets as provenance does.
    const provenance = plan.provenance !== null || match !== null
    const totals = await compareTotals(db, SOURCE, provenance)
    const top = request.top ?? 20
    const listLimit = request.listLimit ?? 1_000
    const mirror = match ? await mirrorPairing(db, match, deps, listLimit) : null
    if (mirror && (request.from !== undefined || request.to !== undefined))
      warnings0.push('The mirror is read whole, so its copies of records outside --from/--to count as unmatched.')
    const warnings = [...scanWarnings(totals.sourceRecords, totals.undecodable, totals.sourceKeyed, scan.valueFormat), ...warnings0]
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
      mirror,
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
      failOn: request.failOn ? evaluateFailOn(request.failOn, compareMetrics(totals, mirror)) : null,
    }
    if (historyPath) {
      await recordAuditRun(db, compareRunRecord(result))
      result.history = { db: historyPath, runId: result.runId }
    }
    if (request.report !== undefined) {
      result.report = await writeAuditReport(
        request.report,
        { ...result, report: undefined },
        match ? concatRows(compareFindingRows(db, SOURCE, provenance), mirrorFindingRows(db)) : compareFindingRows(db, SOURCE, provenance),
      )
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
    case 'opensearch': {
      const { loadOpenSearchSink } = await import('./audit-opensearch.js')
      return loadOpenSearchSink(db, sink, request)
    }
    case 's3': {
      const { downloadTopicObjects } = await import('../s3/download-objects.js')
      const objects = await downloadTopicObjects(sink, request.topic)
      try {
        if (objects.files.length === 0) return await loadEmptySink(db, request, options)
        const relation = objectsRelation(sink.format, objects.files)
        const plan = planSinkColumns(await relationColumns(db, relation, sink.display), request.key, options)
        await loadSinkRelation(db, relation, plan, sink.display)
        return plan
      } finally {
        objects.remove()
      }
    }
    case 'kafka': {
      const selector: KeySelector = request.sinkKey === undefined ? request.key : parseKeySelector(request.sinkKey)
      await scanTopic(
        db,
        MIRROR,
        deps.sinkGateway ?? deps.gateway,
        { topic: sink.topic, key: selector, valueFormat: request.valueFormat, schemas: request.schemas, fetch: request.fetch },
        deps.onEvent,
      )
      await loadSinkFromScan(db, MIRROR)
      return { key: { kind: 'column', path: ['key'] }, provenance: null, envelope: false, keyColumn: describeKeySelector(selector) }
    }
  }
}

/** An S3 prefix with no object for the topic: nothing arrived, so every source record is missing. */
async function loadEmptySink(db: AuditDatabase, request: CompareAuditRequest, options: { sinkKey?: string; provenance?: string }): Promise<SinkColumnPlan> {
  const key = request.key.kind === 'record-key' ? 'key' : request.key.path.join('.')
  await db.run(`CREATE OR REPLACE TABLE sink_rows (key VARCHAR, source_partition INTEGER, source_offset BIGINT)`)
  return planSinkColumns([options.sinkKey?.split('.')[0] ?? key, 'source_partition', 'source_offset'], request.key, options)
}

/** The --fail-on metrics of a comparison (names as in COMPARE_METRICS). */
export function compareMetrics(t: CompareTotals, mirror: MirrorPairing | null = null): Record<string, number> & { records: number } {
  return {
    duplicated: mirror?.duplicated ?? 0,
    unmatched: mirror?.unmatched ?? 0,
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
