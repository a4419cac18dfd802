import { decodeStrictUtf8 } from '../codecs/strict-utf8.js'
import type { RecordedCluster } from '../core/cluster-identity.js'
import type { RecordHeader } from '../plugin-api.js'
import { QUARANTINE_HEADERS } from './header-names.js'

/**
 * The dead-letter dialects recover reads (header names in docs/commands/quarantine.md):
 * recover's own quarantine, Kafka Connect, Kafka Streams (KIP-1034), Spring Kafka and Karafka.
 * Anything else is `unknown` and shown raw.
 */
export type Dialect = 'recover' | 'connect' | 'streams' | 'spring' | 'karafka' | 'unknown'

/** The loop guard: how many times recover has redriven this record already. */
export const REDRIVE_COUNT_HEADER = 'recover.redrive-count'
/** Why a record went to the parking topic instead of its original topic. */
export const PARKED_REASON_HEADER = 'recover.parked-reason'

/** Headers that describe the failure, not the record: stripped when a record goes back to its topic. */
const ERROR_HEADER_PREFIXES = ['recover.error.', 'recover.source.', 'recover.transform.', '__connect.errors.', '__streams.errors.', 'kafka_dlt-']
const ERROR_HEADER_NAMES = new Set<string>([QUARANTINE_HEADERS.quarantinedAt, REDRIVE_COUNT_HEADER, PARKED_REASON_HEADER])
const KARAFKA_HEADERS = new Set(['source_topic', 'source_partition', 'source_offset', 'source_consumer_group', 'source_attempts'])

export interface OriginalPosition {
  topic?: string
  partition?: number
  offset?: bigint
}

/** What a dead-letter record says about its failure, whatever wrote it. */
export interface FailureContext {
  dialect: Dialect
  original: OriginalPosition
  /** The exception class; `(unknown)` when the dialect does not record one (Karafka, unknown). */
  errorClass: string
  message: string
  /** recover: decode / transform / sink; Connect: VALUE_CONVERTER, TASK_PUT, …; else `(unknown)`. */
  stage: string
  stack?: string
  /** recover's decode failure kind (not-json, avro-truncated, …). */
  kind?: string
  /** When the failure was recorded (recover's header), else the dead-letter record's own timestamp. */
  failedAtMs: number
  /** Dialect-specific facts worth showing: connector, task, consumer group, attempts, transform. */
  extra: Record<string, string>
  redriveCount: number
  /** The cluster the record was read from, where the dead letter says (recover's own, from this version on). */
  sourceCluster?: RecordedCluster
}

export const UNKNOWN = '(unknown)'

