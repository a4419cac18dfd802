import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { RecoveryError } from '../../src/errors.js'
import { createCodec, createRecordCodecs, openSchemaSources } from '../../src/codecs/create-codecs.js'
import { type DecodeError, EncodeError, RECORD_DECODE_KINDS, type RecordDecodeKind } from '../../src/codecs/decode-error.js'
import { decodeBatch, tryDecode } from '../../src/codecs/decode-outcome.js'
import { createPreviewer } from '../../src/codecs/preview.js'
import type { Codec } from '../../src/codecs/codec.js'
import { encodeConfluent, findOrderSchemaDir, generateIncident, loadOrderSchemas, type FixtureKind, type FixtureRecord } from '../../src/fixtures/index.js'

const SCHEMA_DIR = findOrderSchemaDir()
const V2_FILE = join(SCHEMA_DIR, 'orders-v2.avsc')
const fixtureSchemas = loadOrderSchemas()

/** The fixture incident, small: a few hundred orders, two of each poison pill. */
const incident = [...generateIncident({ count: 400, duplicates: { identical: 0, changed: 0 } }).records]
function recordsOf(kind: FixtureKind): FixtureRecord[] {
  const found = incident.filter((r) => r.kind === kind)
  assert.ok(found.length > 0, `the fixture has no ${kind} records`)
  return found
}

/** The decode failure of `bytes`, asserting that there is one. */
function failureOf(codec: Codec, bytes: Buffer): DecodeError {
  const outcome = tryDecode(codec, bytes)
  if (outcome.ok) assert.unreachable(`expected a decode failure, got ${JSON.stringify(plain(outcome.value))}`)
  if (outcome.ok) throw new Error('unreachable')
  assert.is(outcome.failure.stage, 'decode')
  assert.ok(RECORD_DECODE_KINDS.includes(outcome.failure.kind))
  return outcome.failure
}

function assertKind(codec: Codec, bytes: Buffer, kind: RecordDecodeKind, position?: number): DecodeError {
  const failure = failureOf(codec, bytes)
  assert.is(failure.kind, kind, failure.message)
  if (position !== undefined) assert.is(failure.position, position, failure.message)
  return failure
}

/** avsc records are class instances: compare as plain data. */
function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)))
}

function tempSchemaDir(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'recover-schemas-'))
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content))
  return dir
}

function throwsRecovery(work: () => unknown, code: string, pattern?: RegExp): RecoveryError {
  try {
    work()
  } catch (error) {
    assert.instance(error, RecoveryError)
    const e = error as RecoveryError
    assert.is(e.code, code, e.message)
    if (pattern) assert.match(e.message, pattern)
    return e
  }
  assert.unreachable(`expected RecoveryError ${code}`)
  throw new Error('unreachable')
}

async function rejectsRecovery(work: () => Promise<unknown>, code: string, pattern?: RegExp): Promise<RecoveryError> {
  try {
    await work()
  } catch (error) {
    assert.instance(error, RecoveryError)
    const e = error as RecoveryError
    assert.is(e.code, code, e.message)
    if (pattern) assert.match(e.message, pattern)
    return e
  }
  assert.unreachable(`expected RecoveryError ${code}`)
  throw new Error('unreachable')
}

// ---------------------------------------------------------------- json, string, bytes

test('json round-trips objects, arrays, numbers, unicode and null', async () => {
  const json = await createCodec({ format: 'json' })
  for (const value of [{ a: 1, b: [true, null, 'ü€😀'], c: { d: -1.5e-7 } }, [1, 2, 3], 'text', 0, null]) {
    assert.equal(json.decode(json.encode(value)), value)
  }
})

test('json writes bigints with all their digits', async () => {
  const json = await createCodec({ format: 'json' })
  const bytes = json.encode({ big: 2n ** 63n - 1n, small: 5n, text: 'bigint:1' })
  assert.is(bytes.toString(), '{"big":9223372036854775807,"small":5,"text":"bigint:1"}')
})

