/**
 * `recover audit` as a nightly cron job relies on it: one JSON shape whether --fail-on trips or
 * not, an empty range that never passes, a floor on the records read, and one history however
 * the job's working folder differs from the person's.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { runCli } from '../support/cli.js'
import { createTopic, produce, uniqueName } from '../support/kafka.js'
import { withTimeout } from '../support/timeout.js'

const T0 = Date.parse('2024-05-01T10:00:00Z')
const MINUTE = 60_000
let topic = ''
let dir = ''

/** 10 records on 2 partitions, 10 minutes apart from T0; keys k0..k7, k1 and k2 twice. */
test.before(async () => {
  topic = uniqueName('e2e-audit-cron')
  dir = mkdtempSync(join(tmpdir(), 'recover-audit-cron-'))
  await createTopic(topic, 2)
  const keys = ['k0', 'k1', 'k2', 'k3', 'k1', 'k4', 'k5', 'k2', 'k6', 'k7']
  await produce(
    topic,
    keys.map((key, i) => ({ partition: i % 2, key, value: `{"n":${i}}`, timestampMs: T0 + i * 10 * MINUTE })),
  )
})

const duplicates = (...extra: string[]) => runCli(['audit', 'duplicates', '--topic', topic, '--key', 'key', '--db', join(dir, 'audit.duckdb'), ...extra])

test(
  '--json has one shape: .totals at the top with or without findings; only the exit code (3) and failOn say it tripped',
  withTimeout(90_000, async () => {
    const within = await duplicates('--fail-on', 'duplicates>5', '--json')
    assert.is(within.exitCode, 0, within.stderr)
    const over = await duplicates('--fail-on', 'duplicates>0,changed>0', '--json')
    assert.is(over.exitCode, 3, over.stderr)
    for (const run of [within, over]) {
      assert.is(run.json.error, undefined, run.stdout)
      assert.is(run.json.totals.records, 10)
      assert.is(run.json.totals.duplicateKeys, 2)
    }
    assert.equal(Object.keys(over.json).sort(), Object.keys(within.json).sort())
    assert.equal(within.json.failOn, { conditions: ['duplicates>5'], exceeded: [], passed: true })
    assert.equal(over.json.failOn, {
      conditions: ['duplicates>0', 'changed>0'],
      exceeded: [
        { metric: 'duplicates', op: '>', limit: 0, actual: 2 },
        { metric: 'changed', op: '>', limit: 0, actual: 2 },
      ],
      passed: false,
    })
    // Nothing in JSON mode points at findings "above": there is nothing above.
    assert.not.match(over.stdout + over.stderr, /See the findings above/)
    // People still read why on stderr.
    const human = await duplicates('--fail-on', 'duplicates>0')
    assert.is(human.exitCode, 3)
    assert.match(human.stderr, /Error: The duplicates audit is past its --fail-on limits: duplicates is 2 \(--fail-on duplicates>0\)\./)
  }),
)

test(
  'audit compare: the same shape and exit 3 when --fail-on trips',
  withTimeout(90_000, async () => {
    const sink = join(dir, 'sink.jsonl')
    writeFileSync(sink, `${['k0', 'k1', 'k2', 'k3', 'k4', 'k5'].map((key) => JSON.stringify({ key })).join('\n')}\n`)
    const compare = (...extra: string[]) =>
      runCli(['audit', 'compare', '--topic', topic, '--key', 'key', '--sink', sink, '--db', join(dir, 'audit.duckdb'), '--json', ...extra])
    const within = await compare('--fail-on', 'missing>2')
    const over = await compare('--fail-on', 'missing>0')
    assert.is(within.exitCode, 0, within.stderr)
    assert.is(over.exitCode, 3, over.stderr)
    for (const run of [within, over]) {
      assert.is(run.json.error, undefined, run.stdout)
      assert.is(run.json.totals.missing, 2)
    }
    assert.equal(over.json.failOn.exceeded, [{ metric: 'missing', op: '>', limit: 0, actual: 2 }])
  }),
)

