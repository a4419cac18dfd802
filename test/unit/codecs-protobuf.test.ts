import fc from 'fast-check'
import protobuf from 'protobufjs'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createCodec, openSchemaSources } from '../../src/codecs/create-codecs.js'
import { DecodeError, EncodeError, RECORD_DECODE_KINDS } from '../../src/codecs/decode-error.js'
import { createProtobufCodec, type ProtobufCodec } from '../../src/codecs/protobuf-codec.js'
import { readMessageIndexes, writeMessageIndexes } from '../../src/codecs/protobuf-message-indexes.js'
import type { ProtoSchemaEntry, ProtoSchemaLookup } from '../../src/codecs/protobuf-registry.js'
import { buildProtoSchema } from '../../src/codecs/protobuf-schema.js'
import { RecoveryError } from '../../src/errors.js'
import { protobufOrder, protobufOrderDir, protobufOrderSources } from '../../src/fixtures/protobuf-orders.js'

const v1 = buildProtoSchema('orders v1', 'orders.proto', protobufOrderSources('v1'))
const v2 = buildProtoSchema('orders v2', 'orders.proto', protobufOrderSources('v2'))
const Order = v1.find('shop.Order')!

/** Schema ids as a registry would hand them out (the lookup interface, in memory). */
function lookupOf(entries: Record<number, ProtoSchemaEntry>): ProtoSchemaLookup {
  return {
    label: 'test ids',
    cached: (id) => entries[id] ?? { ok: false, kind: 'protobuf-unknown-schema-id', reason: `no schema id ${id}` },
    load: async (id) => entries[id]!,
  }
}
const ids = lookupOf({ 1: { ok: true, schema: v1 }, 2: { ok: true, schema: v2 } })
const framedCodec = createProtobufCodec({ framing: 'confluent', registry: ids })
const rawCodec = createProtobufCodec({ framing: 'raw', files: v1, message: 'Order', encodeWith: { type: Order } })

function frame(id: number, indexes: Buffer, body: Uint8Array): Buffer {
  const header = Buffer.alloc(5)
  header.writeUInt32BE(id, 1)
  return Buffer.concat([header, indexes, body])
}

function failure(codec: ProtobufCodec, bytes: Buffer): DecodeError {
  try {
    codec.decode(bytes)
  } catch (error) {
    if (error instanceof DecodeError) return error
    throw error
  }
  throw new Error(`decoded ${bytes.toString('hex')}`)
}

test('message indexes: [0] is the single byte 0; other paths are a zigzag count then zigzag indexes', () => {
  assert.equal([...writeMessageIndexes([0])], [0x00])
  assert.equal([...writeMessageIndexes([1])], [0x02, 0x02])
  assert.equal([...writeMessageIndexes([0, 1])], [0x04, 0x00, 0x02])
  assert.equal([...writeMessageIndexes([2, 0, 3])], [0x06, 0x04, 0x00, 0x06])
  assert.equal([...writeMessageIndexes([64])], [0x02, 0x80, 0x01])
  assert.equal(readMessageIndexes(Buffer.from([0x00, 0xff]), 0), { ok: true, indexes: [0], end: 1 })
  // Some writers spell [0] out in full: count 1, index 0.
  assert.equal(readMessageIndexes(Buffer.from([0x02, 0x00]), 0), { ok: true, indexes: [0], end: 2 })
  assert.equal(readMessageIndexes(Buffer.from([9, 9, 0x04, 0x02, 0x04]), 2), { ok: true, indexes: [1, 2], end: 5 })
  const negative = readMessageIndexes(Buffer.from([0x01]), 0)
  assert.equal(negative.ok, false)
  const cut = readMessageIndexes(Buffer.from([0x04, 0x02]), 0)
  assert.ok(!cut.ok && cut.truncated)
  const huge = readMessageIndexes(Buffer.from([0xfe, 0xff, 0xff, 0xff, 0x0f]), 0)
  assert.ok(!huge.ok && !huge.truncated)
})

test('message indexes round-trip for any path (fast-check)', () => {
  fc.assert(
    fc.property(fc.array(fc.nat({ max: 2 ** 31 - 1 }), { minLength: 1, maxLength: 8 }), (path) => {
      const bytes = writeMessageIndexes(path)
      const read = readMessageIndexes(Buffer.concat([bytes, Buffer.from([0x0a])]), 0)
      assert.ok(read.ok)
      assert.equal(read.indexes, path)
      assert.is(read.end, bytes.length)
    }),
    { numRuns: 500, seed: 21 },
  )
})

