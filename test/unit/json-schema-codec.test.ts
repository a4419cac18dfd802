import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { Codec } from '../../src/codecs/codec.js'
import { frameConfluent } from '../../src/codecs/confluent-framing.js'
import { createCodec, openSchemaSources } from '../../src/codecs/create-codecs.js'
import { DecodeError, EncodeError, RECORD_DECODE_KINDS } from '../../src/codecs/decode-error.js'
import { createJsonSchemaCodec } from '../../src/codecs/json-schema-codec.js'
import type { JsonSchemaEntry, JsonSchemaLookup } from '../../src/codecs/json-schema-registry.js'
import { compileJsonSchema } from '../../src/codecs/json-schema-validator.js'
import { createPreviewer } from '../../src/codecs/preview.js'
import { RecoveryError } from '../../src/errors.js'

/** Orders, as a JSON Schema (draft-07: Confluent's default) and its next version with a new optional field. */
const ORDER_V1 = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'Order',
  type: 'object',
  properties: {
    id: { type: 'string' },
    amount: { type: 'number', minimum: 0 },
    items: {
      type: 'array',
      items: { type: 'object', properties: { sku: { type: 'string' }, qty: { type: 'integer', minimum: 1 } }, required: ['sku', 'qty'] },
    },
    placedAt: { type: 'string', format: 'date-time' },
  },
  required: ['id', 'amount'],
}
const ORDER_V2 = { ...ORDER_V1, properties: { ...ORDER_V1.properties, currency: { type: 'string', default: 'EUR' } } }
const ORDER_2020 = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  $defs: { money: { type: 'number', minimum: 0 } },
  properties: { id: { type: 'string' }, amount: { $ref: '#/$defs/money' }, tags: { type: 'array', prefixItems: [{ const: 'first' }] } },
  required: ['id'],
}

/** An in-memory id -> schema lookup (what the registry answers, without HTTP: the registry itself is tested in test/integration). */
function lookupOf(schemas: Record<number, unknown>): JsonSchemaLookup {
  const entries = new Map<number, JsonSchemaEntry>()
  for (const [id, schema] of Object.entries(schemas)) entries.set(Number(id), { ok: true, document: { schema, label: `registry id ${id}` } })
  const answer = (id: number): JsonSchemaEntry =>
    entries.get(id) ?? { ok: false, kind: 'json-schema-unknown-schema-id', reason: `the test registry has no schema with id ${id}` }
  return { label: 'test registry', cached: answer, load: (id) => Promise.resolve(answer(id)) }
}

const framed = (id: number, value: unknown) => frameConfluent(id, Buffer.from(JSON.stringify(value)))
const order = { id: 'o-1', amount: 12.5, items: [{ sku: 'A', qty: 2 }], placedAt: '2026-12-07T09:00:00Z' }

function failure(codec: Codec, bytes: Buffer): DecodeError {
  try {
    codec.decode(bytes)
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error
    assert.ok(RECORD_DECODE_KINDS.includes(error.kind))
    return error
  }
  return assert.unreachable('expected a DecodeError') as never
}

function schemaFile(schema: unknown, name = 'order.schema.json'): string {
  const dir = mkdtempSync(join(tmpdir(), 'recover-jsonschema-'))
  const path = join(dir, name)
  writeFileSync(path, JSON.stringify(schema))
  return path
}

test('a Confluent-framed record that matches its writer schema decodes to its JSON value', async () => {
  const codec = createJsonSchemaCodec({ ids: lookupOf({ 7: ORDER_V1 }) })
  const bytes = framed(7, order)
  await codec.prepare([bytes])
  assert.equal(codec.decode(bytes), order)
})