/** Detects the dialect from the headers and reads the failure context out of them. */
export function readFailureContext(headers: readonly RecordHeader[], recordTimestampMs: number, options: { stack?: boolean } = {}): FailureContext {
  const text = lastTextByKey(headers)
  // Stacks are the largest headers; scans leave them out, `show` reads them.
  const stackOf = (key: string) => (options.stack === false ? undefined : text.get(key))
  const redriveCount = toInt(text.get(REDRIVE_COUNT_HEADER)) ?? 0
  const base = { failedAtMs: recordTimestampMs, redriveCount, extra: {} as Record<string, string> }
  // recover writes Connect's headers too; its own are richer, so they win.
  if (text.has(QUARANTINE_HEADERS.stage) || text.has(QUARANTINE_HEADERS.class)) {
    const at = Date.parse(text.get(QUARANTINE_HEADERS.quarantinedAt) ?? '')
    const extra: Record<string, string> = {}
    copy(text, extra, {
      [QUARANTINE_HEADERS.transformName]: 'transform',
      [QUARANTINE_HEADERS.transformVersion]: 'transformVersion',
      [QUARANTINE_HEADERS.side]: 'side',
    })
    return {
      ...base,
      dialect: 'recover',
      original: {
        topic: text.get(QUARANTINE_HEADERS.topic),
        partition: toInt(text.get(QUARANTINE_HEADERS.partition)),
        offset: toBigInt(text.get(QUARANTINE_HEADERS.offset)),
      },
      errorClass: text.get(QUARANTINE_HEADERS.class) ?? UNKNOWN,
      message: text.get(QUARANTINE_HEADERS.message) ?? '',
      stage: text.get(QUARANTINE_HEADERS.stage) ?? UNKNOWN,
      stack: stackOf(QUARANTINE_HEADERS.stack),
      kind: text.get(QUARANTINE_HEADERS.kind),
      failedAtMs: Number.isFinite(at) ? at : recordTimestampMs,
      extra,
      ...recordedCluster(text),
    }
  }
  if ([...text.keys()].some((k) => k.startsWith('__connect.errors.'))) {
    const c = (name: string) => text.get(`__connect.errors.${name}`)
    const extra: Record<string, string> = {}
    copy(text, extra, { '__connect.errors.connector.name': 'connector', '__connect.errors.task.id': 'task', '__connect.errors.class.name': 'executingClass' })
    return {
      ...base,
      dialect: 'connect',
      original: { topic: c('topic'), partition: toInt(c('partition')), offset: toBigInt(c('offset')) },
      errorClass: c('exception.class.name') ?? UNKNOWN,
      message: c('exception.message') ?? '',
      stage: c('stage') ?? UNKNOWN,
      stack: stackOf('__connect.errors.exception.stacktrace'),
      extra,
    }
  }
  if ([...text.keys()].some((k) => k.startsWith('__streams.errors.'))) {
    const s = (name: string) => text.get(`__streams.errors.${name}`)
    return {
      ...base,
      dialect: 'streams',
      original: { topic: s('topic'), partition: toInt(s('partition')), offset: toBigInt(s('offset')) },
      errorClass: s('exception') ?? UNKNOWN,
      message: s('message') ?? '',
      // Streams records no stage; every KIP-1034 dead letter comes from a processing handler.
      stage: UNKNOWN,
      stack: stackOf('__streams.errors.stacktrace'),
      extra: {},
    }
  }
  if (headers.some((h) => h.key.startsWith('kafka_dlt-'))) return { ...base, ...readSpring(headers, options.stack !== false) }
  if (text.has('source_topic') && text.has('source_partition')) {
    const extra: Record<string, string> = {}
    copy(text, extra, { source_consumer_group: 'consumerGroup', source_attempts: 'attempts' })
    return {
      ...base,
      dialect: 'karafka',
      original: { topic: text.get('source_topic'), partition: toInt(text.get('source_partition')), offset: toBigInt(text.get('source_offset')) },
      // Karafka's DLQ records the source, not the error.
      errorClass: UNKNOWN,
      message: '',
      stage: UNKNOWN,
      extra,
    }
  }
  return { ...base, dialect: 'unknown', original: {}, errorClass: UNKNOWN, message: '', stage: UNKNOWN }
}

/**
 * Spring Kafka's DeadLetterPublishingRecoverer writes partition as a 4-byte and offset and
 * timestamp as 8-byte big-endian integers, the rest as UTF-8. Key failures use
 * `kafka_dlt-key-exception-*` instead of `kafka_dlt-exception-*`.
 */
