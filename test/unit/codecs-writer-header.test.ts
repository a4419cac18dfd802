import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { RecoveryError } from '../../src/errors.js'
import { DEFAULT_WRITER_HEADER } from '../../src/codecs/avro-codec.js'
import type { Codec, CodecHeader, DecodeContext } from '../../src/codecs/codec.js'
import { createCodec, openSchemaSources } from '../../src/codecs/create-codecs.js'
import { DecodeError, RECORD_DECODE_KINDS, type RecordDecodeKind } from '../../src/codecs/decode-error.js'
import { decodeBatch, tryDecode } from '../../src/codecs/decode-outcome.js'
import { createPreviewer } from '../../src/codecs/preview.js'
import { findOrderSchemaDir, generateIncident, loadOrderSchemas } from '../../src/fixtures/index.js'
import { startFakeRegistry } from '../support/fake-schema-registry.js'

/**
 * Raw Avro bodies (no Confluent framing) whose writer schema is named by a record header
 * (`schema.version` by default): a schema id (ids.json or the registry) or a schema file name,
 * falling back to the one writer schema; a missing or unknown name is a classified failure.
 */
const SCHEMA_DIR = findOrderSchemaDir()
const V1_FILE = join(SCHEMA_DIR, 'orders-v1.avsc')
const V2_FILE = join(SCHEMA_DIR, 'orders-v2.avsc')
const fixtureSchemas = loadOrderSchemas()

const incident = [...generateIncident({ count: 300, duplicates: { identical: 0, changed: 0 } }).records]
/** Fixture orders as raw bodies, with the schema id their Confluent header carried. */
const rawOrders = incident.filter((r) => r.kind === 'order').map((r) => ({ id: r.value!.readUInt32BE(1), body: r.value!.subarray(5) }))
const rawV1 = rawOrders.filter((r) => r.id === 1)
const rawV2 = rawOrders.filter((r) => r.id === 2)

function headers(...pairs: Array<[string, Buffer | string | null]>): DecodeContext {
  return { headers: pairs.map(([key, value]): CodecHeader => ({ key, value })) }
}

function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)))
}

function failure(codec: Codec, bytes: Buffer, context: DecodeContext | undefined, kind: RecordDecodeKind): DecodeError {
  const outcome = tryDecode(codec, bytes, context)
  if (outcome.ok) throw new Error(`expected ${kind}, decoded ${JSON.stringify(plain(outcome.value))}`)
  assert.is(outcome.failure.stage, 'decode')
  assert.is(outcome.failure.kind, kind, outcome.failure.message)
  return outcome.failure
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
  throw new Error(`expected RecoveryError ${code}`)
}

test('fixture sanity: both schema versions among the raw orders', () => {
  assert.ok(rawV1.length > 0 && rawV2.length > 0, `v1 ${rawV1.length}, v2 ${rawV2.length}`)
  assert.is(DEFAULT_WRITER_HEADER, 'schema.version')
})

test('a schema.version header with a schema id picks the writer from ids.json (text or bytes values)', async () => {
  const avro = await createCodec({ format: 'avro', writerHeader: DEFAULT_WRITER_HEADER }, openSchemaSources({ schema: SCHEMA_DIR }))
  for (const r of rawOrders) {
    const expected = (r.id === 1 ? fixtureSchemas.v1 : fixtureSchemas.v2).fromBuffer(r.body)
    assert.equal(plain(avro.decode(r.body, headers(['schema.version', String(r.id)]))), plain(expected))
    assert.equal(plain(avro.decode(r.body, headers(['other', 'x'], ['schema.version', Buffer.from(` ${r.id}\n`)]))), plain(expected))
  }
})

