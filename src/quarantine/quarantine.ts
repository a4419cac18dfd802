import { resolve } from 'node:path'
import { redactText } from '../config/redact.js'
import type { ClusterIdentity, RecordedCluster } from '../core/cluster-identity.js'
import { RecoveryError } from '../errors.js'
import { AppendFile } from '../files/append-file.js'
import { envelopeLine } from '../files/envelope.js'
import type { KafkaGateway } from '../kafka/kafka-gateway.js'
import type { KafkaRecord } from '../kafka/kafka-record.js'
import { KafkaWriter } from '../kafka/kafka-writer.js'
import type { RecordHeader } from '../plugin-api.js'
import type { SinkState } from '../sinks/sink.js'
import { readAuditTrail } from './audit-trail.js'
import { QUARANTINE_HEADERS } from './header-names.js'
import { FileQuarantineSource, KafkaQuarantineSource } from './quarantine-source.js'
import { loadKnownSources, sourceKey, type QuarantineScope } from './quarantined-sources.js'

export type QuarantineStage = 'decode' | 'transform' | 'sink'

/** Why one record is quarantined; the record itself is the original, bytes untouched. */
export interface QuarantineEntry {
  record: KafkaRecord
  stage: QuarantineStage
  error: Error
  /** The decode failure kind (not-json, avro-truncated, …) or encode failure kind, where there is one. */
  kind?: string
  /** Which side failed to decode or encode. */
  side?: 'key' | 'value'
  transform?: { name: string; version: string }
}

export { QUARANTINE_HEADERS }

const CONNECT_STAGE: Record<QuarantineStage, string> = { decode: 'VALUE_CONVERTER', transform: 'TRANSFORMATION', sink: 'TASK_PUT' }
const MAX_MESSAGE = 8 * 1024
const MAX_STACK = 16 * 1024

/**
 * The headers of a quarantined record: the original ones, in order, then the context. `cluster`
 * is the cluster the record was read from (recorded so a redrive refuses another cluster).
 */
export function quarantineHeaders(entry: QuarantineEntry, now: Date, cluster?: RecordedCluster): RecordHeader[] {
  const text = (s: string, max: number) => Buffer.from(redactText(s.length > max ? `${s.slice(0, max)}…` : s), 'utf8')
  const h = (key: string, value: string, max = MAX_MESSAGE): RecordHeader => ({ key, value: text(value, max) })
  const r = entry.record
  const errorClass = entry.error.name || entry.error.constructor?.name || 'Error'
  const stack = entry.error.stack ?? `${errorClass}: ${entry.error.message}`
  const context: RecordHeader[] = [h(QUARANTINE_HEADERS.stage, entry.stage), h(QUARANTINE_HEADERS.class, errorClass)]
  if (entry.kind !== undefined) context.push(h(QUARANTINE_HEADERS.kind, entry.kind))
  if (entry.side !== undefined) context.push(h(QUARANTINE_HEADERS.side, entry.side))
  context.push(
    h(QUARANTINE_HEADERS.message, entry.error.message),
    h(QUARANTINE_HEADERS.stack, stack, MAX_STACK),
    h(QUARANTINE_HEADERS.topic, r.topic),
    h(QUARANTINE_HEADERS.partition, String(r.partition)),
    h(QUARANTINE_HEADERS.offset, r.offset.toString()),
  )
  if (cluster?.id) context.push(h(QUARANTINE_HEADERS.clusterId, cluster.id))
  if (cluster?.bootstrap?.length) context.push(h(QUARANTINE_HEADERS.bootstrap, cluster.bootstrap.join(',')))
  if (entry.transform) context.push(h(QUARANTINE_HEADERS.transformName, entry.transform.name), h(QUARANTINE_HEADERS.transformVersion, entry.transform.version))
  context.push(
    h(QUARANTINE_HEADERS.quarantinedAt, now.toISOString()),
    h('__connect.errors.topic', r.topic),
    h('__connect.errors.partition', String(r.partition)),
    h('__connect.errors.offset', r.offset.toString()),
    h('__connect.errors.connector.name', 'recover-replay'),
    h('__connect.errors.task.id', '0'),
    h('__connect.errors.stage', CONNECT_STAGE[entry.stage]),
    h('__connect.errors.class.name', entry.transform && entry.stage === 'transform' ? entry.transform.name : 'recover'),
    h('__connect.errors.exception.class.name', errorClass),
    h('__connect.errors.exception.message', entry.error.message),
    h('__connect.errors.exception.stacktrace', stack, MAX_STACK),
  )
  return [...r.headers, ...context]
}