test('json: the fixture broken JSON is not-json, at the byte where the input ends', async () => {
  const json = await createCodec({ format: 'json' })
  for (const r of recordsOf('poison-invalid-json')) {
    const failure = assertKind(json, r.value!, 'not-json', r.value!.length)
    assert.match(failure.message, /not JSON/)
  }
  assertKind(json, Buffer.from('{"a": 1, }'), 'not-json', 9)
  // Positions are bytes, not characters: "é" is two bytes.
  assertKind(json, Buffer.from('{"é": 1,}'), 'not-json', 9)
  // V8 names no position for some errors ("Unexpected token"): the kind is still exact.
  assert.is(assertKind(json, Buffer.from('{"a": x}'), 'not-json').position, undefined)
})

test('json: bytes that are not UTF-8 are invalid-utf8, not not-json', async () => {
  const json = await createCodec({ format: 'json' })
  const r = recordsOf('poison-invalid-utf8')[0]!
  assertKind(
    json,
    r.value!,
    'invalid-utf8',
    r.value!.findIndex((b) => b >= 0x80),
  )
})

test('json refuses values without a JSON form', async () => {
  const json = await createCodec({ format: 'json' })
  assert.throws(
    () => json.encode(undefined),
    (e: unknown) => e instanceof EncodeError && e.kind === 'not-serializable',
  )
  const cyclic: Record<string, unknown> = {}
  cyclic.self = cyclic
  assert.throws(
    () => json.encode(cyclic),
    (e: unknown) => e instanceof EncodeError && e.kind === 'not-serializable',
  )
})

test('string round-trips UTF-8 text, including astral characters', async () => {
  const text = await createCodec({ format: 'string' })
  for (const value of ['', 'plain', 'Zoë Müller', '😀 ∑ 中文']) assert.is(text.decode(text.encode(value)), value)
})

test('string: the fixture Latin-1 text is invalid-utf8 at its first accented byte, never U+FFFD', async () => {
  const text = await createCodec({ format: 'string' })
  for (const r of recordsOf('poison-invalid-utf8')) {
    const failure = assertKind(
      text,
      r.value!,
      'invalid-utf8',
      r.value!.findIndex((b) => b >= 0x80),
    )
    assert.match(failure.message, /invalid UTF-8/)
  }
  // Overlong encodings, surrogates, truncated sequences and stray continuation bytes.
  assertKind(text, Buffer.from([0x61, 0xc0, 0xaf]), 'invalid-utf8', 1)
  assertKind(text, Buffer.from([0x61, 0x62, 0xed, 0xa0, 0x80]), 'invalid-utf8', 2)
  assertKind(text, Buffer.from([0xe2, 0x82]), 'invalid-utf8', 0)
  assertKind(text, Buffer.from([0x61, 0x80]), 'invalid-utf8', 1)
  assertKind(text, Buffer.from([0xf4, 0x90, 0x80, 0x80]), 'invalid-utf8', 0)
})

test('string refuses what UTF-8 cannot hold', async () => {
  const text = await createCodec({ format: 'string' })
  assert.throws(
    () => text.encode(42),
    (e: unknown) => e instanceof EncodeError && e.kind === 'not-text',
  )
  assert.throws(
    () => text.encode('a\ud800b'),
    (e: unknown) => e instanceof EncodeError && e.kind === 'not-text',
  )
})

test('bytes pass through untouched both ways and every payload decodes', async () => {
  const bytes = await createCodec({ format: 'bytes' })
  for (const r of incident.slice(0, 50)) assert.ok((bytes.decode(r.value!) as Buffer).equals(r.value!))
  assert.ok(bytes.encode(new Uint8Array([1, 2, 3])).equals(Buffer.from([1, 2, 3])))
  assert.throws(
    () => bytes.encode('abc'),
    (e: unknown) => e instanceof EncodeError && e.kind === 'not-bytes',
  )
})

test('a null payload (tombstone, missing key) decodes to null with every codec', async () => {
  for (const format of ['json', 'string', 'bytes'] as const) assert.equal(tryDecode(await createCodec({ format }), null), { ok: true, value: null })
})

// ---------------------------------------------------------------- Avro from schema files

