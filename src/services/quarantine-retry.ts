import { resolve } from 'node:path'
import { assertSameCluster, type ClusterIdentity } from '../core/cluster-identity.js'
import { RecoveryError } from '../errors.js'
import type { CodecFormat } from '../codecs/codec.js'
import type { SchemaSourceOptions } from '../codecs/create-codecs.js'
import type { KafkaRecord } from '../kafka/kafka-record.js'
import { recordAction, type RecordState } from '../quarantine/audit-trail.js'
import type { QuarantineFilter } from '../quarantine/quarantine-filter.js'
import type { QuarantineUri } from '../quarantine/quarantine-source.js'
import { parseQuarantineLocation, toQuarantineLocation, type QuarantineLocation } from '../quarantine/quarantine-location.js'
import type { AnyLocation } from '../core/location.js'
import { toSinkLocation } from '../sinks/registry.js'
import { restoredHeaders, type QuarantinedRecord } from '../quarantine/quarantined-record.js'
import { replayRecords, type RecordsReplayResult } from './replay.js'
import { clusterOfAction, newAction, requireSelection, scanMatching, type Actor, type QuarantineContext } from './quarantine.js'

/** More than this is a redrive or a replay of an exported file, not a retry. */
export const MAX_RETRY_RECORDS = 100_000

export interface RetryRequest {
  filter: QuarantineFilter
  all?: boolean
  /** Any location replay --sink takes (docs/locations.md), parsed or as text. */
  sink: AnyLocation | string
  /** Where records that fail again go. Default: the same quarantine topic, or a new file next to a file quarantine. */
  quarantine?: QuarantineLocation | string
  transform?: { path: string; timeoutMs: number }
  keyFormat?: CodecFormat
  valueFormat?: CodecFormat
  schemas?: SchemaSourceOptions
  outputSchemaId?: number
  /** The TUI's edit: this value instead of the stored one, per quarantine position. */
  valueOverrides?: ReadonlyMap<string, Buffer | null>
  /** Count what would be retried; write nothing. */
  dryRun?: boolean
}

export interface RetryResult {
  source: string
  /** The cluster the retry is connected to (where a Kafka sink and quarantine are written). */
  cluster: ClusterIdentity
  auditTrail: string
  matched: number
  /** Selected records whose dead letter does not say which cluster they were read from (other dialects, older recover). */
  unknownCluster: number
  /** Of the records that failed again, those the quarantine already held (the retried entry itself): not quarantined twice. */
  alreadyQuarantined: number
  dryRun: boolean
  sink: string
  quarantine: string
  transform: RecordsReplayResult['transform']
  totals: RecordsReplayResult['totals']
  quarantinedByStage?: RecordsReplayResult['quarantinedByStage']
  /** Per record: where it sits in the quarantine, where it came from, and how the retry went. */
  records: Array<{ id: string; original: string; outcome: RecordsReplayResult['outcomes'][number] | 'planned' }>
  actionId?: string
}

/** The record as it was read from its original topic, before it failed (the replay pipeline's input). */
export function restoredRecord(q: QuarantinedRecord, value?: Buffer | null): KafkaRecord {
  return {
    topic: q.original.topic ?? q.record.topic,
    partition: q.original.partition ?? q.position.partition,
    offset: q.original.offset ?? q.position.offset,
    timestampMs: q.record.timestampMs,
    timestampType: q.record.timestampType,
    key: q.record.key,
    value: value === undefined ? q.record.value : value,
    headers: restoredHeaders(q),
  }
}

/**
 * Retries dead letters through the (fixed) transform into a sink, with replay's own pipeline:
 * decode, transform, encode, write; records that fail again are quarantined (stage decode,
 * transform or sink) unless the quarantine still holds them open (retrying from it: the entry
 * stays, marked failed). Every retried record's outcome goes to the audit trail. A record that
 * says it was read from another cluster refuses the retry (CLUSTER_MISMATCH), nothing written.
 */
