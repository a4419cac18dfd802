import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { IncidentTruth } from '../../src/fixtures/index.js'
import { seedIncident } from '../../src/fixtures/seed-incident.js'
import { parseEnvelopeLine } from '../../src/files/envelope.js'
import { runCli, spawnCli } from '../support/cli.js'
import { testKafka, uniqueName } from '../support/kafka.js'
import { repoRoot } from '../support/paths.js'
import { waitFor, withDeadline, withTimeout } from '../support/timeout.js'

const SCHEMAS = join(repoRoot(), 'fixtures', 'schemas')

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
  assert.not.ok(
    existsSync(join(dir, '.recover')) && readdirSync(join(dir, '.recover', 'checkpoints')).some((f) => f.includes(name)),
    'a checkpoint was created',
  )
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
    const run = await runCli(
      [
        'replay',
        '--topic',
        topic,
        '--from',
        '2018-03-21T02:00',
        '--to',
        '2018-03-21T00:00',
        '--sink',
        `file:${join(dir, 'inverted.jsonl')}`,
        '--quarantine',
        `file:${join(dir, 'inverted.q.jsonl')}`,
      ],
      { cwd: dir },
    )
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
    const run = await runCli(
      [
        'replay',
        '--topic',
        topic,
        '--from',
        'offset:999999',
        '--sink',
        `file:${join(dir, 'beyond.jsonl')}`,
        '--quarantine',
        `file:${join(dir, 'beyond.q.jsonl')}`,
        '--json',
      ],
      { cwd: dir },
    )
    assert.is(run.exitCode, 2, run.stdout + run.stderr)
    assert.is(run.json.error.code, 'EMPTY_RANGE')
    const partitions = run.json.error.details.partitions as Array<{ partition: number; logStart: string; logEnd: string; firstRecordTime: string }>
    assert.is(partitions.length, 3)
    assert.is(
      partitions.reduce((n, p) => n + Number(p.logEnd) - Number(p.logStart), 0),
      truth.count,
    )
    for (const p of partitions)
      assert.match(run.json.error.message, `partition ${p.partition} holds offsets [${p.logStart}, ${p.logEnd}), records from ${p.firstRecordTime}`)
    nothingCreated('beyond.jsonl')
    nothingCreated('beyond.q.jsonl')
  }),
)

test(
  'a time window with no records is EMPTY_RANGE (exit 2), not a finished replay of 0 records',
  withTimeout(60_000, async () => {
    const run = await runCli(
      [
        'replay',
        '--topic',
        topic,
        '--from',
        '2018-03-21T00:00',
        '--to',
        '2018-03-21T00:00:00.001',
        '--sink',
        `file:${join(dir, 'window.jsonl')}`,
        '--quarantine',
        `file:${join(dir, 'window.q.jsonl')}`,
      ],
      { cwd: dir },
    )
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
    const json = await runCli(
      [...args, '--json', '--checkpoint', join(dir, 'clamped-json.cp.json')].map((a) => a.replace(out, `${out}.2.jsonl`)),
      { cwd: dir },
    )
    assert.is(json.exitCode, 0, json.stderr)
    assert.equal(
      json.json.warnings.map((w: string) => w.replace(/\(\d+\)/, '(N)')),
      ['--from offset 999999 is past the end of partition 0 (N): it has nothing to replay.'],
    )
    const plain = await runCli(args, { cwd: dir })
    assert.is(plain.exitCode, 0, plain.stderr)
    assert.match(plain.stderr, /Warning: --from offset 999999 is past the end of partition 0/)
  }),
)

/** Source coordinates (partition@offset) of the records in a JSONL sink or quarantine file. */
const coordinates = (file: string): string[] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map(parseEnvelopeLine)
        .map((r) => `${r.partition}@${r.offset}`)
    : []

/** Every source record is in the sink or the quarantine exactly once: no loss, no duplicate. */
function assertEachRecordOnce(out: string, quarantine: string): void {
  const all = [...coordinates(out), ...coordinates(quarantine)]
  assert.is(new Set(all).size, all.length, 'a record is there twice')
  assert.is(all.length, truth.count)
  assert.equal(coordinates(quarantine).sort(), truth.poisonPills.map((p) => `${p.partition}@${p.offset}`).sort())
}

