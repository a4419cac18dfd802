import { type MeasuredRecords, measureRecords, RECORD_BATCH_OVERHEAD, writeRecordBatch, writeRecords } from './record-batch.js'
import type { ProduceMessage } from './produce-message.js'

/** A 64-bit id as kafkajs carries it: its Long (a BigInt in `.value`), a number, a string or a bigint. */
export type LongLike = bigint | number | string | { value: bigint }

/** What kafkajs's producer passes to the Produce request (protocol/requests/produce, v3 to v7). */
export interface ProduceRequestArgs {
  acks: number
  timeout: number
  transactionalId?: string | null
  producerId?: LongLike
  producerEpoch?: number
  compression?: number
  topicData: ReadonlyArray<{
    topic: string
    partitions: ReadonlyArray<{ partition: number; firstSequence?: number; messages: readonly ProduceMessage[] }>
  }>
}

/** The request header (v1) kafkajs puts before every request body. */
export interface RequestHeader {
  apiKey: number
  apiVersion: number
  correlationId: number
  clientId: string | null
}

/** kafkajs's codec interface: compress gets an Encoder, of which it reads `.buffer`. */
export type CompressRecords = (records: Buffer) => Promise<Buffer>

const COMPRESSION_NONE = 0

/**
 * Encodes a Produce request (v3 to v7 share one layout) into one buffer of exactly its size:
 * each partition's records are measured first, then written once, straight from the messages.
 * With `header`, the buffer is the whole frame (size, request header, body) that goes on the
 * socket; without, the body only. `compress` is called once per partition batch when a codec
 * is asked for; the records are then written to a buffer of their own first (the codec needs
 * them whole) and the compressed bytes copied into the request.
 *
 *   body: transactional_id nullable string, acks int16, timeout int32,
 *         [topic string, [partition int32, record_set bytes (int32 size + a RecordBatch)]]
 */
export async function encodeProduceRequest(args: ProduceRequestArgs, header?: RequestHeader, compress?: CompressRecords): Promise<Buffer> {
  const compression = args.compression ?? COMPRESSION_NONE
  const now = Date.now()
  const fields = {
    compression,
    transactional: args.transactionalId !== null && args.transactionalId !== undefined && args.transactionalId !== '',
    producerId: toBigInt(args.producerId ?? -1),
    producerEpoch: args.producerEpoch ?? 0,
    firstSequence: 0,
  }
  interface Planned {
    measured: MeasuredRecords
    compressed: Buffer | undefined
    batchBytes: number
  }
  const plans: Planned[][] = []
  let size = header ? 4 + 2 + 2 + 4 + sizeOfString(header.clientId) : 0
  size += sizeOfString(args.transactionalId ?? null) + 2 + 4 + 4
  for (const topic of args.topicData) {
    size += sizeOfString(topic.topic) + 4
    const planned: Planned[] = []
    for (const p of topic.partitions) {
      const measured = measureRecords(p.messages, now)
      let compressed: Buffer | undefined
      if (compression !== COMPRESSION_NONE) {
        if (!compress) throw new Error(`No codec to compress with (compression ${compression}).`)
        const records = Buffer.allocUnsafe(measured.bytes)
        writeRecords(records, 0, measured, now)
        compressed = await compress(records)
      }
      const batchBytes = RECORD_BATCH_OVERHEAD + (compressed ? compressed.length : measured.bytes)
      planned.push({ measured, compressed, batchBytes })
      size += 4 + 4 + batchBytes
    }
    plans.push(planned)
  }

  // Every byte below is written, so the buffer need not be zero-filled first.
  const out = Buffer.allocUnsafe(size)
  let at = 0
  if (header) {
    at = out.writeInt32BE(size - 4, at)
    at = out.writeInt16BE(header.apiKey, at)
    at = out.writeInt16BE(header.apiVersion, at)
    at = out.writeInt32BE(header.correlationId, at)
    at = writeString(out, at, header.clientId)
  }
  at = writeString(out, at, args.transactionalId ?? null)
  at = out.writeInt16BE(args.acks, at)
  at = out.writeInt32BE(args.timeout, at)
  at = out.writeInt32BE(args.topicData.length, at)
  args.topicData.forEach((topic, t) => {
    at = writeString(out, at, topic.topic)
    at = out.writeInt32BE(topic.partitions.length, at)
    topic.partitions.forEach((p, i) => {
      const { measured, compressed, batchBytes } = plans[t]![i]!
      at = out.writeInt32BE(p.partition, at)
      at = out.writeInt32BE(batchBytes, at)
      fields.firstSequence = p.firstSequence ?? 0
      at = writeRecordBatch(out, at, measured, fields, now, compressed)
    })
  })
  if (at !== size) throw new Error(`Produce request encoding wrote ${at} of ${size} bytes.`)
  return out
}

function toBigInt(value: LongLike): bigint {
  if (typeof value === 'bigint') return value
  if (typeof value === 'object') return BigInt(value.value)
  return BigInt(value)
}

function sizeOfString(value: string | null): number {
  return value === null ? 2 : 2 + Buffer.byteLength(value)
}

function writeString(out: Buffer, offset: number, value: string | null): number {
  if (value === null) return out.writeInt16BE(-1, offset)
  const at = out.writeInt16BE(Buffer.byteLength(value), offset)
  return at + out.write(value, at, 'utf8')
}
