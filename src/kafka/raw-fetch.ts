import { createRequire } from 'node:module'
import type { InternalMessage } from './internal-cluster.js'
import { decodeMessages, lastOffsetOfBatches } from './record-batch-walker.js'

const require = createRequire(import.meta.url)

/** One partition of a Fetch response with its record bytes left undecoded. */
export interface RawPartitionData {
  partition: number
  errorCode: number
  highWatermark: string
  abortedTransactions: Array<{ producerId: bigint; firstOffset: bigint }>
  /** The record batches as the broker sent them (the last one may be cut short); null when none. */
  records: Buffer | null
}

interface KafkajsDecoder {
  readInt16(): number
  readInt32(): number
  readInt64(): { toString(): string }
  readString(): string
  readBytes(n: number): Buffer
  canReadBytes(n: number): boolean
  readArray<T>(read: (d: KafkajsDecoder) => T): T[]
}

interface FetchDefinition {
  versions: string[]
  protocol(args: { version: number }): (request: object) => {
    request: unknown
    response: { decode(data: Buffer): Promise<unknown>; parse(data: unknown): Promise<unknown> }
    requestTimeout: number
  }
}

/** A broker as kafkajs keeps it: its version lookup and connection pool. */
export interface RawFetchBroker {
  lookupRequest(apiKey: number, definition: FetchDefinition): { request: unknown; response: unknown; requestTimeout: number }
  connectionPool: { send(request: unknown): Promise<unknown> }
  disconnect(): Promise<void>
}

const FETCH_API_KEY = 1
// Versions with aborted transactions (4) up to the newest kafkajs encodes (11).
const RAW_VERSIONS = ['4', '5', '6', '7', '8', '9', '10', '11']

let definition: FetchDefinition | undefined

/**
 * kafkajs's Fetch request with a response decoder that stops at the record bytes: an audit
 * reads each record's key, hashes and size straight from them (record-batch-walker.ts)
 * instead of having kafkajs build an object, a decoder and several buffers per record.
 */
function rawFetchDefinition(): FetchDefinition {
  if (definition) return definition
  const Fetch = require('kafkajs/src/protocol/requests/fetch') as FetchDefinition
  const Decoder = require('kafkajs/src/protocol/decoder') as new (data: Buffer) => KafkajsDecoder
  definition = {
    versions: RAW_VERSIONS,
    protocol:
      ({ version }) =>
      (args) => {
        const built = Fetch.protocol({ version })(args)
        const decode = async (data: Buffer) => {
          const d = new Decoder(data)
          d.readInt32() // throttle time
          if (version >= 7) {
            d.readInt16() // top-level error code (fetch sessions, which we do not use)
            d.readInt32() // session id
          }
          const responses = d.readArray((t) => ({
            topicName: t.readString(),
            partitions: t.readArray((p): RawPartitionData => {
              const partition = p.readInt32()
              const errorCode = p.readInt16()
              const highWatermark = p.readInt64().toString()
              p.readInt64() // last stable offset
              if (version >= 5) p.readInt64() // log start offset
              const aborted = p.readArray((a) => ({ producerId: BigInt(a.readInt64().toString()), firstOffset: BigInt(a.readInt64().toString()) }))
              if (version >= 11) p.readInt32() // preferred read replica
              const size = p.readInt32()
              const records = size > 0 && p.canReadBytes(size) ? p.readBytes(size) : null
              return { partition, errorCode, highWatermark, abortedTransactions: aborted ?? [], records }
            }),
          }))
          return { responses }
        }
        // Partition errors are the reader's to handle, per partition, as with the decoded fetch.
        return { ...built, response: { decode, parse: async (x: unknown) => x } }
      },
  }
  return definition
}

export interface RawFetchRequest {
  isolationLevel: 0 | 1
  maxWaitTime: number
  minBytes: number
  maxBytes: number
  topics: Array<{ topic: string; partitions: Array<{ partition: number; fetchOffset: string; maxBytes: number }> }>
}

/** Sends one Fetch to `broker` and returns its partitions with raw record bytes. */
export async function rawFetch(broker: RawFetchBroker, request: RawFetchRequest): Promise<Array<{ topicName: string; partitions: RawPartitionData[] }>> {
  const protocol = broker.lookupRequest(FETCH_API_KEY, rawFetchDefinition()) as unknown as (args: object) => unknown
  try {
    const response = (await broker.connectionPool.send((protocol as unknown as (a: object) => unknown)({ replicaId: -1, rackId: '', ...request }))) as {
      responses: Array<{ topicName: string; partitions: RawPartitionData[] }>
    }
    return response.responses
  } catch (error) {
    // As kafkajs's own Broker does: a closed connection is reopened on the next request.
    if ((error as { name?: string }).name === 'KafkaJSConnectionClosedError') await broker.disconnect()
    throw error
  }
}

/**
 * A partition's records as kafkajs's consumer gives them: decoded by kafkajs, those before
 * `fetchedOffset` (a compressed batch starts before it) dropped, records of aborted
 * transactions (per the response's aborted list, which the broker sends in read_committed
 * only) and control records removed. And how far the response reaches, from the batch
 * headers: also past batches that hold no record any more (compaction keeps the emptied
 * batches of idempotent and transactional producers, the default since Kafka 3.0) and past
 * aborted and control batches. lastOffset is -1n when the response holds no whole batch.
 */
export async function decodeFetched(
  topic: string,
  data: RawPartitionData,
  fetchedOffset: bigint,
): Promise<{ messages: InternalMessage[]; lastOffset: bigint }> {
  const Batch = require('kafkajs/src/consumer/batch') as new (
    topic: string,
    fetchedOffset: string,
    data: unknown,
  ) => { messages: InternalMessage[]; rawMessages: InternalMessage[] }
  const messages = data.records ? ((await decodeMessages(data.records)) as InternalMessage[]) : []
  const abortedTransactions = data.abortedTransactions.map((a) => ({ producerId: a.producerId.toString(), firstOffset: a.firstOffset.toString() }))
  const batch = new Batch(topic, fetchedOffset.toString(), { partition: data.partition, highWatermark: data.highWatermark, abortedTransactions, messages })
  let lastOffset = data.records ? lastOffsetOfBatches(data.records) : -1n
  for (const m of batch.rawMessages) {
    const o = BigInt(m.offset)
    if (o > lastOffset) lastOffset = o
  }
  return { messages: batch.messages, lastOffset }
}

/**
 * Throws what kafkajs's decoded Fetch throws when a partition of the response has an error
 * (the first one, in response order): OFFSET_OUT_OF_RANGE as KafkaJSOffsetOutOfRange naming
 * the partition, any other code as its protocol error. For callers that keep those errors.
 */
export function throwFirstPartitionError(responses: ReadonlyArray<{ topicName: string; partitions: RawPartitionData[] }>): void {
  for (const { topicName, partitions } of responses) {
    for (const p of partitions) {
      if (p.errorCode === 0) continue
      const { createErrorFromCode } = require('kafkajs/src/protocol/error') as { createErrorFromCode: (code: number) => Error }
      const { KafkaJSOffsetOutOfRange } = require('kafkajs/src/errors') as {
        KafkaJSOffsetOutOfRange: new (e: Error, where: { topic: string; partition: number }) => Error
      }
      if (p.errorCode === 1) throw new KafkaJSOffsetOutOfRange(createErrorFromCode(p.errorCode), { topic: topicName, partition: p.partition })
      throw createErrorFromCode(p.errorCode)
    }
  }
}
