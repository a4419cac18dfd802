import { createRequire } from 'node:module'
import { type CompressRecords, encodeProduceRequest, type ProduceRequestArgs, type RequestHeader } from './produce-request.js'

const require = createRequire(import.meta.url)

/**
 * kafkajs 2.2.4 builds a Produce request from an Encoder per record and per header (each a
 * zero-filled 512-byte buffer), copies it up through five growing buffers, and computes the
 * CRC32C a byte at a time: about half of a topic-to-topic replay's time. recover keeps
 * kafkajs for everything around the request (idempotence and sequence numbers, transactions,
 * retries, connections) and puts its own encoder at the narrowest seam: the module that
 * builds the Produce request body (v4 to v7 reuse v3's), which kafkajs loads on the first
 * Produce. A second, optional seam is the module that frames every request (size and header):
 * when recover's module is in its place, a Produce request is encoded straight into the frame,
 * so the records are copied once, into the buffer that goes on the socket. kafkajs loads that
 * module with its connection code, so it can only be replaced before kafkajs is first required.
 */
const ENCODE_FRAMED = Symbol.for('recover.encodeFramedRequest')
const OURS = Symbol.for('recover.produceEncoding')

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

let produceInstalled: boolean | undefined
let framingInstalled: boolean | undefined

/**
 * Puts recover's Produce request encoder in kafkajs's place. Idempotent; returns whether
 * kafkajs's Produce requests are (or will be) encoded by recover, false when kafkajs had
 * already loaded its own (a Produce ran before).
 */
export function installProduceEncoding(): boolean {
  if (produceInstalled !== undefined) return produceInstalled
  const path = require.resolve('kafkajs/src/protocol/requests/produce/v3/request.js')
  const cached = require.cache[path]
  if (cached) {
    produceInstalled = (cached.exports as Record<symbol, unknown>)[OURS] === true
    return produceInstalled
  }
  define(path, createProduceRequest())
  produceInstalled = true
  return produceInstalled
}

/**
 * Puts recover's request framing in kafkajs's place: Produce requests encoded by recover are
 * then written straight into their frame; every other request is framed as kafkajs frames it.
 * Must run before kafkajs is first required (createKafka does); later it is a no-op.
 */
export function installRequestFraming(): boolean {
  if (framingInstalled !== undefined) return framingInstalled
  const path = require.resolve('kafkajs/src/protocol/request.js')
  if (require.cache[path]) {
    framingInstalled = false
    return framingInstalled
  }
  define(path, createRequestFraming())
  framingInstalled = true
  return framingInstalled
}

/** Whether messages reach recover's encoder (headers may then be recover's ordered list). */
export function produceEncodingInstalled(): boolean {
  return produceInstalled === true
}

function define(path: string, exports: unknown): void {
  const Module = require('node:module') as { Module: new (id: string) => NodeJS.Module }
  const m = new Module.Module(path)
  m.filename = path
  m.loaded = true
  m.exports = exports
  require.cache[path] = m
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
  ;(produceRequest as unknown as Record<symbol, boolean>)[OURS] = true
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