test('avro with a schema directory decodes every fixture order in its writer shape, by schema id', async () => {
  const avro = await createCodec({ format: 'avro' }, openSchemaSources({ schema: SCHEMA_DIR }))
  const orders = incident.filter((r) => r.kind === 'order' || r.kind === 'bad-deploy')
  let v1 = 0
  let v2 = 0
  for (const r of orders) {
    const id = r.value!.readUInt32BE(1)
    const value = avro.decode(r.value!) as Record<string, unknown>
    const expected: unknown = (id === 1 ? fixtureSchemas.v1 : fixtureSchemas.v2).fromBuffer(r.value!.subarray(5))
    assert.equal(plain(value), plain(expected))
    if (id === 1) {
      v1++
      assert.ok('customer_id' in value && !('channel' in value))
    } else {
      v2++
      assert.ok('customer' in value && 'channel' in value)
    }
  }
  assert.ok(v1 > 0 && v2 > 0, `expected both schema ids in the fixture (v1 ${v1}, v2 ${v2})`)
})

test('avro: every fixture poison pill fails with its kind', async () => {
  const avro = await createCodec({ format: 'avro' }, openSchemaSources({ schema: SCHEMA_DIR }))
  for (const r of recordsOf('poison-truncated-avro')) assertKind(avro, r.value!, 'avro-truncated', r.value!.length)
  for (const r of recordsOf('poison-bad-magic')) assertKind(avro, r.value!, 'avro-bad-magic', 0)
  for (const r of recordsOf('poison-invalid-json')) assert.match(assertKind(avro, r.value!, 'avro-bad-magic', 0).message, /looks like JSON/)
  for (const r of recordsOf('poison-invalid-utf8')) assert.match(assertKind(avro, r.value!, 'avro-bad-magic', 0).message, /looks like text/)
})

test('avro: an id that ids.json does not map is avro-unknown-schema-id, with the id', async () => {
  const avro = await createCodec({ format: 'avro' }, openSchemaSources({ schema: SCHEMA_DIR }))
  const order = recordsOf('order')[0]!.value!
  const framed = Buffer.from(order)
  framed.writeUInt32BE(99, 1)
  const failure = assertKind(avro, framed, 'avro-unknown-schema-id', 1)
  assert.is(failure.schemaId, 99)
  assert.match(failure.message, /99/)
})

test('avro: a payload shorter than the header is avro-truncated; leftover bytes are avro-invalid', async () => {
  const avro = await createCodec({ format: 'avro' }, openSchemaSources({ schema: SCHEMA_DIR }))
  assertKind(avro, Buffer.from([0, 0, 0]), 'avro-truncated', 3)
  assertKind(avro, Buffer.alloc(0), 'avro-truncated', 0)
  const order = recordsOf('order')[0]!.value!
  assertKind(avro, Buffer.concat([order, Buffer.from([1, 2])]), 'avro-invalid', order.length)
  // An enum index beyond the symbols: the body is framed and long enough, but not valid.
  const v1 = fixtureSchemas.v1
  const good = v1.toBuffer({ order_id: 'o', customer_id: 'c', amount_cents: 1, currency: 'EUR', status: 'PAID', created_at: 0, items: [] })
  const other = v1.toBuffer({ order_id: 'o', customer_id: 'c', amount_cents: 1, currency: 'EUR', status: 'PENDING', created_at: 0, items: [] })
  const statusAt = good.findIndex((b, i) => b !== other[i])
  const bad = Buffer.from(good)
  bad[statusAt] = 40
  assertKind(avro, Buffer.concat([Buffer.from([0, 0, 0, 0, 1]), bad]), 'avro-invalid')
})

test('schema evolution: v1 orders decode into the v2 reader shape (alias rename, default filled, int widened)', async () => {
  const avro = await createCodec({ format: 'avro' }, openSchemaSources({ schema: SCHEMA_DIR, readerSchema: V2_FILE }))
  let v1Seen = 0
  for (const r of incident.filter((x) => x.kind === 'order')) {
    const value = avro.decode(r.value!) as Record<string, unknown>
    assert.equal(Object.keys(value), ['order_id', 'customer', 'amount_cents', 'currency', 'status', 'created_at', 'items', 'channel'])
    if (r.value!.readUInt32BE(1) !== 1) continue
    v1Seen++
    const written = fixtureSchemas.v1.fromBuffer(r.value!.subarray(5)) as Record<string, unknown>
    assert.is(value.customer, written.customer_id)
    assert.is(value.channel, 'web')
    assert.equal(plain(value.items), plain(written.items))
  }
  assert.ok(v1Seen > 0)
})

