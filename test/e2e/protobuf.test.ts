import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import protobuf from 'protobufjs'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { protobufOrder, protobufOrderDir, protobufOrderSources } from '../../src/fixtures/protobuf-orders.js'
import { startApicurioRegistry, type ApicurioRegistry } from '../support/apicurio-registry.js'
import { runCli } from '../support/cli.js'
import { createTopic, produce, readTopic, testBrokers, uniqueName, type TestRecord } from '../support/kafka.js'
import { dropTestTables, query, testTable, PG_URL } from '../support/postgres.js'
import { produceWithProtobufJava } from '../support/protobuf-oracle.js'
import { registerProtobufSchema } from '../support/protobuf-registry.js'
import { withTimeout } from '../support/timeout.js'

/**
 * A Protobuf topic end to end, with the schemas in a real registry (Apicurio, through its
 * Confluent API, orders.proto with common/money.proto as a schema reference) and the records
 * encoded and framed by this test with protobufjs directly (never with recover's encoder):
 * peek, replay into PostgreSQL (typed columns), replay into Kafka re-encoded with
 * --output-schema-id, quarantine with the classified reasons, audit compare.
 */
const dir = mkdtempSync(join(tmpdir(), 'recover-e2e-protobuf-'))
const GOOD = 24
let registry: ApicurioRegistry
let v1Id = 0
let v2Id = 0
let topic = ''
const v1Root = protobuf.parse(protobufOrderSources('v1').get('orders.proto')!, { keepCase: true }).root
let V1Order: protobuf.Type
let V2Order: protobuf.Type

function framed(id: number, indexes: number[], body: Uint8Array): Buffer {
  // Written here by the published wire format, not by recover: magic 0, id, zigzag indexes ([0] as the byte 0).
  const header = Buffer.alloc(5)
  header.writeUInt32BE(id, 1)
  const idx = indexes.length === 1 && indexes[0] === 0 ? [0] : [indexes.length * 2, ...indexes.map((i) => i * 2)]
  return Buffer.concat([header, Buffer.from(idx), body])
}

/** Pills, by offset after the good records: what recover must quarantine them as. */
const PILLS: Array<{ kind: string; value: () => Buffer }> = [
  { kind: 'protobuf-truncated', value: () => framed(v1Id, [0], encodedOrder(V1Order, 1).subarray(0, 30)) },
  { kind: 'protobuf-wrong-wire-type', value: () => framed(v1Id, [0], Buffer.from([0x1a, 0x02, 0x01, 0x02])) }, // amount_cents (int64) as length-delimited
  { kind: 'protobuf-unknown-message-index', value: () => framed(v1Id, [7], encodedOrder(V1Order, 2)) },
  { kind: 'protobuf-bad-magic', value: () => Buffer.from('{"orderId":"json"}') },
]

function encodedOrder(type: protobuf.Type, n: number): Buffer {
  const o = protobufOrder(n)
  // protobufjs's own object form (snake_case, longs as strings), not the JSON mapping: an independent path to the bytes.
  const message = type.fromObject({
    order_id: o.orderId,
    customer_id: o.customerId,
    amount_cents: o.amountCents,
    quantity: o.quantity,
    weight_kg: o.weightKg,
    gift: o.gift,
    status: o.status,
    placed_at: { seconds: Math.floor(Date.parse(String(o.placedAt)) / 1000), nanos: 0 },
    total: { currency_code: 'EUR', units: String(10 + n), nanos: 500_000_000 },
    items: [{ sku: `SKU-${n}`, quantity: 2 }],
    ...(type === V1Order ? { note: o.note } : { loyalty_tier: n % 2 ? 'gold' : '' }),
  })
  return Buffer.from(type.encode(message).finish())
}

