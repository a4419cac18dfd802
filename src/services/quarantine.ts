import { randomUUID } from 'node:crypto'
import type { RecordedCluster } from '../core/cluster-identity.js'
import { RecoveryError } from '../errors.js'
import type { KafkaGateway } from '../kafka/kafka-gateway.js'
import type { Preview } from '../codecs/preview.js'
import { decodeStrictUtf8 } from '../codecs/strict-utf8.js'
import { auditLocation, isHandled, readAuditTrail, recordAction, type AuditAction, type AuditTrail, type RecordState } from '../quarantine/audit-trail.js'
import type { Dialect } from '../quarantine/dialects.js'
import { isEmptyFilter, matcher, type QuarantineFilter } from '../quarantine/quarantine-filter.js'
import { openQuarantineSource, type QuarantineSource, type QuarantineUri, type ScanResult } from '../quarantine/quarantine-source.js'
import { parsePositionId, summarize, type QuarantineSummary, type QuarantinedRecord } from '../quarantine/quarantined-record.js'
import { openPreviewers, type PeekRequest } from './peek.js'

export type { Actor } from '../config/actor.js'
import type { Actor } from '../config/actor.js'

/** One open quarantine: where it is, how to read it, where its audit trail is. */
export interface QuarantineContext {
  uri: QuarantineUri
  source: QuarantineSource
  gateway?: KafkaGateway
}

export function openQuarantine(uri: QuarantineUri, gateway: KafkaGateway | undefined): QuarantineContext {
  return { uri, source: openQuarantineSource(uri, gateway), gateway }
}

export function readTrail(ctx: QuarantineContext): Promise<AuditTrail> {
  return readAuditTrail(ctx.uri, ctx.gateway)
}

/** The cluster an action is connected to, as the audit trail records it (none for a file quarantine handled without Kafka). */
export function clusterOfAction(ctx: QuarantineContext): Pick<AuditAction, 'cluster'> {
  return ctx.gateway ? { cluster: { id: ctx.gateway.cluster.id, bootstrap: ctx.gateway.cluster.bootstrap } } : {}
}

/** Streams the records that match, a batch at a time. */
export async function scanMatching(
  ctx: QuarantineContext,
  filter: QuarantineFilter,
  onMatch: (records: QuarantinedRecord[]) => void | Promise<void>,
  signal?: AbortSignal,
): Promise<ScanResult & { matched: number }> {
  const matches = matcher(filter)
  let matched = 0
  const scan = await ctx.source.scan(async (batch) => {
    // The key filter compares the whole key, not the summary's shortened text.
    const hits = batch.filter((q) =>
      matches({
        id: q.id,
        errorClass: q.errorClass,
        stage: q.stage,
        failedAtMs: q.failedAtMs,
        original: q.original,
        message: q.message,
        key: q.record.key === null ? null : (decodeStrictUtf8(q.record.key) ?? `0x${q.record.key.toString('hex')}`),
      }),
    )
    matched += hits.length
    if (hits.length > 0) await onMatch(hits)
  }, signal)
  return { ...scan, matched }
}

export interface ErrorGroup {
  errorClass: string
  stage: string
  count: number
  firstMs: number
  lastMs: number
  /** Original topics of the group's records. */
  topics: string[]
  dialects: Dialect[]
  /** Records of the group already redriven, parked, retried or dropped. */
  handled: number
}

export type StateCounts = Record<'open' | 'redriven' | 'parked' | 'dropped' | 'retried' | 'failed', number>

export interface QuarantineListing {
  source: string
  auditTrail: string
  scanned: number
  matched: number
  unreadable: ScanResult['unreadable']
  dialects: Partial<Record<Dialect, number>>
  groups: ErrorGroup[]
  states: StateCounts
  /** The newest actions of the audit trail (all of them with `actions: 'all'`). */
  actions: AuditAction[]
  /** With `records`: the matching records, oldest first, up to the limit. */
  records?: Array<QuarantineSummary & { state?: RecordState['outcome'] }>
  elapsedMs: number
  recordsPerSecond: number
}

export interface ListRequest {
  filter: QuarantineFilter
  /** Also list this many matching records. */
  records?: number
  actions?: number
}

