import { createRequire } from 'node:module'
import fc from 'fast-check'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { registerCompressionCodecs } from '../../src/kafka/compression-codecs.js'
import { createRecordEncoder, headersForMessage, type RecordHeader } from '../../src/kafka/ordered-headers.js'
import { crc32c } from '../../src/kafka/produce-encoding/crc32c.js'
import { encodeProduceRequest, type ProduceRequestArgs } from '../../src/kafka/produce-encoding/produce-request.js'
import type { ProduceMessage } from '../../src/kafka/produce-encoding/produce-message.js'
import { sizeOfVarInt, sizeOfVarLong, writeVarInt, writeVarLong } from '../../src/kafka/produce-encoding/varint.js'
import { walkRecordBatches } from '../../src/kafka/record-batch-walker.js'

/**
 * recover's Produce encoding against kafkajs 2.2.4's own, byte for byte: the request body of
 * produce/v3/request.js (v4 to v7 send the same bytes) and the frame of protocol/request.js.
 * kafkajs's modules are loaded fresh here, whichever versions the process has installed.
 */
const require = createRequire(import.meta.url)
registerCompressionCodecs()

type KafkajsProduce = (args: unknown) => { encode(): Promise<{ buffer: Buffer }>; apiKey: number; apiVersion: number }
const Encoder = require('kafkajs/src/protocol/encoder.js') as new () => {
  writeVarInt(n: number): { buffer: Buffer }
  writeVarLong(n: unknown): { buffer: Buffer }
}
const kafkajsCrc = require('kafkajs/src/protocol/recordBatch/crc32C/index.js') as (b: Buffer) => number
const Long = require('kafkajs/src/utils/long.js') as { fromValue(v: unknown): unknown }
const { lookupCodec } = require('kafkajs/src/protocol/message/compression/index.js') as {
  lookupCodec(t: number): { compress(e: { buffer: Buffer }): Promise<Buffer> }
}

const V3 = require.resolve('kafkajs/src/protocol/requests/produce/v3/request.js')
const RECORD = require.resolve('kafkajs/src/protocol/recordBatch/record/v0/index.js')
const FRAMING = require.resolve('kafkajs/src/protocol/request.js')

/** Loads `path` afresh with `overrides` in the module cache, then puts the cache back as it was. */
function loadFresh<T>(path: string, overrides: Record<string, unknown | undefined>): T {
  const paths = [path, ...Object.keys(overrides)]
  const saved = new Map(paths.map((p) => [p, require.cache[p]]))
  try {
    for (const p of paths) delete require.cache[p]
    for (const [p, exports] of Object.entries(overrides)) {
      if (exports === undefined) continue
      const Module = require('node:module') as { Module: new (id: string) => NodeJS.Module }
      const m = new Module.Module(p)
      m.filename = p
      m.loaded = true
      m.exports = exports
      require.cache[p] = m
    }
    return require(path) as T
  } finally {
    for (const [p, m] of saved) {
      if (m) require.cache[p] = m
      else delete require.cache[p]
    }
  }
}

/** kafkajs's own Produce request with its own record encoder (header objects, no null header values). */
const kafkajsProduce = loadFresh<KafkajsProduce>(V3, { [RECORD]: undefined })
/** kafkajs's Produce request with recover's ordered record encoder, as replays produced before their own encoding. */
const orderedProduce = loadFresh<KafkajsProduce>(V3, { [RECORD]: createRecordEncoder() })
const kafkajsFraming = loadFresh<(a: { correlationId: number; clientId: string; request: unknown }) => Promise<{ buffer: Buffer }>>(FRAMING, {})

const NOW = 1_700_000_000_123
const T0 = 1_521_504_000_000

async function withClock<T>(work: () => Promise<T>): Promise<T> {
  const real = Date.now
  Date.now = () => NOW
  try {
    return await work()
  } finally {
    Date.now = real
  }
}