/** A transform that passes records through, and on one record (from the environment) exits or loops. */
const MISBEHAVING = `import { writeFileSync } from 'node:fs'
import { defineTransform } from 'recover/plugin-api'
export default defineTransform({
  name: 'misbehaving',
  version: '1.0.0',
  transform(record) {
    if (\`\${record.source.partition}@\${record.source.offset}\` === process.env.AT) {
      if (process.env.DO === 'exit') process.exit(0)
      if (process.env.DO === 'loop') {
        writeFileSync(process.env.MARK, 'looping')
        for (;;) {}
      }
    }
    return record
  },
})
`

const misbehaving = join(dir, 'misbehaving.ts')
writeFileSync(misbehaving, MISBEHAVING)

function replayArgs(name: string): { args: string[]; out: string; quarantine: string; checkpoint: string } {
  const out = join(dir, `${name}.jsonl`)
  const quarantine = join(dir, `${name}.q.jsonl`)
  const checkpoint = join(dir, `${name}.cp.json`)
  const args = [
    'replay',
    '--topic',
    topic,
    '--value-format',
    'avro',
    '--schema',
    SCHEMAS,
    '--transform',
    misbehaving,
    '--sink',
    `file:${out}`,
    '--quarantine',
    `file:${quarantine}`,
    '--checkpoint',
    checkpoint,
    '--batch-size',
    '200',
  ]
  return { args, out, quarantine, checkpoint }
}

