import fc from 'fast-check'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { Codec } from '../../src/codecs/codec.js'
import { frameConfluent } from '../../src/codecs/confluent-framing.js'
import { DecodeError, EncodeError, RECORD_DECODE_KINDS } from '../../src/codecs/decode-error.js'
import { createJsonSchemaCodec } from '../../src/codecs/json-schema-codec.js'
import type { JsonSchemaEntry, JsonSchemaLookup } from '../../src/codecs/json-schema-registry.js'

/**
 * Arbitrary bytes, arbitrary JSON and mutated records into the JSON Schema codec: a value or a
 * classified DecodeError, never another throw, never a hang (each decode is timed, as in
 * codecs-properties.test.ts: a catastrophic regex `pattern` or a deep nesting would blow it).
 */
const RUNS = 2_000
const MAX_DECODE_MS = 250

const ORDER = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  properties: {
    id: { type: 'string', pattern: '^o-[0-9]+$' },
    amount: { type: 'number', minimum: 0 },
    status: { enum: ['new', 'paid', 'shipped'] },
    items: {
      type: 'array',
      items: { type: 'object', properties: { sku: { type: 'string', minLength: 1 }, qty: { type: 'integer', minimum: 1 } }, required: ['sku', 'qty'] },
    },
    note: { anyOf: [{ type: 'null' }, { type: 'string', maxLength: 40 }] },
    placedAt: { type: 'string', format: 'date-time' },
  },
  required: ['id', 'amount', 'status'],
  additionalProperties: false,
}
const TREE = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  definitions: { node: { type: 'object', properties: { label: { type: 'string' }, children: { type: 'array', items: { $ref: '#/definitions/node' } } } } },
  $ref: '#/definitions/node',
}

const entries = new Map<number, JsonSchemaEntry>([
  [1, { ok: true, document: { schema: ORDER, label: 'registry id 1' } }],
  [2, { ok: true, document: { schema: TREE, label: 'registry id 2' } }],
])
const lookup: JsonSchemaLookup = {
  label: 'test',
  cached: (id) => entries.get(id) ?? { ok: false, kind: 'json-schema-unknown-schema-id', reason: `no schema ${id}` },
  load: (id) => Promise.resolve(entries.get(id) ?? { ok: false, kind: 'json-schema-unknown-schema-id', reason: `no schema ${id}` }),
}
const codec = createJsonSchemaCodec({ ids: lookup })
const writer = createJsonSchemaCodec({ ids: lookup, encodeWith: { schemaId: 1, entry: entries.get(1)! } })

const validOrder = fc.record({
  id: fc.nat().map((n) => `o-${n}`),
  amount: fc.double({ min: 0, max: 1e9, noNaN: true }),
  status: fc.constantFrom('new', 'paid', 'shipped'),
  items: fc.array(fc.record({ sku: fc.string({ minLength: 1, maxLength: 8 }), qty: fc.integer({ min: 1, max: 99 }) }), { maxLength: 4 }),
  note: fc.option(fc.string({ maxLength: 40 }), { nil: null }),
})

const anyBytes = fc.uint8Array({ maxLength: 64 })
const framedJson = fc
  .tuple(fc.constantFrom(1, 2, 3), fc.jsonValue({ maxDepth: 6 }))
  .map(([id, value]) => frameConfluent(id, Buffer.from(JSON.stringify(value))))
/** A valid order's bytes with a few bytes overwritten, cut or extended. */
const mutatedOrder = fc
  .tuple(validOrder, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.option(fc.nat()))
  .map(([order, edits, cut]) => {
    const bytes = Buffer.from(frameConfluent(1, Buffer.from(JSON.stringify(order))))
    for (const [at, byte] of edits) bytes[at % bytes.length] = byte
    return cut === null ? bytes : bytes.subarray(0, cut % (bytes.length + 1))
  })
const deepTree = fc
  .oneof(fc.nat({ max: 2_000 }), fc.integer({ min: 10_000, max: 30_000 }))
  .map((depth) => frameConfluent(2, Buffer.from(`${'{"children":['.repeat(depth)}{}${']}'.repeat(depth)}`)))

function check(subject: Codec, bytes: Uint8Array): void {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const started = performance.now()
  try {
    subject.decode(buffer)
  } catch (error) {
    if (!(error instanceof DecodeError))
      throw new Error(`an untyped ${(error as Error)?.name ?? typeof error} for ${buffer.toString('hex')}: ${(error as Error)?.message}`)
    if (!RECORD_DECODE_KINDS.includes(error.kind)) throw new Error(`unknown kind ${error.kind}`)
    if (error.position !== undefined && (error.position < 0 || error.position > buffer.length))
      throw new Error(`position ${error.position} outside ${buffer.length} bytes`)
    if (error.kind === 'json-schema-invalid' && (error.field === undefined || error.rule === undefined)) throw new Error(`no path or rule: ${error.message}`)
  }
  const ms = performance.now() - started
  if (ms > MAX_DECODE_MS) throw new Error(`decoding ${buffer.length} bytes took ${ms.toFixed(0)} ms: ${buffer.toString('hex').slice(0, 200)}`)
}

test('arbitrary bytes, arbitrary framed JSON and mutated records give a value or a classified DecodeError, quickly', () => {
  // Compile both schemas before timing decodes.
  for (const id of [1, 2])
    assert.throws(
      () => codec.decode(frameConfluent(id, Buffer.from('null'))),
      (error: unknown) => error instanceof DecodeError,
    )
  for (const [name, payloads] of [
    ['bytes', anyBytes],
    ['framed JSON', framedJson],
    ['mutated orders', mutatedOrder],
    ['deep trees', deepTree],
  ] as const) {
    try {
      fc.assert(
        fc.property(payloads, (bytes) => check(codec, bytes)),
        { numRuns: name === 'deep trees' ? 60 : RUNS, seed: 2121 },
      )
    } catch (error) {
      assert.unreachable(`${name}: ${(error as Error).message.slice(0, 600)}`)
    }
  }
})

test('every valid order survives encode then decode unchanged; invalid values never get written', () => {
  fc.assert(
    fc.property(validOrder, (order) => {
      assert.equal(codec.decode(writer.encode(order)), JSON.parse(JSON.stringify(order)))
    }),
    { numRuns: 500, seed: 2122 },
  )
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
      let bytes: Buffer | undefined
      try {
        bytes = writer.encode(value)
      } catch (error) {
        if (!(error instanceof EncodeError) || error.kind !== 'json-schema-invalid-value') throw error
        return
      }
      // What encode() lets through must decode cleanly.
      codec.decode(bytes)
    }),
    { numRuns: 1_000, seed: 2123 },
  )
})

test.run()