function request(messages: ProduceMessage[], extra: Partial<ProduceRequestArgs> = {}): ProduceRequestArgs {
  return { acks: -1, timeout: 30_000, topicData: [{ topic: 'orders', partitions: [{ partition: 0, firstSequence: 0, messages }] }], ...extra }
}

const compressFor = (compression: number | undefined) => (compression ? (b: Buffer) => lookupCodec(compression).compress({ buffer: b }) : undefined)

async function ours(args: ProduceRequestArgs): Promise<Buffer> {
  return withClock(() => encodeProduceRequest(args, undefined, compressFor(args.compression)))
}

async function theirs(args: ProduceRequestArgs, produce: KafkajsProduce = kafkajsProduce): Promise<Buffer> {
  return withClock(async () => (await produce(args).encode()).buffer)
}

async function assertSameBytes(args: ProduceRequestArgs, produce: KafkajsProduce = kafkajsProduce): Promise<void> {
  const [a, b] = [await ours(args), await theirs(args, produce)]
  if (!a.equals(b)) {
    let at = 0
    while (at < a.length && a[at] === b[at]) at++
    assert.unreachable(`bytes differ at ${at} of ${a.length} (ours) / ${b.length} (kafkajs)`)
  }
}

/** The record batches of a request body, by topic and partition. */
function batchesOf(body: Buffer): Array<{ topic: string; partition: number; batch: Buffer }> {
  let at = 0
  const string = () => {
    const n = body.readInt16BE(at)
    at += 2
    if (n < 0) return null
    const s = body.toString('utf8', at, at + n)
    at += n
    return s
  }
  string()
  at += 6
  const out: Array<{ topic: string; partition: number; batch: Buffer }> = []
  for (let topics = body.readInt32BE((at += 4) - 4); topics > 0; topics--) {
    const topic = string()!
    for (let partitions = body.readInt32BE((at += 4) - 4); partitions > 0; partitions--) {
      const partition = body.readInt32BE(at)
      const size = body.readInt32BE(at + 4)
      out.push({ topic, partition, batch: body.subarray(at + 8, at + 8 + size) })
      at += 8 + size
    }
  }
  assert.is(at, body.length)
  return out
}

interface Decoded {
  offset: bigint
  timestampMs: number
  key: Buffer | null
  value: Buffer | null
  headers: RecordHeader[]
}

async function decode(batch: Buffer): Promise<Decoded[]> {
  const records: Decoded[] = []
  await walkRecordBatches(batch, 0, [], 0n, 1n << 62n, (v) => {
    const slice = (start: number, length: number) => (start < 0 ? null : Buffer.from(v.bytes.subarray(start, start + length)))
    const headers: RecordHeader[] = []
    for (let h = 0; h < v.headerCount; h++) {
      const r = v.headerRanges
      headers.push({ key: v.bytes.toString('utf8', r[4 * h]!, r[4 * h]! + r[4 * h + 1]!), value: slice(r[4 * h + 2]!, r[4 * h + 3]!) })
    }
    records.push({ offset: v.offset, timestampMs: v.timestampMs, key: slice(v.keyStart, v.keyLength), value: slice(v.valueStart, v.valueLength), headers })
  })
  return records
}

test('CRC32C matches kafkajs and the standard check value', () => {
  assert.is(crc32c(Buffer.from('123456789')), 0xe3069283)
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(16), (bytes, cut) => {
      const b = Buffer.from(bytes)
      assert.is(crc32c(b), kafkajsCrc(b))
      const start = Math.min(cut, b.length)
      assert.is(crc32c(b, start), kafkajsCrc(b.subarray(start)))
    }),
    { numRuns: 300 },
  )
})