test.before(async () => {
  registry = await startApicurioRegistry()
  const v1 = protobufOrderSources('v1')
  const v2 = protobufOrderSources('v2')
  const money = await registerProtobufSchema(registry.url, 'common/money.proto', v1.get('common/money.proto')!)
  const refs = [{ name: 'common/money.proto', subject: 'common/money.proto', version: money.version }]
  v1Id = (await registerProtobufSchema(registry.url, 'orders-value', v1.get('orders.proto')!, refs)).id
  v2Id = (await registerProtobufSchema(registry.url, 'orders-value', v2.get('orders.proto')!, refs)).id
  assert.is.not(v1Id, v2Id)
  const root1 = new protobuf.Root()
  for (const [name, text] of v1) if (name.startsWith('common/')) protobuf.parse(text, root1, { keepCase: true })
  const root2 = new protobuf.Root()
  for (const [name, text] of v2) if (name.startsWith('common/')) protobuf.parse(text, root2, { keepCase: true })
  for (const wkt of ['timestamp', 'wrappers', 'duration', 'struct', 'any']) {
    root1.addJSON(protobuf.common.get(`google/protobuf/${wkt}.proto`)!.nested as Record<string, protobuf.AnyNestedObject>)
    root2.addJSON(protobuf.common.get(`google/protobuf/${wkt}.proto`)!.nested as Record<string, protobuf.AnyNestedObject>)
  }
  protobuf.parse(v1.get('orders.proto')!, root1, { keepCase: true })
  protobuf.parse(v2.get('orders.proto')!, root2, { keepCase: true })
  V1Order = root1.resolveAll().lookupType('shop.Order')
  V2Order = root2.resolveAll().lookupType('shop.Order')
  assert.ok(v1Root)

  topic = uniqueName('e2e-protobuf')
  await createTopic(topic, 1)
  const records: TestRecord[] = []
  for (let n = 0; n < GOOD; n++) {
    const v2 = n % 4 === 3
    records.push({
      partition: 0,
      key: `ord-${n}`,
      value: framed(v2 ? v2Id : v1Id, [0], encodedOrder(v2 ? V2Order : V1Order, n)),
      timestampMs: Date.UTC(2018, 2, 21) + n,
    })
  }
  PILLS.forEach((p, i) => records.push({ partition: 0, key: `pill-${i}`, value: p.value(), timestampMs: Date.UTC(2018, 2, 21) + GOOD + i }))
  await produce(topic, records)
})

test.after(async () => {
  await registry?.stop()
  await dropTestTables()
})

interface PeekedValue {
  format: string
  value: any
  schemaId?: number
  kind?: string
}

