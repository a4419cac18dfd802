import { createRequire } from 'node:module'
import { putKafkajsModule, replaceKafkajsModule } from '../kafkajs-module.js'
import { type CompressRecords, encodeProduceRequest, type ProduceRequestArgs, type RequestHeader } from './produce-request.js'

const require = createRequire(import.meta.url)

/**
 * kafkajs 2.2.4 builds a Produce request from an Encoder per record and per header (each a
 * zero-filled 512-byte buffer), copies it up through five growing buffers, and computes the
 * CRC32C a byte at a time: about half of a topic-to-topic replay's time. recover keeps
 * kafkajs for everything around the request (idempotence and sequence numbers, transactions,
 * retries, connections) and puts its own encoder at the narrowest seam: the modules that
 * build the Produce request body (v3 to v7), which kafkajs requires on each Produce. A
 * second, optional seam is the module that frames every request (size and header): when
 * recover's module is in its place, a Produce request is encoded straight into the frame, so
 * the records are copied once, into the buffer that goes on the socket. kafkajs loads that
 * module with its connection code, so it can only be replaced before kafkajs is first required.
 */
const ENCODE_FRAMED = Symbol.for('recover.encodeFramedRequest')

interface KafkajsRequest {
  apiKey: number
  apiVersion: number
  apiName: string
  expectResponse?: () => boolean
  encode: () => Promise<unknown>
  [ENCODE_FRAMED]?: (header: RequestHeader) => Promise<Buffer>
}

interface EncoderClass {
  prototype: object
  new (): EncoderInstance
}
interface EncoderInstance {
  writeInt16(n: number): EncoderInstance
  writeInt32(n: number): EncoderInstance
  writeString(s: string | null): EncoderInstance
  writeEncoder(e: unknown): EncoderInstance
  size(): number
}

let produceInstalled = false
let framingInstalled: boolean | undefined

/** kafkajs's Produce request modules that send RecordBatches (v0 to v2, message sets, are for brokers before 0.11). */
const PRODUCE_VERSIONS = [3, 4, 5, 6, 7]

/**
 * Puts recover's Produce request encoder in kafkajs's place, for every version that sends
 * RecordBatches. kafkajs requires the module of a version on each Produce (v4 to v7 are v3 with
 * another version number, and capture v3 when they load), so replacing all five works at any
 * time, even after kafkajs produced with its own. Idempotent.
 */
export function installProduceEncoding(): void {
  if (produceInstalled) return
  const v3 = createProduceRequest()
  for (const version of PRODUCE_VERSIONS) {
    putKafkajsModule(
      `kafkajs/src/protocol/requests/produce/v${version}/request.js`,
      version === 3 ? v3 : (args: ProduceRequestArgs) => Object.assign(v3(args), { apiVersion: version }),
    )
  }
  produceInstalled = true
}

/**
 * Puts recover's request framing in kafkajs's place: Produce requests encoded by recover are
 * then written straight into their frame; every other request is framed as kafkajs frames it.
 * kafkajs's connection module keeps the framing function it loaded, so this must run before
 * kafkajs is first required (createKafka does); later it is a no-op and returns false.
 */
export function installRequestFraming(): boolean {
  framingInstalled ??= replaceKafkajsModule('kafkajs/src/protocol/request.js', createRequestFraming())
  return framingInstalled
}

/** kafkajs's produce/v3/request.js, same signature and defaults, encoding with recover's encoder. */
function createProduceRequest(): (args: ProduceRequestArgs) => KafkajsRequest {
  const { Produce: apiKey } = require('kafkajs/src/protocol/requests/apiKeys.js') as { Produce: number }
  const Encoder = require('kafkajs/src/protocol/encoder.js') as EncoderClass
  const { lookupCodec } = require('kafkajs/src/protocol/message/compression/index.js') as {
    lookupCodec(type: number): { compress(encoder: { buffer: Buffer }): Promise<Buffer> } | null
  }
  const codecFor = (compression: number | undefined): CompressRecords | undefined => {
    if (!compression) return undefined
    const codec = lookupCodec(compression)
    if (!codec) return undefined
    return (records) => codec.compress({ buffer: records })
  }
  const produceRequest = (args: ProduceRequestArgs): KafkajsRequest => {
    const request: KafkajsRequest = {
      apiKey,
      apiVersion: 3,
      apiName: 'Produce',
      expectResponse: () => args.acks !== 0,
      // Without recover's framing (kafkajs was loaded first): the body, as an Encoder that kafkajs frames.
      encode: async () => asEncoder(Encoder, await encodeProduceRequest(args, undefined, codecFor(args.compression))),
      [ENCODE_FRAMED]: (header) => encodeProduceRequest(args, header, codecFor(args.compression)),
    }
    return request
  }
  return produceRequest
}

/** An Encoder holding `buffer` (kafkajs checks `.buf` and reads `.buffer`), without copying it. */
function asEncoder(Encoder: EncoderClass, buffer: Buffer): object {
  return Object.assign(Object.create(Encoder.prototype) as object, { buf: buffer, offset: buffer.length })
}

/** kafkajs's protocol/request.js, with a path for requests that encode their own frame. */
function createRequestFraming(): (args: { correlationId: number; clientId: string; request: KafkajsRequest }) => Promise<object> {
  const Encoder = require('kafkajs/src/protocol/encoder.js') as EncoderClass
  return async ({ correlationId, clientId, request }) => {
    const framed = request[ENCODE_FRAMED]
    if (framed) {
      const buffer = await framed({ apiKey: request.apiKey, apiVersion: request.apiVersion, correlationId, clientId })
      return asEncoder(Encoder, buffer)
    }
    const payload = await request.encode()
    const requestPayload = new Encoder()
      .writeInt16(request.apiKey)
      .writeInt16(request.apiVersion)
      .writeInt32(correlationId)
      .writeString(clientId)
      .writeEncoder(payload)
    return new Encoder().writeInt32(requestPayload.size()).writeEncoder(requestPayload)
  }
}
