import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { runCli } from '../support/cli.js'
import { startApicurioRegistry, type ApicurioRegistry } from '../support/apicurio-registry.js'
import { createTopic, produce, readTopic, uniqueName, type TestRecord } from '../support/kafka.js'
import { repoRoot } from '../support/paths.js'
import { dropTestTables, query, PG_URL, testTable } from '../support/postgres.js'
import { withTimeout } from '../support/timeout.js'

/**
 * A JSON Schema topic through every command, against a real Confluent-API registry (Apicurio,
 * in memory): the test registers the schemas (v1 with a schema reference, v2 adding an
 * optional field), frames the records itself by the published Confluent wire format (magic
 * byte 0, 4-byte big-endian schema id, JSON), and recover peeks, replays into PostgreSQL with
 * typed columns and into Kafka re-encoded, quarantines the bad records, shows and audits them.
 */
const dir = mkdtempSync(join(tmpdir(), 'recover-e2e-jsonschema-'))
const T = Date.parse('2026-12-07T08:00:00Z')

const ADDRESS = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  properties: { city: { type: 'string' }, zip: { type: 'string', pattern: '^[0-9]{5}$' } },
  required: ['city'],
}
const ORDER_V1 = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'Order',
  type: 'object',
  properties: {
    id: { type: 'string' },
    amount: { type: 'number', minimum: 0 },
    qty: { type: 'integer', minimum: 1 },
    paid: { type: 'boolean' },
    placedAt: { type: 'string', format: 'date-time' },
    shipTo: { $ref: 'address.json' },
  },
  required: ['id', 'amount', 'qty'],
}
const ORDER_V2 = { ...ORDER_V1, properties: { ...ORDER_V1.properties, currency: { type: 'string', default: 'EUR' } } }
/** Where the re-encoded topic goes: currency is required there. */
const ORDER_STRICT = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  properties: { currency: { type: 'string' } },
  required: ['id', 'currency'],
}

let registry: ApicurioRegistry | undefined
let topic = ''
const ids = { address: 0, v1: 0, v2: 0, strict: 0, avro: 0 }
const ORDERS = 12

