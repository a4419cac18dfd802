import { RecoveryError } from '../errors.js'
import type { CodecFormat } from '../codecs/codec.js'
import { createCodec, openSchemaSources, type SchemaSourceOptions } from '../codecs/create-codecs.js'
import { tryDecode } from '../codecs/decode-outcome.js'
import { fieldAt, fieldPaths, keyText, recordKeyText, type KeySelector } from '../core/audit-key.js'
import { contentHashesInPlace } from '../core/content-hash.js'
import { checkBoundPartitions, planReplayRanges, rangeRecordCount, type PartitionRange, type RangeBound } from '../core/replay-range.js'
import type { AuditDatabase } from '../duckdb/audit-db.js'
import type { KafkaGateway } from '../kafka/kafka-gateway.js'
import { RangeReader, type RangeReaderOptions } from '../kafka/range-reader.js'
import type { RecordView } from '../kafka/record-batch-walker.js'

/** What to scan: a bounded range of a topic, keyed by the record key or a value field. */
export interface ScanRequest {
  topic: string
  /** Default: every partition. */
  partitions?: number[]
  /** Default earliest. */
  from?: RangeBound
  /** Default latest: the last stable offsets when the scan starts. */
  to?: RangeBound
  key: KeySelector
  /** How values are decoded. Default: json for a field key; none (bytes only) for the record key. */
  valueFormat?: CodecFormat
  schemas?: SchemaSourceOptions
  fetch?: RangeReaderOptions
}

export type ScanEvent =
  | { type: 'scan-start'; topic: string; partitions: PartitionRange[]; records: bigint }
  | { type: 'scan-progress'; topic: string; records: number; bytes: number; elapsedMs: number }
  | { type: 'scan-done'; topic: string; records: number; bytes: number; elapsedMs: number }
  | { type: 'analyse'; what: string }

export interface ScanOutcome {
  topic: string
  ranges: PartitionRange[]
  records: number
  bytes: number
  elapsedMs: number
  valueFormat: CodecFormat | null
}

/** Decoded records looked at before an absent key field is called a usage error. */
const FIELD_SAMPLE = 100
const PROGRESS_EVERY_MS = 1_000

/**
 * Streams the range into `table` (created fresh) through the DuckDB Appender, a fetch response
 * at a time: partition, offset, timestamp, key, content hashes, size, and the decode failure
 * of records that cannot be decoded. Nothing else is kept, so memory does not grow with the
 * range. A key field that none of the first decoded values has is a usage error that lists
 * the fields those values do have.
 */
