import { crc32c } from './crc32c.js'
import { type HeaderEntry, type HeaderObject, type HeaderValue, orderedHeaderList, type ProduceMessage } from './produce-message.js'
import { sizeOfVarInt, sizeOfVarLong, writeVarInt, writeVarLong } from './varint.js'

/**
 * RecordBatch v2 (magic 2), the only format Kafka 4 accepts:
 *   baseOffset int64, batchLength int32, partitionLeaderEpoch int32, magic int8, crc uint32,
 *   attributes int16, lastOffsetDelta int32, firstTimestamp int64, maxTimestamp int64,
 *   producerId int64, producerEpoch int16, baseSequence int32, recordCount int32, records
 * where each record is
 *   length varint, attributes int8, timestampDelta varlong, offsetDelta varint,
 *   key (varint length, -1 for null), value (same), header count varint,
 *   headers (key: varint length + UTF-8, value: varint length + bytes, -1 for null).
 * The CRC32C covers everything from the attributes on. The fields are written exactly as
 * kafkajs 2.2.4 writes them (partitionLeaderEpoch 0, attributes only the codec and the
 * transactional bit), so that a batch is byte-for-byte what kafkajs would have sent.
 */
export const RECORD_BATCH_OVERHEAD = 61
const CRC_OFFSET = 17
const ATTRIBUTES_OFFSET = 21
const TRANSACTIONAL_FLAG = 0x10
const COMPRESSION_CODEC_MASK = 0x07

/** The batch-level fields that kafkajs's producer decides (idempotence, transactions, codec). */
export interface BatchFields {
  compression: number
  transactional: boolean
  producerId: bigint
  producerEpoch: number
  firstSequence: number
}

/** One partition's records, measured: everything writing them needs, so nothing is computed twice. */
export interface MeasuredRecords {
  readonly messages: readonly ProduceMessage[]
  /** Each record's size without its length prefix. */
  readonly bodySizes: Int32Array
  readonly timestamps: Float64Array
  /** Each record's headers: a list in wire order, or kafkajs's object (read in place, not copied to a list). */
  readonly headers: ReadonlyArray<readonly HeaderEntry[] | HeaderObject | undefined>
  readonly headerCounts: Int32Array
  /** The records section: every record with its length prefix. */
  readonly bytes: number
  readonly firstTimestamp: number
  readonly maxTimestamp: number
}

/**
 * Measures a partition's records. Timestamps follow kafkajs: the first and max timestamps of
 * the batch come from the records that have one (the time of encoding when none has), and a
 * record without one is written at the time of encoding. Two deliberate differences: the
 * timestamps are compared as numbers (kafkajs sorts them as strings, which picks the wrong
 * first one across a change in digit count), and a timestamp of 0 is kept (kafkajs writes
 * `timestamp || now`).
 */
export function measureRecords(messages: readonly ProduceMessage[], now: number): MeasuredRecords {
  const count = messages.length
  const timestamps = new Float64Array(count)
  let first = Number.POSITIVE_INFINITY
  let max = Number.NEGATIVE_INFINITY
  for (let i = 0; i < count; i++) {
    const t = messages[i]!.timestamp
    if (t === null || t === undefined) {
      timestamps[i] = Number.NaN
      continue
    }
    const ms = typeof t === 'number' ? t : Number(t)
    timestamps[i] = ms
    if (ms < first) first = ms
    if (ms > max) max = ms
  }
  if (first === Number.POSITIVE_INFINITY) first = max = now
  const bodySizes = new Int32Array(count)
  const headers = new Array<readonly HeaderEntry[] | HeaderObject | undefined>(count)
  const headerCounts = new Int32Array(count)
  let bytes = 0
  for (let i = 0; i < count; i++) {
    const m = messages[i]!
    const t = timestamps[i]!
    let size = 1 + sizeOfVarLong((Number.isNaN(t) ? now : t) - first) + sizeOfVarInt(i) + sizeOfBytes(m.key) + sizeOfBytes(m.value)
    let headerCount = 0
    const source = m.headers === null || m.headers === undefined ? undefined : (orderedHeaderList(m.headers) ?? (m.headers as HeaderObject))
    headers[i] = source
    if (Array.isArray(source)) {
      const list = source as readonly HeaderEntry[]
      headerCount = list.length
      for (let h = 0; h < list.length; h++) size += sizeOfBytes(headerKeyBytes(list[h]!.key)) + sizeOfBytes(list[h]!.value)
    } else if (source !== undefined) {
      const object = source as HeaderObject
      for (const key in object) {
        if (!Object.hasOwn(object, key)) continue
        const keySize = sizeOfBytes(headerKeyBytes(key))
        const value = object[key]
        if (Array.isArray(value)) {
          for (const v of value) size += keySize + sizeOfBytes(v)
          headerCount += value.length
        } else {
          size += keySize + sizeOfBytes(value)
          headerCount++
        }
      }
    }
    headerCounts[i] = headerCount
    size += sizeOfVarInt(headerCount)
    bodySizes[i] = size
    bytes += sizeOfVarInt(size) + size
  }
  return { messages, bodySizes, timestamps, headers, headerCounts, bytes, firstTimestamp: first, maxTimestamp: max }
}

