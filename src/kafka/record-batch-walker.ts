import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

/**
 * One record, seen in place: key, value and headers are byte ranges of `bytes` (a fetch
 * response, or a decompressed batch). Valid only during the visit; a visitor that keeps
 * something copies it.
 */
export interface RecordView {
  partition: number
  offset: bigint
  timestampMs: number
  /** The batch keeps the broker's time (LogAppendTime) rather than the producer's. */
  logAppendTime: boolean
  bytes: Buffer
  /** -1 for a null key. */
  keyStart: number
  keyLength: number
  /** -1 for a null value (a tombstone). */
  valueStart: number
  valueLength: number
  headerCount: number
  /** Header i: key start, key length, value start (-1: null), value length at [4i..4i+3]. */
  headerRanges: Int32Array
}

/** What a record batch's header says of its producer and kind. */
export interface BatchFacts {
  producerId: bigint
  transactional: boolean
  /** A transaction marker. */
  control: boolean
  /** A marker that aborts its producer's transaction (false for a commit marker or a data batch). */
  abort: boolean
  /** The batch's last offset. */
  lastOffset: bigint
}

export interface WalkResult {
  /** The last offset the response covered (records, control and aborted batches alike); -1n when it held no whole batch. */
  lastOffset: bigint
}

const BATCH_HEADER = 61
const COMPRESSION_MASK = 0x07
const TIMESTAMP_TYPE_MASK = 0x08
const TRANSACTIONAL_MASK = 0x10
const CONTROL_MASK = 0x20

/**
 * Walks the record batches of one partition's fetch bytes, in read_committed terms: records of
 * aborted transactions (per the response's aborted list, as Kafka's consumer filters them)
 * and control records are skipped, records before `from` (a compressed batch starts before the
 * fetch offset) and at or past `to` are not visited. The view object is reused between visits.
 */
