import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { RecoveryError } from '../../src/errors.js'
import { correctAmountCents, type IncidentTruth } from '../../src/fixtures/index.js'
import { seedIncident } from '../../src/fixtures/seed-incident.js'
import { parseEnvelopeLine } from '../../src/files/envelope.js'
import { installOrderedHeaders } from '../../src/kafka/ordered-headers.js'
import type { KafkaRecord } from '../../src/kafka/kafka-record.js'
import { parseRangeBound } from '../../src/core/replay-range.js'
import { replay, type ReplayRequest, type ReplaySummary, type ReplayEvent } from '../../src/services/replay.js'
import { QUARANTINE_HEADERS } from '../../src/quarantine/quarantine.js'
import { createTopic, produce, testKafka, uniqueName, withGateway, readTopic as readTopicRecords } from '../support/kafka.js'
import { repoRoot } from '../support/paths.js'
import { waitFor, withTimeout } from '../support/timeout.js'

installOrderedHeaders()

const SCHEMAS = join(repoRoot(), 'fixtures', 'schemas')
const FIX = join(repoRoot(), 'plugins', 'fix-bad-deploy.ts')
const EXPECTED_KIND: Record<string, string> = {
  'poison-truncated-avro': 'avro-truncated',
  'poison-bad-magic': 'avro-bad-magic',
  'poison-invalid-json': 'avro-bad-magic',
  'poison-invalid-utf8': 'avro-bad-magic',
}
const dir = mkdtempSync(join(tmpdir(), 'recover-replay-'))
const file = (name: string) => {
  const dot = name.lastIndexOf('.')
  return join(dir, `${uniqueName(name.slice(0, dot))}${name.slice(dot)}`)
}

const run = (request: ReplayRequest, events?: ReplayEvent[]) => withGateway((gateway) => replay(request, { gateway, onEvent: (e) => events?.push(e) }))

async function failure(request: ReplayRequest): Promise<RecoveryError> {
  try {
    await run(request)
  } catch (error) {
    assert.instance(error, RecoveryError)
    return error as RecoveryError
  }
  throw new Error('the replay did not fail')
}

/** Every record of a topic, read_committed, through our reader, by partition and offset. */
async function readTopic(topic: string): Promise<KafkaRecord[]> {
  return (await readTopicRecords(topic)).sort((a, b) => a.partition - b.partition || Number(a.offset - b.offset))
}

const jsonl = (path: string) => readFileSync(path, 'utf8').trim().split('\n').filter(Boolean).map(parseEnvelopeLine)
const header = (r: { headers: ReadonlyArray<{ key: string; value: Buffer | null }> }, key: string) => r.headers.find((h) => h.key === key)?.value?.toString()
const reconcile = (s: ReplaySummary) => s.partitions.every((p) => p.read === p.written + p.dropped + p.quarantined)

let incident: { topic: string; truth: IncidentTruth; source: KafkaRecord[] }

test.before(
  withTimeout(60_000, async () => {
    const topic = uniqueName('replay-incident')
    const seeded = await seedIncident({ kafka: testKafka(), topic, count: 3_000, replicationFactor: 1 })
    incident = { topic, truth: seeded.truth, source: await readTopic(topic) }
  }),
)

