import { createServer } from 'node:net'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { RecoveryError } from '../../src/errors.js'
import { createCodec, openSchemaSources, type SchemaSourceOptions } from '../../src/codecs/create-codecs.js'
import { DecodeError } from '../../src/codecs/decode-error.js'
import { decodeBatch, tryDecode } from '../../src/codecs/decode-outcome.js'
import { encodeConfluent, findOrderSchemaDir, generateIncident, loadOrderSchemas } from '../../src/fixtures/index.js'
import { startFakeRegistry, type FakeRegistry } from '../support/fake-schema-registry.js'
import { withTimeout } from '../support/timeout.js'

const SCHEMA_DIR = findOrderSchemaDir()
const schemas = loadOrderSchemas()
const V1 = schemas.v1.schema({ exportAttrs: true })
const V2 = schemas.v2.schema({ exportAttrs: true })
const AUTH = { username: 'reader', password: 's3cret-Pa55' }
const FAST = { timeoutMs: 500, retries: 2, retryDelayMs: 10 }

const incident = [...generateIncident({ count: 300, duplicates: { identical: 0, changed: 0 } }).records]
const orders = incident.filter((r) => r.kind === 'order')

async function withRegistry(work: (registry: FakeRegistry) => Promise<void>, auth = AUTH): Promise<void> {
  const registry = await startFakeRegistry({
    ids: {
      1: { schema: V1 },
      2: { schema: V2 },
      5: { schema: 'string', schemaType: 'PROTOBUF' },
      7: {
        schema: { type: 'record', name: 'Invoice', namespace: 'com.acme', fields: [{ name: 'total', type: 'com.acme.Money' }] },
        references: [{ name: 'com.acme.Money', subject: 'money-value', version: 1 }],
      },
      8: {
        schema: { type: 'record', name: 'Broken', fields: [{ name: 'x', type: 'com.acme.Nowhere' }] },
        references: [{ name: 'com.acme.Nowhere', subject: 'nowhere-value', version: 3 }],
      },
    },
    subjects: { 'money-value': { 1: { id: 6, schema: { type: 'record', name: 'Money', namespace: 'com.acme', fields: [{ name: 'cents', type: 'long' }] } } } },
    auth,
  })
  try {
    await work(registry)
  } finally {
    await registry.close()
  }
}

function sources(options: SchemaSourceOptions) {
  return openSchemaSources({ registryOptions: FAST, ...options })
}