test(
  'peek --value-format protobuf --registry shows canonical JSON, the schema id, and each malformed record with its kind',
  withTimeout(90_000, async () => {
    const run = await runCli([
      'peek',
      '--topic',
      topic,
      '--count',
      '100',
      '--key-format',
      'string',
      '--value-format',
      'protobuf',
      '--registry',
      registry.url,
      '--json',
    ])
    assert.is(run.exitCode, 0, run.stderr)
    const records = run.json.records as Array<{ offset: string; value: PeekedValue }>
    assert.is(records.length, GOOD + PILLS.length)
    for (let n = 0; n < GOOD; n++) {
      const { value } = records[n]!
      assert.is(value.format, 'protobuf', `${n}: ${JSON.stringify(value)}`)
      assert.is(value.schemaId, n % 4 === 3 ? v2Id : v1Id)
      assert.is(value.value.orderId, `ord-${String(n).padStart(6, '0')}`)
      assert.is(value.value.amountCents, String(9_007_199_254_740_993n + BigInt(n)))
      assert.is(value.value.placedAt, `2018-03-21T00:00:${String(n).padStart(2, '0')}Z`)
      assert.equal(value.value.total, { currencyCode: 'EUR', units: String(10 + n), nanos: 500_000_000 })
      assert.is(value.value.status, ['PLACED', 'PAID', 'SHIPPED'][n % 3])
      if (n % 4 === 3) assert.is(value.value.loyaltyTier, n % 2 ? 'gold' : '')
    }
    PILLS.forEach((p, i) => {
      const { value } = records[GOOD + i]!
      assert.is(value.format, 'bytes')
      assert.is(value.kind, p.kind)
    })
    // The human rendering shows the same values.
    const text = await runCli(['peek', '--topic', topic, '--count', '1', '--value-format', 'protobuf', '--registry', registry.url])
    assert.is(text.exitCode, 0, text.stderr)
    assert.match(text.stdout, /"amountCents":"9007199254740993"/)

    // find by a Protobuf field (an enum, by name): the SHIPPED orders, n % 3 === 2.
    const found = await runCli([
      'find',
      '--topic',
      topic,
      '--where',
      'value.status = SHIPPED',
      '--value-format',
      'protobuf',
      '--registry',
      registry.url,
      '--json',
    ])
    assert.is(found.exitCode, 0, found.stderr)
    const [p] = found.json.partitions
    assert.equal([p.matches, p.first.offset, p.last.offset], [GOOD / 3, '2', String(GOOD - 1)])

    // audit duplicates by a Protobuf field: each status is shared by a third of the orders; the pills are undecodable, by kind.
    const audit = await runCli([
      'audit',
      'duplicates',
      '--topic',
      topic,
      '--key',
      'status',
      '--value-format',
      'protobuf',
      '--registry',
      registry.url,
      '--db',
      join(dir, 'duplicates.duckdb'),
      '--json',
    ])
    assert.ok(audit.json, audit.stderr)
    assert.equal((audit.json.duplicates as Array<{ key: string; copies: number }>).map((g) => [g.key, g.copies]).sort(), [
      ['PAID', GOOD / 3],
      ['PLACED', GOOD / 3],
      ['SHIPPED', GOOD / 3],
    ])
    assert.is(audit.json.totals.undecodable, PILLS.length)
    assert.equal(Object.keys(audit.json.undecodableByKind).sort(), PILLS.map((p) => p.kind).sort())
  }),
)

test(
  'replay into PostgreSQL: typed columns (int64 exact as text), malformed records quarantined with their kinds; audit compare finds nothing lost',
  withTimeout(180_000, async () => {
    const table = testTable('e2e_protobuf')
    const quarantine = join(dir, 'pg.quarantine.jsonl')
    const sink = `${PG_URL}?table=${table}&key=orderId`
    const run = await runCli([
      'replay',
      '--topic',
      topic,
      '--key-format',
      'string',
      '--value-format',
      'protobuf',
      '--registry',
      registry.url,
      '--schema',
      join(protobufOrderDir('v2'), 'orders.proto'),
      '--sink',
      sink,
      '--create-table',
      '--quarantine',
      `file:${quarantine}`,
      '--max-failure-rate',
      '0',
      '--json',
    ])
    assert.is(run.exitCode, 0, run.stderr)
    const columns = await query<{ column_name: string; data_type: string }>(
      'SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1',
      [table],
    )
    const type = Object.fromEntries(columns.map((c) => [c.column_name, c.data_type]))
    assert.is(type.orderId, 'text')
    assert.is(type.amountCents, 'text')
    assert.is(type.quantity, 'bigint')
    assert.is(type.weightKg, 'double precision')
    assert.is(type.gift, 'boolean')
    assert.is(type.total, 'jsonb')
    assert.is(type.loyaltyTier, 'text')
    const rows = await query<{ orderId: string; amountCents: string; quantity: string; gift: boolean; loyaltyTier: string; units: string }>(
      `SELECT "orderId", "amountCents", quantity::text, gift, "loyaltyTier", total->>'units' AS units FROM ${table} ORDER BY "orderId"`,
    )
    assert.is(rows.length, GOOD)
    assert.equal(rows[7], { orderId: 'ord-000007', amountCents: '9007199254741000', quantity: '3', gift: false, loyaltyTier: 'gold', units: '17' })
    assert.is(rows[2]!.loyaltyTier, '', 'a v1 record read with the v2 reader has the default tier')
    const lines = readFileSync(quarantine, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { headers: Array<{ key: string; text?: string }> })
    const kinds = lines.map((l) => l.headers.find((h) => h.key === 'recover.error.kind')?.text)
    assert.equal(
      kinds,
      PILLS.map((p) => p.kind),
    )
    // quarantine show decodes the dead letter with the same codec and says why it failed.
    const shown = await runCli(['quarantine', 'show', '0@1', '--dlq', `file:${quarantine}`, '--value-format', 'protobuf', '--registry', registry.url])
    assert.is(shown.exitCode, 0, shown.stderr)
    assert.match(shown.stdout, /protobuf-wrong-wire-type: .*amount_cents/)
    // The default --value-format auto with --registry tells Protobuf by its schema id's type.
    const auto = await runCli(['quarantine', 'show', '0@1', '--dlq', `file:${quarantine}`, '--registry', registry.url, '--json'])
    assert.is(auto.exitCode, 0, auto.stderr)
    assert.equal([auto.json.value.kind, auto.json.value.schemaId], ['protobuf-wrong-wire-type', v1Id], JSON.stringify(auto.json.value))

    const audit = await runCli([
      'audit',
      'compare',
      '--topic',
      topic,
      '--key',
      'orderId',
      '--value-format',
      'protobuf',
      '--registry',
      registry.url,
      '--sink',
      sink,
      '--json',
    ])
    assert.ok(audit.json, audit.stderr)
    const summary = JSON.stringify(audit.json)
    assert.match(summary, /"lost":0/)
    assert.match(summary, /"protobuf-truncated"/)
  }),
)