test(
  'the fixture incident through the corrected transform into JSONL and Kafka: amounts fixed, pills quarantined, counts reconciled',
  withTimeout(120_000, async () => {
    const { topic, truth, source } = incident
    const out = file('fixed.jsonl')
    const sinkTopic = uniqueName('replay-fixed')
    const quarantine = file('q.jsonl')
    const base: ReplayRequest = { topic, valueFormat: 'avro', schemas: { schema: SCHEMAS }, transform: { path: FIX, timeoutMs: 5_000 }, batchSize: 700 }
    const events: ReplayEvent[] = []
    const toFile = await run({ ...base, sink: `file:${out}`, quarantine: `file:${quarantine}`, checkpoint: file('cp.json') }, events)
    const toKafka = await run({ ...base, sink: `kafka:${sinkTopic}`, checkpoint: file('cp.json') })

    const pills = new Set(truth.poisonPills.map((p) => `${p.partition}@${p.offset}`))
    for (const s of [toFile, toKafka]) {
      assert.ok(s.finished && s.reconciled && reconcile(s))
      assert.is(s.totals.read, truth.count)
      assert.is(s.totals.quarantined, truth.poisonPills.length)
      assert.is(s.totals.written, truth.count - truth.poisonPills.length)
      assert.is(s.totals.dropped, 0)
      assert.equal(s.quarantinedByStage, { decode: truth.poisonPills.length, transform: 0, sink: 0 })
    }
    assert.ok(events.some((e) => e.type === 'batch') && events.at(-1)!.type === 'done')

    // JSONL: every record that decodes, in offset order per partition, with its source bytes'
    // key, headers and timestamp, and an amount equal to the sum of its items.
    const lines = jsonl(out)
    const expected = source.filter((r) => !pills.has(`${r.partition}@${r.offset}`))
    assert.equal(lines.map((l) => `${l.partition}@${l.offset}`).sort(), expected.map((r) => `${r.partition}@${r.offset}`).sort())
    for (const p of [0, 1, 2]) {
      const offsets = lines.filter((l) => l.partition === p).map((l) => l.offset)
      assert.ok(
        offsets.every((o, i) => i === 0 || o > offsets[i - 1]!),
        `partition ${p} in order`,
      )
    }
    const byPosition = new Map(source.map((r) => [`${r.partition}@${r.offset}`, r]))
    let corrected = 0
    for (const l of lines) {
      const original = byPosition.get(`${l.partition}@${l.offset}`)!
      const value = l.decoded!.value as { amount_cents: number; items: Array<{ quantity: number; unit_price_cents: number }> }
      assert.is(value.amount_cents, correctAmountCents(value.items), `${l.partition}@${l.offset}`)
      assert.is(l.key!.toString(), original.key!.toString())
      assert.is(l.timestampMs, original.timestampMs)
      assert.equal(
        l.headers.map((h) => `${h.key}=${h.value}`),
        original.headers.map((h) => `${h.key}=${h.value}`),
      )
      if (header(original, 'app-version') === '1.6.0') corrected++
      else assert.ok(l.value!.equals(original.value!), 'untouched records keep their exact bytes')
    }
    // Every bad-deploy original, and the duplicates of bad-deploy records, were corrected.
    assert.is(corrected, truth.badDeploy.badDeployRecords + truth.duplicates.filter((d) => d.inBadDeployWindow).length)

    // The quarantine: each poison pill once, original bytes, stage decode, the codec's kind.
    const q = jsonl(quarantine)
    assert.equal(q.map((r) => `${r.partition}@${r.offset}`).sort(), [...pills].sort())
    for (const pill of truth.poisonPills) {
      const r = q.find((x) => x.partition === pill.partition && x.offset === pill.offset)!
      const original = byPosition.get(`${pill.partition}@${pill.offset}`)!
      assert.ok(r.value!.equals(original.value!), `${pill.kind}: original bytes`)
      assert.is(r.timestampMs, original.timestampMs)
      assert.is(header(r, QUARANTINE_HEADERS.stage), 'decode')
      assert.is(header(r, QUARANTINE_HEADERS.kind), EXPECTED_KIND[pill.kind])
      assert.is(header(r, QUARANTINE_HEADERS.class), 'DecodeError')
      assert.is(header(r, QUARANTINE_HEADERS.offset), String(pill.offset))
      assert.is(header(r, QUARANTINE_HEADERS.transformName), 'fix-bad-deploy')
      assert.is(header(r, '__connect.errors.stage'), 'VALUE_CONVERTER')
      // The original headers come first, untouched.
      assert.equal(
        r.headers.slice(0, original.headers.length).map((h) => `${h.key}=${h.value}`),
        original.headers.map((h) => `${h.key}=${h.value}`),
      )
    }

    // The Kafka sink holds the same records as the JSONL, same partitions, same order,
    // same key, value bytes, headers and original timestamps.
    const written = await readTopic(sinkTopic)
    assert.is(written.length, lines.length)
    const inFile = [...lines].sort((a, b) => a.partition - b.partition || Number(a.offset - b.offset))
    written.forEach((w, i) => {
      const l = inFile[i]!
      assert.is(w.partition, l.partition)
      assert.ok(w.value!.equals(l.value!) && w.key!.equals(l.key!), `record ${i}`)
      assert.is(w.timestampMs, l.timestampMs)
      assert.equal(
        w.headers.map((h) => `${h.key}=${h.value}`),
        l.headers.map((h) => `${h.key}=${h.value}`),
      )
    })
    // The default quarantine topic holds the pills with their original bytes.
    const qTopic = await readTopic(`${topic}.quarantine`)
    assert.equal(qTopic.map((r) => header(r, QUARANTINE_HEADERS.offset)).sort(), truth.poisonPills.map((p) => String(p.offset)).sort())
    for (const r of qTopic) {
      const original = byPosition.get(`${header(r, QUARANTINE_HEADERS.partition)}@${header(r, QUARANTINE_HEADERS.offset)}`)!
      assert.ok(r.value!.equals(original.value!) && r.key!.equals(original.key!))
      assert.is(r.timestampMs, original.timestampMs)
    }
  }),
)

