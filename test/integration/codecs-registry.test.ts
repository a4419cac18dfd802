import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { RecoveryError } from '../../src/errors.js'
import { createCodec, openSchemaSources, type SchemaSourceOptions } from '../../src/codecs/create-codecs.js'
import { decodeBatch, tryDecode } from '../../src/codecs/decode-outcome.js'
import { encodeConfluent, findOrderSchemaDir, generateIncident, loadOrderSchemas } from '../../src/fixtures/index.js'
import { registerSchema, startApicurioRegistry, type ApicurioRegistry } from '../support/apicurio-registry.js'
import { withTimeout } from '../support/timeout.js'

/**
 * Our Schema Registry client against a real Confluent-API-compatible registry: Apicurio
 * Registry (built from Maven Central on first use, in memory), its API under /apis/ccompat/v7.
 * The fixture's v1 and v2 order schemas are registered through that API, fixture orders are
 * framed with the ids it hands out, and decoded through our client.
 */
const V2_FILE = join(findOrderSchemaDir(), 'orders-v2.avsc')
const schemas = loadOrderSchemas()
const FAST = { timeoutMs: 2000, retries: 1, retryDelayMs: 50 }

const orders = [...generateIncident({ count: 300, duplicates: { identical: 0, changed: 0 } }).records].filter((r) => r.kind === 'order')

let registry: ApicurioRegistry | undefined
let ids = { v1: 0, v2: 0 }
/** Fixture orders, re-framed with the registry's ids: payload, writer version, the value as written. */
let framed: Array<{ payload: Buffer; version: 1 | 2; value: unknown }> = []

const sources = (extra: Partial<SchemaSourceOptions> = {}) => openSchemaSources({ registry: registry!.url, registryOptions: FAST, ...extra })

function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)))
}

test.before(async () => {
  registry = await startApicurioRegistry()
  process.stderr.write(
    `  Apicurio Registry on ${registry.url}: answered ${registry.startMs} ms after spawn; build ${registry.built.downloaded ? `${registry.built.ms} ms (first use)` : 'cached'}\n`,
  )
  ids = {
    v1: await registerSchema(registry.url, 'orders-value', schemas.v1.schema({ exportAttrs: true })),
    v2: await registerSchema(registry.url, 'orders-value', schemas.v2.schema({ exportAttrs: true })),
  }
  framed = orders.map((r) => {
    const version = r.value!.readUInt32BE(1) === 1 ? 1 : 2
    const type = version === 1 ? schemas.v1 : schemas.v2
    const value = type.fromBuffer(r.value!.subarray(5))
    return { payload: encodeConfluent(type, version === 1 ? ids.v1 : ids.v2, value), version, value }
  })
})

test.after(async () => {
  await registry?.stop()
})

test('the registry hands out distinct ids for v1 and v2, and the fixture has both', () => {
  assert.ok(ids.v1 > 0 && ids.v2 > 0 && ids.v1 !== ids.v2, JSON.stringify(ids))
  assert.ok(framed.some((f) => f.version === 1) && framed.some((f) => f.version === 2))
})

test(
  "Confluent-framed fixture orders decode through our client with the registry's schemas",
  withTimeout(30_000, async () => {
    const avro = await createCodec({ format: 'avro' }, sources())
    const outcomes = await decodeBatch(
      avro,
      framed.map((f) => f.payload),
    )
    outcomes.forEach((o, i) => {
      assert.ok(o.ok, o.ok ? '' : o.failure.message)
      assert.equal(plain((o as { value: unknown }).value), plain(framed[i]!.value))
    })
  }),
)

test(
  'schema evolution: v1 orders from the registry decode into the v2 reader shape',
  withTimeout(30_000, async () => {
    const avro = await createCodec({ format: 'avro' }, sources({ readerSchema: V2_FILE }))
    const v1 = framed.filter((f) => f.version === 1)
    const outcomes = await decodeBatch(
      avro,
      v1.map((f) => f.payload),
    )
    outcomes.forEach((o, i) => {
      assert.ok(o.ok, o.ok ? '' : o.failure.message)
      const value = (o as { value: Record<string, unknown> }).value
      assert.is(value.customer, (v1[i]!.value as Record<string, unknown>).customer_id)
      assert.is(value.channel, 'web')
    })
  }),
)

test(
  'encode with a registry id writes what the fixture producer writes',
  withTimeout(30_000, async () => {
    const avro = await createCodec({ format: 'avro', encodeSchemaId: ids.v2 }, sources())
    const v2 = framed.find((f) => f.version === 2)!
    assert.equal(avro.encode(v2.value), v2.payload)
  }),
)

test(
  "an id the registry does not know is the record's avro-unknown-schema-id, not an environment failure",
  withTimeout(30_000, async () => {
    const avro = await createCodec({ format: 'avro' }, sources())
    const unknown = Buffer.from(framed[0]!.payload)
    unknown.writeUInt32BE(987_654, 1)
    const [outcome] = await decodeBatch(avro, [unknown])
    assert.ok(outcome && !outcome.ok)
    if (outcome.ok) return
    assert.is(outcome.failure.kind, 'avro-unknown-schema-id', outcome.failure.message)
    assert.is(outcome.failure.schemaId, 987_654)
  }),
)

test(
  'raw bodies whose schema.version header names a registry id',
  withTimeout(30_000, async () => {
    const avro = await createCodec({ format: 'avro', writerHeader: 'schema.version' }, sources())
    const sample = framed.slice(0, 20)
    const contexts = sample.map((f) => ({ headers: [{ key: 'schema.version', value: Buffer.from(String(f.version === 1 ? ids.v1 : ids.v2)) }] }))
    const outcomes = await decodeBatch(
      avro,
      sample.map((f) => f.payload.subarray(5)),
      contexts,
    )
    outcomes.forEach((o, i) => assert.equal(plain((o as { value: unknown }).value), plain(sample[i]!.value)))
  }),
)

test(
  'credentials in the URL are sent and harmless (this Apicurio runs without authentication)',
  withTimeout(30_000, async () => {
    const withAuth = registry!.url.replace('http://', 'http://reader:s3cret@')
    const avro = await createCodec({ format: 'avro' }, openSchemaSources({ registry: withAuth, registryOptions: FAST }))
    await avro.prepare([framed[0]!.payload])
    assert.ok(tryDecode(avro, framed[0]!.payload).ok)
  }),
)

test(
  'once the registry is stopped, loading a schema is REGISTRY_UNREACHABLE (exit 5), no record is blamed',
  withTimeout(60_000, async () => {
    const avro = await createCodec({ format: 'avro' }, sources())
    await registry!.stop()
    try {
      await avro.prepare([framed[0]!.payload])
      assert.unreachable('prepare should fail')
    } catch (error) {
      assert.instance(error, RecoveryError)
      assert.is((error as RecoveryError).code, 'REGISTRY_UNREACHABLE')
      assert.is((error as RecoveryError).exitCode, 5)
    }
  }),
)

test.run()