test('varints and varlongs are sized and written as kafkajs writes them, up to 64 bits', () => {
  const ints = [0, 1, -1, 63, 64, -64, -65, 127, 128, 8191, 8192, 2 ** 20, 2 ** 30 - 1, -(2 ** 30), 2 ** 31 - 1, -(2 ** 31)]
  for (const n of ints) {
    const expected = new Encoder().writeVarInt(n).buffer
    const out = Buffer.alloc(10)
    assert.is(writeVarInt(out, 0, n), expected.length, `varint ${n}`)
    assert.equal(out.subarray(0, expected.length), expected, `varint ${n}`)
    assert.is(sizeOfVarInt(n), expected.length, `size of varint ${n}`)
  }
  const longs = [
    ...ints,
    2 ** 31,
    -(2 ** 31) - 1,
    2 ** 40 + 3,
    -(2 ** 40) - 3,
    2 ** 52 - 1,
    -(2 ** 52) + 1,
    2 ** 52,
    -(2 ** 52),
    2 ** 53 - 1,
    -(2 ** 53) + 1,
    2 ** 62,
  ]
  for (const n of longs) {
    const expected = new Encoder().writeVarLong(n).buffer
    const out = Buffer.alloc(12)
    assert.is(writeVarLong(out, 0, n), expected.length, `varlong ${n}`)
    assert.equal(out.subarray(0, expected.length), expected, `varlong ${n}`)
    assert.is(sizeOfVarLong(n), expected.length, `size of varlong ${n}`)
  }
})

test('keys, values and header objects (repeated keys, strings and Buffers) are encoded byte for byte as kafkajs does', async () => {
  await assertSameBytes(
    request([
      { key: Buffer.from('k1'), value: Buffer.from('{"a":1}'), timestamp: String(T0), headers: { a: '1', b: Buffer.from([0, 255]) } },
      { key: null, value: Buffer.from('no key'), timestamp: String(T0 + 5), headers: { trace: ['x', 'y', Buffer.from('z')] } },
      { key: Buffer.from('tombstone'), value: null, timestamp: String(T0 + 3) },
      { key: 'a string key', value: 'a string value', timestamp: T0 + 1 },
      { key: Buffer.alloc(0), value: Buffer.alloc(0), timestamp: T0 + 2, headers: {} },
    ]),
  )
})

test('non-ASCII keys, values and header keys are written as UTF-8, as kafkajs writes them', async () => {
  await assertSameBytes(
    request([
      { key: 'ключ-🔑', value: 'значение — ✓', timestamp: T0, headers: { 'en-tête-é': 'ü', 键: Buffer.from('值') } },
      { key: Buffer.from('clé'), value: Buffer.from('日本語'), timestamp: T0 + 70_000, headers: { '🚀': ['a', 'ß'] } },
    ]),
  )
})

test("ordered headers (repeats across keys, null values) are encoded as kafkajs with recover's record encoder does", async () => {
  const headers: RecordHeader[] = [
    { key: 'a', value: Buffer.from('1') },
    { key: 'b', value: null },
    { key: 'a', value: Buffer.from('2') },
    { key: 'ü', value: Buffer.from('3') },
    { key: 'b', value: Buffer.alloc(0) },
  ]
  const messages = [
    { key: Buffer.from('k'), value: Buffer.from('v'), timestamp: T0, headers },
    { key: null, value: null, timestamp: T0 + 1, headers: [{ key: 'only-null', value: null }] },
  ]
  // kafkajs needs the header object (with the list attached); recover's encoder takes the list itself, too.
  await assertSameBytes(request(messages.map((m) => ({ ...m, headers: headersForMessage(m.headers) }))), orderedProduce)
  const viaObject = await ours(request(messages.map((m) => ({ ...m, headers: headersForMessage(m.headers) }))))
  assert.ok(viaObject.equals(await ours(request(messages))))
  const [record] = await decode(batchesOf(viaObject)[0]!.batch)
  assert.equal(record!.headers, headers)
})

