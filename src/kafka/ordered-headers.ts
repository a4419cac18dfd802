import { createRequire } from 'node:module'
import { replaceKafkajsModule } from './kafkajs-module.js'

const require = createRequire(import.meta.url)

/** One record header as Kafka stores it: a key, and bytes or null. */
export interface RecordHeader {
  key: string
  value: Buffer | null
}

/**
 * kafkajs 2.2.4 keeps record headers in an object: repeated keys are folded into an array, so
 * the order across keys (a, b, a) is lost, and a null header value makes its encoder throw
 * (`Buffer.byteLength(null)`). A recovery tool must read and write headers exactly. kafkajs
 * loads its record encoder and decoder lazily, on the first Produce or Fetch, so placing our
 * versions of those two small modules in the CommonJS cache before that is enough: decoded
 * records carry the ordered list under this symbol, and messages that carry it are encoded
 * from it. Everything else kafkajs does with headers is unchanged.
 */
export const ORDERED_HEADERS = Symbol.for('recover.orderedHeaders')

let installed: boolean | undefined
let groupingInstalled: boolean | undefined

/**
 * kafkajs groups a send()'s messages by partition with a spread per message, O(n^2) in the
 * messages of a partition: a 5000-record batch spends milliseconds copying arrays. This puts
 * a linear version with the same result in its place. kafkajs loads it with the producer, so
 * this must run before kafkajs is first required (createKafka does); later it is a no-op.
 */
export function installLinearGrouping(): boolean {
  if (groupingInstalled !== undefined) return groupingInstalled
  groupingInstalled = replaceKafkajsModule(
    'kafkajs/src/producer/groupMessagesPerPartition.js',
    ({
      topic,
      partitionMetadata,
      messages,
      partitioner,
    }: {
      topic: string
      partitionMetadata: unknown[]
      messages: unknown[]
      partitioner: (args: { topic: string; partitionMetadata: unknown[]; message: unknown }) => number
    }) => {
      if (partitionMetadata.length === 0) return {}
      const result: Record<number, unknown[]> = {}
      for (const message of messages) {
        const partition = partitioner({ topic, partitionMetadata, message })
        const list = result[partition]
        if (list) list.push(message)
        else result[partition] = [message]
      }
      return result
    },
  )
  return groupingInstalled
}

/**
 * Installs the ordered record codec into kafkajs. Returns false when kafkajs already loaded its
 * own (a Produce or Fetch ran before): headers then keep kafkajs's grouping by key.
 */
export function installOrderedHeaders(): boolean {
  if (installed !== undefined) return installed
  const decoderPath = require.resolve('kafkajs/src/protocol/recordBatch/record/v0/decoder.js')
  const encoderPath = require.resolve('kafkajs/src/protocol/recordBatch/record/v0/index.js')
  if (require.cache[decoderPath] || require.cache[encoderPath]) {
    installed = false
    return installed
  }
  const Module = require('node:module') as { Module: new (id: string) => NodeJS.Module }
  const define = (path: string, exports: unknown): void => {
    const m = new Module.Module(path)
    m.filename = path
    m.loaded = true
    m.exports = exports
    require.cache[path] = m
  }
  define(decoderPath, createRecordDecoder())
  define(encoderPath, createRecordEncoder())
  installed = true
  return installed
}

/** The ordered headers of a message kafkajs decoded, or its header object flattened (key-grouped) when the codec was not ours. */
export function orderedHeadersOf(headers: Record<string, Buffer | null | Array<Buffer | null>> | undefined): RecordHeader[] {
  const ordered = (headers as { [ORDERED_HEADERS]?: RecordHeader[] } | undefined)?.[ORDERED_HEADERS]
  if (ordered) return ordered
  const out: RecordHeader[] = []
  for (const [key, value] of Object.entries(headers ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) out.push({ key, value: v ?? null })
  }
  return out
}

/**
 * Headers for a kafkajs message: the usual object (so kafkajs and any other reader see them),
 * with the exact list attached for our encoder.
 */