function readSpring(headers: readonly RecordHeader[], withStack: boolean): Omit<FailureContext, 'failedAtMs' | 'redriveCount'> {
  const raw = new Map<string, Buffer>()
  for (const h of headers) if (h.value !== null) raw.set(h.key, h.value)
  const str = (name: string) => {
    const v = raw.get(name)
    return v === undefined ? undefined : decodeStrictUtf8(v)
  }
  const keyFailure = raw.has('kafka_dlt-key-exception-fqcn') && !raw.has('kafka_dlt-exception-fqcn')
  const ex = keyFailure ? 'kafka_dlt-key-exception' : 'kafka_dlt-exception'
  const extra: Record<string, string> = {}
  const group = str('kafka_dlt-original-consumer-group')
  if (group !== undefined) extra.consumerGroup = group
  const cause = str(`${ex}-cause-fqcn`)
  if (cause !== undefined) extra.cause = cause
  const originalTs = springNumber(raw.get('kafka_dlt-original-timestamp'))
  if (originalTs !== undefined) extra.originalTimestamp = new Date(Number(originalTs)).toISOString()
  const partition = springNumber(raw.get('kafka_dlt-original-partition'))
  return {
    dialect: 'spring',
    original: {
      topic: str('kafka_dlt-original-topic'),
      partition: partition === undefined ? undefined : Number(partition),
      offset: springNumber(raw.get('kafka_dlt-original-offset')),
    },
    errorClass: str(`${ex}-fqcn`) ?? UNKNOWN,
    message: str(`${ex}-message`) ?? '',
    stage: keyFailure ? 'key' : UNKNOWN,
    stack: withStack ? str(`${ex}-stacktrace`) : undefined,
    extra,
  }
}

/** A big-endian int (4 bytes) or long (8 bytes); decimal text is accepted too (some bridges write strings). */
export function springNumber(value: Buffer | undefined): bigint | undefined {
  if (value === undefined) return undefined
  if (value.length > 0 && value.every((b) => b >= 0x30 && b <= 0x39)) return BigInt(value.toString('latin1'))
  if (value.length === 4) return BigInt(value.readInt32BE(0))
  if (value.length === 8) return value.readBigInt64BE(0)
  return undefined
}

/** The record's own headers: everything but the failure context of any dialect, in order. */
export function originalHeaders(headers: readonly RecordHeader[], dialect: Dialect): RecordHeader[] {
  return headers.filter((h) => {
    if (ERROR_HEADER_NAMES.has(h.key) || ERROR_HEADER_PREFIXES.some((p) => h.key.startsWith(p))) return false
    // Only a Karafka dead letter's source_* headers are context; elsewhere they may be the app's own.
    return !(dialect === 'karafka' && KARAFKA_HEADERS.has(h.key))
  })
}

/**
 * Last value wins for repeated keys, as every dialect writes each header once. Values are
 * decoded on first use only: a scan of 100,000 dead letters should not decode stack traces
 * (recover writes two per record) that nobody reads.
 */
function lastTextByKey(headers: readonly RecordHeader[]): LazyText {
  const raw = new Map<string, Buffer>()
  for (const h of headers) if (h.value !== null) raw.set(h.key, h.value)
  return new LazyText(raw)
}

class LazyText {
  private readonly decoded = new Map<string, string | undefined>()

  constructor(private readonly raw: Map<string, Buffer>) {}

  has(key: string): boolean {
    return this.get(key) !== undefined
  }

  get(key: string): string | undefined {
    if (this.decoded.has(key)) return this.decoded.get(key)
    const value = this.raw.get(key)
    const text = value === undefined ? undefined : decodeStrictUtf8(value)
    this.decoded.set(key, text)
    return text
  }

  keys(): IterableIterator<string> {
    return this.raw.keys()
  }
}

function recordedCluster(text: LazyText): { sourceCluster?: RecordedCluster } {
  const id = text.get(QUARANTINE_HEADERS.clusterId)
  if (id === undefined || id === '') return {}
  const bootstrap = text.get(QUARANTINE_HEADERS.bootstrap)
  return { sourceCluster: { id, ...(bootstrap ? { bootstrap: bootstrap.split(',') } : {}) } }
}

function copy(from: LazyText, to: Record<string, string>, names: Record<string, string>): void {
  for (const [header, field] of Object.entries(names)) {
    const v = from.get(header)
    if (v !== undefined) to[field] = v
  }
}

function toInt(s: string | undefined): number | undefined {
  return s !== undefined && /^-?\d+$/.test(s.trim()) ? Number(s.trim()) : undefined
}

function toBigInt(s: string | undefined): bigint | undefined {
  return s !== undefined && /^-?\d+$/.test(s.trim()) ? BigInt(s.trim()) : undefined
}