export async function walkRecordBatches(
  bytes: Buffer,
  partition: number,
  abortedTransactions: ReadonlyArray<{ producerId: bigint; firstOffset: bigint }>,
  from: bigint,
  to: bigint,
  visit: (record: RecordView) => void,
  onBatch?: (batch: BatchFacts) => void,
): Promise<WalkResult> {
  const aborted = [...abortedTransactions].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0))
  const abortedProducers = new Set<bigint>()
  const view: RecordView = {
    partition,
    offset: 0n,
    timestampMs: 0,
    logAppendTime: false,
    bytes,
    keyStart: -1,
    keyLength: 0,
    valueStart: -1,
    valueLength: 0,
    headerCount: 0,
    headerRanges: new Int32Array(32),
  }
  let lastOffset = -1n
  let position = 0
  while (position + BATCH_HEADER <= bytes.length) {
    const baseOffset = bytes.readBigInt64BE(position)
    const batchLength = bytes.readInt32BE(position + 8)
    const end = position + 12 + batchLength
    if (end > bytes.length) break // cut short by the fetch size: the next fetch starts here
    const magic = bytes.readInt8(position + 16)
    if (magic !== 2) {
      lastOffset = await walkLegacy(bytes.subarray(position), partition, from, to, visit, lastOffset)
      break
    }
    const attributes = bytes.readInt16BE(position + 21)
    const lastOffsetDelta = bytes.readInt32BE(position + 23)
    const batchLast = baseOffset + BigInt(lastOffsetDelta)
    const firstTimestamp = Number(bytes.readBigInt64BE(position + 27))
    const maxTimestamp = Number(bytes.readBigInt64BE(position + 35))
    const producerId = bytes.readBigInt64BE(position + 43)
    const count = bytes.readInt32BE(position + 57)
    lastOffset = batchLast
    const control = (attributes & CONTROL_MASK) !== 0
    const transactional = (attributes & TRANSACTIONAL_MASK) !== 0
    let skip = control || batchLast < from
    if (onBatch && batchLast >= from && baseOffset < to)
      onBatch({ producerId, transactional, control, abort: control && count > 0 && isAbortMarker(bytes, position + BATCH_HEADER), lastOffset: batchLast })
    if (transactional) {
      while (aborted.length > 0 && aborted[0]!.firstOffset <= batchLast) abortedProducers.add(aborted.shift()!.producerId)
      if (control) {
        // An abort marker ends that producer's aborted transaction.
        if (count > 0 && isAbortMarker(bytes, position + BATCH_HEADER)) abortedProducers.delete(producerId)
      } else if (abortedProducers.has(producerId)) skip = true
    }
    if (!skip && baseOffset < to) {
      const logAppendTime = (attributes & TIMESTAMP_TYPE_MASK) !== 0
      let records = bytes
      let at = position + BATCH_HEADER
      let stop = end
      const codec = attributes & COMPRESSION_MASK
      if (codec !== 0) {
        records = await decompress(codec, bytes.subarray(at, end))
        at = 0
        stop = records.length
      }
      view.bytes = records
      view.logAppendTime = logAppendTime
      for (let i = 0; i < count && at < stop; i++) {
        // length, attributes, timestamp delta, offset delta, key, value, headers
        let r = readVarint(records, at)
        const recordEnd = varintEnd + r
        at = varintEnd + 1
        const timestampDelta = readVarlong(records, at)
        at = varintEnd
        r = readVarint(records, at)
        const offset = baseOffset + BigInt(r)
        at = varintEnd
        const keyLength = readVarint(records, at)
        at = varintEnd
        view.keyStart = keyLength < 0 ? -1 : at
        view.keyLength = Math.max(keyLength, 0)
        if (keyLength > 0) at += keyLength
        const valueLength = readVarint(records, at)
        at = varintEnd
        view.valueStart = valueLength < 0 ? -1 : at
        view.valueLength = Math.max(valueLength, 0)
        if (valueLength > 0) at += valueLength
        const headerCount = readVarint(records, at)
        at = varintEnd
        if (offset >= from && offset < to) {
          if (view.headerRanges.length < 4 * headerCount) view.headerRanges = new Int32Array(8 * headerCount)
          const ranges = view.headerRanges
          for (let h = 0; h < headerCount; h++) {
            const keyLength = readVarint(records, at)
            ranges[4 * h] = varintEnd
            ranges[4 * h + 1] = keyLength
            at = varintEnd + keyLength
            const valueLength = readVarint(records, at)
            ranges[4 * h + 2] = valueLength < 0 ? -1 : varintEnd
            ranges[4 * h + 3] = Math.max(valueLength, 0)
            at = varintEnd + Math.max(valueLength, 0)
          }
          view.headerCount = headerCount
          view.offset = offset
          view.timestampMs = logAppendTime ? maxTimestamp : firstTimestamp + timestampDelta
          visit(view)
        }
        at = recordEnd
      }
    }
    position = end
  }
  return { lastOffset }
}

/**
 * The last offset the whole batches of a fetch response cover (record batches: base offset +
 * last offset delta, whether or not records remain in them; pre-0.11 message sets: the offset
 * of each entry); -1n when the response holds no whole batch.
 */
export function lastOffsetOfBatches(bytes: Buffer): bigint {
  let last = -1n
  let position = 0
  while (position + 17 <= bytes.length) {
    const baseOffset = bytes.readBigInt64BE(position)
    const length = bytes.readInt32BE(position + 8)
    const end = position + 12 + length
    if (end > bytes.length) break
    const magic = bytes.readInt8(position + 16)
    const batchLast = magic === 2 && position + BATCH_HEADER <= bytes.length ? baseOffset + BigInt(bytes.readInt32BE(position + 23)) : baseOffset
    if (batchLast > last) last = batchLast
    position = end
  }
  return last
}