export function headersForMessage(headers: readonly RecordHeader[]): Record<string, Buffer | Array<Buffer>> {
  const obj: Record<string, Buffer | Array<Buffer>> = Object.create(null) as Record<string, Buffer | Array<Buffer>>
  for (const h of headers) {
    const v = h.value ?? Buffer.alloc(0)
    const current = obj[h.key]
    if (current === undefined) obj[h.key] = v
    else if (Array.isArray(current)) current.push(v)
    else obj[h.key] = [current, v]
  }
  ;(obj as Record<symbol, unknown>)[ORDERED_HEADERS] = headers
  return obj
}

interface KafkajsDecoder {
  buffer: Buffer
  offset: number
  readInt8(): number
  readVarLong(): { add(n: unknown): { toString(): string } }
  readVarInt(): number
  readVarIntBytes(): Buffer | null
  readVarIntString(): string
}

const BATCH_BASE = Symbol('recover.batchBase')

/** A batch's first offset and first timestamp as numbers, parsed once per batch (undefined past 2^53). */
function batchBase(batchContext: Record<string | symbol, unknown>): { offset: number | undefined; timestamp: number | undefined } {
  const cached = batchContext[BATCH_BASE] as { offset: number | undefined; timestamp: number | undefined } | undefined
  if (cached) return cached
  const offset = Number(batchContext.firstOffset)
  const timestamp = Number(batchContext.firstTimestamp)
  const base = { offset: Number.isSafeInteger(offset) ? offset : undefined, timestamp: Number.isSafeInteger(timestamp) ? timestamp : undefined }
  batchContext[BATCH_BASE] = base
  return base
}

/**
 * A zigzag varlong as a number, read straight from the decoder's buffer; undefined (nothing
 * consumed) when it does not fit in 53 bits or the buffer ends, so kafkajs's Long path (and its
 * errors) takes over. kafkajs builds a Long per byte here, a large share of a fetch's decoding.
 */
function readVarLongNumber(decoder: KafkajsDecoder): number | undefined {
  const buffer = decoder.buffer
  let position = decoder.offset
  let result = 0
  let multiplier = 1
  let byte: number
  do {
    if (position >= buffer.length || multiplier > 2 ** 63) return undefined
    byte = buffer[position++]!
    result += (byte & 0x7f) * multiplier
    multiplier *= 128
  } while (byte >= 0x80)
  if (result > Number.MAX_SAFE_INTEGER) return undefined
  decoder.offset = position
  return result % 2 === 0 ? result / 2 : -(result + 1) / 2
}

/** kafkajs's record v0 decoder (recordBatch/record/v0/decoder.js), keeping header order. */
function createRecordDecoder(): (decoder: KafkajsDecoder, batchContext?: Record<string, unknown>) => unknown {
  const Long = require('kafkajs/src/utils/long.js') as { fromValue(v: unknown): { add(v: unknown): { toString(): string } } }
  const TimestampTypes = require('kafkajs/src/protocol/timestampTypes.js') as { LOG_APPEND_TIME: number }
  return (decoder, batchContext = {}) => {
    const { firstOffset, firstTimestamp, magicByte, isControlBatch = false, timestampType, maxTimestamp } = batchContext
    const base = batchBase(batchContext)
    const attributes = decoder.readInt8()
    const deltaNumber = readVarLongNumber(decoder)
    const timestampDelta = deltaNumber === undefined ? decoder.readVarLong() : undefined
    let timestamp: string
    if (timestampType === TimestampTypes.LOG_APPEND_TIME && maxTimestamp) timestamp = maxTimestamp as string
    else if (deltaNumber !== undefined && base.timestamp !== undefined && Number.isSafeInteger(base.timestamp + deltaNumber))
      timestamp = String(base.timestamp + deltaNumber)
    else
      timestamp = Long.fromValue(firstTimestamp)
        .add(timestampDelta ?? deltaNumber)
        .toString()
    const offsetDelta = decoder.readVarInt()
    const offset =
      base.offset !== undefined && Number.isSafeInteger(base.offset + offsetDelta)
        ? String(base.offset + offsetDelta)
        : Long.fromValue(firstOffset).add(offsetDelta).toString()
    const key = decoder.readVarIntBytes()
    const value = decoder.readVarIntBytes()
    const count = decoder.readVarInt()
    const list: RecordHeader[] = new Array(Math.max(count, 0))
    const headers: Record<string | symbol, unknown> = {}
    for (let i = 0; i < count; i++) {
      const h = { key: decoder.readVarIntString(), value: decoder.readVarIntBytes() }
      list[i] = h
      const current = Object.hasOwn(headers, h.key) ? headers[h.key] : undefined
      if (current === undefined) headers[h.key] = h.value
      else if (Array.isArray(current)) current.push(h.value)
      else headers[h.key] = [current, h.value]
    }
    // A symbol key: invisible to Object.keys, for…in and JSON, and much cheaper than defineProperty per record.
    headers[ORDERED_HEADERS] = list
    return { magicByte, attributes, timestamp, offset, key, value, headers, isControlRecord: isControlBatch, batchContext }
  }
}

