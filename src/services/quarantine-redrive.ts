import { resolve } from 'node:path'
import { RecoveryError } from '../errors.js'
import { envelopeLine } from '../files/envelope.js'
import { assertSameCluster, type ClusterIdentity } from '../core/cluster-identity.js'
import { partitionForKey } from '../core/key-partitioner.js'
import { compileHeaderRules, noHeaderRules, type HeaderRules } from '../core/header-rules.js'
import type { KafkaGateway } from '../kafka/kafka-gateway.js'
import { KafkaWriter, type WritableRecord } from '../kafka/kafka-writer.js'
import { AuditTrailWriter, isHandled, type RecordState } from '../quarantine/audit-trail.js'
import { PARKED_REASON_HEADER, REDRIVE_COUNT_HEADER } from '../quarantine/dialects.js'
import type { QuarantineFilter } from '../quarantine/quarantine-filter.js'
import type { QuarantineUri } from '../quarantine/quarantine-source.js'
import { restoredHeaders, type QuarantinedRecord } from '../quarantine/quarantined-record.js'
import { appendEnvelopes, clusterOfAction, newAction, readTrail, requireSelection, scanMatching, type Actor, type QuarantineContext } from './quarantine.js'

export const DEFAULT_MAX_REDRIVES = 3

export interface RedriveRequest {
  filter: QuarantineFilter
  all?: boolean
  /** Back to the original partition; otherwise by key (Kafka's default partitioner), keyless records to their original partition modulo the count. */
  samePartition?: boolean
  /** Send this many first and continue only if every one was acknowledged. */
  canary?: number
  /** Records redriven this many times already go to the parking topic instead. */
  maxRedrives?: number
  /** Default: kafka:<quarantine>.parked, or <file>.parked.jsonl next to a file quarantine. */
  parking?: QuarantineUri
  /** Redrive records the audit trail says are already handled. */
  again?: boolean
  /** Without it: only the plan, nothing written. */
  execute: boolean
  /** Apply exactly this selection (the ids of the plan that was confirmed). */
  only?: ReadonlySet<string>
  batchSize?: number
  /**
   * --drop-header, --keep-header, --set-header on the restored headers of records sent back
   * (not parked ones). `recover.redrive-count` is added after them: the loop guard cannot be dropped.
   */
  headerRules?: HeaderRules
}

export interface RedriveTarget {
  topic: string
  partition: number
  records: number
}

export interface RedriveSkips {
  /** Already redriven, parked, retried or dropped (see --again). */
  handled: number
  /** The dead letter does not say where it came from (unknown dialect). */
  noOriginalTopic: number
  /** The original topic does not exist (any more). */
  missingTopic: number
  /** --same-partition, and the original partition is unknown or no longer exists. */
  missingPartition: number
}

export interface RedriveResult {
  source: string
  /** The cluster the records go back to (every record that says where it was read from was read there). */
  cluster: ClusterIdentity
  auditTrail: string
  parking: string
  maxRedrives: number
  samePartition: boolean
  executed: boolean
  matched: number
  /** Planned: to original topics, and to the parking topic (loop guard). */
  toRedrive: number
  toPark: number
  skipped: RedriveSkips
  targets: RedriveTarget[]
  /** Selected records whose dead letter does not say which cluster they were read from (other dialects, older recover). */
  unknownCluster: number
  /** Selected records redriven by hand before (with --again): the loop guard counts those redrives too. */
  redrivenBefore: number
  /** Executed: acknowledged writes. */
  redriven: number
  parked: number
  refused: number
  canary?: { records: number; ok: boolean }
  actionId?: string
}

type Decision = { kind: 'redrive'; topic: string; partition: number } | { kind: 'park' } | { kind: 'skip'; why: keyof RedriveSkips }

/** How far a redrive has got, after each batch. */
export interface RedriveProgress {
  redriven: number
  parked: number
  refused: number
}

/**
 * Sends dead letters back to their original topics: key, value, timestamp and original
 * headers, the failure headers stripped and `recover.redrive-count` raised by one. The loop
 * guard counts a record's redrives from that header and from the audit trail (redrives of the
 * same dead letter by hand, with `again`): records redriven `maxRedrives` times go to the
 * parking topic with every header kept. A record that says it was read from another cluster
 * than the one connected to refuses the whole redrive (CLUSTER_MISMATCH) before anything is
 * written. With `execute` false this is the plan: the same decisions, nothing written. Every
 * write is recorded in the audit trail, including partial work before a failure.
 */