test(
  'a transform that throws on some records and drops others: those go to quarantine (stage transform, plugin name and version), the rest is written',
  withTimeout(60_000, async () => {
    const topic = uniqueName('replay-throws')
    await createTopic(topic, 2)
    await produce(
      topic,
      Array.from({ length: 60 }, (_, i) => ({
        partition: i % 2,
        key: `k${i}`,
        value: JSON.stringify({ n: i }),
        timestampMs: Date.UTC(2018, 2, 21) + i,
        headers: { h: String(i) },
      })),
    )
    const plugin = join(dir, 'picky.mjs')
    writeFileSync(
      plugin,
      `import { defineTransform } from ${JSON.stringify(join(repoRoot(), 'dist', 'src', 'plugin-api.js'))}
export default defineTransform({ name: 'picky', version: '2.1.0', async transform(r) {
  if (r.value.n % 10 === 7) throw new RangeError('seven is not allowed: ' + r.value.n)
  if (r.value.n % 10 === 3) return null
  if (r.value.n === 50) return new Promise(() => {})
  return { ...r, value: { ...r.value, doubled: r.value.n * 2 } }
} })
`,
    )
    const out = file('picky.jsonl')
    const q = file('picky-q.jsonl')
    const s = await run({
      topic,
      valueFormat: 'json',
      transform: { path: plugin, timeoutMs: 300 },
      sink: `file:${out}`,
      quarantine: `file:${q}`,
      checkpoint: file('cp.json'),
      batchSize: 8,
    })
    assert.ok(s.finished && s.reconciled)
    assert.is(s.totals.read, 60)
    assert.is(s.totals.quarantined, 7)
    assert.is(s.totals.dropped, 6)
    assert.is(s.totals.written, 47)
    const written = jsonl(out)
    assert.is(written.length, 47)
    for (const r of written) {
      const v = JSON.parse(r.value!.toString()) as { n: number; doubled: number }
      assert.is(v.doubled, v.n * 2)
    }
    const quarantined = jsonl(q)
    const sevens = quarantined.filter((r) => header(r, QUARANTINE_HEADERS.class) === 'RangeError')
    assert.is(sevens.length, 6)
    for (const r of sevens) {
      assert.is(header(r, QUARANTINE_HEADERS.stage), 'transform')
      assert.is(header(r, QUARANTINE_HEADERS.transformName), 'picky')
      assert.is(header(r, QUARANTINE_HEADERS.transformVersion), '2.1.0')
      assert.match(header(r, QUARANTINE_HEADERS.message)!, /^seven is not allowed: \d*7$/)
      assert.match(header(r, QUARANTINE_HEADERS.stack)!, /RangeError: seven/)
      assert.is(header(r, '__connect.errors.stage'), 'TRANSFORMATION')
      assert.is(JSON.parse(r.value!.toString()).n % 10, 7)
    }
    const timedOut = quarantined.find((r) => header(r, QUARANTINE_HEADERS.class) === 'TransformTimeoutError')!
    assert.is(JSON.parse(timedOut.value!.toString()).n, 50)
    assert.is(header(timedOut, 'h'), '50')
  }),
)