test('a message decodes to the canonical JSON mapping: int64 exact as strings, enums by name, well-known types', () => {
  const bytes = rawCodec.encode(protobufOrder(7))
  const value = rawCodec.decode(bytes) as Record<string, unknown>
  assert.is(value.orderId, 'ord-000007')
  assert.is(value.amountCents, '9007199254741000')
  assert.is(value.status, 'PAID')
  assert.is(value.placedAt, '2018-03-21T00:00:07Z')
  assert.equal(value.total, { currencyCode: 'EUR', units: '17', nanos: 500_000_000 })
  assert.equal(value.items, [{ sku: 'SKU-7', quantity: 2 }])
  assert.is(value.coupon, null)
  assert.is(value.shipWithin, '86400s')
  assert.equal(value.attributes, { channel: 'web', tags: ['a', 'b'], rush: false })
  assert.equal(value.extra, { '@type': 'type.googleapis.com/shop.Refund', orderId: 'ord-7', amountCents: '1' })
  assert.is(value.signature, Buffer.from([7, 1, 2]).toString('base64'))
  assert.equal(value.counters, { views: '7' })
  assert.is(value.gift, false)
  assert.is(value.weightKg, 8.25)
  assert.not.ok('$unknownFields' in value)
  // And back: the same bytes.
  assert.equal(rawCodec.encode(value), bytes)
})

test('fields without presence are shown with their defaults, absent messages as null (stable columns)', () => {
  assert.equal(rawCodec.decode(Buffer.alloc(0)), {
    orderId: '',
    customerId: '',
    amountCents: '0',
    quantity: 0,
    weightKg: 0,
    gift: false,
    status: 'STATUS_UNSPECIFIED',
    placedAt: null,
    total: null,
    items: [],
    note: '',
    coupon: null,
    shipWithin: null,
    attributes: null,
    extra: null,
    signature: '',
    counters: {},
  })
})

test('unknown fields are kept, shown, and written back byte for byte', () => {
  const known = rawCodec.encode({ orderId: 'o-1' })
  // field 40 varint 150, field 41 bytes "hi", field 42 fixed32 7, field 43 fixed64 2^63, field 44 a group
  const unknown = Buffer.from('c002960' + '1ca02026869' + 'd50207000000' + 'd9020000000000000080' + 'e3020801e402', 'hex')
  const value = rawCodec.decode(Buffer.concat([known, unknown])) as Record<string, unknown>
  assert.equal(value.$unknownFields, [
    { number: 40, wireType: 'varint', value: '150' },
    { number: 41, wireType: 'length-delimited', value: Buffer.from('hi').toString('base64') },
    { number: 42, wireType: 'fixed32', value: '7' },
    { number: 43, wireType: 'fixed64', value: '9223372036854775808' },
    { number: 44, wireType: 'group', value: Buffer.from([0x08, 0x01]).toString('base64') },
  ])
  assert.equal(rawCodec.encode(value).toString('hex'), Buffer.concat([known, unknown]).toString('hex'))
})

test('failures are classified: truncated, wrong wire type (with the field), invalid', () => {
  const good = rawCodec.encode(protobufOrder(1))
  const cut = failure(rawCodec, good.subarray(0, good.length - 3))
  assert.is(cut.kind, 'protobuf-truncated')
  const wrong = failure(rawCodec, Buffer.from([0x08, 0x01])) // order_id (a string) as a varint
  assert.is(wrong.kind, 'protobuf-wrong-wire-type')
  assert.is(wrong.field, 'order_id')
  const nested = failure(rawCodec, Buffer.from([0x52, 0x02, 0x08, 0x01])) // items[0].sku as a varint
  assert.is(nested.kind, 'protobuf-wrong-wire-type')
  assert.is(nested.field, 'items[0].sku')
  assert.is(failure(rawCodec, Buffer.from([0x0f])).kind, 'protobuf-invalid') // wire type 7 does not exist
  const tooDeep = failure(createProtobufCodec({ framing: 'raw', files: v1, message: 'google.protobuf.Struct' }), nestedStruct(150))
  assert.is(tooDeep.kind, 'protobuf-invalid')
  assert.match(tooDeep.message, /max depth/)
})

/** A Struct nested `depth` deep ({"a": {"a": …}}), past protobufjs's recursion limit of 100. */
function nestedStruct(depth: number): Buffer {
  let struct: Uint8Array = new Uint8Array(0)
  for (let i = 0; i < depth; i++) {
    const value = protobuf.Writer.create().uint32(0x2a).bytes(struct).finish() // Value.struct_value
    const entry = protobuf.Writer.create().uint32(0x0a).string('a').uint32(0x12).bytes(value).finish()
    struct = protobuf.Writer.create().uint32(0x0a).bytes(entry).finish() // Struct.fields
  }
  return Buffer.from(struct)
}