test('an incompatible reader schema fails each record as schema-resolution, naming the field', async () => {
  const v2 = JSON.parse(JSON.stringify(fixtureSchemas.v2.schema({ exportAttrs: true }))) as { fields: Array<Record<string, unknown>> }
  v2.fields.push({ name: 'loyalty_tier', type: 'string' })
  const dir = tempSchemaDir({ 'orders-v3.avsc': v2 })
  const avro = await createCodec({ format: 'avro' }, openSchemaSources({ schema: SCHEMA_DIR, readerSchema: join(dir, 'orders-v3.avsc') }))
  const failure = assertKind(avro, recordsOf('order')[0]!.value!, 'schema-resolution')
  assert.is(failure.field, 'loyalty_tier')
  assert.match(failure.message, /loyalty_tier/)
  assert.match(failure.message, /no(t have it| default)|without a default/)
})

test('an incompatible type deep inside is named by its path', async () => {
  const v2 = JSON.parse(JSON.stringify(fixtureSchemas.v2.schema({ exportAttrs: true }))) as {
    fields: Array<{ name: string; type: { items?: { fields: Array<{ name: string; type: unknown }> } } }>
  }
  v2.fields.find((f) => f.name === 'items')!.type.items!.fields.find((f) => f.name === 'quantity')!.type = 'string'
  const dir = tempSchemaDir({ 'orders-bad.avsc': v2 })
  const avro = await createCodec({ format: 'avro' }, openSchemaSources({ schema: SCHEMA_DIR, readerSchema: join(dir, 'orders-bad.avsc') }))
  const failure = assertKind(avro, recordsOf('order')[0]!.value!, 'schema-resolution')
  assert.is(failure.field, 'items[].quantity')
  assert.match(failure.message, /items\[\]\.quantity/)
})

test('reading v2 data with the v1 schema names the first field v1 cannot fill', async () => {
  const avro = await createCodec({ format: 'avro' }, openSchemaSources({ schema: SCHEMA_DIR, readerSchema: join(SCHEMA_DIR, 'orders-v1.avsc') }))
  const v2Record = incident.find((r) => r.kind === 'order' && r.value!.readUInt32BE(1) === 2)!
  const failure = assertKind(avro, v2Record.value!, 'schema-resolution')
  // v1 has customer_id without a default, and v2 data has no customer_id (v1 knows no alias).
  assert.is(failure.field, 'customer_id')
  assert.match(failure.message, /"customer_id".*without a default/)
})

test('raw Avro with one writer file: round trip, and an incompatible reader is a usage error up front', async () => {
  const dir = tempSchemaDir({ 'point.avsc': { type: 'record', name: 'Point', fields: [{ name: 'x', type: 'int' }] } })
  const avro = await createCodec({ format: 'avro' }, openSchemaSources({ schema: join(dir, 'point.avsc') }))
  assert.equal(plain(avro.decode(avro.encode({ x: 7 }))), { x: 7 })
  const bad = tempSchemaDir({
    'point2.avsc': {
      type: 'record',
      name: 'Point',
      fields: [
        { name: 'x', type: 'int' },
        { name: 'label', type: 'string' },
      ],
    },
  })
  await rejectsRecovery(
    () => createCodec({ format: 'avro' }, openSchemaSources({ schema: join(dir, 'point.avsc'), readerSchema: join(bad, 'point2.avsc') })),
    'INCOMPATIBLE_SCHEMAS',
    /label/,
  )
})

test('avro encodes Confluent-framed with a schema id, byte for byte as the fixture producer', async () => {
  const avro = await createCodec({ format: 'avro', encodeSchemaId: 2 }, openSchemaSources({ schema: SCHEMA_DIR }))
  for (const r of incident.filter((x) => x.kind === 'order' && x.value!.readUInt32BE(1) === 2).slice(0, 20)) {
    const value = avro.decode(r.value!)
    assert.ok(avro.encode(value).equals(r.value!))
    assert.ok(avro.encode(value).equals(encodeConfluent(fixtureSchemas.v2, 2, value)))
  }
})