test('the header may name a schema file: path, or without .avsc', async () => {
  const avro = await createCodec({ format: 'avro', writerHeader: 'avro.schema.version' }, openSchemaSources({ schema: SCHEMA_DIR }))
  const v1 = rawV1[0]!
  const v2 = rawV2[0]!
  assert.equal(plain(avro.decode(v1.body, headers(['avro.schema.version', 'orders-v1.avsc']))), plain(fixtureSchemas.v1.fromBuffer(v1.body)))
  assert.equal(plain(avro.decode(v2.body, headers(['avro.schema.version', 'orders-v2']))), plain(fixtureSchemas.v2.fromBuffer(v2.body)))
})

test('with repeated header keys the last one counts', async () => {
  const avro = await createCodec({ format: 'avro', writerHeader: 'schema.version' }, openSchemaSources({ schema: SCHEMA_DIR }))
  const v2 = rawV2[0]!
  assert.equal(plain(avro.decode(v2.body, headers(['schema.version', '1'], ['schema.version', '2']))), plain(fixtureSchemas.v2.fromBuffer(v2.body)))
})

test('schema evolution: v1 bodies named by the header decode into the v2 reader shape', async () => {
  const avro = await createCodec({ format: 'avro', writerHeader: 'schema.version' }, openSchemaSources({ schema: SCHEMA_DIR, readerSchema: V2_FILE }))
  for (const r of rawV1) {
    const value = avro.decode(r.body, headers(['schema.version', '1'])) as Record<string, unknown>
    const written = fixtureSchemas.v1.fromBuffer(r.body) as Record<string, unknown>
    assert.is(value.customer, written.customer_id)
    assert.is(value.channel, 'web')
  }
  const v2 = rawV2[0]!
  assert.equal(plain(avro.decode(v2.body, headers(['schema.version', 'orders-v2.avsc']))), plain(fixtureSchemas.v2.fromBuffer(v2.body)))
})

test('an incompatible reader fails records of that writer as schema-resolution, naming the field', async () => {
  const avro = await createCodec({ format: 'avro', writerHeader: 'schema.version' }, openSchemaSources({ schema: SCHEMA_DIR, readerSchema: V1_FILE }))
  const v2 = rawV2[0]!
  const f = failure(avro, v2.body, headers(['schema.version', '2']), 'schema-resolution')
  assert.is(f.field, 'customer_id')
  assert.is(f.schemaId, 2)
  // v1 records still decode: the failure belongs to the writer schema, not to the codec.
  assert.ok(tryDecode(avro, rawV1[0]!.body, headers(['schema.version', '1'])).ok)
})

test('a record without the header falls back to the writer schema (writerSchema, or the only file)', async () => {
  const v1 = rawV1[0]!
  const v2 = rawV2[0]!
  const withDefault = await createCodec({ format: 'avro', writerHeader: 'schema.version' }, openSchemaSources({ schema: SCHEMA_DIR, writerSchema: V1_FILE }))
  assert.equal(plain(withDefault.decode(v1.body)), plain(fixtureSchemas.v1.fromBuffer(v1.body)))
  assert.equal(plain(withDefault.decode(v1.body, headers(['unrelated', '2']))), plain(fixtureSchemas.v1.fromBuffer(v1.body)))
  assert.equal(plain(withDefault.decode(v2.body, headers(['schema.version', '2']))), plain(fixtureSchemas.v2.fromBuffer(v2.body)))
  // It writes with the fallback writer schema (encode() sets no header).
  assert.equal(plain(withDefault.decode(withDefault.encode(fixtureSchemas.v1.fromBuffer(v1.body)))), plain(fixtureSchemas.v1.fromBuffer(v1.body)))

  const single = await createCodec({ format: 'avro', writerHeader: 'schema.version' }, openSchemaSources({ schema: V2_FILE }))
  assert.equal(plain(single.decode(v2.body, {})), plain(fixtureSchemas.v2.fromBuffer(v2.body)))

  // Without a header option, writerSchema makes raw Avro readable from a directory of several files.
  const plainRaw = await createCodec({ format: 'avro', framing: 'raw' }, openSchemaSources({ schema: SCHEMA_DIR, writerSchema: V2_FILE }))
  assert.equal(plain(plainRaw.decode(v2.body)), plain(fixtureSchemas.v2.fromBuffer(v2.body)))
})