test(
  'a transform that calls process.exit(0) stops the replay with BAD_PLUGIN (exit 2), a summary and a resume command; the resume completes with every record once',
  withTimeout(120_000, async () => {
    const { args, out, quarantine } = replayArgs('plugin-exit')
    const at = '1@300'
    const run = await runCli(args, { cwd: dir, env: { AT: at, DO: 'exit' } })
    assert.is(run.exitCode, 2, run.stdout + run.stderr)
    assert.match(run.stderr, `Error: The transform plugin misbehaving@1.0.0 called process.exit(0) on ${topic}-${at}; a plugin may not end recover`)
    assert.match(run.stdout, /through misbehaving@1\.0\.0: STOPPED \(BAD_PLUGIN/)
    assert.match(run.stdout, /Reconciled: read \d+ = written \d+ \+ dropped 0 \+ quarantined \d+\./)
    const resume = /→ Continue with: (recover replay .*--resume.*)$/m.exec(run.stderr)
    assert.ok(resume, run.stderr)
    // Not quarantined: the record the plugin exited on is replayed by the resume.
    assert.not.ok(coordinates(quarantine).includes(at))
    const again = await runCli([...args, '--resume', '--json'], { cwd: dir, timeoutMs: 90_000 })
    assert.is(again.exitCode, 0, again.stderr)
    assert.ok(again.json.finished && again.json.reconciled)
    assertEachRecordOnce(out, quarantine)
  }),
)

test(
  'a sink plugin that calls process.exit is BAD_PLUGIN (exit 2) too, never exit 0',
  withTimeout(60_000, async () => {
    const sink = join(dir, 'exiting-sink.ts')
    writeFileSync(
      sink,
      `import { defineSink } from 'recover/plugin-api'
export default defineSink({ name: 'exiting-sink', version: '1.0.0', write(records) { process.exit(0) } })
`,
    )
    const run = await runCli(
      [
        'replay',
        '--topic',
        topic,
        '--sink',
        `plugin:${sink}#x`,
        '--quarantine',
        `file:${join(dir, 'exiting-sink.q.jsonl')}`,
        '--checkpoint',
        join(dir, 'exiting-sink.cp.json'),
        '--json',
      ],
      { cwd: dir },
    )
    assert.is(run.exitCode, 2, run.stdout + run.stderr)
    assert.is(run.json.error.code, 'BAD_PLUGIN')
    assert.match(run.json.error.message, /^Sink plugin exiting-sink@1\.0\.0 called process\.exit\(0\) when asked to write a batch of \d+/)
    assert.is(run.json.error.details.summary.totals.read, 0)
    assert.match(run.json.error.details.resumeCommand, /--resume/)
  }),
)

test(
  '--value-format json on Avro data stops with FAILURE_RATE_EXCEEDED (exit 3) naming --value-format; --max-failure-rate 0 lets it finish',
  withTimeout(90_000, async () => {
    const out = join(dir, 'wrong-format.jsonl')
    const quarantine = join(dir, 'wrong-format.q.jsonl')
    const args = ['replay', '--topic', topic, '--value-format', 'json', '--sink', `file:${out}`, '--quarantine', `file:${quarantine}`]
    const run = await runCli([...args, '--checkpoint', join(dir, 'wrong-format.cp.json'), '--json'], { cwd: dir })
    assert.is(run.exitCode, 3, run.stdout + run.stderr)
    const error = run.json.error
    assert.is(error.code, 'FAILURE_RATE_EXCEEDED')
    assert.match(error.message, /failed, more than --max-failure-rate 50 % of the first 1000, most of them to decode as json: check --value-format/)
    assert.is(error.details.stage, 'decode-value')
    assert.is(error.details.summary.stopped.code, 'FAILURE_RATE_EXCEEDED')
    // It stopped before the batch that passed the limit: nothing of it went to the quarantine.
    assert.is(coordinates(quarantine).length, error.details.summary.totals.quarantined)
    assert.ok(error.details.summary.totals.read < truth.count)

    const plain = await runCli(
      [...args, '--checkpoint', join(dir, 'wrong-format-plain.cp.json')].map((a) =>
        a.replace(out, `${out}.plain.jsonl`).replace(quarantine, `${quarantine}.plain.jsonl`),
      ),
      { cwd: dir },
    )
    assert.is(plain.exitCode, 3)
    assert.match(plain.stdout, /STOPPED \(FAILURE_RATE_EXCEEDED/)
    assert.match(plain.stderr, /--max-failure-rate 0/)

    const anyway = await runCli(
      [...args, '--checkpoint', join(dir, 'wrong-format-anyway.cp.json'), '--max-failure-rate', '0', '--json'].map((a) =>
        a.replace(out, `${out}.anyway.jsonl`).replace(quarantine, `${quarantine}.anyway.jsonl`),
      ),
      { cwd: dir, timeoutMs: 90_000 },
    )
    assert.is(anyway.exitCode, 0, anyway.stderr)
    assert.ok(anyway.json.finished)
    assert.is(anyway.json.totals.quarantined, truth.count)
  }),
)

test(
  'a transform stuck in a loop is named by the stall line; Ctrl-C stops it within seconds: exit 130, INTERRUPTED summary, Continue with; the record is not quarantined and the resume has every record once',
  withTimeout(120_000, async () => {
    const { args, out, quarantine, checkpoint } = replayArgs('sync-loop')
    const mark = join(dir, 'sync-loop.mark')
    const at = '1@300'
    const child = spawnCli([...args, '--transform-timeout', '120s'], { cwd: dir, env: { AT: at, DO: 'loop', MARK: mark } })
    await waitFor('the transform to enter its loop', () => (existsSync(mark) ? true : undefined), 60_000)
    // The stall line (after 10 s) blames the transform, not Kafka, though the loop holds the main thread.
    const stall = await waitFor('the stall line', () => /^Waiting since .*$/m.exec(child.stderr())?.[0], 30_000)
    assert.match(stall, `: the transform has been running on ${topic}-${at} for `)
    const interruptedAt = Date.now()
    child.child.kill('SIGINT')
    const stopped = await withDeadline(child.done, 10_000, () => `still running after SIGINT:\n${child.stderr()}`)
    const tookMs = Date.now() - interruptedAt
    assert.is(stopped.code, 130, stopped.stderr)
    assert.ok(tookMs < 5_000, `took ${tookMs} ms`)
    assert.match(stopped.stdout, /through misbehaving@1\.0\.0: INTERRUPTED\./)
    const resume = /Continue with:\n\s+(recover replay .*)/.exec(stopped.stdout)
    assert.ok(resume, stopped.stdout)
    assert.match(stopped.stdout, / 0 at transform,/)
    assert.not.ok(coordinates(quarantine).includes(at))
    // The checkpoint matches what the sink holds.
    const cp = JSON.parse(readFileSync(checkpoint, 'utf8')) as { partitions: Array<{ written: number; quarantined: number }> }
    assert.is(
      coordinates(out).length,
      cp.partitions.reduce((n, p) => n + p.written, 0),
    )
    assert.is(
      coordinates(quarantine).length,
      cp.partitions.reduce((n, p) => n + p.quarantined, 0),
    )
    const again = await runCli([...args, '--transform-timeout', '120s', '--resume', '--json'], { cwd: dir, timeoutMs: 90_000 })
    assert.is(again.exitCode, 0, again.stderr)
    assert.ok(again.json.finished && again.json.reconciled)
    assertEachRecordOnce(out, quarantine)
  }),
)

test.run()