test('a record that breaks its schema fails as json-schema-invalid with the failing path and rule', async () => {
  const codec = createJsonSchemaCodec({ ids: lookupOf({ 7: ORDER_V1 }) })
  const negative = failure(codec, framed(7, { ...order, amount: -1 }))
  assert.is(negative.kind, 'json-schema-invalid')
  assert.is(negative.field, '/amount')
  assert.is(negative.rule, 'minimum')
  assert.is(negative.schemaId, 7)
  assert.match(negative.message, /\/amount must be >= 0 \(rule minimum/)
  assert.match(negative.message, /registry id 7/)

  const missing = failure(codec, framed(7, { amount: 3 }))
  assert.is(missing.field, '/id')
  assert.is(missing.rule, 'required')
  assert.match(missing.message, /\/id is required and missing/)

  const deep = failure(
    codec,
    framed(7, {
      ...order,
      items: [
        { sku: 'A', qty: 1 },
        { sku: 'B', qty: 0 },
      ],
    }),
  )
  assert.is(deep.field, '/items/1/qty')
  assert.is(deep.rule, 'minimum')

  const format = failure(codec, framed(7, { ...order, placedAt: 'yesterday' }))
  assert.is(format.field, '/placedAt')
  assert.is(format.rule, 'format')
  assert.equal(format.toJSON().rule, 'format')
})

test('framing failures are classified like Avro: bad magic, truncated header, unknown schema id, not JSON', async () => {
  const codec = createJsonSchemaCodec({ ids: lookupOf({ 7: ORDER_V1 }) })
  const unknown = frameConfluent(99, Buffer.from('{}'))
  await codec.prepare([unknown])
  const plain = failure(codec, Buffer.from(JSON.stringify(order)))
  assert.is(plain.kind, 'json-schema-bad-magic')
  assert.match(plain.message, /0x7b.*plain JSON.*--schema/)
  assert.is(failure(codec, Buffer.from([0, 0, 0])).kind, 'json-schema-truncated')
  assert.is(failure(codec, Buffer.alloc(0)).kind, 'json-schema-truncated')
  const missing = failure(codec, unknown)
  assert.is(missing.kind, 'json-schema-unknown-schema-id')
  assert.is(missing.schemaId, 99)
  const notJson = failure(codec, frameConfluent(7, Buffer.from('{"id": "o-1", ')))
  assert.is(notJson.kind, 'json-schema-not-json')
  assert.is(notJson.schemaId, 7)
  assert.ok(notJson.position !== undefined && notJson.position >= 5, notJson.message)
  assert.is(failure(codec, frameConfluent(7, Buffer.from([0x7b, 0xff, 0x7d]))).kind, 'json-schema-not-json')
})

test('a registry schema that is not JSON Schema, or cannot be compiled, fails its records as schema-resolution', async () => {
  const entries: Record<number, JsonSchemaEntry> = {
    1: { ok: false, kind: 'schema-resolution', reason: 'schema id 1 is AVRO, not JSON Schema' },
    2: { ok: true, document: { schema: { type: 'object', properties: { a: { $ref: '#/definitions/missing' } } }, label: 'registry id 2' } },
    3: { ok: true, document: { schema: { $schema: 'http://json-schema.org/draft-04/schema#', type: 'object' }, label: 'registry id 3' } },
  }
  const codec = createJsonSchemaCodec({ ids: { label: 'test', cached: (id) => entries[id], load: (id) => Promise.resolve(entries[id]!) } })
  for (const id of [1, 2, 3]) {
    const error = failure(codec, framed(id, {}))
    assert.is(error.kind, 'schema-resolution', error.message)
    assert.is(error.schemaId, id)
  }
  assert.match(failure(codec, framed(3, {})).message, /draft-04.*draft-07/)
})

test('2020-12 and draft-07 schemas both validate ($defs, prefixItems; definitions)', async () => {
  const codec = createJsonSchemaCodec({ ids: lookupOf({ 1: ORDER_2020 }) })
  assert.equal(codec.decode(framed(1, { id: 'a', amount: 1, tags: ['first', 'x'] })), { id: 'a', amount: 1, tags: ['first', 'x'] })
  const bad = failure(codec, framed(1, { id: 'a', tags: ['second'] }))
  assert.is(bad.field, '/tags/0')
  assert.is(bad.rule, 'const')
  assert.is(failure(codec, framed(1, { id: 'a', amount: -2 })).rule, 'minimum')
})

test('schema references: a $ref names a referenced schema by its reference name', () => {
  const address = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }
  const customer = { $id: 'https://example.com/customer.json', type: 'object', properties: { address: { $ref: 'address.json' } } }
  const compiled = compileJsonSchema({ schema: customer, label: 'registry id 4', references: new Map([['address.json', address]]) })
  assert.is(compiled.check({ address: { city: 'Lyon' } }), undefined)
  assert.equal(compiled.check({ address: {} })?.path, '/address/city')
  const noBase = compileJsonSchema({
    schema: { type: 'object', properties: { address: { $ref: 'address.json' } } },
    label: 'x',
    references: new Map([['address.json', address]]),
  })
  assert.is(noBase.check({ address: { city: 1 } })?.rule, 'type')
})

test('evolution: --schema (the reader) validates records of every writer id and fills its defaults', async () => {
  const sources = openSchemaSources({ schema: schemaFile(ORDER_V2) })
  assert.ok(sources.jsonSchema, '--schema FILE.json is read as a JSON Schema')
  const codec = await createCodec({ format: 'json-schema' }, sources)
  const written = { id: 'o-2', amount: 3 }
  // A v1 record (schema id 1, no currency) reads as v2: currency takes v2's default.
  assert.equal(codec.decode(framed(1, written)), { ...written, currency: 'EUR' })
  // Plain JSON (no Confluent header) is validated against --schema too.
  assert.equal(codec.decode(Buffer.from(JSON.stringify({ ...written, currency: 'USD' }))), { ...written, currency: 'USD' })
  const incompatible = failure(codec, framed(1, { id: 'o-3' }))
  assert.is(incompatible.kind, 'json-schema-invalid')
  assert.is(incompatible.field, '/amount')
  assert.match(incompatible.message, /order\.schema\.json/)
})