/** Groups the matching dead letters by error class and stage, with counts, first/last time and what the audit trail says. */
export async function listQuarantine(ctx: QuarantineContext, request: ListRequest): Promise<QuarantineListing> {
  const started = Date.now()
  const trail = await readTrail(ctx)
  const groups = new Map<string, ErrorGroup & { topicSet: Set<string>; dialectSet: Set<Dialect> }>()
  const dialects: Partial<Record<Dialect, number>> = {}
  const states: StateCounts = { open: 0, redriven: 0, parked: 0, dropped: 0, retried: 0, failed: 0 }
  const records: NonNullable<QuarantineListing['records']> = []
  const scan = await scanMatching(ctx, request.filter, (batch) => {
    for (const q of batch) {
      const key = `${q.errorClass}\u0000${q.stage}`
      let g = groups.get(key)
      if (!g) {
        g = {
          errorClass: q.errorClass,
          stage: q.stage,
          count: 0,
          firstMs: q.failedAtMs,
          lastMs: q.failedAtMs,
          topics: [],
          dialects: [],
          handled: 0,
          topicSet: new Set(),
          dialectSet: new Set(),
        }
        groups.set(key, g)
      }
      g.count++
      if (q.failedAtMs < g.firstMs) g.firstMs = q.failedAtMs
      if (q.failedAtMs > g.lastMs) g.lastMs = q.failedAtMs
      if (q.original.topic !== undefined) g.topicSet.add(q.original.topic)
      g.dialectSet.add(q.dialect)
      dialects[q.dialect] = (dialects[q.dialect] ?? 0) + 1
      const state = trail.states.get(q.id)
      if (isHandled(state)) g.handled++
      states[state?.outcome ?? 'open']++
      if (request.records !== undefined && records.length < request.records) records.push({ ...summarize(q), ...(state ? { state: state.outcome } : {}) })
    }
  })
  const elapsedMs = Date.now() - started
  return {
    source: ctx.source.uri,
    auditTrail: trail.location,
    scanned: scan.scanned,
    matched: scan.matched,
    unreadable: scan.unreadable,
    dialects,
    groups: [...groups.values()]
      .map(({ topicSet, dialectSet, ...g }) => ({ ...g, topics: [...topicSet].sort(), dialects: [...dialectSet].sort() }))
      .sort((a, b) => b.count - a.count || a.errorClass.localeCompare(b.errorClass) || a.stage.localeCompare(b.stage)),
    states,
    actions: trail.actions.slice(-(request.actions ?? 10)),
    ...(request.records === undefined ? {} : { records }),
    elapsedMs,
    recordsPerSecond: elapsedMs > 0 ? Math.round((scan.scanned / elapsedMs) * 1000) : 0,
  }
}

/** Every matching record as a summary (the TUI's model): no payloads kept. */
export async function loadSummaries(
  ctx: QuarantineContext,
  filter: QuarantineFilter = {},
  onProgress?: (scanned: number) => void,
): Promise<{ summaries: QuarantineSummary[]; scan: ScanResult }> {
  const summaries: QuarantineSummary[] = []
  const scan = await scanMatching(ctx, filter, (batch) => {
    for (const q of batch) summaries.push(summarize(q))
    onProgress?.(summaries.length)
  })
  return { summaries, scan }
}

export interface ShownRecord {
  id: string
  source: string
  dialect: Dialect
  original: QuarantinedRecord['original']
  errorClass: string
  message: string
  stage: string
  kind?: string
  stack?: string
  failedAt: string
  redriveCount: number
  /** Redrives of this very dead letter by hand (audit trail); the loop guard adds them to redriveCount. */
  redrivenByHand: number
  /** The cluster the record was read from, where the dead letter says. */
  sourceCluster?: RecordedCluster
  extra: Record<string, string>
  timestamp: string
  timestampType: 'create' | 'log-append'
  /** Every header of the dead letter: text when UTF-8, else `0x` hex; `context` marks the failure headers. */
  headers: Array<{ key: string; value: string | null; context: boolean }>
  key: Preview
  value: Preview
  state?: RecordState
}

export type ShowFormats = Pick<PeekRequest, 'keyFormat' | 'valueFormat' | 'schemas' | 'writerHeader'>

/** One dead letter in full: failure, stack, headers, key and value decoded (pretty JSON, Avro, or hex). */
export async function showQuarantined(ctx: QuarantineContext, id: string, formats: ShowFormats = {}, trail?: AuditTrail): Promise<ShownRecord> {
  const previewers = await openPreviewers(formats)
  const position = parsePositionId(id)
  if (!position)
    throw new RecoveryError(
      'QUARANTINE_RECORD_NOT_FOUND',
      `"${id}" is not a quarantine position; use partition@offset (e.g. 0@17) as recover quarantine list --records prints it.`,
    )
  const [q] = await ctx.source.read([position])
  if (!q)
    throw new RecoveryError(
      'QUARANTINE_RECORD_NOT_FOUND',
      `There is no record at ${id} in ${ctx.source.uri}; recover quarantine list --records --dlq ${ctx.source.uri} lists the positions.`,
      { details: { id } },
    )
  const r = q.record
  const contexts = [{ headers: r.headers }]
  await previewers.key.prepare([r.key], contexts)
  await previewers.value.prepare([r.value], contexts)
  const { restoredHeaders } = await import('../quarantine/quarantined-record.js')
  const kept = new Set(restoredHeaders(q))
  const audit = trail ?? (await readTrail(ctx))
  const state = audit.states.get(q.id)
  return {
    id: q.id,
    source: ctx.source.uri,
    dialect: q.dialect,
    original: q.original,
    errorClass: q.errorClass,
    message: q.message,
    stage: q.stage,
    ...(q.kind === undefined ? {} : { kind: q.kind }),
    ...(q.stack === undefined ? {} : { stack: q.stack }),
    failedAt: new Date(q.failedAtMs).toISOString(),
    redriveCount: q.redriveCount,
    redrivenByHand: audit.redrives.get(q.id) ?? 0,
    ...(q.sourceCluster ? { sourceCluster: q.sourceCluster } : {}),
    extra: q.extra,
    timestamp: new Date(r.timestampMs).toISOString(),
    timestampType: r.timestampType,
    headers: r.headers.map((h) => ({
      key: h.key,
      value: h.value === null ? null : (decodeStrictUtf8(h.value) ?? `0x${h.value.toString('hex')}`),
      context: !kept.has(h),
    })),
    key: previewers.key.preview(r.key, { headers: r.headers }),
    value: previewers.value.preview(r.value, { headers: r.headers }),
    ...(state ? { state } : {}),
  }
}