test(
  'an empty range never passes --fail-on (exit 3, says the range is empty); without --fail-on it is a warning and exit 0',
  withTimeout(90_000, async () => {
    const empty = await duplicates('--from', '2030-01-01T00:00', '--fail-on', 'duplicates>0')
    assert.is(empty.exitCode, 3, empty.stderr)
    assert.match(
      empty.stderr,
      /Error: The range is empty: the duplicates audit read no records from 2030-01-01T00:00:00\.000Z to latest, and an empty range never passes --fail-on\./,
    )
    const json = await duplicates('--from', '2030-01-01T00:00', '--fail-on', 'duplicates>0', '--json')
    assert.is(json.exitCode, 3)
    assert.is(json.json.totals.records, 0)
    assert.equal(json.json.failOn.exceeded, [{ metric: 'records', op: '<', limit: 1, actual: 0, implied: true }])
    const plain = await duplicates('--from', '2030-01-01T00:00')
    assert.is(plain.exitCode, 0, plain.stderr)
    assert.match(plain.stdout, /The range is empty/)
  }),
)

test(
  '--fail-on records<N fails a run that read fewer than N records; the bad-value message lists it',
  withTimeout(90_000, async () => {
    const enough = await duplicates('--fail-on', 'records<1', '--json')
    assert.is(enough.exitCode, 0, enough.stderr)
    const tooFew = await duplicates('--fail-on', 'records<11', '--json')
    assert.is(tooFew.exitCode, 3, tooFew.stderr)
    assert.equal(tooFew.json.failOn.exceeded, [{ metric: 'records', op: '<', limit: 11, actual: 10 }])
    const wrongWay = await duplicates('--fail-on', 'records>0', '--json')
    assert.is(wrongWay.exitCode, 2)
    assert.is(wrongWay.json.error.code, 'BAD_FAIL_ON')
    assert.match(wrongWay.json.error.message, /records \(with < or <=\)/)
    const help = await runCli(['audit', 'duplicates', '--help'])
    assert.match(help.stdout.replace(/\s+/g, ' '), /records \(with < or <=\)/)
  }),
)

test(
  'the history is one file in RECOVER_HOME: runs from two folders both show, with their windows, and audit history says which file it read',
  withTimeout(120_000, async () => {
    const home = mkdtempSync(join(tmpdir(), 'recover-audit-home-'))
    const cronFolder = mkdtempSync(join(tmpdir(), 'recover-cron-cwd-'))
    const personFolder = mkdtempSync(join(tmpdir(), 'recover-person-cwd-'))
    const env = { RECOVER_HOME: home }
    const nightly = await runCli(
      ['audit', 'duplicates', '--topic', topic, '--key', 'key', '--from', '2024-05-01T10:00', '--to', '2024-05-01T11:00', '--json'],
      { cwd: cronFolder, env },
    )
    assert.is(nightly.exitCode, 0, nightly.stderr)
    assert.equal(nightly.json.history.db, join(home, 'audit.duckdb'))
    assert.equal(nightly.json.window, { from: '2024-05-01T10:00:00.000Z', to: '2024-05-01T11:00:00.000Z' })
    const byHand = await runCli(['audit', 'duplicates', '--topic', topic, '--key', 'key', '--json'], { cwd: personFolder, env })
    assert.is(byHand.exitCode, 0, byHand.stderr)

    const history = await runCli(['audit', 'history', '--topic', topic, '--json'], { cwd: personFolder, env })
    assert.is(history.exitCode, 0, history.stderr)
    assert.is(history.json.db, join(home, 'audit.duckdb'))
    assert.equal(
      history.json.topics[0].recent.map((r: { runId: string; windowFrom: string; windowTo: string }) => [r.runId, r.windowFrom, r.windowTo]),
      [
        [byHand.json.runId, 'earliest', 'latest'],
        [nightly.json.runId, '2024-05-01T10:00:00.000Z', '2024-05-01T11:00:00.000Z'],
      ],
    )
    const table = await runCli(['audit', 'history', '--topic', topic], { cwd: cronFolder, env })
    assert.is(table.exitCode, 0, table.stderr)
    assert.match(table.stdout, `Audit history in ${join(home, 'audit.duckdb')}:`)
    assert.match(table.stdout, /FROM\s+TO/)
    assert.match(table.stdout, /2024-05-01T10:00:00\.000Z\s+2024-05-01T11:00:00\.000Z/)
    assert.match(table.stdout, /earliest\s+latest/)
  }),
)

test.run()