test(
  'replay into Kafka re-encoded with --output-schema-id: the v2 framing, every record readable by protobufjs',
  withTimeout(180_000, async () => {
    const plugin = join(dir, 'bump.ts')
    writeFileSync(
      plugin,
      `import { defineTransform } from 'recover/plugin-api'
export default defineTransform({ name: 'bump', version: '1', transform: (r) => ({ ...r, value: { ...r.value, quantity: r.value.quantity + 100 } }) })
`,
    )
    const out = uniqueName('e2e-protobuf-out')
    await createTopic(out, 1)
    const run = await runCli([
      'replay',
      '--topic',
      topic,
      '--value-format',
      'protobuf',
      '--registry',
      registry.url,
      '--schema',
      join(protobufOrderDir('v2'), 'orders.proto'),
      '--output-schema-id',
      String(v2Id),
      '--transform',
      plugin,
      '--sink',
      `kafka:${out}`,
      '--quarantine',
      `file:${join(dir, 'kafka.quarantine.jsonl')}`,
      '--json',
    ])
    assert.is(run.exitCode, 0, run.stderr)
    const written = await readTopic(out)
    assert.is(written.length, GOOD)
    for (const [n, r] of written.entries()) {
      const v = r.value!
      assert.is(v[0], 0)
      assert.is(v.readUInt32BE(1), v2Id)
      assert.is(v[5], 0, 'message index [0] as the single byte 0')
      const order = V2Order.toObject(V2Order.decode(v.subarray(6)), { longs: String, enums: String }) as Record<string, unknown>
      assert.is(order.order_id, `ord-${String(n).padStart(6, '0')}`)
      assert.is(order.quantity, 1 + (n % 5) + 100)
      assert.is(order.amount_cents, String(9_007_199_254_740_993n + BigInt(n)))
      // v1's note (field 11, unknown to v2) is written back as it came.
      if (n % 4 !== 3 && n % 2 === 0) assert.ok(v.includes(Buffer.from('leave at the door')))
    }
  }),
)

