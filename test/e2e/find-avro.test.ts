import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { IncidentTruth } from '../../src/fixtures/index.js'
import { seedIncident } from '../../src/fixtures/seed-incident.js'
import { runCli } from '../support/cli.js'
import { testBrokers, testKafka, uniqueName } from '../support/kafka.js'
import { repoRoot } from '../support/paths.js'
import { withTimeout } from '../support/timeout.js'

/** `recover find` on the seeded fixture incident (Confluent-framed Avro, poison pills), with kcat as the oracle for headers. */
const SCHEMAS = join(repoRoot(), 'fixtures', 'schemas')

let topic = ''
let truth: IncidentTruth

test.before(async () => {
  topic = uniqueName('e2e-find-avro')
  truth = (await seedIncident({ kafka: testKafka(), topic, count: 1_500, replicationFactor: 1 })).truth
})

/** Offsets per partition whose app-version header is 1.6.0, as kcat (librdkafka) reads them. */
function kcatBadDeployOffsets(): Map<number, bigint[]> {
  const out = execFileSync('kcat', ['-C', '-b', testBrokers(), '-t', topic, '-e', '-q', '-f', '%p %o %h\\n'], { encoding: 'utf8', timeout: 60_000 })
  const byPartition = new Map<number, bigint[]>()
  for (const line of out.split('\n')) {
    const [p, o, headers] = line.split(' ')
    if (!headers?.split(',').includes('app-version=1.6.0')) continue
    byPartition.set(Number(p), [...(byPartition.get(Number(p)) ?? []), BigInt(o!)])
  }
  return byPartition
}

test(
  'find on Avro values: header edges as kcat sees them, and a value field that poison pills (undecodable) do not have',
  withTimeout(120_000, async () => {
    const oracle = kcatBadDeployOffsets()
    assert.ok(oracle.size > 0, 'the fixture has a bad deploy')
    const header = await runCli(['find', '--topic', topic, '--where', 'header app-version = 1.6.0', '--json'])
    assert.is(header.exitCode, 0, header.stderr)
    for (const p of header.json.partitions) {
      const offsets = oracle.get(p.partition) ?? []
      assert.is(p.matches, offsets.length, `partition ${p.partition}`)
      assert.is(p.first?.offset ?? null, offsets[0]?.toString() ?? null)
      assert.is(p.last?.offset ?? null, offsets.at(-1)?.toString() ?? null)
    }

    const decoded = await runCli([
      'find',
      '--topic',
      topic,
      '--where',
      'header app-version = 1.6.0 and value.order_id exists',
      '--value-format',
      'avro',
      '--schema',
      SCHEMAS,
      '--json',
    ])
    assert.is(decoded.exitCode, 0, decoded.stderr)
    assert.is(decoded.json.valueFormat, 'avro')
    assert.is(decoded.json.totals.undecodable, truth.poisonPills.length)
    const pills = new Set(truth.poisonPills.map((p) => `${p.partition}@${p.offset}`))
    const expected = [...oracle].reduce((n, [p, offsets]) => n + offsets.filter((o) => !pills.has(`${p}@${o}`)).length, 0)
    assert.ok(
      truth.poisonPills.some((p) => p.inBadDeployWindow),
      'some poison pills fall in the window, so the counts differ',
    )
    assert.is(decoded.json.totals.matches, expected)
  }),
)

test.run()