/**
 * Where quarantined records go. write() resolves once they are acknowledged (Kafka) or written
 * (file, durable at checkpoint()). Opened with a scope, the quarantine knows a record by its
 * source coordinates: a record it already holds as an open entry (an earlier run of the same
 * replay, a retry that failed again) is counted in `alreadyQuarantined`, not written twice.
 */
export interface Quarantine {
  readonly uri: string
  /** Records of this replay (resumes included) that the quarantine already held; they count as quarantined. */
  readonly alreadyQuarantined: number
  open(resume?: SinkState, scope?: QuarantineScope): Promise<void>
  write(entries: QuarantineEntry[]): Promise<void>
  checkpoint(): Promise<SinkState>
  /** Closes, and removes what open() created: called when the replay fails before writing anything. */
  discard?(): Promise<void>
  close(): Promise<void>
}

/**
 * Leaves out the entries whose source record the quarantine already holds. What it holds is
 * read once, at the first entry of an open quarantine (a clean replay pays nothing), and
 * kept up to date with what this run writes.
 */
class SourceLookup {
  count: number
  private known: Promise<Set<string>> | undefined

  constructor(
    private readonly load: (() => Promise<Set<string>>) | undefined,
    resume: SinkState | undefined,
  ) {
    this.count = Number(resume?.alreadyQuarantined ?? 0)
  }

  /** The entries to write; `written` records them as held once they are. */
  async fresh(entries: QuarantineEntry[]): Promise<{ entries: QuarantineEntry[]; written: () => void }> {
    if (!this.load) return { entries, written: () => undefined }
    this.known ??= this.load()
    const known = await this.known.catch((error: unknown) => {
      this.known = undefined
      throw error
    })
    const keys = new Set<string>()
    const fresh: QuarantineEntry[] = []
    for (const e of entries) {
      const key = sourceKey(e.record)
      if (known.has(key) || keys.has(key)) {
        this.count++
        continue
      }
      keys.add(key)
      fresh.push(e)
    }
    return { entries: fresh, written: () => keys.forEach((k) => known.add(k)) }
  }
}

/** `kafka:TOPIC` (default `<topic>.quarantine`): original key, value and timestamp, original partition where it exists. */
export class KafkaQuarantine implements Quarantine {
  private writer: KafkaWriter | undefined
  private opening: Promise<KafkaWriter> | undefined
  private lookup = new SourceLookup(undefined, undefined)

  constructor(
    private readonly gateway: KafkaGateway,
    readonly topic: string,
    private readonly partitions: number,
  ) {}

  get uri(): string {
    return `kafka:${this.topic}`
  }

  get alreadyQuarantined(): number {
    return this.lookup.count
  }

  /** The topic is created on the first quarantined record: a clean replay leaves no empty topic behind. */
  async open(resume?: SinkState, scope?: QuarantineScope): Promise<void> {
    const uri = { kind: 'kafka' as const, topic: this.topic }
    this.lookup = new SourceLookup(
      scope &&
        (async () =>
          loadKnownSources(new KafkaQuarantineSource(this.gateway, this.topic), await readAuditTrail(uri, this.gateway), {
            scope,
            clusterId: this.gateway.clusterId,
            unrecordedIsThisCluster: true,
          })),
      resume,
    )
  }