async function register(subject: string, schema: unknown, references: unknown[] = [], schemaType = 'JSON'): Promise<number> {
  const res = await fetch(`${registry!.url}/subjects/${encodeURIComponent(subject)}/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schemaType, schema: JSON.stringify(schema), references }),
  })
  const body = (await res.json()) as { id?: number }
  if (!res.ok || typeof body.id !== 'number') throw new Error(`registering ${subject}: HTTP ${res.status} ${JSON.stringify(body)}`)
  return body.id
}

/** The Confluent wire format, written here rather than with recover's encoder. */
function confluent(schemaId: number, json: string | Buffer): Buffer {
  const header = Buffer.alloc(5)
  header.writeUInt32BE(schemaId, 1)
  return Buffer.concat([header, typeof json === 'string' ? Buffer.from(json, 'utf8') : json])
}

const order = (n: number, version: 1 | 2) => ({
  id: `o-${n}`,
  amount: n * 1.25,
  qty: n,
  paid: n % 2 === 0,
  placedAt: new Date(T + n * 60_000).toISOString(),
  shipTo: { city: 'Lyon', zip: '69001' },
  ...(version === 2 ? { currency: 'USD' } : {}),
})

/** Offsets of the bad records, and what each must be classified as. */
const BAD = new Map<string, { kind: string; field?: string; rule?: string }>()

test.before(
  withTimeout(180_000, async () => {
    registry = await startApicurioRegistry()
    topic = uniqueName('e2e-jsonschema')
    ids.address = await register(`${topic}-address`, ADDRESS)
    const reference = [{ name: 'address.json', subject: `${topic}-address`, version: 1 }]
    ids.v1 = await register(`${topic}-value`, ORDER_V1, reference)
    ids.v2 = await register(`${topic}-value`, ORDER_V2, reference)
    ids.strict = await register(`${topic}-strict-value`, ORDER_STRICT)
    ids.avro = await register(`${topic}-avro-value`, { type: 'record', name: 'Ping', fields: [{ name: 'seq', type: 'int' }] }, [], 'AVRO')
    await createTopic(topic, 1)
    const records: TestRecord[] = []
    for (let n = 1; n <= ORDERS; n++) {
      const version = n <= ORDERS / 2 ? 1 : 2
      records.push({ partition: 0, key: `o-${n}`, value: confluent(version === 1 ? ids.v1 : ids.v2, JSON.stringify(order(n, version))), timestampMs: T + n })
    }
    const bad: Array<[Buffer, { kind: string; field?: string; rule?: string }]> = [
      [confluent(ids.v2, JSON.stringify({ ...order(90, 2), amount: -5 })), { kind: 'json-schema-invalid', field: '/amount', rule: 'minimum' }],
      [confluent(ids.v1, JSON.stringify({ ...order(91, 1), shipTo: { zip: '1' } })), { kind: 'json-schema-invalid', field: '/shipTo/city', rule: 'required' }],
      [confluent(ids.v1, '{"id": "o-92", "amount": '), { kind: 'json-schema-not-json' }],
      [confluent(424242, JSON.stringify(order(93, 1))), { kind: 'json-schema-unknown-schema-id' }],
      [Buffer.from(JSON.stringify(order(94, 1))), { kind: 'json-schema-bad-magic' }],
      // A record framed with an Avro schema's id: not a JSON Schema, so its schema cannot be used.
      [confluent(ids.avro, JSON.stringify(order(95, 1))), { kind: 'schema-resolution' }],
    ]
    bad.forEach(([value, expected], i) => {
      BAD.set(String(ORDERS + i), expected)
      records.push({ partition: 0, key: `bad-${i}`, value, timestampMs: T + ORDERS + i + 1 })
    })
    // A duplicate of o-3 (same key, same value) for the audit.
    records.push({ ...records[2]!, timestampMs: T + 100 })
    await produce(topic, records)
  }),
)

test.after(async () => {
  await registry?.stop()
  await dropTestTables()
})

const decoding = () => ['--value-format', 'json-schema', '--registry', registry!.url]

interface PeekedJson {
  offset: string
  value: { format: string; value: any; schemaId?: number; kind?: string; error?: string }
}

test(
  'peek decodes v1 and v2 records with their schema ids, and shows each bad record with its kind',
  withTimeout(60_000, async () => {
    const run = await runCli(['peek', '--topic', topic, '--at', 'earliest', '--count', '50', ...decoding(), '--json'])
    assert.is(run.exitCode, 0, run.stderr)
    const records = run.json.records as PeekedJson[]
    assert.is(records.length, ORDERS + BAD.size + 1)
    for (const r of records) {
      const bad = BAD.get(r.offset)
      if (bad) {
        assert.is(r.value.format, 'bytes', r.offset)
        assert.is(r.value.kind, bad.kind, r.value.error)
        if (bad.field) assert.ok(r.value.error!.includes(`${bad.field} `) && r.value.error!.includes(`rule ${bad.rule}`), r.value.error)
        continue
      }
      assert.is(r.value.format, 'json-schema', `${r.offset}: ${r.value.error}`)
      const n = Number(r.value.value.id.slice(2))
      assert.is(r.value.schemaId, n <= ORDERS / 2 ? ids.v1 : ids.v2)
      assert.equal(r.value.value, order(n, n <= ORDERS / 2 ? 1 : 2))
    }
    // auto (the default) with a registry: framed records whose schema is a JSON Schema are shown as json-schema.
    const auto = await runCli(['peek', '--topic', topic, '--at', 'earliest', '--count', '2', '--registry', registry!.url, '--json'])
    assert.is(auto.exitCode, 0, auto.stderr)
    assert.equal(
      (auto.json.records as PeekedJson[]).map((r) => [r.value.format, r.value.schemaId, r.value.value.id]),
      [
        ['json-schema', ids.v1, 'o-1'],
        ['json-schema', ids.v1, 'o-2'],
      ],
    )
    const table = await runCli(['peek', '--topic', topic, '--at', 'earliest', '--count', '50', ...decoding()])
    assert.is(table.exitCode, 0, table.stderr)
    assert.match(table.stdout, '(json-schema-invalid)')
  }),
)

test(
  'evolution: with --schema v2 (the reader) v1 records get the new field from its default',
  withTimeout(60_000, async () => {
    const reader = join(dir, 'order-v2.schema.json')
    // The file form of v2 inlines the referenced address schema.
    writeFileSync(reader, JSON.stringify({ ...ORDER_V2, properties: { ...ORDER_V2.properties, shipTo: ADDRESS } }))
    const run = await runCli(['peek', '--topic', topic, '--at', 'earliest', '--count', '3', ...decoding(), '--schema', reader, '--json'])
    assert.is(run.exitCode, 0, run.stderr)
    for (const r of run.json.records as PeekedJson[]) {
      assert.is(r.value.schemaId, ids.v1)
      assert.is(r.value.value.currency, 'EUR')
    }
  }),
)

test(
  'replay into PostgreSQL with typed columns; the bad records go to quarantine with path and rule, and quarantine show displays them',
  withTimeout(120_000, async () => {
    const t = testTable('e2e_jsonschema')
    const quarantine = `${topic}.q`
    const run = await runCli(
      [
        'replay',
        '--topic',
        topic,
        ...decoding(),
        '--sink',
        `${PG_URL}?table=${t}&key=id`,
        '--create-table',
        '--quarantine',
        `kafka:${quarantine}`,
        '--checkpoint',
        join(dir, `${t}.json`),
        '--max-failure-rate',
        '0',
        '--json',
      ],
      { cwd: dir },
    )
    assert.is(run.exitCode, 0, run.stderr)
    assert.is(run.json.totals.quarantined, BAD.size)
    const columns = await query<{ column_name: string; data_type: string }>(
      'SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1',
      [t],
    )
    const type = Object.fromEntries(columns.map((c) => [c.column_name, c.data_type]))
    // The columns the schemas declare: integer bigint, number double, date-time timestamptz, object jsonb; currency (v2) too.
    assert.equal(type, {
      id: 'text',
      amount: 'double precision',
      qty: 'bigint',
      paid: 'boolean',
      placedAt: 'timestamp with time zone',
      shipTo: 'jsonb',
      currency: 'text',
      source_topic: 'text',
      source_partition: 'bigint',
      source_offset: 'bigint',
    })
    const rows = await query<{ id: string; amount: string; qty: number; paid: boolean; placed: string; city: string; currency: string | null }>(
      `SELECT id, amount::text, qty, paid, to_char("placedAt" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') AS placed, "shipTo"->>'city' AS city, currency FROM ${t} ORDER BY qty`,
    )
    assert.is(rows.length, ORDERS)
    for (const row of rows) {
      const n = row.qty
      const expected = order(n, n <= ORDERS / 2 ? 1 : 2)
      assert.equal(
        { id: row.id, amount: Number(row.amount), paid: row.paid, placed: `${row.placed}.000Z`, city: row.city, currency: row.currency },
        { id: expected.id, amount: expected.amount, paid: expected.paid, placed: expected.placedAt, city: 'Lyon', currency: n <= ORDERS / 2 ? null : 'USD' },
      )
    }

    // audit compare against the table just written (its provenance columns say which offsets it holds): nothing lost; the bad records are undecodable, by kind.
    const compare = await runCli(['audit', 'compare', '--topic', topic, '--key', 'id', ...decoding(), '--sink', `${PG_URL}?table=${t}&key=id`, '--json'])
    assert.ok(compare.json, compare.stderr)
    const totals = compare.json.totals
    assert.equal([totals.sourceKeys, totals.sinkKeys, totals.missing, totals.onlyInSink, totals.lost, totals.undecodable], [ORDERS, ORDERS, 0, 0, 0, BAD.size])
    assert.equal(
      (compare.json.undecodable as Array<{ offset: string; kind: string }>).map((u) => [u.offset, u.kind]),
      [...BAD].map(([offset, b]) => [offset, b.kind]),
    )

    const list = await runCli(['quarantine', 'list', '--dlq', `kafka:${quarantine}`, '--records', '20', '--json'])
    assert.is(list.exitCode, 0, list.stderr)
    const entries = list.json.records as Array<{ id: string; key: string; offset: string }>
    assert.is(entries.length, BAD.size)
    const invalid = entries.find((e) => e.key === 'bad-0')!
    const shown = await runCli(['quarantine', 'show', invalid.id, '--dlq', `kafka:${quarantine}`, ...decoding(), '--json'])
    assert.is(shown.exitCode, 0, shown.stderr)
    const text = JSON.stringify(shown.json)
    assert.match(text, 'json-schema-invalid')
    assert.match(text, '/amount must be >= 0 (rule minimum')
    // The default --value-format auto with --registry: the dead letter is still JSON, shown with why it is invalid.
    const auto = await runCli(['quarantine', 'show', invalid.id, '--dlq', `kafka:${quarantine}`, '--registry', registry!.url, '--json'])
    assert.is(auto.exitCode, 0, auto.stderr)
    const autoValue = auto.json.value as PeekedJson['value']
    assert.equal([autoValue.format, autoValue.kind, autoValue.schemaId], ['json', 'json-schema-invalid', ids.v2], JSON.stringify(autoValue))
    assert.equal(autoValue.value, { ...order(90, 2), amount: -5 })
    const human = await runCli(['quarantine', 'show', invalid.id, '--dlq', `kafka:${quarantine}`, ...decoding()])
    assert.is(human.exitCode, 0, human.stderr)
    assert.match(human.stdout, 'rule minimum')
  }),
)