async function rejection(work: () => Promise<unknown>): Promise<RecoveryError> {
  try {
    await work()
  } catch (error) {
    assert.instance(error, RecoveryError)
    return error as RecoveryError
  }
  assert.unreachable('expected a RecoveryError')
  throw new Error('unreachable')
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer()
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

test(
  'Confluent-framed records decode with schemas from the registry, each id fetched once',
  withTimeout(10_000, async () => {
    await withRegistry(async (registry) => {
      const avro = await createCodec({ format: 'avro' }, sources({ registry: registry.urlWithAuth }))
      const outcomes = await decodeBatch(
        avro,
        orders.map((r) => r.value),
      )
      assert.ok(outcomes.every((o) => o.ok))
      outcomes.forEach((o, i) => {
        const id = orders[i]!.value!.readUInt32BE(1)
        assert.ok(o.ok && 'customer_id' in (o.value as object) === (id === 1))
      })
      // A second batch asks nothing again.
      await avro.prepare(orders.map((r) => r.value))
      assert.equal([...registry.requests].sort(), ['/schemas/ids/1', '/schemas/ids/2'])
    })
  }),
)

test(
  'registry schemas resolve to a local reader schema (v1 -> v2)',
  withTimeout(10_000, async () => {
    await withRegistry(async (registry) => {
      const avro = await createCodec(
        { format: 'avro' },
        sources({ registry: registry.url, registryUserInfo: `${AUTH.username}:${AUTH.password}`, readerSchema: join(SCHEMA_DIR, 'orders-v2.avsc') }),
      )
      const outcomes = await decodeBatch(
        avro,
        orders.map((r) => r.value),
      )
      for (const o of outcomes) {
        assert.ok(o.ok)
        const value = o.value as Record<string, unknown>
        assert.ok('customer' in value && !('customer_id' in value))
        assert.ok(typeof value.channel === 'string')
      }
    })
  }),
)

test(
  "an id the registry does not have is the record's fault: avro-unknown-schema-id, asked once",
  withTimeout(10_000, async () => {
    await withRegistry(async (registry) => {
      const avro = await createCodec({ format: 'avro' }, sources({ registry: registry.urlWithAuth }))
      const payload = encodeConfluent(schemas.v1, 42, {
        order_id: 'o',
        customer_id: 'c',
        amount_cents: 1,
        currency: 'EUR',
        status: 'PAID',
        created_at: 0,
        items: [],
      })
      const [a, b] = await decodeBatch(avro, [payload, payload])
      assert.ok(a && !a.ok && b && !b.ok)
      if (a.ok || b.ok) return
      assert.is(a.failure.kind, 'avro-unknown-schema-id')
      assert.is(a.failure.schemaId, 42)
      assert.match(a.failure.message, /no schema with id 42/)
      await avro.prepare([payload])
      assert.equal(registry.requests, ['/schemas/ids/42'])
    })
  }),
)

test(
  'schema references are fetched by subject and version; a missing one fails only its records',
  withTimeout(10_000, async () => {
    await withRegistry(async (registry) => {
      const avro = await createCodec({ format: 'avro', encodeSchemaId: 7 }, sources({ registry: registry.urlWithAuth }))
      const bytes = avro.encode({ total: { cents: 1234 } })
      assert.is(bytes.readUInt32BE(1), 7)
      assert.equal(JSON.parse(JSON.stringify(avro.decode(bytes))), { total: { cents: 1234 } })
      assert.ok(registry.requests.includes('/subjects/money-value/versions/1'))
      const broken = Buffer.from([0, 0, 0, 0, 8, 0])
      const [outcome] = await decodeBatch(avro, [broken])
      assert.ok(outcome && !outcome.ok)
      if (!outcome.ok) {
        assert.is(outcome.failure.kind, 'schema-resolution')
        assert.match(outcome.failure.message, /nowhere-value/)
      }
    })
  }),
)

test(
  'a schema that is not Avro fails its records as schema-resolution',
  withTimeout(10_000, async () => {
    await withRegistry(async (registry) => {
      const avro = await createCodec({ format: 'avro' }, sources({ registry: registry.urlWithAuth }))
      const [outcome] = await decodeBatch(avro, [Buffer.from([0, 0, 0, 0, 5, 2, 65])])
      assert.ok(outcome && !outcome.ok && outcome.failure.kind === 'schema-resolution')
      if (!outcome.ok) assert.match(outcome.failure.message, /PROTOBUF/)
    })
  }),
)

test(
  'wrong or missing credentials are REGISTRY_AUTH_FAILED (environment, exit 5), without the password',
  withTimeout(10_000, async () => {
    await withRegistry(async (registry) => {
      const payload = orders[0]!.value!
      const wrong = await createCodec({ format: 'avro' }, sources({ registry: registry.url, registryUserInfo: `${AUTH.username}:not-it-at-all` }))
      const error = await rejection(() => wrong.prepare([payload]))
      assert.is(error.code, 'REGISTRY_AUTH_FAILED')
      assert.is(error.exitCode, 5)
      assert.not.match(error.message, /not-it-at-all/)
      const none = await createCodec({ format: 'avro' }, sources({ registry: registry.url }))
      assert.is((await rejection(() => none.prepare([payload]))).code, 'REGISTRY_AUTH_FAILED')
    })
  }),
)

test(
  'an unreachable registry is an environment error after retries, never a record failure',
  withTimeout(10_000, async () => {
    const port = await freePort()
    const avro = await createCodec({ format: 'avro' }, sources({ registry: `http://${AUTH.username}:${AUTH.password}@127.0.0.1:${port}` }))
    const error = await rejection(() => decodeBatch(avro, [orders[0]!.value]))
    assert.is(error.code, 'REGISTRY_UNREACHABLE')
    assert.is(error.category, 'environment')
    assert.is(error.exitCode, 5)
    assert.is(error.details.kind, 'registry-unreachable')
    assert.is(error.details.stage, 'decode')
    assert.is(error.details.attempts, FAST.retries + 1)
    assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}`))
    assert.match(error.message, /ECONNREFUSED/)
    assert.not.match(JSON.stringify(error.toJSON()), new RegExp(AUTH.password))
    // decode() without a successful prepare() is a bug in the caller, not a poison record.
    assert.not.instance(
      (() => {
        try {
          avro.decode(orders[0]!.value!)
        } catch (e) {
          return e
        }
      })(),
      DecodeError,
    )
  }),
)

test(
  'a registry answering 503 is retried, then REGISTRY_UNREACHABLE; once it recovers the same codec works',
  withTimeout(10_000, async () => {
    await withRegistry(async (registry) => {
      registry.failWith = 503
      const avro = await createCodec({ format: 'avro' }, sources({ registry: registry.urlWithAuth }))
      const payload = orders[0]!.value!
      const error = await rejection(() => avro.prepare([payload]))
      assert.is(error.code, 'REGISTRY_UNREACHABLE')
      assert.match(error.message, /HTTP 503/)
      assert.is(registry.requests.length, FAST.retries + 1)
      registry.failWith = undefined
      await avro.prepare([payload])
      assert.ok(tryDecode(avro, payload).ok)
    })
  }),
)

test(
  'a registry that never answers times out into REGISTRY_UNREACHABLE instead of hanging',
  withTimeout(10_000, async () => {
    await withRegistry(async (registry) => {
      registry.silent = true
      const avro = await createCodec(
        { format: 'avro' },
        openSchemaSources({ registry: registry.urlWithAuth, registryOptions: { timeoutMs: 200, retries: 1, retryDelayMs: 10 } }),
      )
      const error = await rejection(() => avro.prepare([orders[0]!.value]))
      assert.is(error.code, 'REGISTRY_UNREACHABLE')
      assert.match(error.message, /no answer within 200 ms/)
    })
  }),
)

test(
  'an address that is not a registry is REGISTRY_ERROR; a bad URL is a usage error',
  withTimeout(10_000, async () => {
    await withRegistry(async (registry) => {
      const avro = await createCodec({ format: 'avro' }, sources({ registry: `${registry.urlWithAuth}/not-the-registry` }))
      const error = await rejection(() => avro.prepare([orders[0]!.value]))
      assert.is(error.code, 'REGISTRY_ERROR')
      assert.is(error.exitCode, 5)
    })
    assert.throws(
      () => openSchemaSources({ registry: 'not a url' }),
      (e: unknown) => e instanceof RecoveryError && e.code === 'USAGE',
    )
    assert.throws(
      () => openSchemaSources({ registry: 'ftp://host' }),
      (e: unknown) => e instanceof RecoveryError && e.code === 'USAGE',
    )
  }),
)

test(
  'ids.json answers first and the registry only for ids it does not map',
  withTimeout(10_000, async () => {
    await withRegistry(async (registry) => {
      const avro = await createCodec({ format: 'avro' }, sources({ schema: SCHEMA_DIR, registry: registry.urlWithAuth }))
      await decodeBatch(
        avro,
        orders.map((r) => r.value),
      )
      assert.equal(registry.requests, [])
      const [outcome] = await decodeBatch(avro, [Buffer.from([0, 0, 0, 0, 42, 0])])
      assert.ok(outcome && !outcome.ok && outcome.failure.kind === 'avro-unknown-schema-id')
      assert.equal(registry.requests, ['/schemas/ids/42'])
    })
  }),
)

test.run()