/** What retry, redrive and drop act on: a filter, or everything with `all`, never nothing by accident. */
export function requireSelection(filter: QuarantineFilter, all: boolean | undefined, action: string): void {
  if (!all && isEmptyFilter(filter)) {
    throw new RecoveryError(
      'NOTHING_SELECTED',
      `${action} was given no filter; select records with --error, --stage, --since/--until, --key, --topic or --id, or pass --all for the whole quarantine.`,
    )
  }
}

/** A readable account of the selection for the audit trail. */
export function describeSelection(filter: QuarantineFilter): string {
  const parts: string[] = []
  if (filter.error !== undefined) parts.push(`error~${filter.error}`)
  if (filter.stage !== undefined) parts.push(`stage=${filter.stage}`)
  if (filter.sinceMs !== undefined) parts.push(`since ${new Date(filter.sinceMs).toISOString()}`)
  if (filter.untilMs !== undefined) parts.push(`until ${new Date(filter.untilMs).toISOString()}`)
  if (filter.key !== undefined) parts.push(`key=${filter.key}`)
  if (filter.topic !== undefined) parts.push(`topic=${filter.topic}`)
  if (filter.text !== undefined && filter.text !== '') parts.push(`text~${filter.text}`)
  if (filter.ids && filter.ids.length > 0) parts.push(filter.ids.length <= 5 ? `ids ${filter.ids.join(',')}` : `${filter.ids.length} ids`)
  return parts.length > 0 ? parts.join(', ') : 'all'
}

export interface DropRequest {
  filter: QuarantineFilter
  all?: boolean
  reason: string
  /** Mark records that are already handled too. */
  again?: boolean
  /** Count only; record nothing. */
  dryRun?: boolean
}

export interface DropResult {
  source: string
  auditTrail: string
  matched: number
  dropped: number
  /** Already redriven, parked, retried or dropped (left as they are without --again). */
  alreadyHandled: number
  dryRun: boolean
  actionId?: string
}

/** Marks dead letters as dropped, with the reason, in the audit trail. The quarantine itself is never changed. */
export async function dropQuarantined(ctx: QuarantineContext, request: DropRequest, actor: Actor): Promise<DropResult> {
  requireSelection(request.filter, request.all, 'drop')
  if (request.reason.trim() === '') throw new RecoveryError('USAGE', 'drop needs a reason: pass --reason "why these records are not needed".')
  const trail = await readTrail(ctx)
  const chosen: string[] = []
  let already = 0
  const scan = await scanMatching(ctx, request.filter, (batch) => {
    for (const q of batch) {
      if (!request.again && isHandled(trail.states.get(q.id))) already++
      else chosen.push(q.id)
    }
  })
  const result: DropResult = {
    source: ctx.source.uri,
    auditTrail: trail.location,
    matched: scan.matched,
    dropped: chosen.length,
    alreadyHandled: already,
    dryRun: request.dryRun === true,
  }
  if (request.dryRun || chosen.length === 0) return result
  const action = { ...newAction('drop', actor, request.filter, chosen.length, { dropped: chosen.length }, [], true, request.reason), ...clusterOfAction(ctx) }
  await recordAction(
    ctx.uri,
    ctx.gateway,
    action,
    chosen.map((id) => ({ id, action: 'drop', outcome: 'dropped', actionId: action.id, at: action.at, by: action.by, reason: request.reason })),
  )
  result.actionId = action.id
  return result
}

export function newAction(
  kind: AuditAction['action'],
  actor: Actor,
  filter: QuarantineFilter,
  records: number,
  result: Record<string, number>,
  targets: string[],
  ok: boolean,
  reason?: string,
): AuditAction {
  return {
    id: randomUUID(),
    action: kind,
    by: actor.by,
    host: actor.host,
    at: new Date().toISOString(),
    ...(reason === undefined ? {} : { reason }),
    ...(actor.command === undefined ? {} : { command: actor.command }),
    selection: describeSelection(filter),
    records,
    result,
    targets,
    ok,
  }
}

export { appendEnvelopes, exportQuarantine, type ExportResult } from './quarantine-export.js'
export { auditLocation }
