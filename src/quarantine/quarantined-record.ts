import { decodeStrictUtf8 } from '../codecs/strict-utf8.js'
import type { KafkaRecord } from '../kafka/kafka-record.js'
import { originalHeaders, readFailureContext, type FailureContext } from './dialects.js'
import type { RecordHeader } from '../plugin-api.js'

/**
 * Where a dead letter sits in its quarantine: partition and offset in a topic; in a JSONL file
 * partition 0 and the line index (0-based). `id` (`p@o`) names it in the audit trail.
 */
export interface QuarantinePosition {
  partition: number
  offset: bigint
}

/** One dead letter in the normalized view: where it is, what failed, and the record itself. */
export interface QuarantinedRecord extends FailureContext {
  id: string
  position: QuarantinePosition
  /** The dead-letter record exactly as stored (its headers include the failure context). */
  record: KafkaRecord
}

/**
 * What the list and the TUI keep per record: no payload, no stack, a bounded message. 100,000
 * of these fit in a few tens of MB; the full record is read again by position when needed.
 */
export interface QuarantineSummary extends Omit<FailureContext, 'stack' | 'extra'> {
  id: string
  position: QuarantinePosition
  /** The key as text (first 80 characters) when it is UTF-8, else `0x…` hex. */
  key: string | null
  valueBytes: number
}

const MAX_SUMMARY_MESSAGE = 300

export function positionId(position: QuarantinePosition): string {
  return `${position.partition}@${position.offset}`
}

export function parsePositionId(id: string): QuarantinePosition | undefined {
  const m = /^(\d+)@(\d+)$/.exec(id.trim())
  return m ? { partition: Number(m[1]), offset: BigInt(m[2]!) } : undefined
}

/** `stack: false` for scans: the stack is only read when one record is shown. */
export function normalizeRecord(record: KafkaRecord, position: QuarantinePosition, options: { stack?: boolean } = {}): QuarantinedRecord {
  const context = readFailureContext(record.headers, record.timestampMs, options)
  if (context.stack === undefined) delete context.stack
  return { ...context, id: positionId(position), position, record }
}

export function summarize(q: QuarantinedRecord): QuarantineSummary {
  return {
    id: q.id,
    position: q.position,
    dialect: q.dialect,
    original: q.original,
    errorClass: q.errorClass,
    message: q.message.length > MAX_SUMMARY_MESSAGE ? `${q.message.slice(0, MAX_SUMMARY_MESSAGE)}…` : q.message,
    stage: q.stage,
    ...(q.kind === undefined ? {} : { kind: q.kind }),
    failedAtMs: q.failedAtMs,
    redriveCount: q.redriveCount,
    key: keyText(q.record.key),
    valueBytes: q.record.value?.length ?? 0,
  }
}

/** The record as it was before it failed: original headers only, back at its original position. */
export function restoredHeaders(q: QuarantinedRecord): RecordHeader[] {
  return originalHeaders(q.record.headers, q.dialect)
}

export function keyText(key: Buffer | null): string | null {
  if (key === null) return null
  const text = decodeStrictUtf8(key)
  const shown = text ?? `0x${key.toString('hex')}`
  return shown.length > 80 ? `${shown.slice(0, 80)}…` : shown
}