/** kafkajs's own decoding of a partition's record bytes into its message objects (what replay builds records from). */
export async function decodeMessages(bytes: Buffer): Promise<unknown[]> {
  const Decoder = require('kafkajs/src/protocol/decoder') as new (b: Buffer) => unknown
  const decode = require('kafkajs/src/protocol/requests/fetch/v4/decodeMessages') as (d: unknown) => Promise<unknown[]>
  // It reads the size first, as the bytes sit in a Fetch response.
  const sized = Buffer.allocUnsafe(bytes.length + 4)
  sized.writeInt32BE(bytes.length, 0)
  bytes.copy(sized, 4)
  return decode(new Decoder(sized))
}

/** Where the last readVarint/readVarlong stopped; a module variable so that reading allocates nothing. */
let varintEnd = 0

/** A zigzag varint (32-bit). */
function readVarint(bytes: Buffer, at: number): number {
  let result = 0
  let shift = 0
  let byte: number
  do {
    byte = bytes[at++]!
    result |= (byte & 0x7f) << shift
    shift += 7
  } while (byte >= 0x80 && shift < 35)
  varintEnd = at
  return (result >>> 1) ^ -(result & 1)
}

/** A zigzag varlong as a number (timestamp deltas fit easily in 53 bits). */
function readVarlong(bytes: Buffer, at: number): number {
  let result = 0
  let multiplier = 1
  let byte: number
  do {
    byte = bytes[at++]!
    result += (byte & 0x7f) * multiplier
    multiplier *= 128
  } while (byte >= 0x80 && multiplier <= 2 ** 63)
  varintEnd = at
  return result % 2 === 0 ? result / 2 : -(result + 1) / 2
}

/** The first record of a control batch: key version (int16) then type, 0 = abort, 1 = commit. */
function isAbortMarker(bytes: Buffer, at: number): boolean {
  readVarint(bytes, at) // length
  let p = varintEnd + 1 // attributes
  readVarlong(bytes, p)
  p = varintEnd
  readVarint(bytes, p) // offset delta
  p = varintEnd
  const keyLength = readVarint(bytes, p)
  p = varintEnd
  return keyLength >= 4 && bytes.readInt16BE(p + 2) === 0
}

async function decompress(codec: number, compressed: Buffer): Promise<Buffer> {
  const { lookupCodecByAttributes } = require('kafkajs/src/protocol/message/compression') as {
    lookupCodecByAttributes(attributes: number): { decompress(b: Buffer): Promise<Buffer> } | null
  }
  const found = lookupCodecByAttributes(codec)
  if (!found) throw new Error(`no codec for compression type ${codec}`)
  return found.decompress(compressed)
}

/**
 * Records in the pre-0.11 message format (magic 0 or 1), which only old topics on Kafka 3.x
 * still hold: decoded by kafkajs, then visited through a view over each message's buffers.
 */
async function walkLegacy(
  bytes: Buffer,
  partition: number,
  from: bigint,
  to: bigint,
  visit: (record: RecordView) => void,
  lastOffset: bigint,
): Promise<bigint> {
  const Decoder = require('kafkajs/src/protocol/decoder') as new (b: Buffer) => unknown
  const MessageSetDecoder = require('kafkajs/src/protocol/messageSet/decoder') as (
    d: unknown,
    size: number,
  ) => Promise<Array<{ offset: string; timestamp?: string; key: Buffer | null; value: Buffer | null }>>
  const messages = await MessageSetDecoder(new Decoder(bytes), bytes.length)
  for (const m of messages) {
    const offset = BigInt(m.offset)
    if (offset > lastOffset) lastOffset = offset
    if (offset < from || offset >= to) continue
    // Key and value side by side in one buffer, so the view's single `bytes` covers both.
    const key = m.key
    const value = m.value
    const joined = Buffer.concat([key ?? Buffer.alloc(0), value ?? Buffer.alloc(0)])
    visit({
      partition,
      offset,
      timestampMs: Number(m.timestamp ?? -1),
      logAppendTime: false,
      bytes: joined,
      keyStart: key ? 0 : -1,
      keyLength: key?.length ?? 0,
      valueStart: value ? (key?.length ?? 0) : -1,
      valueLength: value?.length ?? 0,
      headerCount: 0,
      headerRanges: new Int32Array(0),
    })
  }
  return lastOffset
}