test(
  'replay into Kafka re-encoded with --output-schema-id: valid values framed with that id, values it rejects quarantined',
  withTimeout(120_000, async () => {
    const sink = uniqueName('e2e-jsonschema-out')
    await createTopic(sink, 1)
    const quarantine = `${topic}.q-out`
    const run = await runCli(
      [
        'replay',
        '--topic',
        topic,
        ...decoding(),
        // Values are re-encoded when a transform runs (else the bytes are copied as read); this
        // one changes nothing in records without its app-version header.
        '--transform',
        join(repoRoot(), 'plugins', 'fix-bad-deploy.ts'),
        '--output-schema-id',
        String(ids.strict),
        '--sink',
        `kafka:${sink}`,
        '--quarantine',
        `kafka:${quarantine}`,
        '--checkpoint',
        join(dir, `${sink}.json`),
        '--max-failure-rate',
        '0',
        '--json',
      ],
      { cwd: dir },
    )
    assert.is(run.exitCode, 0, run.stderr)
    const written = await readTopic(sink)
    // v2 orders carry currency; v1 orders (and the duplicate of o-3) do not fit the strict schema.
    assert.is(written.length, ORDERS / 2)
    for (const r of written) {
      assert.is(r.value![0], 0)
      assert.is(r.value!.readUInt32BE(1), ids.strict)
      assert.is(JSON.parse(r.value!.subarray(5).toString('utf8')).currency, 'USD')
    }
    assert.is(run.json.totals.quarantined, BAD.size + ORDERS / 2 + 1)
    const quarantined = await readTopic(quarantine)
    const reasons = quarantined.map((r) => r.headers.map((h) => `${h.key}=${h.value?.toString() ?? ''}`).join('\n')).join('\n')
    assert.match(reasons, 'json-schema-invalid-value')
    assert.match(reasons, '/currency is required and missing (rule required')
  }),
)

