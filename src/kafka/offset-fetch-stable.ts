import { createRequire } from 'node:module'
import type { DescribeBroker } from './consumer-group-describe.js'

const require = createRequire(import.meta.url)

const OFFSET_FETCH = 9
/** v7 (Kafka 2.5+, KIP-447) is the first with RequireStable; the last that names one group. */
const API_VERSION = 7

interface Encoder {
  writeInt32(n: number): Encoder
  writeBoolean(b: boolean): Encoder
  writeUVarInt(n: number): Encoder
  writeUVarIntString(s: string | null): Encoder
}

interface Decoder {
  readInt16(): number
  readInt32(): number
  readInt64(): { toString(): string }
  readUVarIntString(): string | null
  readUVarIntArray<T>(read: (d: Decoder) => T): T[] | null
  readTaggedFields(): unknown
}

export interface FetchedOffset {
  topic: string
  partition: number
  /** -1 when the group has no offset for the partition. */
  offset: bigint
  metadata: string | null
}

/**
 * OffsetFetch v7 with RequireStable, which kafkajs predates (it sends v1–v4). A coordinator that
 * has just taken over a group (its broker failed) answers a plain OffsetFetch from its last
 * committed state, which for a moment can lag its log: measured on a three-node Kafka 4.4
 * cluster, 3 of 8 reads right after a coordinator's kill -9 said the group had no offsets at
 * all for 0.6–0.9 s. A stable read waits until that state is current (Kafka's consumers read
 * this way since 2.5), so a seek's snapshot and read-back see what is really committed.
 * `topics` null: every partition the group has an offset for. Returns undefined when the broker
 * does not offer v7 (Kafka before 2.5): the caller reads the old way. A group- or partition-level
 * error is thrown as kafkajs's typed error, so coordinator moves are retried like kafkajs's own.
 */
export async function fetchStableOffsets(
  broker: DescribeBroker,
  groupId: string,
  topics: Array<{ topic: string; partitions: number[] }> | null,
): Promise<FetchedOffset[] | undefined> {
  const offered = broker.versions[OFFSET_FETCH]
  if (!offered || offered.minVersion > API_VERSION || offered.maxVersion < API_VERSION) return undefined
  const Encoder = require('kafkajs/src/protocol/encoder') as new () => Encoder
  const Decoder = require('kafkajs/src/protocol/decoder') as new (b: Buffer) => Decoder
  const { createErrorFromCode } = require('kafkajs/src/protocol/error') as { createErrorFromCode: (code: number) => Error }
  const request = {
    apiKey: OFFSET_FETCH,
    apiVersion: API_VERSION,
    apiName: 'OffsetFetch',
    encode: async () => encodeRequest(new Encoder(), groupId, topics),
  }
  const response = {
    decode: async (data: Buffer) => decodeResponse(new Decoder(data)),
    parse: async (x: unknown) => x,
  }
  const result = (await broker.connectionPool.send({ request, response, requestTimeout: 30_000 })) as DecodedResponse
  if (result.errorCode !== 0) throw createErrorFromCode(result.errorCode)
  const failed = result.offsets.find((o) => o.errorCode !== 0)
  if (failed) throw createErrorFromCode(failed.errorCode)
  return result.offsets.map(({ topic, partition, offset, metadata }) => ({ topic, partition, offset, metadata }))
}

function encodeRequest(body: Encoder, groupId: string, topics: Array<{ topic: string; partitions: number[] }> | null): Encoder {
  // A flexible version: the request header's empty tagged fields fall where kafkajs's v1 header ends.
  body.writeUVarInt(0).writeUVarIntString(groupId)
  if (topics === null) body.writeUVarInt(0)
  else {
    body.writeUVarInt(topics.length + 1)
    for (const { topic, partitions } of topics) {
      body.writeUVarIntString(topic).writeUVarInt(partitions.length + 1)
      for (const p of partitions) body.writeInt32(p)
      body.writeUVarInt(0) // topic tagged fields
    }
  }
  return body.writeBoolean(true).writeUVarInt(0) // require stable, tagged fields
}

interface DecodedResponse {
  errorCode: number
  offsets: Array<FetchedOffset & { errorCode: number }>
}

/** Exported for the byte-level test: a v7 response body after kafkajs has read the correlation id. */
export function decodeResponse(d: Decoder): DecodedResponse {
  d.readTaggedFields() // response header tagged fields
  d.readInt32() // throttle time
  const offsets: DecodedResponse['offsets'] = []
  d.readUVarIntArray((t) => {
    const topic = t.readUVarIntString() ?? ''
    t.readUVarIntArray((p) => {
      const partition = p.readInt32()
      const offset = BigInt(p.readInt64().toString())
      p.readInt32() // committed leader epoch
      const metadata = p.readUVarIntString()
      const errorCode = p.readInt16()
      p.readTaggedFields()
      offsets.push({ topic, partition, offset, metadata, errorCode })
    })
    t.readTaggedFields()
  })
  const errorCode = d.readInt16()
  d.readTaggedFields()
  return { errorCode, offsets }
}