  private ready(): Promise<KafkaWriter> {
    this.opening ??= KafkaWriter.open(this.gateway, this.topic, {
      createPartitions: this.partitions,
      idempotent: true,
      errorCode: 'QUARANTINE_FAILED',
      role: 'quarantine',
      // Quarantined records keep their original (often old) timestamps: a time retention would
      // delete them at the broker's next check, before anyone triaged them.
      topicConfig: { 'retention.ms': '-1' },
    }).then((w) => (this.writer = w))
    return this.opening
  }

  async write(all: QuarantineEntry[]): Promise<void> {
    if (all.length === 0) return
    const { entries, written } = await this.lookup.fresh(all)
    if (entries.length === 0) return
    const writer = await this.ready()
    const now = new Date()
    const cluster = this.gateway.cluster
    const refused = await writer.write(
      entries.map((e) => ({
        sourcePartition: e.record.partition,
        key: e.record.key,
        value: e.record.value,
        headers: quarantineHeaders(e, now, cluster),
        timestampMs: e.record.timestampMs,
      })),
    )
    if (refused.length > 0) {
      const r = entries[refused[0]!]!.record
      throw new RecoveryError(
        'QUARANTINE_FAILED',
        `The quarantine topic ${this.topic} refused ${refused.length} record${refused.length === 1 ? '' : 's'} as too large (first: ${r.topic}-${r.partition}@${r.offset}); raise its max.message.bytes or quarantine to a file (--quarantine file:q.jsonl).`,
        { details: { topic: this.topic } },
      )
    }
    written()
  }

  async checkpoint(): Promise<SinkState> {
    return { alreadyQuarantined: this.lookup.count }
  }

  async close(): Promise<void> {
    await this.writer?.close()
    // Opened again after a broker outage: the next write starts a new writer.
    this.writer = undefined
    this.opening = undefined
  }
}

/** `file:PATH.jsonl`: the lossless envelope of the original record, context in its headers. */
export class FileQuarantine implements Quarantine {
  private file: AppendFile | undefined
  private lookup = new SourceLookup(undefined, undefined)

  /** `cluster`: where the records are read from (recorded in each entry). */
  constructor(
    private readonly path: string,
    private readonly cluster?: ClusterIdentity,
  ) {}

  get uri(): string {
    return `file:${resolve(this.path)}`
  }

  get alreadyQuarantined(): number {
    return this.lookup.count
  }

  async open(resume?: SinkState, scope?: QuarantineScope): Promise<void> {
    this.file = await AppendFile.open(this.path, {
      role: 'quarantine',
      errorCode: 'QUARANTINE_FAILED',
      resumeBytes: resume === undefined ? undefined : Number(resume.bytes ?? 0),
    })
    const uri = { kind: 'file' as const, path: this.path }
    const clusterId = this.cluster?.id ?? ''
    this.lookup = new SourceLookup(
      scope &&
        (async () =>
          loadKnownSources(new FileQuarantineSource(this.path), await readAuditTrail(uri, undefined), { scope, clusterId, unrecordedIsThisCluster: false })),
      resume,
    )
  }

  async write(all: QuarantineEntry[]): Promise<void> {
    if (all.length === 0) return
    const { entries, written } = await this.lookup.fresh(all)
    if (entries.length === 0) return
    const now = new Date()
    let text = ''
    for (const e of entries) text += envelopeLine({ ...e.record, headers: quarantineHeaders(e, now, this.cluster) })
    await this.file!.append(text)
    written()
  }

  async checkpoint(): Promise<SinkState> {
    return { bytes: await this.file!.sync(), alreadyQuarantined: this.lookup.count }
  }

  async discard(): Promise<void> {
    await this.file?.discard()
  }

  async close(): Promise<void> {
    await this.file?.close()
  }
}