test('records without a timestamp get the time of encoding, as with kafkajs', async () => {
  await assertSameBytes(
    request([
      { key: Buffer.from('a'), value: Buffer.from('1') },
      { key: Buffer.from('b'), value: Buffer.from('2'), timestamp: null },
    ]),
  )
  await assertSameBytes(
    request([
      { key: Buffer.from('a'), value: Buffer.from('1'), timestamp: String(T0 + 10) },
      { key: Buffer.from('b'), value: Buffer.from('2') },
      { key: Buffer.from('c'), value: Buffer.from('3'), timestamp: String(T0) },
    ]),
  )
})

test('timestamps out of order and far apart: first and max timestamp and varlong deltas as kafkajs writes them', async () => {
  await assertSameBytes(
    request([
      { value: Buffer.from('late'), timestamp: T0 + 10 * 365 * 86_400_000 },
      { value: Buffer.from('early'), timestamp: T0 },
      { value: Buffer.from('middle'), timestamp: T0 + 1 },
    ]),
  )
})

test('idempotent and transactional batches carry producer id, epoch, sequence and the transactional bit as kafkajs writes them', async () => {
  const messages = [
    { key: Buffer.from('k'), value: Buffer.from('v'), timestamp: T0 },
    { key: Buffer.from('k2'), value: Buffer.from('v2'), timestamp: T0 + 1 },
  ]
  const base = request(messages)
  const partitions = (firstSequence: number) => [{ topic: 'orders', partitions: [{ partition: 3, firstSequence, messages }] }]
  await assertSameBytes({ ...base, producerId: Long.fromValue('9007199254740993') as never, producerEpoch: 7, topicData: partitions(41) })
  await assertSameBytes({
    ...base,
    transactionalId: 'recover-replay-tx-ü',
    producerId: Long.fromValue(123456) as never,
    producerEpoch: 2,
    topicData: partitions(2_147_483_000),
  })
  await assertSameBytes({ ...base, acks: 1, timeout: 5_000, transactionalId: '' })
  const tx = batchesOf(await ours({ ...base, transactionalId: 't', producerId: 5n, producerEpoch: 1, topicData: partitions(9) }))[0]!.batch
  assert.is(tx.readInt16BE(21) & 0x10, 0x10)
  assert.is(tx.readBigInt64BE(43), 5n)
  assert.is(tx.readInt16BE(51), 1)
  assert.is(tx.readInt32BE(53), 9)
})

test('large records (over 1 MB) and many records over several topics and partitions are encoded as kafkajs does', async () => {
  const big = Buffer.alloc(1_500_000)
  for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff
  await assertSameBytes(request([{ key: Buffer.from('big'), value: big, timestamp: T0, headers: { h: big.subarray(0, 70_000) } }]))
  const many = (p: number) =>
    Array.from({ length: 5_000 }, (_, i) => ({
      key: Buffer.from(`key-${p}-${i}`),
      value: Buffer.from(JSON.stringify({ i, p, pad: 'x'.repeat(i % 300) })),
      timestamp: String(T0 + i * 17),
      headers: { 'app-version': '1.5.0', 'trace-id': (i * 7919).toString(16) },
    }))
  await assertSameBytes({
    acks: -1,
    timeout: 30_000,
    topicData: [
      {
        topic: 'a',
        partitions: [
          { partition: 0, firstSequence: 0, messages: many(0) },
          { partition: 5, firstSequence: 10, messages: many(5) },
        ],
      },
      { topic: 'b', partitions: [{ partition: 1, firstSequence: 0, messages: many(1) }] },
    ],
  })
})