test('without --schema each record is validated against its own writer id: v1 and v2 records side by side', async () => {
  const codec = createJsonSchemaCodec({ ids: lookupOf({ 1: ORDER_V1, 2: { ...ORDER_V2, required: ['id', 'amount', 'currency'] } }) })
  const v1 = framed(1, { id: 'a', amount: 1 })
  const v2 = framed(2, { id: 'b', amount: 2, currency: 'USD' })
  await codec.prepare([v1, v2])
  assert.equal(codec.decode(v1), { id: 'a', amount: 1 })
  assert.equal(codec.decode(v2), { id: 'b', amount: 2, currency: 'USD' })
  assert.is(failure(codec, framed(2, { id: 'c', amount: 2 })).rule, 'required')
})

test('encode validates before framing: a valid value gets the schema id, an invalid one an EncodeError with its path', async () => {
  const lookup = lookupOf({ 7: ORDER_V1 })
  const codec = createJsonSchemaCodec({ ids: lookup, encodeWith: { schemaId: 7, entry: (await lookup.load(7))! } })
  const bytes = codec.encode(order)
  assert.equal([...bytes.subarray(0, 5)], [0, 0, 0, 0, 7])
  assert.equal(JSON.parse(bytes.subarray(5).toString()), order)
  try {
    codec.encode({ ...order, amount: 'a lot' })
    assert.unreachable('expected an EncodeError')
  } catch (error) {
    assert.instance(error, EncodeError)
    assert.is((error as EncodeError).kind, 'json-schema-invalid-value')
    assert.is((error as EncodeError).field, '/amount')
  }
})

test('usage errors: no schema at all, a --schema file that is not a schema or does not exist', async () => {
  try {
    await createCodec({ format: 'json-schema' }, {})
    assert.unreachable()
  } catch (error) {
    assert.instance(error, RecoveryError)
    assert.match((error as Error).message, /--schema FILE\.json .*--registry URL/)
  }
  try {
    await createCodec({ format: 'json-schema' }, openSchemaSources({ schema: schemaFile([1, 2]) }))
    assert.unreachable()
  } catch (error) {
    assert.instance(error, RecoveryError)
    assert.is((error as RecoveryError).code, 'BAD_SCHEMA')
  }
  try {
    openSchemaSources({ schema: '/nonexistent/order.schema.json' })
    assert.unreachable()
  } catch (error) {
    assert.is((error as RecoveryError).code, 'BAD_SCHEMA')
  }
})

test('--reader-schema FILE.json is the reader schema too; an Avro codec refuses a .json schema with a hint', async () => {
  const codec = await createCodec({ format: 'json-schema' }, openSchemaSources({ readerSchema: schemaFile(ORDER_V2) }))
  assert.equal(codec.decode(framed(3, { id: 'x', amount: 1 })), { id: 'x', amount: 1, currency: 'EUR' })
  try {
    await createCodec({ format: 'avro' }, openSchemaSources({ schema: schemaFile(ORDER_V1) }))
    assert.unreachable()
  } catch (error) {
    assert.instance(error, RecoveryError)
    assert.match((error as Error).message, /read as a JSON Schema.*--value-format json-schema/)
  }
})

test('a registry out of reach stops the run (REGISTRY_UNREACHABLE from prepare), it does not blame the record', async () => {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  const sources = openSchemaSources({ registry: `http://127.0.0.1:${port}`, registryOptions: { retries: 0, timeoutMs: 2_000 } })
  const codec = await createCodec({ format: 'json-schema' }, sources)
  try {
    await codec.prepare([framed(5, order)])
    assert.unreachable()
  } catch (error) {
    assert.instance(error, RecoveryError)
    assert.is((error as RecoveryError).code, 'REGISTRY_UNREACHABLE')
  }
})

test('the previewer shows json-schema records with their schema id, and failures with their kind', async () => {
  const codec = createJsonSchemaCodec({ ids: lookupOf({ 7: ORDER_V1 }) })
  const previewer = createPreviewer('json-schema', codec)
  const good = framed(7, order)
  const bad = framed(7, { id: 1, amount: 1 })
  await previewer.prepare([good, bad])
  assert.equal(previewer.preview(good), { format: 'json-schema', value: order, schemaId: 7 })
  const shown = previewer.preview(bad)
  assert.is(shown.format, 'bytes')
  assert.is(shown.kind, 'json-schema-invalid')
  assert.is(shown.schemaId, 7)
  assert.match(shown.error!, /\/id must be string/)
})

test.run()