/** Writes the measured records at `offset` (exactly `measured.bytes` bytes); returns the offset after them. */
export function writeRecords(out: Buffer, offset: number, measured: MeasuredRecords, now: number): number {
  const { messages, bodySizes, timestamps, headers, headerCounts, firstTimestamp } = measured
  let at = offset
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!
    const t = timestamps[i]!
    at = writeVarInt(out, at, bodySizes[i]!)
    out[at++] = 0
    at = writeVarLong(out, at, (Number.isNaN(t) ? now : t) - firstTimestamp)
    at = writeVarInt(out, at, i)
    at = writeBytes(out, at, m.key)
    at = writeBytes(out, at, m.value)
    at = writeVarInt(out, at, headerCounts[i]!)
    const source = headers[i]
    if (Array.isArray(source)) {
      const list = source as readonly HeaderEntry[]
      for (let h = 0; h < list.length; h++) {
        at = writeBytes(out, at, headerKeyBytes(list[h]!.key))
        at = writeBytes(out, at, list[h]!.value)
      }
    } else if (source !== undefined) {
      const object = source as HeaderObject
      for (const key in object) {
        if (!Object.hasOwn(object, key)) continue
        const keyBytes = headerKeyBytes(key)
        const value = object[key]
        if (Array.isArray(value)) {
          for (const v of value) {
            at = writeBytes(out, at, keyBytes)
            at = writeBytes(out, at, v)
          }
        } else {
          at = writeBytes(out, at, keyBytes)
          at = writeBytes(out, at, value)
        }
      }
    }
  }
  return at
}

/**
 * Writes a whole batch at `offset`: the 61-byte header, then either the measured records
 * (uncompressed) or `compressed` (the records section after the codec), then the CRC.
 * Returns the offset after the batch.
 */
export function writeRecordBatch(out: Buffer, offset: number, measured: MeasuredRecords, fields: BatchFields, now: number, compressed?: Buffer): number {
  const count = measured.messages.length
  const start = offset
  const end = start + RECORD_BATCH_OVERHEAD + (compressed ? compressed.length : measured.bytes)
  out.writeInt32BE(0, start) // baseOffset: the broker assigns offsets
  out.writeInt32BE(0, start + 4)
  out.writeInt32BE(end - start - 12, start + 8)
  out.writeInt32BE(0, start + 12) // partitionLeaderEpoch, as kafkajs sends it
  out[start + 16] = 2
  out.writeInt16BE((fields.compression & COMPRESSION_CODEC_MASK) | (fields.transactional ? TRANSACTIONAL_FLAG : 0), start + ATTRIBUTES_OFFSET)
  out.writeInt32BE(count - 1, start + 23)
  writeInt64(out, start + 27, measured.firstTimestamp)
  writeInt64(out, start + 35, measured.maxTimestamp)
  out.writeBigInt64BE(fields.producerId, start + 43)
  out.writeInt16BE(fields.producerEpoch, start + 51)
  out.writeInt32BE(fields.firstSequence, start + 53)
  out.writeInt32BE(count, start + 57)
  const recordsAt = start + RECORD_BATCH_OVERHEAD
  if (compressed) compressed.copy(out, recordsAt)
  else writeRecords(out, recordsAt, measured, now)
  out.writeUInt32BE(crc32c(out, start + ATTRIBUTES_OFFSET, end), start + CRC_OFFSET)
  return end
}

function writeInt64(out: Buffer, offset: number, value: number): void {
  if (Number.isSafeInteger(value) && value >= 0) {
    out.writeUInt32BE(Math.floor(value / 0x1_0000_0000), offset)
    out.writeUInt32BE(value >>> 0, offset + 4)
  } else {
    out.writeBigInt64BE(BigInt.asIntN(64, BigInt(Math.trunc(value))), offset)
  }
}

type Bytes = Buffer | Uint8Array | string | null | undefined

function sizeOfBytes(value: Bytes | HeaderValue): number {
  if (value === null || value === undefined) return 1
  let length: number
  if (typeof value === 'string') length = Buffer.byteLength(value)
  else if (value instanceof Uint8Array) length = value.length
  else throw new TypeError(`A record key, value or header value must be a Buffer, a string or null (got ${typeof value}).`)
  return sizeOfVarInt(length) + length
}

/**
 * Header keys repeat across records (a trace id, a schema version): their UTF-8 bytes are kept,
 * so each is encoded once rather than measured and written per record. Bounded: a producer
 * with ever-new keys only empties it now and then.
 */
const headerKeys = new Map<string, Buffer>()
const MAX_HEADER_KEYS = 4096

function headerKeyBytes(key: string): Buffer {
  let bytes = headerKeys.get(key)
  if (bytes === undefined) {
    if (headerKeys.size >= MAX_HEADER_KEYS) headerKeys.clear()
    bytes = Buffer.from(key, 'utf8')
    headerKeys.set(key, bytes)
  }
  return bytes
}

/** Shorter than this, a byte loop beats the native copy's call overhead. */
const SMALL_COPY = 8

function writeBytes(out: Buffer, offset: number, value: Bytes | HeaderValue): number {
  if (value === null || value === undefined) {
    out[offset] = 1 // zigzag(-1)
    return offset + 1
  }
  if (typeof value === 'string') return writeString(out, offset, value)
  const length = value.length
  let at = writeVarInt(out, offset, length)
  if (length < SMALL_COPY) {
    for (let i = 0; i < length; i++) out[at + i] = value[i]!
  } else {
    out.set(value, at)
  }
  at += length
  return at
}

function writeString(out: Buffer, offset: number, value: string): number {
  const length = Buffer.byteLength(value)
  const at = writeVarInt(out, offset, length)
  return at + out.write(value, at, length, 'utf8')
}