test(
  'file sinks: CSV columns from the values; a dry run writes nothing and shows before and after',
  withTimeout(60_000, async () => {
    const { topic, truth } = incident
    const csv = file('orders.csv')
    const s = await run({
      topic,
      valueFormat: 'avro',
      schemas: { schema: SCHEMAS, readerSchema: join(SCHEMAS, 'orders-v2.avsc') },
      sink: `file:${csv}`,
      quarantine: `file:${file('q.jsonl')}`,
      checkpoint: file('cp.json'),
      from: parseRangeBound('2018-03-21T00:00', '--from'),
      to: parseRangeBound('2018-03-21T02:00', '--to'),
    })
    assert.ok(s.finished && s.reconciled)
    assert.is(s.totals.read, truth.badDeploy.records)
    const rows = readFileSync(csv, 'utf8').trim().split('\n')
    assert.is(rows[0], 'order_id,customer,amount_cents,currency,status,created_at,items,channel')
    assert.is(rows.length - 1, s.totals.written)

    const events: ReplayEvent[] = []
    const checkpoint = file('dry-cp.json')
    const dry = await withGateway((gateway) =>
      replay(
        {
          topic,
          valueFormat: 'avro',
          schemas: { schema: SCHEMAS },
          transform: { path: FIX, timeoutMs: 1000 },
          dryRun: { limit: 25 },
          from: parseRangeBound('2018-03-21T00:00', '--from'),
          checkpoint,
        },
        { gateway, onEvent: (e) => events.push(e) },
      ),
    )
    assert.ok(dry.dryRun && !dry.finished)
    assert.is(dry.sample!.length, 25)
    assert.is(dry.totals.read, 25)
    assert.not.ok(existsSync(checkpoint))
    const fixed = dry.sample!.find((x) => x.outcome === 'written' && x.before!.headers.some((h) => h.value === '1.6.0'))!
    const before = fixed.before!.value as { amount_cents: number }
    const after = fixed.after[0]!.value as { amount_cents: number }
    assert.is(after.amount_cents * 100, before.amount_cents)
  }),
)

test(
  '--to on a topic still being written: the replay ends at the offsets captured when it started',
  withTimeout(60_000, async () => {
    const topic = uniqueName('replay-live')
    await createTopic(topic, 1)
    await produce(
      topic,
      Array.from({ length: 200 }, (_, i) => ({ partition: 0, value: `v${i}`, timestampMs: Date.now() })),
    )
    const producer = testKafka().producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    let writing = true
    let extra = 0
    const writer = (async () => {
      while (writing) {
        await producer.send({ topic, messages: Array.from({ length: 50 }, () => ({ partition: 0, value: 'late' })) })
        extra += 50
      }
    })()
    try {
      await waitFor('the writer to be writing', () => (extra > 0 ? true : undefined))
      const s = await run({
        topic,
        sink: `file:${file('live.jsonl')}`,
        quarantine: `file:${file('q.jsonl')}`,
        checkpoint: file('cp.json'),
        batchSize: 100,
        rate: 2_000,
      })
      assert.ok(s.finished && s.reconciled)
      const end = s.partitions[0]!.end
      assert.ok(end >= 250n, `end ${end}`)
      assert.is(String(s.totals.read), String(end))
    } finally {
      writing = false
      await writer
      await producer.disconnect()
    }
  }),
)