test(
  'interop: records written by protobuf-java (DynamicMessage) and the Kafka Java client decode field for field, unknown field 99 shown',
  withTimeout(240_000, async () => {
    const javaTopic = uniqueName('e2e-protobuf-java')
    await createTopic(javaTopic, 1)
    const COUNT = 6
    await produceWithProtobufJava(testBrokers(), javaTopic, v1Id, COUNT)
    const run = await runCli(['peek', '--topic', javaTopic, '--count', '100', '--value-format', 'protobuf', '--registry', registry.url, '--json'])
    assert.is(run.exitCode, 0, run.stderr)
    const records = run.json.records as Array<{ value: PeekedValue }>
    assert.is(records.length, COUNT + 2)
    for (let n = 0; n < COUNT; n++) {
      const placed = new Date((1_521_590_400 + n) * 1000 + n).toISOString().replace('.000Z', 'Z')
      assert.equal(records[n]!.value.value, {
        orderId: `java-${n}`,
        customerId: `cust-${n % 7}`,
        amountCents: String(9_007_199_254_740_993n + BigInt(n) * 1_000_000_007n),
        quantity: -n,
        weightKg: n + 0.5,
        gift: n % 2 === 1,
        status: ['PLACED', 'PAID', 'SHIPPED'][n % 3],
        placedAt: placed,
        total: { currencyCode: 'USD', units: String(-5 - n), nanos: 0 },
        items: [{ sku: `J-${n}`, quantity: n }],
        note: '',
        coupon: n % 2 === 0 ? `JAVA${n}` : null,
        shipWithin: null,
        attributes: null,
        extra: null,
        signature: '',
        counters: {},
        $unknownFields: [{ number: 99, wireType: 'varint', value: String(7 * n) }],
      })
      assert.is(records[n]!.value.schemaId, v1Id)
    }
    assert.equal(records[COUNT]!.value.value, { orderId: 'java-0', amountCents: '-1' }, 'message index [1]: Refund')
    assert.equal(records[COUNT + 1]!.value.value, { sku: 'J-item', quantity: 0 }, 'message indexes [0, 0]: Order.Item')
  }),
)

const KEYS_PROTO = `syntax = "proto3";
package shop;
message OrderKey {
  string order_id = 1;
  int32 region = 2;
}
`