interface KafkajsEncoder {
  writeVarInt(n: number): KafkajsEncoder
  writeInt8(n: number): KafkajsEncoder
  writeVarLong(n: unknown): KafkajsEncoder
  writeVarIntBytes(b: unknown): KafkajsEncoder
  writeVarIntString(s: string): KafkajsEncoder
  writeVarIntArray(a: unknown[]): KafkajsEncoder
}

/** kafkajs's record v0 encoder (recordBatch/record/v0/index.js): exact header order, null values allowed. */
export function createRecordEncoder(): (args: {
  offsetDelta?: number
  timestampDelta?: unknown
  key: unknown
  value: unknown
  headers?: Record<string, unknown>
}) => KafkajsEncoder {
  const Encoder = require('kafkajs/src/protocol/encoder.js') as {
    new (): KafkajsEncoder
    sizeOfVarInt(n: number): number
    sizeOfVarLong(n: unknown): number
    sizeOfVarIntBytes(b: unknown): number
  }
  return ({ offsetDelta = 0, timestampDelta = 0, key, value, headers = {} }) => {
    const ordered = (headers as { [ORDERED_HEADERS]?: RecordHeader[] })[ORDERED_HEADERS]
    const list: Array<{ key: string; value: unknown }> =
      ordered ??
      Object.keys(headers).flatMap((k) => {
        const v = headers[k]
        return Array.isArray(v) ? v.map((x: unknown) => ({ key: k, value: x })) : [{ key: k, value: v }]
      })
    let headersSize = Encoder.sizeOfVarInt(list.length)
    for (const h of list) {
      const keySize = Buffer.byteLength(h.key)
      headersSize += Encoder.sizeOfVarInt(keySize) + keySize
      if (h.value === null || h.value === undefined) headersSize += Encoder.sizeOfVarInt(-1)
      else {
        const valueSize = Buffer.isBuffer(h.value) ? h.value.length : Buffer.byteLength(String(h.value))
        headersSize += Encoder.sizeOfVarInt(valueSize) + valueSize
      }
    }
    const sizeOfBody =
      1 +
      Encoder.sizeOfVarLong(timestampDelta) +
      Encoder.sizeOfVarInt(offsetDelta) +
      Encoder.sizeOfVarIntBytes(key) +
      Encoder.sizeOfVarIntBytes(value) +
      headersSize
    return new Encoder()
      .writeVarInt(sizeOfBody)
      .writeInt8(0)
      .writeVarLong(timestampDelta)
      .writeVarInt(offsetDelta)
      .writeVarIntBytes(key)
      .writeVarIntBytes(value)
      .writeVarIntArray(list.map((h) => new Encoder().writeVarIntString(h.key).writeVarIntBytes(h.value ?? null)))
  }
}