test('a missing, null, non-text or unknown header is avro-unknown-schema-id, naming the header', async () => {
  const avro = await createCodec({ format: 'avro', writerHeader: 'schema.version' }, openSchemaSources({ schema: SCHEMA_DIR }))
  const body = rawV1[0]!.body
  assert.match(failure(avro, body, undefined, 'avro-unknown-schema-id').message, /no schema\.version header/)
  assert.match(failure(avro, body, headers(['schema-version', '1']), 'avro-unknown-schema-id').message, /no schema\.version header/)
  assert.match(failure(avro, body, headers(['schema.version', null]), 'avro-unknown-schema-id').message, /header is null/)
  assert.match(failure(avro, body, headers(['schema.version', Buffer.from([0xff, 0xfe])]), 'avro-unknown-schema-id').message, /not UTF-8 text \(0xfffe\)/)
  const unknownId = failure(avro, body, headers(['schema.version', '99']), 'avro-unknown-schema-id')
  assert.is(unknownId.schemaId, 99)
  assert.match(unknownId.message, /schema id 99.*ids\.json/)
  const unknownFile = failure(avro, body, headers(['schema.version', 'orders-v9']), 'avro-unknown-schema-id')
  assert.match(unknownFile.message, /"orders-v9".*not a schema file.*orders-v1\.avsc, orders-v2\.avsc/)
  // The same answer again, from the plan cache.
  assert.is(failure(avro, body, headers(['schema.version', 'orders-v9']), 'avro-unknown-schema-id').message, unknownFile.message)
})

test('an id in the header without ids.json or a registry says so', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'recover-writer-header-'))
  writeFileSync(join(dir, 'a.avsc'), JSON.stringify({ type: 'record', name: 'A', fields: [{ name: 'x', type: 'int' }] }))
  writeFileSync(join(dir, 'b.avsc'), JSON.stringify({ type: 'record', name: 'B', fields: [{ name: 'y', type: 'string' }] }))
  const avro = await createCodec({ format: 'avro', writerHeader: 'schema.version' }, openSchemaSources({ schema: dir }))
  assert.equal(plain(avro.decode(Buffer.from([0x0e]), headers(['schema.version', 'a']))), { x: 7 })
  assert.match(failure(avro, Buffer.from([0x0e]), headers(['schema.version', '3']), 'avro-unknown-schema-id').message, /no ids\.json or Schema Registry/)
})

test('the header selects the writer among registry ids, loaded by prepare(payloads, contexts) once per id', async () => {
  const registry = await startFakeRegistry({
    ids: { 1: { schema: fixtureSchemas.v1.schema({ exportAttrs: true }) }, 2: { schema: fixtureSchemas.v2.schema({ exportAttrs: true }) } },
  })
  try {
    const avro = await createCodec(
      { format: 'avro', writerHeader: 'schema.version' },
      openSchemaSources({ registry: registry.url, registryOptions: { timeoutMs: 1000, retries: 0, retryDelayMs: 10 } }),
    )
    const sample = [...rawV1.slice(0, 5), ...rawV2.slice(0, 5)]
    const contexts = sample.map((r) => headers(['schema.version', String(r.id)]))
    // Not prepared: a programming error, not a record's fault.
    try {
      avro.decode(sample[0]!.body, contexts[0])
      assert.unreachable('decode before prepare')
    } catch (error) {
      assert.instance(error, RecoveryError)
      assert.is((error as RecoveryError).code, 'INTERNAL')
    }
    const outcomes = await decodeBatch(
      avro,
      sample.map((r) => r.body),
      [...contexts.slice(0, 9), headers(['schema.version', '42'])],
    )
    assert.equal([...registry.requests].sort(), ['/schemas/ids/1', '/schemas/ids/2', '/schemas/ids/42'])
    for (let i = 0; i < 9; i++) {
      const r = sample[i]!
      assert.ok(outcomes[i]!.ok)
      assert.equal(plain((outcomes[i] as { value: unknown }).value), plain((r.id === 1 ? fixtureSchemas.v1 : fixtureSchemas.v2).fromBuffer(r.body)))
    }
    const last = outcomes[9]!
    assert.ok(!last.ok && last.failure.kind === 'avro-unknown-schema-id' && last.failure.schemaId === 42, JSON.stringify(last))
    // Raw codecs without a writer header need no contexts, and prepare ignores them.
    await avro.prepare([null])
  } finally {
    await registry.close()
  }
})