export async function scanTopic(
  db: AuditDatabase,
  table: string,
  gateway: KafkaGateway,
  request: ScanRequest,
  onEvent?: (event: ScanEvent) => void,
): Promise<ScanOutcome> {
  const started = Date.now()
  const valueFormat = request.valueFormat ?? (request.key.kind === 'field' ? 'json' : undefined)
  if (request.key.kind === 'field' && valueFormat === 'bytes') {
    throw new RecoveryError(
      'USAGE',
      `--key ${request.key.display} is a field of the value, and --value-format bytes does not decode values; pick json or avro, or use --key key.`,
    )
  }
  const codec = valueFormat && valueFormat !== 'bytes' ? await createCodec({ format: valueFormat }, openSchemaSources(request.schemas ?? {})) : undefined

  const all = await gateway.partitionsOf(request.topic)
  const partitions = request.partitions ?? all
  const unknown = partitions.filter((p) => !all.includes(p))
  if (unknown.length > 0) {
    throw new RecoveryError('PARTITION_NOT_FOUND', `Topic "${request.topic}" has no partition ${unknown.join(', ')}; it has partitions ${all.join(', ')}.`, {
      details: { topic: request.topic, partitions: all },
    })
  }
  const from = request.from ?? { kind: 'earliest' }
  const to = request.to ?? { kind: 'latest' }
  checkBoundPartitions(from, '--from', partitions)
  checkBoundPartitions(to, '--to', partitions)

  const reader = new RangeReader(gateway.kafka, gateway.settings, request.topic)
  const field = new FieldCheck(request.key)
  let records = 0
  let bytes = 0
  let lastProgress = started
  try {
    const facts = await reader.partitionFacts(partitions, {
      fromMs: from.kind === 'time' ? from.instantMs : undefined,
      toMs: to.kind === 'time' ? to.instantMs : undefined,
    })
    const ranges = planReplayRanges(from, to, facts)
    const planned = rangeRecordCount(ranges)
    // Memory stays flat in the range size: rows beyond what memory holds go to a file.
    if (planned > BigInt(db.rowsInMemory)) await db.moveTablesToDisk()
    const writer = await db.createScan(table)
    onEvent?.({ type: 'scan-start', topic: request.topic, partitions: ranges, records: planned })
    // Records are looked at in place, in the fetch response (no object per record). Without a
    // value codec each becomes its row at once; with one, values wait for the end of the fetch,
    // when the codec can look up their schemas (asynchronously) and decode them.
    const pending: PendingRow[] = []
    const visit = (v: RecordView): void => {
      const hashes = contentHashesInPlace(v.bytes, v.valueStart, v.valueLength, v.headerRanges, v.headerCount)
      let size = v.keyLength + v.valueLength
      for (let h = 0; h < v.headerCount; h++) size += v.headerRanges[4 * h + 1]! + v.headerRanges[4 * h + 3]!
      records++
      bytes += size
      const key = request.key.kind === 'record-key' ? keyTextInPlace(v.bytes, v.keyStart, v.keyLength) : null
      if (!codec) {
        writer.append({
          partition: v.partition,
          offset: v.offset,
          timestampMs: v.timestampMs,
          key,
          valueHash: hashes.value,
          recordHash: hashes.record,
          size,
          problem: null,
          problemDetail: null,
        })
        return
      }
      // A view of the response's bytes, which stay alive as long as the row does.
      const value = v.valueStart < 0 ? null : v.bytes.subarray(v.valueStart, v.valueStart + v.valueLength)
      pending.push({
        partition: v.partition,
        offset: v.offset,
        timestampMs: v.timestampMs,
        key,
        value,
        valueHash: hashes.value,
        recordHash: hashes.record,
        size,
      })
    }
    for await (const _chunks of reader.scan(ranges, visit, request.fetch)) {
      if (codec && pending.length > 0) {
        // Taken before awaiting: the next fetch, running meanwhile, adds its own rows.
        const rows = pending.splice(0)
        await codec.prepare(rows.map((r) => r.value))
        for (const r of rows) {
          let key = r.key
          let problem: string | null = null
          let problemDetail: string | null = null
          const outcome = tryDecode(codec, r.value)
          if (outcome.ok) {
            if (request.key.kind === 'field') key = field.keyOf(outcome.value)
          } else {
            problem = outcome.failure.kind
            problemDetail = outcome.failure.message
          }
          writer.append({
            partition: r.partition,
            offset: r.offset,
            timestampMs: r.timestampMs,
            key,
            valueHash: r.valueHash,
            recordHash: r.recordHash,
            size: r.size,
            problem,
            problemDetail,
          })
        }
      }
      field.check(false)
      const now = Date.now()
      if (now - lastProgress >= PROGRESS_EVERY_MS) {
        lastProgress = now
        onEvent?.({ type: 'scan-progress', topic: request.topic, records, bytes, elapsedMs: now - started })
      }
    }
    field.check(true)
    writer.close()
    const elapsedMs = Date.now() - started
    onEvent?.({ type: 'scan-done', topic: request.topic, records, bytes, elapsedMs })
    return { topic: request.topic, ranges, records, bytes, elapsedMs, valueFormat: valueFormat ?? null }
  } finally {
    await reader.close()
  }
}

/** A record waiting for its value to be decoded (the codec prepares a whole fetch at once). */
interface PendingRow {
  partition: number
  offset: bigint
  timestampMs: number
  key: string | null
  value: Buffer | null
  valueHash: bigint | null
  recordHash: bigint
  size: number
}

/** recordKeyText of key bytes still in the response: ASCII (most keys) is read without a copy. */
function keyTextInPlace(bytes: Buffer, start: number, length: number): string | null {
  if (start < 0) return null
  const end = start + length
  for (let i = start; i < end; i++) if (bytes[i]! >= 0x80) return recordKeyText(bytes.subarray(start, end))
  return bytes.toString('latin1', start, end)
}

/** Finds the key field in decoded values, and fails early when the sample shows it does not exist. */
class FieldCheck {
  private decoded = 0
  private found = 0
  private readonly seen = new Set<string>()

  constructor(private readonly selector: KeySelector) {}

  keyOf(value: unknown): string | null {
    if (this.selector.kind !== 'field') return null
    if (value === null || value === undefined) return null
    const at = fieldAt(value, this.selector.path)
    if (this.decoded < FIELD_SAMPLE) {
      this.decoded++
      for (const path of fieldPaths(value)) if (this.seen.size < 200) this.seen.add(path)
    }
    if (!at.found) return null
    this.found++
    return keyText(at.value)
  }

  /** After the sample (or at the end of the range), a field no decoded value had is a usage error. */
  check(end: boolean): void {
    if (this.selector.kind !== 'field' || this.found > 0 || this.decoded === 0) return
    if (!end && this.decoded < FIELD_SAMPLE) return
    const fields = [...this.seen].sort()
    throw new RecoveryError(
      'UNKNOWN_KEY_FIELD',
      `--key ${this.selector.display}: none of the first ${this.decoded} decoded values has that field; they have ${fields.length > 0 ? fields.slice(0, 40).join(', ') : 'no fields (they are not records)'}.`,
      {
        nextSteps: ['Pick one of those fields (nested as parent.child), or --key key for the Kafka record key.'],
        details: { field: this.selector.display, availableFields: fields, sampled: this.decoded },
      },
    )
  }
}