test('avro refuses a value that does not fit, naming the field', async () => {
  const avro = await createCodec({ format: 'avro', encodeSchemaId: 2 }, openSchemaSources({ schema: SCHEMA_DIR }))
  const value = plain(avro.decode(incident.find((r) => r.kind === 'order' && r.value!.readUInt32BE(1) === 2)!.value!)) as Record<string, unknown>
  value.amount_cents = 'lots'
  try {
    avro.encode(value)
    assert.unreachable('encode should refuse')
  } catch (error) {
    assert.instance(error, EncodeError)
    assert.is((error as EncodeError).kind, 'avro-invalid-value')
    assert.is((error as EncodeError).field, 'amount_cents')
  }
  await rejectsRecovery(() => createCodec({ format: 'avro', encodeSchemaId: 77 }, openSchemaSources({ schema: SCHEMA_DIR })), 'USAGE', /77/)
})

test('longs beyond 2^53 decode as bigint instead of losing digits, and encode back', async () => {
  const dir = tempSchemaDir({
    'big.avsc': {
      type: 'record',
      name: 'Big',
      fields: [
        { name: 'id', type: 'long' },
        { name: 'small', type: 'long' },
        { name: 'list', type: { type: 'array', items: 'long' } },
      ],
    },
  })
  const avro = await createCodec({ format: 'avro' }, openSchemaSources({ schema: join(dir, 'big.avsc') }))
  const bytes = avro.encode({ id: 2n ** 62n + 1n, small: 3, list: [-(2n ** 60n), 1] })
  const value = avro.decode(bytes) as { id: unknown; small: unknown; list: unknown[] }
  assert.is(typeof value.id, 'bigint')
  assert.is(String(value.id), String(2n ** 62n + 1n))
  assert.is(value.small, 3)
  assert.is(String(value.list[0]), String(-(2n ** 60n)))
  assert.is(value.list[1], 1)
  assert.ok(avro.encode(value).equals(bytes))
})

// ---------------------------------------------------------------- schema files

test('a schema directory resolves named types defined in other files', async () => {
  const dir = tempSchemaDir({
    'money.avsc': {
      type: 'record',
      name: 'Money',
      namespace: 'com.acme',
      fields: [
        { name: 'cents', type: 'long' },
        { name: 'currency', type: { type: 'enum', name: 'Currency', symbols: ['EUR', 'USD'] } },
      ],
    },
    'invoice.avsc': {
      type: 'record',
      name: 'Invoice',
      namespace: 'com.acme',
      fields: [
        { name: 'total', type: 'Money' },
        { name: 'lines', type: { type: 'array', items: 'com.acme.Money' } },
        { name: 'cur', type: 'Currency' },
      ],
    },
    'ids.json': { '10': 'invoice.avsc', '11': 'money.avsc' },
  })
  const avro = await createCodec({ format: 'avro', encodeSchemaId: 10 }, openSchemaSources({ schema: dir }))
  const value = {
    total: { cents: 150, currency: 'EUR' },
    lines: [
      { cents: 100, currency: 'EUR' },
      { cents: 50, currency: 'EUR' },
    ],
    cur: 'USD',
  }
  assert.equal(plain(avro.decode(avro.encode(value))), value)
})

test('schema directory problems are BAD_SCHEMA errors naming the file', () => {
  throwsRecovery(() => openSchemaSources({ schema: '/no/such/dir' }), 'BAD_SCHEMA', /does not exist/)
  const undefinedName = tempSchemaDir({ 'a.avsc': { type: 'record', name: 'A', fields: [{ name: 'b', type: 'B' }] } })
  throwsRecovery(() => openSchemaSources({ schema: undefinedName }), 'BAD_SCHEMA', /a\.avsc uses the type B/)
  const notJson = tempSchemaDir({ 'x.avsc': '{ nope' })
  throwsRecovery(() => openSchemaSources({ schema: notJson }), 'BAD_SCHEMA', /x\.avsc is not JSON/)
  const invalid = tempSchemaDir({ 'x.avsc': { type: 'record', name: 'X', fields: [{ name: 'f', type: 'nonsense-type!' }] } })
  throwsRecovery(() => openSchemaSources({ schema: invalid }), 'BAD_SCHEMA', /x\.avsc/)
  const ambiguous = tempSchemaDir({
    'a.avsc': { type: 'record', name: 'T', fields: [{ name: 'x', type: 'int' }] },
    'b.avsc': { type: 'record', name: 'T', fields: [{ name: 'y', type: 'int' }] },
    'c.avsc': { type: 'record', name: 'C', fields: [{ name: 't', type: 'T' }] },
  })
  throwsRecovery(() => openSchemaSources({ schema: ambiguous }), 'BAD_SCHEMA', /a\.avsc and b\.avsc define differently/)
  const cycle = tempSchemaDir({
    'a.avsc': { type: 'record', name: 'A', fields: [{ name: 'b', type: ['null', 'B'] }] },
    'b.avsc': { type: 'record', name: 'B', fields: [{ name: 'a', type: ['null', 'A'] }] },
  })
  throwsRecovery(() => openSchemaSources({ schema: cycle }), 'BAD_SCHEMA', /cycle/)
  const badIds = tempSchemaDir({ 'a.avsc': { type: 'record', name: 'A', fields: [] }, 'ids.json': { '1': 'missing.avsc' } })
  throwsRecovery(() => openSchemaSources({ schema: badIds }), 'BAD_SCHEMA', /missing\.avsc/)
})

