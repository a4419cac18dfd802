import { existsSync, mkdtempSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { IncidentTruth } from '../../src/fixtures/index.js'
import { seedIncident } from '../../src/fixtures/seed-incident.js'
import { runCli } from '../support/cli.js'
import { testKafka, uniqueName } from '../support/kafka.js'
import { withTimeout } from '../support/timeout.js'

/**
 * Exit 0 means the replay did what was asked. Every way it can end without doing so (a range
 * that selects nothing, a time before 1970, …) is a non-zero exit that says why.
 */
const dir = mkdtempSync(join(tmpdir(), 'recover-e2e-exits-'))
let topic = ''
let truth: IncidentTruth

test.before(
  withTimeout(60_000, async () => {
    topic = uniqueName('e2e-exits')
    truth = (await seedIncident({ kafka: testKafka(), topic, count: 1_500, replicationFactor: 1 })).truth
  }),
)

const nothingCreated = (name: string) => {
  assert.not.ok(existsSync(join(dir, name)), `${name} was created`)
  assert.not.ok(existsSync(join(dir, '.recover')) && readdirSync(join(dir, '.recover', 'checkpoints')).some((f) => f.includes(name)), 'a checkpoint was created')
}

test(
  'a time before 1970 (or a year typo) is a usage error in seek, peek and replay, not a Kafka error',
  withTimeout(60_000, async () => {
    const runs = await Promise.all([
      runCli(['seek', '--group', uniqueName('g'), '--topic', topic, '--to', '1969-12-31T23:59:59Z', '--json'], { cwd: dir }),
      runCli(['peek', '--topic', topic, '--at', '1969-06-01', '--json'], { cwd: dir }),
      runCli(['replay', '--topic', topic, '--from', '1969-06-01', '--sink', `file:${join(dir, 'pre1970.jsonl')}`, '--json'], { cwd: dir }),
    ])
    for (const run of runs) {
      assert.is(run.exitCode, 2, run.stdout + run.stderr)
      assert.is(run.json.error.code, 'BAD_TIME_SPEC')
      assert.match(run.json.error.message, 'before 1970-01-01T00:00Z')
    }
    nothingCreated('pre1970.jsonl')
    const typo = await runCli(['seek', '--group', uniqueName('g'), '--topic', topic, '--to', '0218-03-21T00:00'], { cwd: dir })
    assert.is(typo.exitCode, 2)
    assert.match(typo.stderr, 'did you mean 2018-03-21T00:00?')
  }),
)

test(
  'replay --from after --to is INVERTED_RANGE, exit 2, and creates nothing',
  withTimeout(60_000, async () => {
    const run = await runCli(['replay', '--topic', topic, '--from', '2018-03-21T02:00', '--to', '2018-03-21T00:00', '--sink', `file:${join(dir, 'inverted.jsonl')}`, '--quarantine', `file:${join(dir, 'inverted.q.jsonl')}`], { cwd: dir })
    assert.is(run.exitCode, 2, run.stdout + run.stderr)
    assert.match(run.stderr, /Error: --from 2018-03-21T02:00:00\.000Z \(UTC\) is after --to 2018-03-21T00:00:00\.000Z \(UTC\)/)
    assert.is(run.stdout, '')
    nothingCreated('inverted.jsonl')
    nothingCreated('inverted.q.jsonl')
  }),
)

test(
  'replay --from an offset past the log end is EMPTY_RANGE, exit 2, naming what each partition holds, and creates nothing',
  withTimeout(60_000, async () => {
    const run = await runCli(['replay', '--topic', topic, '--from', 'offset:999999', '--sink', `file:${join(dir, 'beyond.jsonl')}`, '--quarantine', `file:${join(dir, 'beyond.q.jsonl')}`, '--json'], { cwd: dir })
    assert.is(run.exitCode, 2, run.stdout + run.stderr)
    assert.is(run.json.error.code, 'EMPTY_RANGE')
    const partitions = run.json.error.details.partitions as Array<{ partition: number; logStart: string; logEnd: string; firstRecordTime: string }>
    assert.is(partitions.length, 3)
    assert.is(partitions.reduce((n, p) => n + Number(p.logEnd) - Number(p.logStart), 0), truth.count)
    for (const p of partitions) assert.match(run.json.error.message, `partition ${p.partition} holds offsets [${p.logStart}, ${p.logEnd}), records from ${p.firstRecordTime}`)
    nothingCreated('beyond.jsonl')
    nothingCreated('beyond.q.jsonl')
  }),
)

test(
  'a time window with no records is EMPTY_RANGE (exit 2), not a finished replay of 0 records',
  withTimeout(60_000, async () => {
    const run = await runCli(['replay', '--topic', topic, '--from', '2018-03-21T00:00', '--to', '2018-03-21T00:00:00.001', '--sink', `file:${join(dir, 'window.jsonl')}`, '--quarantine', `file:${join(dir, 'window.q.jsonl')}`], { cwd: dir })
    assert.is(run.exitCode, 2, run.stdout + run.stderr)
    assert.match(run.stderr, /selects no records in any partition of .*: partition 0 holds offsets \[0, \d+\), records from 2018-03-20T/)
    nothingCreated('window.jsonl')
  }),
)

test(
  'an offset bound past the end of some partitions is clamped with a warning on stderr and in --json warnings',
  withTimeout(60_000, async () => {
    const out = join(dir, 'clamped.jsonl')
    const args = ['replay', '--topic', topic, '--from', 'offset:0=999999', '--sink', `file:${out}`, '--quarantine', `file:${join(dir, 'clamped.q.jsonl')}`]
    const json = await runCli([...args, '--json', '--checkpoint', join(dir, 'clamped-json.cp.json')].map((a) => a.replace(out, `${out}.2.jsonl`)), { cwd: dir })
    assert.is(json.exitCode, 0, json.stderr)
    assert.equal(json.json.warnings.map((w: string) => w.replace(/\(\d+\)/, '(N)')), ['--from offset 999999 is past the end of partition 0 (N): it has nothing to replay.'])
    const plain = await runCli(args, { cwd: dir })
    assert.is(plain.exitCode, 0, plain.stderr)
    assert.match(plain.stderr, /Warning: --from offset 999999 is past the end of partition 0/)
  }),
)

test.run()
