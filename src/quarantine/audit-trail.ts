import { appendFile, readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { RecoveryError } from '../errors.js'
import type { KafkaGateway } from '../kafka/kafka-gateway.js'
import { KafkaWriter } from '../kafka/kafka-writer.js'
import { RangeReader } from '../kafka/range-reader.js'
import type { QuarantineUri } from './quarantine-source.js'

export type ActionKind = 'retry' | 'redrive' | 'drop'

/** Who did what, when and why, and how it went: one per retry, redrive or drop. */
export interface AuditAction {
  id: string
  action: ActionKind
  by: string
  host: string
  at: string
  reason?: string
  /** The command line (secrets redacted) or `triage`. */
  command?: string
  /** The filter, as the person gave it. */
  selection: string
  records: number
  result: Record<string, number>
  /** Where the records went: original topics, a parking topic, a sink. */
  targets: string[]
  ok: boolean
  /** Recorded while the action ran (after each batch): a run that stopped halfway leaves this. */
  unfinished?: boolean
  /** The Kafka cluster the action was connected to (where a redrive or retry wrote). */
  cluster?: { id: string; bootstrap: string[] }
}

/** The latest state of one dead letter (compaction keeps exactly this per key). */
export interface RecordState {
  id: string
  action: ActionKind
  outcome: 'redriven' | 'parked' | 'dropped' | 'retried' | 'failed'
  actionId: string
  at: string
  by: string
  reason?: string
  target?: string
  /** The cluster the record was written to (redrive, retry). */
  clusterId?: string
  /** With a redrive: how many times this dead letter has been redriven by hand, this time included. */
  redrives?: number
}

export interface AuditTrail {
  location: string
  actions: AuditAction[]
  states: Map<string, RecordState>
  /**
   * How many times each dead letter was redriven by hand (the loop guard adds it to the
   * record's recover.redrive-count, so `--again` cannot send the same record back forever).
   */
  redrives: Map<string, number>
}

/** Outcomes that mean "this dead letter is handled": not redriven or dropped again without --again. */
export function isHandled(state: RecordState | undefined): boolean {
  return state !== undefined && state.outcome !== 'failed'
}

/** `kafka:<topic>.recover-audit` (compacted) or `<file>.audit.jsonl`, next to the quarantine. */
export function auditLocation(uri: QuarantineUri): { kind: 'kafka'; topic: string } | { kind: 'file'; path: string } {
  if (uri.kind === 'kafka') return { kind: 'kafka', topic: `${uri.topic}.recover-audit` }
  return { kind: 'file', path: `${resolve(uri.path).replace(/\.(jsonl|ndjson)$/i, '')}.audit.jsonl` }
}

/**
 * `action:<uuid>`, `record:<id>` (the latest state of a dead letter) and `redrives:<id>` (how
 * often it was redriven: its own key, so that compaction keeps the count when a later drop or
 * retry replaces the record's state).
 */
interface Entry {
  key: string
  value: AuditAction | RecordState | RedriveCount
}

interface RedriveCount {
  id: string
  count: number
}

function fold(location: string, entries: Entry[]): AuditTrail {
  const actions = new Map<string, AuditAction>()
  const states = new Map<string, RecordState>()
  const redrives = new Map<string, number>()
  const atLeast = (id: string, n: number) => redrives.set(id, Math.max(redrives.get(id) ?? 0, n))
  for (const e of entries) {
    if (e.key.startsWith('action:')) actions.set(e.key, e.value as AuditAction)
    else if (e.key.startsWith('record:')) {
      const id = e.key.slice('record:'.length)
      const state = e.value as RecordState
      states.set(id, state)
      // Trails written before the count was recorded: every redriven state still in the log counts.
      if (state.outcome === 'redriven') atLeast(id, Math.max(state.redrives ?? 0, (redrives.get(id) ?? 0) + 1))
    } else if (e.key.startsWith('redrives:')) atLeast(e.key.slice('redrives:'.length), Number((e.value as RedriveCount).count) || 0)
  }
  return { location, actions: [...actions.values()].sort((a, b) => a.at.localeCompare(b.at)), states, redrives }
}

/** Everything recorded so far. A trail that does not exist yet is empty (reading never creates it). */
export async function readAuditTrail(uri: QuarantineUri, gateway: KafkaGateway | undefined): Promise<AuditTrail> {
  const where = auditLocation(uri)
  if (where.kind === 'file') {
    let text: string
    try {
      text = await readFile(where.path, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return fold(`file:${where.path}`, [])
      throw failed(`file:${where.path}`, 'read', error)
    }
    const entries: Entry[] = []
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue
      try {
        entries.push(JSON.parse(line) as Entry)
      } catch {
        // A torn last line (a crash mid-append) is skipped; everything before it stands.
      }
    }
    return fold(`file:${where.path}`, entries)
  }
  const location = `kafka:${where.topic}`
  const topics = await gateway!.listTopics()
  if (!topics.includes(where.topic)) return fold(location, [])
  const reader = new RangeReader(gateway!.kafka, gateway!.settings, where.topic)
  try {
    const facts = await reader.partitionFacts(await gateway!.partitionsOf(where.topic))
    const entries: Entry[] = []
    for await (const chunks of reader.read(facts.map((f) => ({ partition: f.partition, start: f.logStart, end: f.stableEnd })))) {
      for (const chunk of chunks) {
        for (const r of chunk.records) {
          if (r.key === null || r.value === null) continue
          try {
            entries.push({ key: r.key.toString('utf8'), value: JSON.parse(r.value.toString('utf8')) as Entry['value'] })
          } catch {
            // Not ours: someone else wrote to the topic. Skipped.
          }
        }
      }
    }
    return fold(location, entries)
  } finally {
    await reader.close()
  }
}

/**
 * An open audit trail, for an action that records its progress batch by batch: a run killed
 * halfway leaves the records it handled marked (a second run skips them) and its action marked
 * unfinished. Each append writes the record states first, then the action: a reader that sees
 * the action sees its records too.
 */
export class AuditTrailWriter {
  private constructor(
    private readonly where: ReturnType<typeof auditLocation>,
    private readonly writer: KafkaWriter | undefined,
  ) {}

  static async open(uri: QuarantineUri, gateway: KafkaGateway | undefined): Promise<AuditTrailWriter> {
    const where = auditLocation(uri)
    if (where.kind === 'file') return new AuditTrailWriter(where, undefined)
    try {
      await gateway!.ensureCompactedTopic(where.topic)
    } catch (error) {
      throw failed(`kafka:${where.topic}`, 'created', error)
    }
    const writer = await KafkaWriter.open(gateway!, where.topic, {
      createPartitions: 1,
      idempotent: true,
      errorCode: 'QUARANTINE_FAILED',
      role: 'audit trail',
    }).catch((error: unknown) => {
      throw failed(`kafka:${where.topic}`, 'opened', error)
    })
    return new AuditTrailWriter(where, writer)
  }

  async append(action: AuditAction, states: readonly RecordState[]): Promise<void> {
    const counts: Entry[] = states.filter((s) => s.redrives !== undefined).map((s) => ({ key: `redrives:${s.id}`, value: { id: s.id, count: s.redrives! } }))
    const entries: Entry[] = [...states.map((s) => ({ key: `record:${s.id}`, value: s })), ...counts, { key: `action:${action.id}`, value: action }]
    if (this.where.kind === 'file') {
      try {
        await appendFile(this.where.path, entries.map((e) => `${JSON.stringify(e)}\n`).join(''))
      } catch (error) {
        throw failed(`file:${this.where.path}`, 'written', error)
      }
      return
    }
    try {
      const now = Date.now()
      const refused = await this.writer!.write(
        entries.map((e) => ({ sourcePartition: 0, key: Buffer.from(e.key), value: Buffer.from(JSON.stringify(e.value)), headers: [], timestampMs: now })),
      )
      if (refused.length > 0) throw new Error(`${refused.length} audit entries were refused as too large`)
    } catch (error) {
      throw failed(`kafka:${this.where.topic}`, 'written', error)
    }
  }

  async close(): Promise<void> {
    await this.writer?.close()
  }
}

/** Records a whole action at once. */
export async function recordAction(uri: QuarantineUri, gateway: KafkaGateway | undefined, action: AuditAction, states: RecordState[]): Promise<void> {
  const trail = await AuditTrailWriter.open(uri, gateway)
  try {
    await trail.append(action, states)
  } finally {
    await trail.close()
  }
}

function failed(location: string, doing: string, cause: unknown): RecoveryError {
  if (cause instanceof RecoveryError && cause.code === 'BROKER_UNREACHABLE') return cause
  return new RecoveryError('AUDIT_TRAIL_FAILED', `The quarantine audit trail ${location} could not be ${doing}: ${(cause as Error).message}`, {
    cause,
    details: { location },
  })
}