test(
  'sink-stage failures are quarantined: a value Avro cannot hold, a field the CSV has no column for',
  withTimeout(60_000, async () => {
    const { topic } = incident
    const plugin = join(dir, 'breaks-avro.mjs')
    // With BREAK_AVRO, half the orders get a text amount (Avro needs a long); after the first
    // 120 records, every tenth gets a field that the CSV's columns (from the first batch) lack.
    writeFileSync(
      plugin,
      `import { defineTransform } from 'recover/plugin-api'
let seen = 0
export default defineTransform({ name: 'breaks', version: '0.1.0', transform(r) {
  const n = Number(r.value.order_id.slice(4))
  seen++
  if (process.env.BREAK_AVRO && n % 2 === 0) return { ...r, value: { ...r.value, amount_cents: 'lots' } }
  if (seen > 120 && n % 10 === 5) return { ...r, value: { ...r.value, extra: true } }
  return r
} })
`,
    )
    const window = { from: parseRangeBound('2018-03-21T00:00', '--from'), to: parseRangeBound('2018-03-21T02:00', '--to') }
    const q = file('q.jsonl')
    process.env.BREAK_AVRO = '1'
    const avro = await run({
      topic,
      ...window,
      valueFormat: 'avro',
      schemas: { schema: SCHEMAS },
      transform: { path: plugin, timeoutMs: 1000 },
      sink: `file:${file('out.jsonl')}`,
      quarantine: `file:${q}`,
      checkpoint: file('cp.json'),
      maxFailureRate: { maxPercent: 0, firstRecords: 1_000 },
    })
    assert.ok(avro.reconciled && avro.finished)
    assert.ok(avro.quarantinedByStage.sink > 0)
    const sinkStage = jsonl(q).filter((r) => header(r, QUARANTINE_HEADERS.stage) === 'sink')
    assert.is(sinkStage.length, avro.quarantinedByStage.sink)
    for (const r of sinkStage) {
      assert.is(header(r, QUARANTINE_HEADERS.class), 'EncodeError')
      assert.is(header(r, QUARANTINE_HEADERS.kind), 'avro-invalid-value')
      assert.is(header(r, '__connect.errors.stage'), 'TASK_PUT')
      assert.is(Number(r.key!.toString().slice(4)) % 2, 0)
    }

    delete process.env.BREAK_AVRO
    // A second copy: the module (and its count of records seen) is fresh.
    const again = join(dir, 'breaks-csv.mjs')
    writeFileSync(again, readFileSync(plugin))
    const csvQ = file('q.jsonl')
    const csv = await run({
      topic,
      ...window,
      valueFormat: 'avro',
      schemas: { schema: SCHEMAS, readerSchema: join(SCHEMAS, 'orders-v2.avsc') },
      outputSchemaId: 2,
      transform: { path: again, timeoutMs: 1000 },
      sink: `file:${file('out.csv')}`,
      quarantine: `file:${csvQ}`,
      checkpoint: file('cp.json'),
      batchSize: 100,
    })
    assert.ok(csv.reconciled)
    const columnMisses = jsonl(csvQ).filter((r) => header(r, QUARANTINE_HEADERS.class) === 'CsvColumnError')
    assert.ok(columnMisses.length > 0)
    for (const r of columnMisses) assert.match(header(r, QUARANTINE_HEADERS.message)!, /field extra, which .* has no column/)
  }),
)