test(
  'find by a JSON Schema value field: the v2 orders (currency USD), first and last',
  withTimeout(60_000, async () => {
    const run = await runCli(['find', '--topic', topic, '--where', 'value.currency = USD', ...decoding(), '--json'])
    assert.is(run.exitCode, 0, run.stderr)
    const [p] = run.json.partitions
    assert.is(p.matches, ORDERS / 2)
    assert.is(p.first.offset, String(ORDERS / 2))
    assert.is(p.last.offset, String(ORDERS - 1))
  }),
)

test(
  'audit duplicates by a JSON Schema field finds the copy, and lists the undecodable records by kind',
  withTimeout(90_000, async () => {
    const run = await runCli(['audit', 'duplicates', '--topic', topic, '--key', 'id', ...decoding(), '--db', join(dir, 'audit.duckdb'), '--json'])
    assert.is(run.exitCode, 0, run.stderr)
    assert.equal(
      run.json.duplicates.map((g: { key: string; copies: number }) => [g.key, g.copies]),
      [['o-3', 2]],
    )
    assert.is(run.json.totals.undecodable, BAD.size)
    assert.equal(Object.keys(run.json.undecodableByKind).sort(), [...new Set([...BAD.values()].map((b) => b.kind))].sort())
  }),
)

test(
  "keys: plain JSON keys validated by --key-schema (not the values' --schema), framed keys by their own registry id; in peek and replay",
  withTimeout(120_000, async () => {
    const KEY = {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      properties: { region: { type: 'string', enum: ['eu', 'us'] }, seq: { type: 'integer' } },
      required: ['region', 'seq'],
    }
    const keyFile = join(dir, 'key.schema.json')
    writeFileSync(keyFile, JSON.stringify(KEY))
    const valueFile = join(dir, 'order-v1.schema.json')
    writeFileSync(valueFile, JSON.stringify({ ...ORDER_V1, properties: { ...ORDER_V1.properties, shipTo: ADDRESS } }))
    const keyed = uniqueName('e2e-jsonschema-keys')
    const keyId = await register(`${keyed}-key`, KEY)
    await createTopic(keyed, 1)
    const keys = [
      Buffer.from(JSON.stringify({ region: 'eu', seq: 1 })),
      confluent(keyId, JSON.stringify({ region: 'us', seq: 2 })),
      Buffer.from(JSON.stringify({ region: 'mars', seq: 3 })), // breaks the key schema
    ]
    await produce(
      keyed,
      keys.map((key, i) => ({ partition: 0, key, value: Buffer.from(JSON.stringify(order(i + 1, 1))), timestampMs: T + i })),
    )
    const flags = ['--key-format', 'json-schema', '--key-schema', keyFile, '--value-format', 'json-schema', '--schema', valueFile, '--registry', registry!.url]
    const peek = await runCli(['peek', '--topic', keyed, ...flags, '--json'])
    assert.is(peek.exitCode, 0, peek.stderr)
    const records = peek.json.records as Array<{ key: PeekedJson['value']; value: PeekedJson['value'] }>
    assert.equal(
      records.map((r) => [r.key.format, r.key.format === 'bytes' ? r.key.kind : r.key.value, r.value.format]),
      [
        ['json-schema', { region: 'eu', seq: 1 }, 'json-schema'],
        ['json-schema', { region: 'us', seq: 2 }, 'json-schema'],
        ['bytes', 'json-schema-invalid', 'json-schema'],
      ],
    )
    assert.is(records[1]!.key.schemaId, keyId)
    assert.match(records[2]!.key.error!, '/region must be equal to one of the allowed values')

    const quarantine = join(dir, 'keys.quarantine.jsonl')
    const run = await runCli(
      [
        'replay',
        '--topic',
        keyed,
        ...flags,
        '--sink',
        `file:${join(dir, 'keys.out.jsonl')}`,
        '--quarantine',
        `file:${quarantine}`,
        '--max-failure-rate',
        '0',
        '--json',
      ],
      { cwd: dir },
    )
    assert.is(run.exitCode, 0, run.stderr)
    assert.is(run.json.totals.quarantined, 1)
    const dead = JSON.parse(readFileSync(quarantine, 'utf8').trim()) as { headers: Array<{ key: string; text?: string }> }
    assert.is(dead.headers.find((h) => h.key === 'recover.error.side')?.text, 'key')
    assert.is(dead.headers.find((h) => h.key === 'recover.error.kind')?.text, 'json-schema-invalid')
  }),
)

test.run()