test('Confluent framing: schema id, message indexes ([0], [1], nested [0, 0]) pick the message', () => {
  const order = Order.encode(Order.fromObject({ order_id: 'o-9' })).finish()
  const asOrder = framedCodec.decode(frame(1, Buffer.from([0]), order)) as Record<string, unknown>
  assert.is(asOrder.orderId, 'o-9')
  const Refund = v1.find('Refund')!
  const refund = Refund.encode(Refund.fromObject({ order_id: 'o-9', amount_cents: '12' })).finish()
  assert.equal(framedCodec.decode(frame(1, writeMessageIndexes([1]), refund)), { orderId: 'o-9', amountCents: '12' })
  const Item = v1.find('shop.Order.Item')!
  assert.equal(v1.indexesOf(Item), [0, 0])
  const item = Item.encode(Item.fromObject({ sku: 'S', quantity: 3 })).finish()
  assert.equal(framedCodec.decode(frame(1, writeMessageIndexes([0, 0]), item)), { sku: 'S', quantity: 3 })
})

test('Confluent framing failures: bad magic, short header, unknown schema id, unknown or malformed message index', () => {
  assert.is(failure(framedCodec, Buffer.from('{"a":1}')).kind, 'protobuf-bad-magic')
  assert.is(failure(framedCodec, Buffer.from([0, 0, 0])).kind, 'protobuf-truncated')
  const unknownId = failure(framedCodec, frame(99, Buffer.from([0]), Buffer.alloc(0)))
  assert.is(unknownId.kind, 'protobuf-unknown-schema-id')
  assert.is(unknownId.schemaId, 99)
  const noSuchMessage = failure(framedCodec, frame(1, writeMessageIndexes([5]), Buffer.alloc(0)))
  assert.is(noSuchMessage.kind, 'protobuf-unknown-message-index')
  assert.match(noSuchMessage.message, /Order, Refund/)
  assert.is(failure(framedCodec, frame(1, Buffer.from([0x03]), Buffer.alloc(0))).kind, 'protobuf-unknown-message-index')
  assert.is(failure(framedCodec, frame(1, Buffer.from([0x04, 0x00]), Buffer.alloc(0))).kind, 'protobuf-truncated')
})

test('evolution: a v1 record reads with the v2 .proto by field number (removed field kept as unknown, new field default)', async () => {
  const sources = openSchemaSources({ schema: `${protobufOrderDir('v2')}/orders.proto` })
  const reader = createProtobufCodec({ framing: 'confluent', registry: ids, files: sources.proto })
  const written = rawCodec.encode({ ...protobufOrder(2), status: 'SHIPPED' })
  const v1Value = rawCodec.decode(written) as Record<string, unknown>
  const v2Value = reader.decode(frame(1, Buffer.from([0]), written)) as Record<string, unknown>
  assert.is(v2Value.loyaltyTier, '')
  assert.not.ok('note' in v2Value)
  assert.equal(v2Value.$unknownFields, [{ number: 11, wireType: 'length-delimited', value: Buffer.from('leave at the door').toString('base64') }])
  assert.is(v2Value.status, 'SHIPPED')
  assert.is(v2Value.amountCents, v1Value.amountCents)
  // A v2 value written with v2 and read with v1: the new enum value is shown as its number.
  const V2Order = v2.find('Order')!
  const newer = V2Order.encode(V2Order.fromObject({ order_id: 'o', status: 4, loyalty_tier: 'gold' })).finish()
  const old = rawCodec.decode(Buffer.from(newer)) as Record<string, unknown>
  assert.is(old.status, 4)
  assert.equal(old.$unknownFields, [{ number: 12, wireType: 'length-delimited', value: Buffer.from('gold').toString('base64') }])
  // A reader schema without the writer's message: schema-resolution.
  const wrongReader = createProtobufCodec({ framing: 'confluent', registry: ids, files: sources.proto, message: 'NoSuch' })
  assert.is(failure(wrongReader, frame(1, Buffer.from([0]), written)).kind, 'schema-resolution')
})