test(
  'the Kafka sink keeps source partitions when it can, hashes keys when it has fewer partitions, and keeps null and repeated headers in order',
  withTimeout(60_000, async () => {
    const topic = uniqueName('replay-parts')
    await createTopic(topic, 3)
    const producer = testKafka().producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    try {
      const { headersForMessage } = await import('../../src/kafka/ordered-headers.js')
      await producer.send({
        topic,
        messages: Array.from({ length: 30 }, (_, i) => ({
          partition: i % 3,
          key: `key-${i}`,
          value: `v${i}`,
          timestamp: String(Date.UTC(2018, 2, 21) + i),
          headers: headersForMessage([
            { key: 'a', value: Buffer.from('1') },
            { key: 'n', value: null },
            { key: 'a', value: Buffer.from(String(i)) },
          ]) as never,
        })),
      })
    } finally {
      await producer.disconnect()
    }
    const wide = uniqueName('replay-wide')
    await createTopic(wide, 5)
    const narrow = uniqueName('replay-narrow')
    await createTopic(narrow, 2)
    const resent: Record<string, number> = {}
    for (const sink of [wide, narrow])
      resent[sink] = (await run({ topic, sink: `kafka:${sink}`, quarantine: `file:${file('q.jsonl')}`, checkpoint: file('cp.json') })).resent
    const stamped = uniqueName('replay-stamped')
    const before = Date.now()
    await run({ topic, sink: `kafka:${stamped}`, newTimestamps: true, quarantine: `file:${file('q.jsonl')}`, checkpoint: file('cp.json') })
    for (const r of await readTopic(stamped)) assert.ok(r.timestampMs >= before - 1000, `--new-timestamps: ${r.timestampMs}`)
    const { partitionForKey } = await import('../../src/fixtures/index.js')
    for (const r of await readTopic(wide)) assert.is(r.partition, Number(r.value!.toString().slice(1)) % 3)
    const narrowed = await readTopic(narrow)
    // A plain Kafka sink is at-least-once: records re-sent after a reconnect (a loaded machine's
    // timeout) are counted in the summary, never hidden.
    assert.is(narrowed.length, 30 + (resent[narrow] ?? 0))
    assert.is(new Set(narrowed.map((r) => r.value!.toString())).size, 30)
    for (const r of narrowed) {
      assert.is(r.partition, partitionForKey(r.key!, 2))
      assert.equal(
        r.headers.map((h) => [h.key, h.value === null ? null : h.value.toString()]),
        [
          ['a', '1'],
          ['n', null],
          ['a', r.value!.toString().slice(1)],
        ],
      )
      assert.is(r.timestampMs, Date.UTC(2018, 2, 21) + Number(r.value!.toString().slice(1)))
    }
  }),
)

test(
  'a sink plugin gets encoded and decoded records with provenance; the records it rejects are quarantined at stage sink',
  withTimeout(60_000, async () => {
    const topic = uniqueName('replay-sink-plugin')
    await createTopic(topic, 1)
    await produce(
      topic,
      Array.from({ length: 20 }, (_, i) => ({ partition: 0, key: `k${i}`, value: JSON.stringify({ n: i }), timestampMs: Date.UTC(2018, 2, 21) + i })),
    )
    const out = file('plugin-out.jsonl')
    const plugin = join(dir, 'collect-sink.mjs')
    writeFileSync(
      plugin,
      `import { appendFileSync } from 'node:fs'
import { defineSink } from 'recover/plugin-api'
let target
export default defineSink({ name: 'collect', version: '3.0.0',
  open(ctx) { target = ctx.target },
  write(records) {
    const rejected = []
    records.forEach((r, index) => {
      if (r.decodedValue.n % 5 === 4) rejected.push({ index, error: new Error('no fours here') })
      else appendFileSync(target, JSON.stringify({ n: r.decodedValue.n, bytes: r.value.toString(), offset: String(r.source.offset) }) + '\\n')
    })
    return { rejected }
  },
})
`,
    )
    const q = file('q.jsonl')
    const s = await run({ topic, valueFormat: 'json', sink: `plugin:${plugin}#${out}`, quarantine: `file:${q}`, checkpoint: file('cp.json'), batchSize: 6 })
    assert.ok(s.finished && s.reconciled)
    assert.is(s.totals.written, 16)
    assert.is(s.totals.quarantined, 4)
    assert.is(s.quarantinedByStage.sink, 4)
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { n: number; bytes: string; offset: string })
    assert.equal(
      lines.map((l) => l.n),
      [0, 1, 2, 3, 5, 6, 7, 8, 10, 11, 12, 13, 15, 16, 17, 18],
    )
    for (const l of lines) {
      assert.is(l.bytes, JSON.stringify({ n: l.n }))
      assert.is(l.offset, String(l.n))
    }
    const rejected = jsonl(q)
    assert.equal(
      rejected.map((r) => JSON.parse(r.value!.toString()).n),
      [4, 9, 14, 19],
    )
    assert.equal(
      rejected.map((r) => header(r, QUARANTINE_HEADERS.stage)),
      ['sink', 'sink', 'sink', 'sink'],
    )
    assert.equal(
      rejected.map((r) => header(r, QUARANTINE_HEADERS.message)),
      ['no fours here', 'no fours here', 'no fours here', 'no fours here'],
    )
  }),
)