export async function retryQuarantined(
  ctx: QuarantineContext,
  request: RetryRequest,
  actor: Actor,
  deps: { signal?: AbortSignal; log?: (line: string) => void } = {},
): Promise<RetryResult> {
  requireSelection(request.filter, request.all, 'retry')
  const sink = toSinkLocation(request.sink)
  const quarantine = request.quarantine === undefined ? defaultRetryQuarantine(ctx.uri) : toQuarantineLocation(request.quarantine)
  if (!ctx.gateway) throw new Error('retry needs a Kafka gateway')
  const chosen: QuarantinedRecord[] = []
  const scan = await scanMatching(ctx, request.filter, (batch) => {
    for (const q of batch) chosen.push(q)
    if (chosen.length > MAX_RETRY_RECORDS) {
      throw new RecoveryError(
        'USAGE',
        `retry selected more than ${MAX_RETRY_RECORDS} records; narrow the filter, or export them (recover quarantine export) and replay the file.`,
      )
    }
  })
  const cluster = ctx.gateway.cluster
  let unknownCluster = 0
  for (const q of chosen) {
    if (q.sourceCluster?.id === undefined) unknownCluster++
    else {
      assertSameCluster(q.sourceCluster, cluster, `Dead letter ${q.id} of ${ctx.source.uri} (${originalName(q)})`, {
        nextSteps: [
          `Retry it while connected to cluster ${q.sourceCluster.id} (--brokers, --cluster or RECOVER_BROKERS), or leave it out of the selection (--topic, --id, --since).`,
        ],
        details: { id: q.id },
      })
    }
  }
  const { auditLocation } = await import('../quarantine/audit-trail.js')
  const where = auditLocation(ctx.uri)
  const base = {
    source: ctx.source.uri,
    cluster,
    auditTrail: where.kind === 'kafka' ? `kafka:${where.topic}` : `file:${where.path}`,
    matched: scan.matched,
    unknownCluster,
    sink: sink.display,
    quarantine: quarantine.display,
  }
  if (request.dryRun || chosen.length === 0) {
    return {
      ...base,
      dryRun: request.dryRun === true,
      alreadyQuarantined: 0,
      transform: null,
      totals: { read: 0, written: 0, dropped: 0, quarantined: 0, outputs: 0 },
      records: chosen.map((q) => ({ id: q.id, original: originalName(q), outcome: 'planned' })),
    }
  }
  const inputs = chosen.map((q) => restoredRecord(q, request.valueOverrides?.get(q.id)))
  const replayed = await replayRecords(
    inputs,
    {
      readFrom: ctx.source.uri,
      partitions: await sinkPartitions(ctx, chosen),
      keyFormat: request.keyFormat,
      valueFormat: request.valueFormat,
      schemas: request.schemas,
      outputSchemaId: request.outputSchemaId,
      transform: request.transform,
      sink,
      quarantine,
    },
    { gateway: ctx.gateway, signal: deps.signal, log: deps.log },
  )
  const ok = replayed.totals.quarantined === 0
  const action = {
    ...newAction(
      'retry',
      actor,
      request.filter,
      chosen.length,
      { written: replayed.totals.written, dropped: replayed.totals.dropped, quarantined: replayed.totals.quarantined },
      [replayed.sink],
      ok,
    ),
    ...clusterOfAction(ctx),
  }
  const states: RecordState[] = chosen.map((q, i) => ({
    id: q.id,
    action: 'retry',
    outcome: replayed.outcomes[i] === 'quarantined' ? 'failed' : 'retried',
    actionId: action.id,
    at: action.at,
    by: actor.by,
    target: replayed.outcomes[i] === 'quarantined' ? replayed.quarantine : replayed.sink,
    clusterId: cluster.id,
  }))
  await recordAction(ctx.uri, ctx.gateway, action, states)
  return {
    ...base,
    dryRun: false,
    sink: replayed.sink,
    quarantine: replayed.quarantine,
    transform: replayed.transform,
    totals: replayed.totals,
    quarantinedByStage: replayed.quarantinedByStage,
    alreadyQuarantined: replayed.alreadyQuarantined,
    records: chosen.map((q, i) => ({ id: q.id, original: originalName(q), outcome: replayed.outcomes[i]! })),
    actionId: action.id,
  }
}

/** A sink or quarantine topic created for a retry gets the partitions of the original topics (so records keep theirs). */
async function sinkPartitions(ctx: QuarantineContext, chosen: readonly QuarantinedRecord[]): Promise<number> {
  let n = await ctx.source.partitions()
  const existing = new Set(await ctx.gateway!.listTopics())
  for (const topic of new Set(chosen.map((q) => q.original.topic).filter((t): t is string => t !== undefined && existing.has(t))))
    n = Math.max(n, (await ctx.gateway!.partitionsOf(topic)).length)
  return n
}

function originalName(q: QuarantinedRecord): string {
  return q.original.topic === undefined ? '(unknown)' : `${q.original.topic}-${q.original.partition ?? '?'}@${q.original.offset ?? '?'}`
}

/** A Kafka quarantine takes its failures back; a file quarantine gets a new file beside it (files are never appended to by a second writer). */
export function defaultRetryQuarantine(uri: QuarantineUri): QuarantineLocation {
  if (uri.kind === 'kafka') return parseQuarantineLocation(`kafka:${uri.topic}`)
  return parseQuarantineLocation(`file:${resolve(uri.path).replace(/\.(jsonl|ndjson)$/i, '')}.retry-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`)
}