test('schemas from files: --schema DIR or FILE with --message; imports resolved within the directory', async () => {
  const dir = await createCodec({ format: 'protobuf' }, openSchemaSources({ schema: `${protobufOrderDir('v1')}`, message: 'shop.Order' }))
  assert.equal((dir.decode(rawCodec.encode({ orderId: 'x' })) as { orderId: string }).orderId, 'x')
  try {
    await createCodec({ format: 'protobuf' }, openSchemaSources({ schema: `${protobufOrderDir('v1')}/orders.proto` }))
    assert.unreachable('two top-level messages and no --message')
  } catch (error) {
    assert.instance(error, RecoveryError)
    assert.match((error as RecoveryError).message, /--message/)
  }
  try {
    await createCodec({ format: 'protobuf' }, openSchemaSources({ schema: `${protobufOrderDir('v1')}/orders.proto`, message: 'Nope' }))
    assert.unreachable('no such message')
  } catch (error) {
    assert.match((error as RecoveryError).message, /shop\.Order/)
  }
  try {
    await createCodec({ format: 'protobuf' }, openSchemaSources({}))
    assert.unreachable('no schemas')
  } catch (error) {
    assert.is((error as RecoveryError).code, 'USAGE')
  }
})

test('encoding a value the message cannot hold is an EncodeError', () => {
  for (const bad of [{ orderId: 5 }, { nosuch: 1 }, { amountCents: 'lots' }, { status: 'LOST' }, 'text']) {
    try {
      rawCodec.encode(bad)
      assert.unreachable(`encoded ${JSON.stringify(bad)}`)
    } catch (error) {
      assert.instance(error, EncodeError)
      assert.is((error as EncodeError).kind, 'protobuf-invalid-value')
    }
  }
})

const MAX_DECODE_MS = 250
function check(codec: ProtobufCodec, bytes: Uint8Array): void {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const started = performance.now()
  try {
    codec.decode(buffer)
  } catch (error) {
    if (!(error instanceof DecodeError)) throw new Error(`an untyped ${(error as Error)?.name} for ${buffer.toString('hex')}: ${(error as Error)?.message}`)
    if (!RECORD_DECODE_KINDS.includes(error.kind)) throw new Error(`unknown kind ${error.kind}`)
    if (error.position !== undefined && (error.position < 0 || error.position > buffer.length))
      throw new Error(`position ${error.position} outside ${buffer.length} bytes`)
  }
  const ms = performance.now() - started
  if (ms > MAX_DECODE_MS) throw new Error(`decoding ${buffer.length} bytes took ${ms.toFixed(0)} ms: ${buffer.toString('hex')}`)
}

test('arbitrary and mutated bytes give a value or a classified DecodeError, never an untyped throw or a hang (fast-check)', () => {
  const orders = Array.from({ length: 20 }, (_, n) => rawCodec.encode(protobufOrder(n)))
  const mutated = fc
    .tuple(fc.constantFrom(...orders), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.option(fc.nat()))
    .map(([order, flips, cut]) => {
      const copy = Uint8Array.from(order)
      for (const [at, value] of flips) copy[at % copy.length] = value
      return cut === null ? copy : copy.subarray(0, cut % copy.length)
    })
  const framed = fc
    .tuple(fc.constantFrom(1, 2, 3), fc.uint8Array({ maxLength: 6 }), fc.oneof(mutated, fc.uint8Array({ maxLength: 200 })))
    .map(([id, indexes, body]) => frame(id, Buffer.from(indexes), body))
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), mutated), (bytes) => check(rawCodec, bytes)),
    { numRuns: 3_000, seed: 4242 },
  )
  fc.assert(
    fc.property(framed, (bytes) => check(framedCodec, bytes)),
    { numRuns: 3_000, seed: 4243 },
  )
})

test('writing a record back like its source keeps the kind its plan failed with: an unknown message index, a reader without the message', () => {
  const body = Order.encode(Order.fromObject({ order_id: 'ord-1' })).finish()
  const thrown = (codec: ProtobufCodec, source: Buffer): EncodeError => {
    try {
      codec.encodeLike({ orderId: 'ord-1' }, source)
    } catch (error) {
      if (error instanceof EncodeError) return error
      throw error
    }
    throw new Error('encoded')
  }
  const unknownIndex = thrown(framedCodec, frame(1, writeMessageIndexes([7]), body))
  assert.is(unknownIndex.kind, 'protobuf-unknown-message-index')
  assert.match(unknownIndex.message, 'name no message')
  // A reader schema with no shop.Order: the plan is schema-resolution, when reading and when writing back.
  const other = buildProtoSchema(
    'other.proto',
    'other.proto',
    new Map([['other.proto', 'syntax = "proto3";\npackage other;\nmessage Thing { string id = 1; }\n']]),
  )
  const reader = createProtobufCodec({ framing: 'confluent', registry: ids, files: other })
  const source = frame(1, writeMessageIndexes([0]), body)
  assert.is(failure(reader, source).kind, 'schema-resolution')
  assert.is(thrown(reader, source).kind, 'schema-resolution')
})

test.run()