test(
  'bad input fails with a clear message and exit code, and leaves no checkpoint',
  withTimeout(60_000, async () => {
    const { topic } = incident
    const checkpoint = file('bad-cp.json')
    const base: ReplayRequest = { topic, sink: `file:${file('x.jsonl')}`, quarantine: `file:${file('q.jsonl')}`, checkpoint }

    const missing = await failure({ ...base, transform: { path: join(dir, 'nope.ts'), timeoutMs: 100 } })
    assert.is(missing.code, 'PLUGIN_NOT_FOUND')
    assert.is(missing.exitCode, 2)

    writeFileSync(join(dir, 'syntax.ts'), 'export default {{{\n')
    const syntax = await failure({ ...base, transform: { path: join(dir, 'syntax.ts'), timeoutMs: 100 } })
    assert.is(syntax.code, 'BAD_PLUGIN')
    writeFileSync(join(dir, 'nodefault.mjs'), 'export const transform = (r) => r\n')
    assert.match((await failure({ ...base, transform: { path: join(dir, 'nodefault.mjs'), timeoutMs: 100 } })).message, /no default export/)

    const unwritable = await failure({ ...base, sink: `file:${join(dir, 'no-such-dir', 'out.jsonl')}` })
    assert.is(unwritable.code, 'SINK_FAILED')
    assert.is(unwritable.exitCode, 5)
    assert.match(unwritable.message, /no-such-dir\/out\.jsonl could not be created/)

    // Kafka refuses a topic whose name collides with an existing one ('.' and '_' clash).
    const existing = uniqueName('replay.collide')
    await createTopic(existing, 1)
    const collides = await failure({ ...base, sink: `kafka:${existing.replace('.', '_')}` })
    assert.is(collides.code, 'SINK_FAILED')
    assert.match(collides.message, /could not be created/)

    assert.is((await failure({ ...base, sink: `kafka:${topic}` })).code, 'BAD_SINK_URI')
    assert.is((await failure({ ...base, sink: 'ftp:x' })).code, 'BAD_SINK_URI')
    assert.is((await failure({ ...base, partitions: [0, 9] })).code, 'PARTITION_NOT_FOUND')
    assert.is((await failure({ ...base, topic: uniqueName('no-such-topic') })).code, 'TOPIC_NOT_FOUND')
    assert.is((await failure({ ...base, resume: true })).code, 'CHECKPOINT_MISMATCH')
    assert.not.ok(existsSync(checkpoint), 'no checkpoint written by a failed start')
  }),
)

test(
  'replaying old records into a topic with time retention warns once that Kafka will delete them; --new-timestamps does not',
  withTimeout(90_000, async () => {
    const source = uniqueName('old-records')
    await createTopic(source, 1)
    await produce(
      source,
      Array.from({ length: 30 }, (_, i) => ({ partition: 0, key: `k${i}`, value: `{"i":${i}}`, timestampMs: Date.UTC(2018, 2, 21) + i })),
    )
    const sinkTopic = uniqueName('one-day')
    await withGateway(async (gateway) => {
      const admin = testKafka().admin()
      await admin.connect()
      await admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic: sinkTopic, numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '86400000' }] }],
      })
      await admin.disconnect()
      const lines: string[] = []
      const base: ReplayRequest = {
        topic: source,
        sink: `kafka:${sinkTopic}`,
        quarantine: `file:${file('q.jsonl')}`,
        checkpoint: file('cp.json'),
        batchSize: 10,
      }
      await replay(base, { gateway, log: (line) => lines.push(line) })
      const warnings = lines.filter((l) => /retention/.test(l))
      assert.is(warnings.length, 1, lines.join('\n'))
      assert.match(warnings[0]!, new RegExp(`older than ${sinkTopic}'s retention \\(retention\\.ms 86400000, 1d\\).*--new-timestamps`))
      const quiet: string[] = []
      await replay(
        { ...base, newTimestamps: true, quarantine: `file:${file('q.jsonl')}`, checkpoint: file('cp.json') },
        { gateway, log: (line) => quiet.push(line) },
      )
      assert.equal(
        quiet.filter((l) => /retention/.test(l)),
        [],
      )
    })
  }),
)

test.run()