test(
  'keys of their own message: registry-framed (own subject) and raw with --key-message, in peek and replay; keys never take --message',
  withTimeout(180_000, async () => {
    // orders.proto, common/money.proto and keys.proto in one --schema directory.
    const protoDir = join(dir, 'keyed-protos')
    for (const [name, text] of [...protobufOrderSources('v1'), ['keys.proto', KEYS_PROTO] as const]) {
      mkdirSync(dirname(join(protoDir, name)), { recursive: true })
      writeFileSync(join(protoDir, name), text)
    }
    const OrderKey = protobuf.parse(KEYS_PROTO, { keepCase: true }).root.lookupType('shop.OrderKey')
    const keyBytes = (n: number) => Buffer.from(OrderKey.encode(OrderKey.fromObject({ order_id: `ord-${n}`, region: 10 + n })).finish())
    const framedTopic = uniqueName('e2e-protobuf-keys-framed')
    const rawTopic = uniqueName('e2e-protobuf-keys-raw')
    const keyId = (await registerProtobufSchema(registry.url, `${framedTopic}-key`, KEYS_PROTO)).id
    await createTopic(framedTopic, 1)
    await createTopic(rawTopic, 1)
    const N = 3
    const at = (n: number) => Date.UTC(2018, 2, 21) + n
    await produce(
      framedTopic,
      Array.from({ length: N }, (_, n) => ({
        partition: 0,
        key: framed(keyId, [0], keyBytes(n)),
        value: framed(v1Id, [0], encodedOrder(V1Order, n)),
        timestampMs: at(n),
      })),
    )
    await produce(
      rawTopic,
      Array.from({ length: N }, (_, n) => ({ partition: 0, key: keyBytes(n), value: encodedOrder(V1Order, n), timestampMs: at(n) })),
    )
    const expectedKey = (n: number) => ({ orderId: `ord-${n}`, region: 10 + n })
    const proto = ['--key-format', 'protobuf', '--value-format', 'protobuf']

    // Framed: the key's schema id picks its message, even beside --schema and the value's --message.
    const framedPeek = await runCli([
      'peek',
      '--topic',
      framedTopic,
      ...proto,
      '--registry',
      registry.url,
      '--schema',
      protoDir,
      '--message',
      'shop.Order',
      '--json',
    ])
    assert.is(framedPeek.exitCode, 0, framedPeek.stderr)
    const framedRecords = framedPeek.json.records as Array<{ key: PeekedValue; value: PeekedValue }>
    assert.is(framedRecords.length, N)
    framedRecords.forEach((r, n) => {
      assert.is(r.key.format, 'protobuf', JSON.stringify(r.key))
      assert.is(r.key.schemaId, keyId)
      assert.equal(r.key.value, expectedKey(n))
      assert.is(r.value.value.orderId, `ord-${String(n).padStart(6, '0')}`)
    })
    // Raw: --key-message names the key's message in the same files as the value's --message.
    const raw = [...proto, '--schema', protoDir, '--message', 'shop.Order', '--key-message', 'OrderKey']
    const rawPeek = await runCli(['peek', '--topic', rawTopic, ...raw, '--json'])
    assert.is(rawPeek.exitCode, 0, rawPeek.stderr)
    const rawRecords = rawPeek.json.records as Array<{ key: PeekedValue; value: PeekedValue }>
    assert.equal(
      rawRecords.map((r) => [r.key.format, r.key.value]),
      Array.from({ length: N }, (_, n) => ['protobuf', expectedKey(n)]),
    )

    // Replay: the transform sees the decoded key (and writes it into the value's note).
    const plugin = join(dir, 'key-into-note.ts')
    writeFileSync(
      plugin,
      `import { defineTransform } from 'recover/plugin-api'
export default defineTransform({ name: 'key-into-note', version: '1', transform: (r) => {
  if (r.key.orderId === 'ord-1') throw new Error('refused for the quarantine')
  return { ...r, value: { ...r.value, note: r.key.orderId + '@' + r.key.region } }
} })
`,
    )
    for (const [source, decoding] of [
      [framedTopic, [...proto, '--registry', registry.url]],
      [rawTopic, raw],
    ] as const) {
      const table = testTable('e2e_protobuf_keys')
      const quarantine = join(dir, `${table}.quarantine.jsonl`)
      const run = await runCli([
        'replay',
        '--topic',
        source,
        ...decoding,
        '--transform',
        plugin,
        '--sink',
        `${PG_URL}?table=${table}&key=orderId`,
        '--create-table',
        '--quarantine',
        `file:${quarantine}`,
        '--max-failure-rate',
        '0',
        '--json',
      ])
      assert.is(run.exitCode, 0, run.stderr)
      assert.is(run.json.totals.quarantined, 1, `${source}: ${JSON.stringify(run.json.totals)}`)
      const rows = await query<{ note: string }>(`SELECT note FROM ${table} ORDER BY "orderId"`)
      assert.equal(
        rows.map((r) => r.note),
        ['ord-0@10', 'ord-2@12'],
        source,
      )
      if (source !== framedTopic) continue
      // quarantine show with the default --key-format/--value-format auto: a registry id of type PROTOBUF reads as Protobuf.
      const shown = await runCli(['quarantine', 'show', '0@0', '--dlq', `file:${quarantine}`, '--registry', registry.url, '--json'])
      assert.is(shown.exitCode, 0, shown.stderr)
      const { key, value } = shown.json as { key: PeekedValue; value: PeekedValue }
      assert.equal([key.format, key.schemaId, key.value], ['protobuf', keyId, expectedKey(1)])
      assert.equal([value.format, value.schemaId], ['protobuf', v1Id], JSON.stringify(value))
      assert.is(value.value.orderId, 'ord-000001')
      assert.is(value.value.amountCents, String(9_007_199_254_740_993n + 1n))
    }
  }),
)

test.run()
