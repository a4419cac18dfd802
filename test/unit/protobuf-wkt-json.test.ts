import fc from 'fast-check'
import type protobuf from 'protobufjs'
import protojson from 'protobufjs/ext/protojson.js'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { buildProtoSchema } from '../../src/codecs/protobuf-schema.js'
import { wellKnownPrinter } from '../../src/codecs/protobuf-wkt-json.js'
import { protobufOrderSources } from '../../src/fixtures/protobuf-orders.js'

// recover prints the commonest well-known types itself (speed); protobufjs's ProtoJSON is the
// oracle: for any decoded value both print the same JSON, or both refuse it.
const root = buildProtoSchema('orders v1', 'orders.proto', protobufOrderSources('v1'))
const typeOf = (name: string): protobuf.Type => root.root.lookupType(`google.protobuf.${name}`)

function bothPrint(name: string, plain: Record<string, unknown>): void {
  const type = typeOf(name)
  const decoded = type.decode(type.encode(type.fromObject(plain)).finish())
  const print = wellKnownPrinter(type.fullName)!
  let theirs: unknown
  let ours: unknown
  try {
    theirs = { json: protojson.toJson(type, decoded) }
  } catch (error) {
    theirs = { refused: (error as Error).message }
  }
  try {
    ours = { json: print(decoded) }
  } catch (error) {
    ours = { refused: (error as Error).message }
  }
  assert.equal(ours, theirs, `${name} ${JSON.stringify(plain)}`)
}

const seconds = fc.oneof(
  fc.integer({ min: -62_135_596_800, max: 253_402_300_799 }),
  fc.constantFrom(0, -1, 1, 86_399, 86_400, -86_401, 253_402_300_800, -62_135_596_801),
)
const nanos = fc.oneof(fc.integer({ min: 0, max: 999_999_999 }), fc.constantFrom(0, 1, 1_000, 1_000_000, 500_000_000, 999_999_999, -1, 1_000_000_000))

test('Timestamp prints as ProtoJSON does, range and nanos refusals included', () => {
  fc.assert(
    fc.property(seconds, nanos, (s, n) => bothPrint('Timestamp', { seconds: s, nanos: n })),
    { numRuns: 2_000 },
  )
})

test('Duration prints as ProtoJSON does: sign, fractions, out of range, mixed signs refused', () => {
  const durationSeconds = fc.oneof(fc.integer({ min: -315_576_000_001, max: 315_576_000_001 }), fc.constantFrom(0, -1, 1))
  const durationNanos = fc.oneof(fc.integer({ min: -999_999_999, max: 999_999_999 }), fc.constantFrom(0, -500_000_000, 1_000))
  fc.assert(
    fc.property(durationSeconds, durationNanos, (s, n) => bothPrint('Duration', { seconds: s, nanos: n })),
    { numRuns: 2_000 },
  )
})

test('wrappers print as ProtoJSON does: int64 exact, bytes base64, floats non-finite as strings, defaults', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (v) => bothPrint('Int64Value', { value: v.toString() })),
    { numRuns: 500 },
  )
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (v) => bothPrint('UInt64Value', { value: v.toString() })),
    { numRuns: 500 },
  )
  fc.assert(
    fc.property(fc.double(), (v) => bothPrint('DoubleValue', { value: v })),
    { numRuns: 500 },
  )
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), (v) => bothPrint('BytesValue', { value: v })),
    { numRuns: 300 },
  )
  fc.assert(
    fc.property(fc.string(), (v) => bothPrint('StringValue', { value: v })),
    { numRuns: 300 },
  )
  for (const name of ['Int32Value', 'UInt32Value', 'BoolValue', 'FloatValue', 'StringValue', 'BytesValue', 'Int64Value']) bothPrint(name, {})
  bothPrint('Int32Value', { value: -5 })
  bothPrint('BoolValue', { value: true })
  bothPrint('FloatValue', { value: Number.NaN })
})

test('Struct, Value and ListValue print as ProtoJSON does, a field named __proto__ included', () => {
  const value: fc.Arbitrary<Record<string, unknown>> = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.constant({ nullValue: 0 }),
      fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => ({ numberValue: n })),
      fc.string().map((s) => ({ stringValue: s })),
      fc.boolean().map((b) => ({ boolValue: b })),
      tie('struct').map((s) => ({ structValue: s })),
      fc.array(tie('value'), { maxLength: 3 }).map((values) => ({ listValue: { values } })),
    ),
    struct: fc.dictionary(fc.oneof(fc.string({ maxLength: 6 }), fc.constant('__proto__')), tie('value'), { maxKeys: 4 }).map((fields) => ({ fields })),
  })).struct as fc.Arbitrary<Record<string, unknown>>
  fc.assert(
    fc.property(value, (struct) => bothPrint('Struct', struct)),
    { numRuns: 500 },
  )
  bothPrint('Value', {})
  bothPrint('ListValue', { values: [{ numberValue: 1 }, {}, { stringValue: 'x' }] })
})

test('FieldMask and Empty stay with the library', () => {
  assert.is(wellKnownPrinter('.google.protobuf.FieldMask'), undefined)
  assert.is(wellKnownPrinter('.google.protobuf.Empty'), undefined)
  assert.is(wellKnownPrinter('.shop.Order'), undefined)
})

test.run()
