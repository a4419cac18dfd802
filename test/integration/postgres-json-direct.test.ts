import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { parseEnvelopeLine } from '../../src/files/envelope.js'
import { QUARANTINE_HEADERS } from '../../src/quarantine/header-names.js'
import type { PostgresLocation } from '../../src/core/location.js'
import type { KafkaRecord } from '../../src/kafka/kafka-record.js'
import { prepareBatch, prepareForSink } from '../../src/replay/prepare-batch.js'
import { openStages } from '../../src/replay/stages.js'
import { replay, type ReplayRequest } from '../../src/services/replay.js'
import { PostgresSink } from '../../src/sinks/postgres-sink.js'
import { parseSinkLocation } from '../../src/sinks/registry.js'
import { createTopic, produce, uniqueName, withGateway, type TestRecord } from '../support/kafka.js'
import { PG_URL, query, testTable } from '../support/postgres.js'
import { withTimeout } from '../support/timeout.js'

/**
 * A JSON replay into PostgreSQL with no transform writes most rows straight from the values'
 * bytes (src/sinks/json-copy-text.ts). The same topic replayed through an identity transform
 * takes the general path (JSON.parse, then the column converters): both tables, and both
 * quarantines, must be the same, over values the direct path takes and values it declines.
 */
const dir = mkdtempSync(join(tmpdir(), 'recover-pg-direct-'))
const IDENTITY = join(dir, 'identity.ts')
writeFileSync(
  IDENTITY,
  `import { defineTransform } from 'recover/plugin-api'\nexport default defineTransform({ name: 'identity', version: '1.0.0', transform: (record) => record })\n`,
)

/** Value i: mostly plain orders, with escapes, nesting, floats, big numbers, Unicode, repeats of a key, and some that are not JSON or not UTF-8. */
function value(i: number): string | Buffer | null {
  if (i % 97 === 96) return 'not json {'
  if (i % 89 === 88) return Buffer.from([0x7b, 0x22, 0x69, 0x64, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d])
  if (i % 101 === 100) return null
  const id = `k${i % 40}`
  if (i % 7 === 3) return JSON.stringify({ id, amount: i, price: 2.5, ok: true, note: `tab\there "quoted" \\ é`, doc: { a: [1, 2] } })
  if (i % 11 === 5) return `{"id": "${id}", "amount": 1.0, "price": 1.50, "ok": false, "note": null, "doc": {"nested": true}}`
  if (i % 13 === 6) return `{"id":"${id}","amount":12345678901234567,"price":1e21,"note":"big","late":"no column"}`
  if (i % 17 === 7) return `{"id":"${id}","amount":12.5,"note":"a float in a bigint column"}`
  if (i % 19 === 8) return `{"amount":${i},"note":"no id"}`
  return `{ "id": "${id}", "amount": ${i}, "price": ${i}.25, "ok": ${i % 2 === 0}, "note": "naïve café 🎉 ${i}", "doc": null }`
}

async function seed(count: number): Promise<string> {
  const topic = uniqueName('pg-direct')
  await createTopic(topic, 1)
  const records: TestRecord[] = []
  for (let i = 0; i < count; i++) records.push({ partition: 0, value: value(i), timestampMs: 1_700_000_000_000 + i })
  // The first batch decides the table's columns (--create-table): give it every kind of field.
  records.unshift({
    partition: 0,
    value: JSON.stringify({ id: 'first', amount: 1, price: 0.5, ok: true, note: 'x', doc: { a: 1 } }),
    timestampMs: 1_699_999_999_999,
  })
  await produce(topic, records)
  return topic
}

const request = (topic: string, t: string, transform: boolean): ReplayRequest => ({
  topic,
  valueFormat: 'json',
  sink: `${PG_URL}?table=${t}&key=id`,
  createTable: true,
  quarantine: `file:${join(dir, `${t}.q.jsonl`)}`,
  checkpoint: join(dir, `${t}.json`),
  batchSize: 50,
  ...(transform ? { transform: { path: IDENTITY, timeoutMs: 5_000 } } : {}),
})

const tableText = async (t: string) =>
  (await query<{ row: string }>(`SELECT row_to_json(x)::text AS row FROM (SELECT * FROM ${t} ORDER BY id) x`)).map((r) => r.row)

const quarantined = (t: string) =>
  readFileSync(join(dir, `${t}.q.jsonl`), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map(parseEnvelopeLine)
    .map((e) => {
      const header = (name: string) => e.headers.find((h) => h.key === name)?.value?.toString('utf8') ?? ''
      return `${header(QUARANTINE_HEADERS.offset)} ${header(QUARANTINE_HEADERS.stage)} ${header(QUARANTINE_HEADERS.kind)}`
    })
    .sort()

test(
  'a JSON replay into PostgreSQL writes the rows and quarantines the records an identity transform does',
  withTimeout(120_000, async () => {
    const topic = await seed(600)
    const direct = testTable('pg_direct')
    const general = testTable('pg_general')
    const run = (t: string, transform: boolean) => withGateway((gateway) => replay(request(topic, t, transform), { gateway }))
    const a = await run(direct, false)
    const b = await run(general, true)
    assert.equal(a.totals, b.totals)
    assert.ok(a.totals.quarantined > 0, 'some records are quarantined')
    const rows = await tableText(direct)
    assert.ok(rows.length > 40, `${rows.length} rows`)
    assert.equal(rows, await tableText(general))
    assert.equal(quarantined(direct), quarantined(general))
    // The values that are not JSON or not UTF-8 were classified by the general decoder.
    const kinds = new Set(quarantined(direct).map((q) => q.split(' ').slice(1).join(' ')))
    assert.ok(kinds.has('decode not-json') && kinds.has('decode invalid-utf8'), [...kinds].join(', '))
  }),
)

test(
  'once the table is known, the sink takes plain JSON values as bytes and writes them',
  withTimeout(60_000, async () => {
    const t = testTable('pg_direct_sink')
    await query(`CREATE TABLE ${t} (id text PRIMARY KEY, n bigint, source_topic text, source_partition bigint, source_offset bigint)`)
    const sink = new PostgresSink(parseSinkLocation(`${PG_URL}?table=${t}&key=id`) as PostgresLocation, { createTable: false })
    await sink.open(undefined, { runId: uniqueName('run'), topic: 'src' })
    const stages = await openStages({ valueFormat: 'json' }, { signal: new AbortController().signal })
    const inputs: KafkaRecord[] = [0, 1, 2, 1].map((n, i) => ({
      topic: 'src',
      partition: 0,
      offset: BigInt(i),
      timestampMs: 0,
      timestampType: 'create',
      key: null,
      value: Buffer.from(i === 2 ? `{"id":"k${n}","n":${n},"extra":1}` : `{"id":"k${n}","n":${n}}`),
      headers: [],
    }))
    const prepared = await prepareBatch({ inputs, bytes: 100, positions: new Map() }, stages, undefined, sink)
    assert.equal([...(prepared.direct?.lineOf ?? [])], [0, 1, -1, 2], 'three values taken as bytes, one with a field the table has not decoded')
    await prepareForSink(prepared, sink)
    assert.equal(await sink.writePrepared!(prepared.sinkWrite!), [])
    await sink.checkpoint({ batches: 1, partitions: [] } as never)
    await sink.close()
    assert.equal(await query(`SELECT id, n::int, source_offset::int AS o FROM ${t} ORDER BY id`), [
      { id: 'k0', n: 0, o: 0 },
      { id: 'k1', n: 1, o: 3 },
      { id: 'k2', n: 2, o: 2 },
    ])
  }),
)

test.run()