test('usage errors: avro without schemas, confluent framing without ids, raw framing with several schemas', async () => {
  await rejectsRecovery(() => createCodec({ format: 'avro' }), 'USAGE', /--schema/)
  const noIds = tempSchemaDir({ 'a.avsc': { type: 'record', name: 'A', fields: [] }, 'b.avsc': { type: 'record', name: 'B', fields: [] } })
  await rejectsRecovery(() => createCodec({ format: 'avro' }, openSchemaSources({ schema: noIds })), 'USAGE', /exactly one writer schema/)
  await rejectsRecovery(() => createCodec({ format: 'avro', framing: 'confluent' }, openSchemaSources({ schema: noIds })), 'USAGE', /ids\.json/)
})

// ---------------------------------------------------------------- batches and previews

test('decodeBatch returns values and classified failures side by side, keys and values separately', async () => {
  const sources = openSchemaSources({ schema: SCHEMA_DIR })
  const codecs = await createRecordCodecs({ format: 'string' }, { format: 'avro' }, sources)
  const batch = incident.slice(0, 400)
  const keys = await decodeBatch(
    codecs.key,
    batch.map((r) => r.key),
  )
  const values = await decodeBatch(
    codecs.value,
    batch.map((r) => r.value),
  )
  assert.ok(keys.every((k) => k.ok))
  const failed = values.map((v, i) => (v.ok ? undefined : `${batch[i]!.kind}:${v.failure.kind}`)).filter((x) => x !== undefined)
  assert.equal([...new Set(failed)].sort(), [
    'poison-bad-magic:avro-bad-magic',
    'poison-invalid-json:avro-bad-magic',
    'poison-invalid-utf8:avro-bad-magic',
    'poison-truncated-avro:avro-truncated',
  ])
})

test('auto preview with a schema source: framed Avro, else JSON, else text, else hex', async () => {
  const sources = openSchemaSources({ schema: SCHEMA_DIR })
  const preview = createPreviewer('auto', await createCodec({ format: 'avro' }, sources))
  const order = recordsOf('order')[0]!
  const p = preview.preview(order.value!)
  assert.is(p.format, 'avro')
  assert.is(p.schemaId, order.value!.readUInt32BE(1))
  assert.equal(preview.preview(Buffer.from('{"a":1}')), { format: 'json', value: { a: 1 } })
  assert.equal(preview.preview(Buffer.from('words')), { format: 'string', value: 'words' })
  assert.equal(preview.preview(Buffer.from([0xff, 0x00])), { format: 'bytes', value: 'ff00' })
  const truncated = preview.preview(recordsOf('poison-truncated-avro')[0]!.value!)
  assert.is(truncated.format, 'bytes')
  assert.is(truncated.kind, 'avro-truncated')
  const json = preview.preview(recordsOf('poison-invalid-json')[0]!.value!)
  assert.is(json.format, 'string')
  assert.is(json.kind, 'not-json')
})

test('forced avro preview shows the failure kind and the bytes as hex, never throwing', async () => {
  const preview = createPreviewer('avro', await createCodec({ format: 'avro' }, openSchemaSources({ schema: SCHEMA_DIR })))
  for (const r of incident.filter((x) => x.kind.startsWith('poison-'))) {
    const p = preview.preview(r.value!)
    assert.is(p.format, 'bytes')
    assert.is(p.value, r.value!.toString('hex'))
    assert.ok(p.kind === 'avro-truncated' || p.kind === 'avro-bad-magic', p.kind)
    assert.ok(p.error)
  }
})

test.run()