test('gzip, snappy and lz4 batches are the bytes kafkajs sends with the same codec, and decode back', async () => {
  const messages = Array.from({ length: 300 }, (_, i) => ({
    key: i % 10 === 0 ? null : Buffer.from(`k${i}`),
    value: i % 13 === 0 ? null : Buffer.from(`value ${i} ${'ab'.repeat(i)}`),
    timestamp: T0 + i,
    headers: [
      { key: 'h', value: Buffer.from(String(i)) },
      { key: 'n', value: null },
    ],
  }))
  for (const [name, compression] of [
    ['gzip', 1],
    ['snappy', 2],
    ['lz4', 3],
  ] as const) {
    const args = request(messages, { compression })
    const withObjects = request(
      messages.map((m) => ({ ...m, headers: headersForMessage(m.headers) })),
      { compression },
    )
    const body = await ours(args)
    assert.ok(body.equals(await theirs(withObjects, orderedProduce)), `${name}: same bytes as kafkajs`)
    const { batch } = batchesOf(body)[0]!
    assert.is(batch.readInt16BE(21) & 0x07, compression, name)
    const decoded = await decode(batch)
    assert.is(decoded.length, messages.length, name)
    decoded.forEach((r, i) => {
      const m = messages[i]!
      assert.is(r.offset, BigInt(i))
      assert.is(r.timestampMs, m.timestamp)
      assert.equal(r.key, m.key, `${name} key ${i}`)
      assert.equal(r.value, m.value, `${name} value ${i}`)
      assert.equal(r.headers, m.headers, `${name} headers ${i}`)
    })
  }
})

test('zstd is refused as kafkajs refuses it here (nothing to compress with)', async () => {
  const args = request([{ value: Buffer.from('x'), timestamp: T0 }], { compression: 4 })
  const failure = await ours(args).then(
    () => undefined,
    (e: unknown) => e as Error,
  )
  assert.match(String(failure?.message), /ZSTD can be read but not written/)
})

test('random batches: the same bytes as kafkajs, and every field reads back', async () => {
  const bytes = fc.option(
    fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
    { nil: null },
  )
  const header = fc.record({ key: fc.string({ unit: 'grapheme', maxLength: 8 }), value: bytes })
  const message = fc.record({ key: bytes, value: bytes, delta: fc.integer({ min: -86_400_000, max: 86_400_000 }), headers: fc.array(header, { maxLength: 4 }) })
  await fc.assert(
    fc.asyncProperty(fc.array(message, { minLength: 1, maxLength: 40 }), async (list) => {
      const messages = list.map((m) => ({
        key: m.key,
        value: m.value,
        timestamp: T0 + m.delta,
        headers: m.headers.map((h) => ({ key: h.key, value: h.value })),
      }))
      const body = await ours(request(messages))
      assert.ok(body.equals(await theirs(request(messages.map((m) => ({ ...m, headers: headersForMessage(m.headers) }))), orderedProduce)))
      const decoded = await decode(batchesOf(body)[0]!.batch)
      assert.equal(
        decoded.map((r) => [r.timestampMs, r.key, r.value, r.headers]),
        messages.map((m) => [m.timestamp, m.key, m.value, m.headers]),
      )
    }),
    { numRuns: 150 },
  )
})

test('the framed request (size, header, body) is the frame kafkajs puts around the same body, for v3 to v7', async () => {
  const args = request([{ key: Buffer.from('k'), value: Buffer.from('v'), timestamp: T0, headers: { a: 'b' } }], { transactionalId: 'tx' })
  for (const apiVersion of [3, 4, 5, 6, 7]) {
    const kafkajsRequest = { ...kafkajsProduce(args), apiVersion }
    const expected = await withClock(async () => (await kafkajsFraming({ correlationId: 77, clientId: 'recover-ü', request: kafkajsRequest })).buffer)
    const framed = await withClock(() => encodeProduceRequest(args, { apiKey: 0, apiVersion, correlationId: 77, clientId: 'recover-ü' }))
    assert.ok(framed.equals(expected), `v${apiVersion}`)
  }
  const noClient = await withClock(() => encodeProduceRequest(args, { apiKey: 0, apiVersion: 3, correlationId: 1, clientId: null }))
  assert.is(noClient.readInt16BE(12), -1)
})

test.run()
