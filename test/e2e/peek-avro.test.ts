import { createServer } from 'node:net'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { seedIncident } from '../../src/fixtures/seed-incident.js'
import type { PoisonKind, IncidentTruth } from '../../src/fixtures/index.js'
import { runCli } from '../support/cli.js'
import { testKafka, uniqueName } from '../support/kafka.js'
import { repoRoot } from '../support/paths.js'
import { withTimeout } from '../support/timeout.js'

/** `recover peek --value-format avro --schema fixtures/schemas` on the seeded fixture incident. */
const SCHEMAS = join(repoRoot(), 'fixtures', 'schemas')
const EXPECTED_KIND: Record<PoisonKind, string> = {
  'poison-truncated-avro': 'avro-truncated',
  'poison-bad-magic': 'avro-bad-magic',
  'poison-invalid-json': 'avro-bad-magic',
  'poison-invalid-utf8': 'avro-bad-magic',
}

interface PeekedJson {
  partition: number
  offset: string
  value: { format: string; value: any; schemaId?: number; kind?: string; position?: number; error?: string }
}

let topic = ''
let truth: IncidentTruth

test.before(async () => {
  topic = uniqueName('e2e-peek-avro')
  const seeded = await seedIncident({ kafka: testKafka(), topic, count: 1_500, replicationFactor: 1 })
  truth = seeded.truth
})

const at = (ms: number) => new Date(ms).toISOString()

test(
  'peek --value-format avro shows every order decoded and every poison pill with its kind and hex',
  withTimeout(90_000, async () => {
    const run = await runCli([
      'peek',
      '--topic',
      topic,
      '--at',
      at(truth.startMs),
      '--count',
      String(truth.count),
      '--value-format',
      'avro',
      '--schema',
      SCHEMAS,
      '--json',
    ])
    assert.is(run.exitCode, 0, run.stderr)
    const records = run.json.records as PeekedJson[]
    assert.is(records.length, truth.count)
    const pills = new Map(truth.poisonPills.map((p) => [`${p.partition}@${p.offset}`, p]))
    let v1 = 0
    let v2 = 0
    for (const r of records) {
      const pill = pills.get(`${r.partition}@${r.offset}`)
      if (pill) {
        assert.is(r.value.format, 'bytes', `${pill.kind} at ${r.partition}@${r.offset}`)
        assert.is(r.value.kind, EXPECTED_KIND[pill.kind])
        assert.match(r.value.value, /^[0-9a-f]+$/)
        assert.ok(r.value.error)
        if (pill.kind === 'poison-truncated-avro') assert.is(r.value.position, r.value.value.length / 2)
        else assert.is(r.value.position, 0)
        continue
      }
      assert.is(r.value.format, 'avro', `${r.partition}@${r.offset}: ${r.value.error}`)
      assert.match(r.value.value.order_id, /^ord-\d{7}$/)
      if (r.value.schemaId === 1) {
        v1++
        assert.ok('customer_id' in r.value.value)
      } else {
        v2++
        assert.is(r.value.schemaId, 2)
        assert.ok('channel' in r.value.value)
      }
    }
    assert.is(records.filter((r) => r.value.format === 'bytes').length, truth.poisonPills.length)
    assert.is(v1, truth.ordersBySchemaId['1'])
    assert.is(v2, truth.ordersBySchemaId['2'])
  }),
)

test(
  'with --reader-schema every order comes in the v2 shape',
  withTimeout(60_000, async () => {
    const run = await runCli([
      'peek',
      '--topic',
      topic,
      '--at',
      at(truth.startMs),
      '--count',
      '20',
      '--value-format',
      'avro',
      '--schema',
      SCHEMAS,
      '--reader-schema',
      join(SCHEMAS, 'orders-v2.avsc'),
      '--json',
    ])
    assert.is(run.exitCode, 0, run.stderr)
    const decoded = (run.json.records as PeekedJson[]).filter((r) => r.value.format === 'avro')
    assert.ok(decoded.length > 0)
    for (const r of decoded) {
      assert.is(r.value.schemaId, 1, 'the start of the incident is written with schema id 1')
      assert.ok('customer' in r.value.value && !('customer_id' in r.value.value))
      assert.is(r.value.value.channel, 'web')
    }
  }),
)

test(
  'the table shows a poison pill as its failure kind and hex, and auto finds Avro by its header',
  withTimeout(60_000, async () => {
    const pill = truth.poisonPills.find((p) => p.kind === 'poison-truncated-avro')!
    const table = await runCli([
      'peek',
      '--topic',
      topic,
      '--at',
      String(pill.timestampMs),
      '--partition',
      String(pill.partition),
      '--count',
      '1',
      '--value-format',
      'avro',
      '--schema',
      SCHEMAS,
    ])
    assert.is(table.exitCode, 0, table.stderr)
    assert.match(table.stdout, /\(avro-truncated at byte \d+\) 0x0000000/)

    const json = truth.poisonPills.find((p) => p.kind === 'poison-invalid-json')!
    const auto = await runCli([
      'peek',
      '--topic',
      topic,
      '--at',
      String(json.timestampMs),
      '--partition',
      String(json.partition),
      '--count',
      '2',
      '--schema',
      SCHEMAS,
      '--json',
    ])
    assert.is(auto.exitCode, 0, auto.stderr)
    const [first, second] = auto.json.records as PeekedJson[]
    assert.is(first!.offset, String(json.offset))
    assert.is(first!.value.format, 'string')
    assert.is(first!.value.kind, 'not-json')
    assert.is(second!.value.format, 'avro')
  }),
)

test(
  'decoding problems of the environment and of usage get their exit codes',
  withTimeout(60_000, async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer()
      server.listen(0, '127.0.0.1', () => {
        const { port: p } = server.address() as { port: number }
        server.close(() => resolve(p))
      })
    })
    const unreachable = await runCli([
      'peek',
      '--topic',
      topic,
      '--at',
      at(truth.startMs),
      '--count',
      '3',
      '--value-format',
      'avro',
      '--registry',
      `http://ops:Registry-Pa55@127.0.0.1:${port}`,
      '--json',
    ])
    assert.is(unreachable.exitCode, 5, unreachable.stderr)
    assert.is(unreachable.json.error.code, 'REGISTRY_UNREACHABLE')
    assert.not.match(unreachable.stdout, /Registry-Pa55/)

    const noSchema = await runCli(['peek', '--topic', topic, '--at', at(truth.startMs), '--value-format', 'avro'])
    assert.is(noSchema.exitCode, 2)
    assert.match(noSchema.stderr, /--schema/)

    const missing = await runCli(['peek', '--topic', topic, '--at', at(truth.startMs), '--value-format', 'avro', '--schema', join(SCHEMAS, 'nope'), '--json'])
    assert.is(missing.exitCode, 2)
    assert.is(missing.json.error.code, 'BAD_SCHEMA')
  }),
)

test.run()