export async function redriveQuarantined(
  ctx: QuarantineContext,
  request: RedriveRequest,
  actor: Actor,
  deps: { onProgress?: (progress: RedriveProgress) => void | Promise<void> } = {},
): Promise<{ result: RedriveResult; selected: Set<string> }> {
  requireSelection(request.filter, request.all || request.only !== undefined, 'redrive')
  if (!request.execute) return redrive(ctx, request, actor, deps)
  // The plan first: it checks every selected record's cluster, so a refusal comes before the first write.
  const plan = await redrive(ctx, { ...request, execute: false }, actor, {})
  if (plan.selected.size === 0) return { ...plan, result: { ...plan.result, executed: true } }
  const done = await redrive(ctx, { ...request, only: plan.selected }, actor, deps)
  // What the plan left out (handled, no original topic, …) is part of what was asked for.
  const skipped = Object.fromEntries(
    Object.entries(plan.result.skipped).map(([why, n]) => [why, n + done.result.skipped[why as keyof RedriveSkips]]),
  ) as unknown as RedriveSkips
  return { ...done, result: { ...done.result, matched: plan.result.matched, skipped } }
}

async function redrive(
  ctx: QuarantineContext,
  request: RedriveRequest,
  actor: Actor,
  deps: { onProgress?: (progress: RedriveProgress) => void | Promise<void> },
): Promise<{ result: RedriveResult; selected: Set<string> }> {
  const gateway = ctx.gateway
  if (!gateway) throw new Error('redrive needs a Kafka gateway')
  const cluster = gateway.cluster
  const maxRedrives = request.maxRedrives ?? DEFAULT_MAX_REDRIVES
  const parking = request.parking ?? defaultParking(ctx.uri)
  const parkingName = parking.kind === 'kafka' ? `kafka:${parking.topic}` : `file:${resolve(parking.path)}`
  const trail = await readTrail(ctx)
  const existing = new Set(await gateway.listTopics())
  const partitionCounts = new Map<string, number>()
  const countOf = async (topic: string) => {
    let n = partitionCounts.get(topic)
    if (n === undefined) {
      n = (await gateway.partitionsOf(topic)).length
      partitionCounts.set(topic, n)
    }
    return n
  }
  /** Redrives so far: the count the record carries (failed again after a redrive) and redrives of this very dead letter. */
  const redrivesOf = (q: QuarantinedRecord) => q.redriveCount + (trail.redrives.get(q.id) ?? 0)
  const decide = async (q: QuarantinedRecord): Promise<Decision> => {
    if (!request.again && isHandled(trail.states.get(q.id))) return { kind: 'skip', why: 'handled' }
    if (q.sourceCluster?.id !== undefined) {
      assertSameCluster(
        q.sourceCluster,
        cluster,
        `Dead letter ${q.id} of ${ctx.source.uri} (${q.original.topic ?? '?'}-${q.original.partition ?? '?'}@${q.original.offset ?? '?'})`,
        {
          nextSteps: [
            `Redrive it while connected to cluster ${q.sourceCluster.id} (--brokers, --cluster or RECOVER_BROKERS), or leave it out of the selection (--topic, --id, --since).`,
          ],
          details: { id: q.id },
        },
      )
    }
    if (redrivesOf(q) >= maxRedrives) {
      // Parked already (and asked --again): a second copy in the parking topic helps nobody.
      return trail.states.get(q.id)?.outcome === 'parked' ? { kind: 'skip', why: 'handled' } : { kind: 'park' }
    }
    const topic = q.original.topic
    if (topic === undefined) return { kind: 'skip', why: 'noOriginalTopic' }
    if (!existing.has(topic)) return { kind: 'skip', why: 'missingTopic' }
    const count = await countOf(topic)
    if (request.samePartition) {
      const p = q.original.partition
      if (p === undefined || p < 0 || p >= count) return { kind: 'skip', why: 'missingPartition' }
      return { kind: 'redrive', topic, partition: p }
    }
    const key = q.record.key
    const partition = key !== null && key.length > 0 ? partitionForKey(key, count) : (q.original.partition ?? 0) % count
    return { kind: 'redrive', topic, partition }
  }

  const result: RedriveResult = {
    source: ctx.source.uri,
    cluster,
    auditTrail: trail.location,
    parking: parkingName,
    maxRedrives,
    samePartition: request.samePartition === true,
    executed: request.execute,
    matched: 0,
    toRedrive: 0,
    toPark: 0,
    skipped: { handled: 0, noOriginalTopic: 0, missingTopic: 0, missingPartition: 0 },
    targets: [],
    unknownCluster: 0,
    redrivenBefore: 0,
    redriven: 0,
    parked: 0,
    refused: 0,
  }
  const targets = new Map<string, RedriveTarget>()
  const selected = new Set<string>()
  const writers = new Map<string, KafkaWriter>()
  const states: RecordState[] = []
  const action = { ...newAction('redrive', actor, request.filter, 0, {}, [], true), ...clusterOfAction(ctx) }
  const pending: Array<{ q: QuarantinedRecord; d: Exclude<Decision, { kind: 'skip' }> }> = []
  const batchSize = Math.max(1, request.batchSize ?? 1000)
  let canaryLeft = request.canary ?? 0
  const sourcePartitions = await ctx.source.partitions()
  const rewrite = request.headerRules && !noHeaderRules(request.headerRules) ? compileHeaderRules(request.headerRules) : undefined
  const headersBack = (q: QuarantinedRecord) => {
    const restored = restoredHeaders(q)
    return rewrite ? rewrite(restored, { topic: q.original.topic ?? '', partition: q.original.partition ?? -1, offset: q.original.offset ?? -1n }) : restored
  }

  const writerFor = async (topic: string, partitions: number): Promise<KafkaWriter> => {
    let w = writers.get(topic)
    if (!w) {
      // Parked records keep their original (often old) timestamps: a parking topic with the
      // broker's default retention would delete them at its next retention check.
      if (parking.kind === 'kafka' && topic === parking.topic) await gateway.ensureTopic(topic, { partitions, configs: { 'retention.ms': '-1' } })
      w = await KafkaWriter.open(gateway, topic, {
        createPartitions: partitions,
        idempotent: true,
        errorCode: 'SINK_FAILED',
        role: topic === (parking.kind === 'kafka' ? parking.topic : '') ? 'parking' : 'original',
      })
      writers.set(topic, w)
    }
    return w
  }
  const state = (q: QuarantinedRecord, outcome: RecordState['outcome'], target: string): RecordState => ({
    id: q.id,
    action: 'redrive',
    outcome,
    actionId: action.id,
    at: new Date().toISOString(),
    by: actor.by,
    target,
    clusterId: cluster.id,
    ...(outcome === 'redriven' ? { redrives: (trail.redrives.get(q.id) ?? 0) + 1 } : {}),
  })

  const flush = async (): Promise<number> => {
    const items = pending.splice(0)
    let refused = 0
    const byTopic = new Map<string, typeof items>()
    const parked: typeof items = []
    for (const item of items) {
      if (item.d.kind === 'park') parked.push(item)
      else byTopic.set(item.d.topic, [...(byTopic.get(item.d.topic) ?? []), item])
    }
    for (const [topic, list] of byTopic) {
      const w = await writerFor(topic, await countOf(topic))
      const records: WritableRecord[] = list.map(({ q, d }) => ({
        sourcePartition: (d as { partition: number }).partition,
        key: q.record.key,
        value: q.record.value,
        headers: [...headersBack(q), { key: REDRIVE_COUNT_HEADER, value: Buffer.from(String(redrivesOf(q) + 1)) }],
        timestampMs: q.record.timestampMs,
      }))
      const rejected = new Set(await w.write(records))
      list.forEach(({ q, d }, i) => {
        const target = `${topic}-${(d as { partition: number }).partition}`
        if (rejected.has(i)) {
          refused++
          states.push(state(q, 'failed', target))
        } else {
          result.redriven++
          states.push(state(q, 'redriven', target))
        }
      })
    }
    if (parked.length > 0) {
      const withReason = (q: QuarantinedRecord) => [
        ...q.record.headers.filter((h) => h.key !== PARKED_REASON_HEADER),
        { key: PARKED_REASON_HEADER, value: Buffer.from(`redriven ${redrivesOf(q)} times (--max-redrives ${maxRedrives})`) },
      ]
      if (parking.kind === 'kafka') {
        const w = await writerFor(parking.topic, sourcePartitions)
        const rejected = new Set(
          await w.write(
            parked.map(({ q }) => ({
              sourcePartition: q.position.partition,
              key: q.record.key,
              value: q.record.value,
              headers: withReason(q),
              timestampMs: q.record.timestampMs,
            })),
          ),
        )
        parked.forEach(({ q }, i) => {
          if (rejected.has(i)) refused++
          else result.parked++
          states.push(state(q, rejected.has(i) ? 'failed' : 'parked', parkingName))
        })
      } else {
        await appendEnvelopes(resolve(parking.path), parked.map(({ q }) => envelopeLine({ ...q.record, headers: withReason(q) })).join(''))
        for (const { q } of parked) {
          result.parked++
          states.push(state(q, 'parked', parkingName))
        }
      }
    }
    result.refused += refused
    await recordProgress()
    await deps.onProgress?.({ redriven: result.redriven, parked: result.parked, refused: result.refused })
    return refused
  }

  let trailWriter: AuditTrailWriter | undefined
  /** States already in the audit trail. */
  let recorded = 0
  /**
   * After every batch, and at the end (`end`): the new record states and the action so far. A
   * run killed halfway has its handled records marked, so running it again skips them (at most
   * the batch in flight at the kill goes twice), and its action says unfinished.
   */
  const recordProgress = async (end?: { ok: boolean }): Promise<void> => {
    if (!request.execute || states.length === 0) return
    trailWriter ??= await AuditTrailWriter.open(ctx.uri, ctx.gateway)
    action.records = states.length
    action.result = { redriven: result.redriven, parked: result.parked, refused: result.refused }
    action.targets = [...new Set(states.map((s) => s.target!))].sort()
    action.ok = end?.ok ?? false
    await trailWriter.append(end ? action : { ...action, unfinished: true }, states.slice(recorded))
    recorded = states.length
    if (end) result.actionId = action.id
  }

  try {
    const scan = await scanMatching(ctx, request.only ? { ids: [...request.only] } : request.filter, async (batch) => {
      for (const q of batch) {
        const d = await decide(q)
        if (d.kind === 'skip') {
          result.skipped[d.why]++
          continue
        }
        selected.add(q.id)
        if (q.sourceCluster?.id === undefined) result.unknownCluster++
        if ((trail.redrives.get(q.id) ?? 0) > 0) result.redrivenBefore++
        if (d.kind === 'park') result.toPark++
        else {
          result.toRedrive++
          const k = `${d.topic}\u0000${d.partition}`
          const t = targets.get(k) ?? { topic: d.topic, partition: d.partition, records: 0 }
          t.records++
          targets.set(k, t)
        }
        if (!request.execute) continue
        pending.push({ q, d })
        if (canaryLeft > 0) {
          if (pending.length >= canaryLeft) await runCanary()
        } else if (pending.length >= batchSize) await flush()
      }
    })
    result.matched = scan.matched
    if (request.execute) {
      if (canaryLeft > 0 && pending.length > 0) await runCanary()
      if (pending.length > 0) await flush()
    }
    await recordProgress({ ok: result.refused === 0 })
  } catch (error) {
    await recordProgress({ ok: false }).catch(() => undefined)
    if (error instanceof RecoveryError && (error.code === 'CANARY_FAILED' || error.code === 'BROKER_UNREACHABLE' || error.code === 'TOPIC_NOT_FOUND'))
      throw error
    if (error instanceof RecoveryError && error.code === 'SINK_FAILED') {
      throw new RecoveryError('REDRIVE_FAILED', `The redrive stopped after ${result.redriven} redriven and ${result.parked} parked records: ${error.message}`, {
        cause: error,
        details: { redriven: result.redriven, parked: result.parked },
      })
    }
    throw error
  } finally {
    for (const w of writers.values()) await w.close()
    await trailWriter?.close()
  }
  result.targets = [...targets.values()].sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)
  return { result, selected }

  async function runCanary(): Promise<void> {
    const n = pending.length
    canaryLeft = 0
    const refused = await flush()
    result.canary = { records: n, ok: refused === 0 }
    if (refused > 0) {
      throw new RecoveryError(
        'CANARY_FAILED',
        `${refused} of the ${n} canary records were refused, so the rest were not redriven; see the audit trail for which, fix the cause and run the redrive again.`,
        { details: { canary: n, refused } },
      )
    }
  }
}

export function defaultParking(uri: QuarantineUri): QuarantineUri {
  if (uri.kind === 'kafka') return { kind: 'kafka', topic: `${uri.topic}.parked` }
  return { kind: 'file', path: `${resolve(uri.path).replace(/\.(jsonl|ndjson)$/i, '')}.parked.jsonl` }
}

export type { KafkaGateway }
