import { resolve } from 'node:path'
import { redactText } from '../config/redact.js'
import { RecoveryError } from '../errors.js'
import { AppendFile } from '../files/append-file.js'
import { envelopeLine } from '../files/envelope.js'
import type { KafkaGateway } from '../kafka/kafka-gateway.js'
import type { KafkaRecord } from '../kafka/kafka-record.js'
import { KafkaWriter } from '../kafka/kafka-writer.js'
import type { RecordHeader } from '../plugin-api.js'
import type { SinkState } from '../sinks/sink.js'

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

/** Our context header names. Kafka Connect's `__connect.errors.*` names are written as well. */
export const QUARANTINE_HEADERS = {
  stage: 'recover.error.stage',
  class: 'recover.error.class',
  kind: 'recover.error.kind',
  side: 'recover.error.side',
  message: 'recover.error.message',
  stack: 'recover.error.stack',
  topic: 'recover.source.topic',
  partition: 'recover.source.partition',
  offset: 'recover.source.offset',
  transformName: 'recover.transform.name',
  transformVersion: 'recover.transform.version',
  quarantinedAt: 'recover.quarantined-at',
} as const

const CONNECT_STAGE: Record<QuarantineStage, string> = { decode: 'VALUE_CONVERTER', transform: 'TRANSFORMATION', sink: 'TASK_PUT' }
const MAX_MESSAGE = 8 * 1024
const MAX_STACK = 16 * 1024

/** The headers of a quarantined record: the original ones, in order, then the context. */
export function quarantineHeaders(entry: QuarantineEntry, now: Date): RecordHeader[] {
  const text = (s: string, max: number) => Buffer.from(redactText(s.length > max ? `${s.slice(0, max)}…` : s), 'utf8')
  const h = (key: string, value: string, max = MAX_MESSAGE): RecordHeader => ({ key, value: text(value, max) })
  const r = entry.record
  const errorClass = entry.error.name || entry.error.constructor?.name || 'Error'
  const stack = entry.error.stack ?? `${errorClass}: ${entry.error.message}`
  const context: RecordHeader[] = [
    h(QUARANTINE_HEADERS.stage, entry.stage),
    h(QUARANTINE_HEADERS.class, errorClass),
  ]
  if (entry.kind !== undefined) context.push(h(QUARANTINE_HEADERS.kind, entry.kind))
  if (entry.side !== undefined) context.push(h(QUARANTINE_HEADERS.side, entry.side))
  context.push(
    h(QUARANTINE_HEADERS.message, entry.error.message),
    h(QUARANTINE_HEADERS.stack, stack, MAX_STACK),
    h(QUARANTINE_HEADERS.topic, r.topic),
    h(QUARANTINE_HEADERS.partition, String(r.partition)),
    h(QUARANTINE_HEADERS.offset, r.offset.toString()),
  )
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

/** Where quarantined records go. write() resolves once they are acknowledged (Kafka) or written (file, durable at checkpoint()). */
export interface Quarantine {
  readonly uri: string
  open(resume?: SinkState): Promise<void>
  write(entries: QuarantineEntry[]): Promise<void>
  checkpoint(): Promise<SinkState>
  /** Closes, and removes what open() created: called when the replay fails before writing anything. */
  discard?(): Promise<void>
  close(): Promise<void>
}

/** `kafka:TOPIC` (default `<topic>.quarantine`): original key, value and timestamp, original partition where it exists. */
export class KafkaQuarantine implements Quarantine {
  private writer: KafkaWriter | undefined
  private opening: Promise<KafkaWriter> | undefined

  constructor(
    private readonly gateway: KafkaGateway,
    readonly topic: string,
    private readonly partitions: number,
  ) {}

  get uri(): string {
    return `kafka:${this.topic}`
  }

  /** The topic is created on the first quarantined record: a clean replay leaves no empty topic behind. */
  async open(): Promise<void> {}

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

  async write(entries: QuarantineEntry[]): Promise<void> {
    if (entries.length === 0) return
    const writer = await this.ready()
    const now = new Date()
    const refused = await writer.write(entries.map((e) => ({ sourcePartition: e.record.partition, key: e.record.key, value: e.record.value, headers: quarantineHeaders(e, now), timestampMs: e.record.timestampMs })))
    if (refused.length > 0) {
      const r = entries[refused[0]!]!.record
      throw new RecoveryError('QUARANTINE_FAILED', `The quarantine topic ${this.topic} refused ${refused.length} record${refused.length === 1 ? '' : 's'} as too large (first: ${r.topic}-${r.partition}@${r.offset}); raise its max.message.bytes or quarantine to a file (--quarantine file:q.jsonl).`, { details: { topic: this.topic } })
    }
  }

  async checkpoint(): Promise<SinkState> {
    return {}
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

  constructor(private readonly path: string) {}

  get uri(): string {
    return `file:${resolve(this.path)}`
  }

  async open(resume?: SinkState): Promise<void> {
    this.file = await AppendFile.open(this.path, { role: 'quarantine', errorCode: 'QUARANTINE_FAILED', resumeBytes: resume === undefined ? undefined : Number(resume.bytes ?? 0) })
  }

  async write(entries: QuarantineEntry[]): Promise<void> {
    if (entries.length === 0) return
    const now = new Date()
    let text = ''
    for (const e of entries) text += envelopeLine({ ...e.record, headers: quarantineHeaders(e, now) })
    await this.file!.append(text)
  }

  async checkpoint(): Promise<SinkState> {
    return { bytes: await this.file!.sync() }
  }

  async discard(): Promise<void> {
    await this.file?.discard()
  }

  async close(): Promise<void> {
    await this.file?.close()
  }
}