test('a forced avro previewer passes the headers along', async () => {
  const avro = await createCodec({ format: 'avro', writerHeader: 'schema.version' }, openSchemaSources({ schema: SCHEMA_DIR }))
  const previewer = createPreviewer('avro', avro)
  const v2 = rawV2[0]!
  await previewer.prepare([v2.body], [headers(['schema.version', '2'])])
  const shown = previewer.preview(v2.body, headers(['schema.version', '2']))
  assert.is(shown.format, 'avro')
  assert.equal(plain(shown.value), plain(fixtureSchemas.v2.fromBuffer(v2.body)))
  const missing = previewer.preview(v2.body)
  assert.is(missing.kind, 'avro-unknown-schema-id')
  assert.is(missing.format, 'bytes')
})

test('codecs that need no headers ignore the context', async () => {
  const json = await createCodec({ format: 'json' })
  assert.equal(json.decode(Buffer.from('{"a":1}'), headers(['schema.version', '1'])), { a: 1 })
  const confluent = await createCodec({ format: 'avro' }, openSchemaSources({ schema: SCHEMA_DIR }))
  const framed = incident.find((r) => r.kind === 'order')!.value!
  assert.equal(plain(confluent.decode(framed, headers(['schema.version', 'nonsense']))), plain(confluent.decode(framed)))
})

test('usage errors: an empty header name; a header without any schema to name', async () => {
  await rejectsRecovery(() => createCodec({ format: 'avro', writerHeader: '' }, openSchemaSources({ schema: SCHEMA_DIR })), 'USAGE', /header name is empty/)
  const { createAvroCodec } = await import('../../src/codecs/avro-codec.js')
  await rejectsRecovery(async () => createAvroCodec({ framing: 'raw', writerHeader: 'schema.version' }), 'USAGE', /needs schemas to name/)
  await rejectsRecovery(async () => createAvroCodec({ framing: 'raw' }), 'USAGE', /writer schema/)
})

test('arbitrary header values and bodies: a value or a classified failure, never another throw', async () => {
  const avro = await createCodec({ format: 'avro', writerHeader: 'schema.version' }, openSchemaSources({ schema: SCHEMA_DIR, readerSchema: V2_FILE }))
  const headerValue = fc.oneof(
    fc.constantFrom<Buffer | string | null>('1', '2', '99', 'orders-v1', 'orders-v2.avsc', '', ' ', null, '4294967296', '-1', '01'),
    fc.string({ maxLength: 20 }),
    fc.uint8Array({ maxLength: 12 }).map((a) => Buffer.from(a)),
  )
  fc.assert(
    fc.property(fc.option(headerValue, { nil: undefined }), fc.uint8Array({ maxLength: 64 }), (value, body) => {
      const context = value === undefined ? undefined : headers(['schema.version', value])
      try {
        avro.decode(Buffer.from(body), context)
      } catch (error) {
        if (!(error instanceof DecodeError)) throw error
        if (!RECORD_DECODE_KINDS.includes(error.kind)) throw new Error(`unknown kind ${error.kind}`)
      }
    }),
    { numRuns: 2000 },
  )
})

test.run()
