/**
 * Every runbook in docs/runbooks/ runs end to end against the test broker, on an incident
 * seeded for it, exactly as `recover runbook run` runs it for a person: the docs cannot rot.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { seedIncident } from '../../src/fixtures/seed-incident.js'
import type { IncidentTruth } from '../../src/fixtures/incident-truth.js'
import { runCli } from '../support/cli.js'
import { commitOffsets, readCommitted, testBrokers, uniqueName, withGateway } from '../support/kafka.js'
import { repoRoot } from '../support/paths.js'
import { withTimeout } from '../support/timeout.js'

const root = repoRoot()
const schema = join(root, 'fixtures', 'schemas')
const transform = join(root, 'plugins', 'fix-bad-deploy.ts')
// connector-bad-data runs in connect.test.ts, next to the Connect worker that file starts.
const TESTED = new Set<string>(['connector-bad-data'])

async function seed(count = 1000): Promise<{ topic: string; group: string; truth: IncidentTruth }> {
  const topic = uniqueName('rb-orders')
  const { truth } = await seedIncident({
    kafka: new Kafka({ brokers: testBrokers().split(','), logLevel: logLevel.NOTHING }),
    topic,
    count,
    replicationFactor: 1,
  })
  return { topic, group: uniqueName('rb-billing'), truth }
}

function atLogEnd(truth: IncidentTruth): Array<{ partition: number; offset: bigint }> {
  return truth.perPartition.map((p) => ({ partition: p.partition, offset: p.logEndOffset }))
}

async function runbook(name: string, cwd: string, vars: Record<string, string>, extra: string[] = []) {
  const args = ['runbook', 'run', name, ...Object.entries(vars).flatMap(([k, v]) => ['--var', `${k}=${v}`]), '--yes', '--json', ...extra]
  return runCli(args, { cwd, timeoutMs: 170_000 })
}

/** A test of one runbook, counted for the check that every runbook has one. */
function runbookTest(name: string, what: string, work: (cwd: string) => Promise<void>, enabled = true): void {
  TESTED.add(name)
  ;(enabled ? test : test.skip)(`${name}: ${what}`, inTemp(work))
}

function inTemp(work: (cwd: string) => Promise<void>): () => Promise<void> {
  return withTimeout(180_000, async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'recover-runbook-'))
    try {
      await work(cwd)
    } finally {
      rmSync(cwd, { recursive: true, force: true })
    }
  })
}

function assertAllRan(run: { exitCode: number; stderr: string; json: any }, steps: number): void {
  assert.is(run.exitCode, 0, `${run.stderr}${JSON.stringify(run.json?.error?.message ?? '')}`)
  assert.is(run.json.steps.length, steps)
  for (const step of run.json.steps) assert.is(step.exitCode, 0, step.command)
  assert.ok(existsSync(run.json.log), 'the run is logged')
}

runbookTest('poison-pill', 'skips exactly the pill on its partition, and --rollback puts the group back on it', async (cwd) => {
  const { topic, group, truth } = await seed()
  const pill = truth.poisonPills[0]!
  await commitOffsets(
    group,
    topic,
    atLogEnd(truth).map((o) => (o.partition === pill.partition ? { ...o, offset: pill.offset } : o)),
  )
  const vars = { group, topic, partition: String(pill.partition), offset: String(pill.offset), schema }

  const run = await runbook('poison-pill', cwd, vars)
  assertAllRan(run, 6)
  assert.is((await readCommitted(group))[`${topic}-${pill.partition}`], String(pill.offset + 1n))
  const log = readFileSync(run.json.log, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
  assert.equal(
    log.filter((e) => e.event === 'done').map((e) => e.exitCode),
    [0, 0, 0, 0, 0, 0],
  )
  // Before the skip, the run shows the exact record it passes over: decoded (here its decoding error), offset and time.
  const shown = run.json.steps.find((s: { command: string }) => s.command.startsWith('recover peek'))
  assert.ok(shown, 'a peek step runs before the skip')
  assert.match(shown.command, new RegExp(`--partition ${pill.partition} --at offset:${pill.offset} --count 1`))
  assert.match(run.json.steps[run.json.steps.indexOf(shown) + 1].command, /--shift-by 1 .*--execute/, 'right before the skip')
  assert.match(log.find((e) => e.step === 5 && e.event === 'step').command, new RegExp(`--shift-by 1 --expect-current ${pill.offset} --execute --yes$`))

  const back = await runbook('poison-pill', cwd, vars, ['--rollback'])
  assertAllRan(back, 1)
  assert.is(back.json.rollbackOf, run.json.runId, 'the rollback reverts the run just made')
  assert.is((await readCommitted(group))[`${topic}-${pill.partition}`], String(pill.offset))
})

test(
  'poison-pill refuses to skip a good record: the group is not on the pill named by --var offset (exit 4, nothing moved)',
  inTemp(async (cwd) => {
    const { topic, group, truth } = await seed()
    const pill = truth.poisonPills[0]!
    // The group sits one record before the pill, on a good record; the person names the pill.
    const committed = atLogEnd(truth).map((o) => (o.partition === pill.partition ? { ...o, offset: pill.offset - 1n } : o))
    await commitOffsets(group, topic, committed)
    const before = await readCommitted(group)
    const run = await runbook('poison-pill', cwd, { group, topic, partition: String(pill.partition), offset: String(pill.offset), schema })
    assert.is(run.exitCode, 4, run.stderr)
    assert.is(run.json.error.details.stepError.code, 'OFFSETS_CHANGED')
    assert.match(run.json.error.message, new RegExp(`${topic}-${pill.partition} is at ${pill.offset - 1n}`))
    assert.equal(await readCommitted(group), before, 'no offset moved')
  }),
)

test(
  'a rollback reverts only what its run changed: after a run that failed before changing anything, an earlier unrelated seek stays',
  inTemp(async (cwd) => {
    const { topic, group, truth } = await seed()
    const pill = truth.poisonPills[0]!
    await commitOffsets(
      group,
      topic,
      atLogEnd(truth).map((o) => ({ ...o, offset: 0n })),
    )
    // Someone else's change, journalled in the same state folder, before the runbook.
    const earlier = await runCli(['seek', '--group', group, '--to-latest', '--execute', '--yes'], { cwd })
    assert.is(earlier.exitCode, 0, earlier.stderr)
    const afterEarlier = await readCommitted(group)
    const vars = { group, topic, partition: String(pill.partition), offset: String(pill.offset), schema: join(cwd, 'no-such-schemas') }
    const failed = await runbook('poison-pill', cwd, vars)
    assert.is(failed.exitCode, 4)
    assert.is(failed.json.error.details.step, 2, 'a read-only step failed')
    const suggested = failed.json.error.nextSteps.find((s: string) => s.includes('--rollback'))
    assert.match(
      suggested,
      new RegExp(
        `--rollback --run ${failed.json.error.details.log
          .split('/')
          .pop()
          .replace(/\.jsonl$/, '')}$`,
      ),
    )
    const back = await runbook('poison-pill', cwd, vars, ['--rollback'])
    assert.is(back.exitCode, 0, back.stderr)
    assert.is(
      back.json.rollbackOf,
      failed.json.error.details.log
        .split('/')
        .pop()
        .replace(/\.jsonl$/, ''),
    )
    assert.equal(await readCommitted(group), afterEarlier, 'the earlier, unrelated seek was not undone')
  }),
)

test(
  'a rollback refuses when the group moved since the run changed it (exit 4, nothing changed)',
  inTemp(async (cwd) => {
    const { topic, group, truth } = await seed()
    const pill = truth.poisonPills[0]!
    await commitOffsets(
      group,
      topic,
      atLogEnd(truth).map((o) => (o.partition === pill.partition ? { ...o, offset: pill.offset } : o)),
    )
    const vars = { group, topic, partition: String(pill.partition), offset: String(pill.offset), schema }
    assertAllRan(await runbook('poison-pill', cwd, vars), 6)
    // The consumer came back and read on.
    await commitOffsets(group, topic, [{ partition: pill.partition, offset: pill.offset + 5n }])
    const moved = await readCommitted(group)
    const back = await runbook('poison-pill', cwd, vars, ['--rollback'])
    assert.is(back.exitCode, 4, back.stderr)
    assert.is(back.json.error.details.stepError.code, 'OFFSETS_CHANGED')
    assert.equal(await readCommitted(group), moved)
  }),
)

runbookTest('bad-deploy', 'rewinds the group to the window start and replays the window through the fix into the sink', async (cwd) => {
  const { topic, group, truth } = await seed()
  await commitOffsets(group, topic, atLogEnd(truth))
  const sinkFile = join(cwd, 'fixed.jsonl')
  const run = await runbook('bad-deploy', cwd, { group, topic, transform, schema, sink: `file:${sinkFile}` })
  assertAllRan(run, 8)
  const committed = await readCommitted(group)
  for (const w of truth.badDeploy.perPartition) assert.is(committed[`${topic}-${w.partition}`], String(w.seekOffset))
  assert.is(readFileSync(sinkFile, 'utf8').trim().split('\n').length, truth.badDeploy.records - truth.badDeploy.poisonPills)

  const back = await runbook('bad-deploy', cwd, { group, topic, sink: `file:${sinkFile}` }, ['--rollback'])
  assertAllRan(back, 1)
  const restored = await readCommitted(group)
  for (const p of truth.perPartition) assert.is(restored[`${topic}-${p.partition}`], String(p.logEndOffset))
})

runbookTest('duplicate-storm', 'reports every duplicate of the window and shows the history', async (cwd) => {
  const { topic, group, truth } = await seed()
  await commitOffsets(group, topic, atLogEnd(truth))
  const report = join(cwd, 'dups.csv')
  const run = await runbook('duplicate-storm', cwd, { group, topic, schema, report })
  assertAllRan(run, 3)
  const rows = readFileSync(report, 'utf8').trim().split('\n')
  const inWindow = truth.duplicates.filter((d) => d.inBadDeployWindow)
  assert.ok(inWindow.length > 0)
  for (const d of inWindow)
    assert.ok(
      rows.some((r) => r.includes(d.key)),
      `${d.key} is in the report`,
    )
})

runbookTest('sink-lost-rows', 'finds the gap in a mirror topic, replays exactly it, and the check passes', async (cwd) => {
  const { topic, truth } = await seed()
  const mirror = uniqueName('rb-mirror')
  const gap = { partition: 0, from: 100n, to: 120n }
  // The mirror as a sink that lost 20 records of partition 0: everything else copied byte for byte.
  const copy = async (from: string, to: string, partitions: string, name: string) => {
    const r = await runCli(
      [
        'replay',
        '--topic',
        topic,
        '--partitions',
        partitions,
        '--from',
        from,
        '--to',
        to,
        '--sink',
        `kafka:${mirror}`,
        '--checkpoint',
        join(cwd, `${name}.json`),
        '--quarantine',
        `file:${join(cwd, `${name}.q.jsonl`)}`,
        '--json',
      ],
      { cwd, timeoutMs: 60_000 },
    )
    assert.is(r.exitCode, 0, r.stderr)
  }
  await copy('earliest', `offset:${gap.from}`, '0', 'a')
  await copy(`offset:${gap.to}`, 'latest', '0', 'b')
  await copy('earliest', 'latest', '1,2', 'c')

  const sink = `kafka:${mirror}`
  const run = await runbook('sink-lost-rows', cwd, {
    topic,
    sink,
    partition: '0',
    first_missing: String(gap.from),
    end_missing: String(gap.to),
    report: join(cwd, 'compare.csv'),
  })
  assertAllRan(run, 3)
  const total = truth.perPartition.reduce((n, p) => n + Number(p.logEndOffset), 0)
  const mirrored = await withGateway(async (g) => (await g.logOffsets(mirror)).reduce((n, p) => n + Number(p.logEnd - p.logStart), 0))
  assert.is(mirrored, total)
})

const quarantineRegistered = (() => {
  const manifest = JSON.parse(readFileSync(join(root, 'oclif.manifest.json'), 'utf8')) as { commands: Record<string, unknown> }
  return 'quarantine:redrive' in manifest.commands && 'quarantine:list' in manifest.commands
})()

// Pending until `recover quarantine` (issue 7) is part of recover; then it runs like the others.
runbookTest(
  'dlq-drain',
  'redrives the quarantined records of one error with a canary first',
  async (cwd) => {
    const { topic, group, truth } = await seed()
    await commitOffsets(group, topic, atLogEnd(truth))
    const quarantine = `kafka:${topic}.quarantine`
    const replayed = await runCli(
      [
        'replay',
        '--topic',
        topic,
        '--value-format',
        'avro',
        '--schema',
        schema,
        '--sink',
        `file:${join(cwd, 'all.jsonl')}`,
        '--quarantine',
        quarantine,
        '--json',
      ],
      { cwd, timeoutMs: 60_000 },
    )
    assert.is(replayed.exitCode, 0, replayed.stderr)
    const logEnd = async () => (await withGateway((g) => g.logOffsets(topic))).reduce((n, p) => n + p.logEnd, 0n)
    const before = await logEnd()
    const run = await runbook('dlq-drain', cwd, { group, quarantine, error: 'DecodeError', canary: '1' })
    assertAllRan(run, 5)
    // The poison pills went back to the topic they came from, once.
    assert.is(await logEnd(), before + BigInt(truth.poisonPills.length))
  },
  quarantineRegistered,
)

test(
  'a failing step stops the run with exit 4, what failed, how to continue, and the log of what ran',
  inTemp(async (cwd) => {
    const group = uniqueName('rb-nobody')
    const run = await runCli(['runbook', 'run', 'poison-pill', '--var', `group=${group}`, '--var', 'partition=0', '--var', 'offset=1', '--yes', '--json'], {
      cwd,
      timeoutMs: 60_000,
    })
    assert.is(run.exitCode, 4, run.stdout)
    const error = run.json.error
    assert.is(error.code, 'RUNBOOK_STEP_FAILED')
    assert.match(error.message, /Step 1 of runbook poison-pill .* \[GROUP_NOT_FOUND\]/)
    assert.ok(
      error.nextSteps.some((s: string) => s.includes(`recover runbook run poison-pill --var group=${group}`) && s.endsWith('--from-step 1')),
      error.nextSteps.join('\n'),
    )
    assert.ok(error.nextSteps.some((s: string) => /--rollback --run \S+-poison-pill$/.test(s)))
    const log = readFileSync(error.details.log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    assert.equal(
      log.map((e) => e.event),
      ['start', 'step', 'done'],
    )
    assert.is(log[2].error, 'GROUP_NOT_FOUND')
  }),
)

test(
  'destructive steps without a terminal and without --yes are refused before anything runs',
  inTemp(async (cwd) => {
    const home = join(cwd, 'home')
    const run = await runCli(['runbook', 'run', 'poison-pill', '--var', 'partition=0', '--var', 'offset=1', '--json'], {
      cwd,
      timeoutMs: 60_000,
      env: { RECOVER_HOME: home },
    })
    assert.is(run.exitCode, 4)
    assert.is(run.json.error.code, 'CONFIRMATION_REQUIRED')
    assert.not.ok(existsSync(join(home, 'runbooks')))
  }),
)

test(
  'on a terminal, a destructive step asks first; answering no stops the run and runs nothing',
  inTemp(async (cwd) => {
    const bin = join(root, 'bin', 'run.js')
    const cmd = `printf 'n\\n' | script -qec "${process.execPath} ${bin} runbook run poison-pill --var group=nobody --var partition=0 --var offset=1 --from-step 5" /dev/null`
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn('sh', ['-c', cmd], { cwd, env: { ...process.env, RECOVER_BROKERS: testBrokers(), RECOVER_HOME: join(cwd, 'home') } })
      let text = ''
      child.stdout.on('data', (c: Buffer) => (text += c.toString()))
      child.on('close', () => resolve(text))
      child.on('error', reject)
    })
    assert.match(out, /Run destructive step 5: recover seek --group nobody --topic orders:0 --shift-by 1 --expect-current 1 --execute\? \[y\/N\]/)
    assert.match(out, /Stopped: you answered no at step 5\. 0 step\(s\) ran\./)
    const logs = readdirSync(join(cwd, 'home', 'runbooks'))
    const events = readFileSync(join(cwd, 'home', 'runbooks', logs[0]!), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).event)
    assert.equal(events, ['start', 'declined', 'stopped'])
  }),
)

test(
  'poison-pill shows the exact record it will skip (decoded, partition, offset, time) before it asks to skip it',
  inTemp(async (cwd) => {
    const { topic, group, truth } = await seed()
    const pill = truth.poisonPills[0]!
    await commitOffsets(
      group,
      topic,
      atLogEnd(truth).map((o) => (o.partition === pill.partition ? { ...o, offset: pill.offset } : o)),
    )
    const bin = join(root, 'bin', 'run.js')
    const vars = `--var group=${group} --var topic=${topic} --var partition=${pill.partition} --var offset=${pill.offset} --var schema=${schema}`
    const cmd = `printf 'n\\n' | script -qec "${process.execPath} ${bin} runbook run poison-pill ${vars} --from-step 4" /dev/null`
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn('sh', ['-c', cmd], { cwd, env: { ...process.env, RECOVER_BROKERS: testBrokers(), RECOVER_HOME: join(cwd, 'home') } })
      let text = ''
      child.stdout.on('data', (c: Buffer) => (text += c.toString()))
      child.on('close', () => resolve(text))
      child.on('error', reject)
    })
    const row = new RegExp(`(\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z) +${pill.partition} +${pill.offset} +\\S+ +\\(avro-(truncated|bad-magic)`)
    const shown = row.exec(out)
    assert.ok(shown, `the pill's row (time, partition, offset, decoding error) in:\n${out}`)
    const prompt = out.indexOf('Run destructive step 5')
    assert.ok(prompt > shown!.index, 'the record is shown before the question')
    assert.match(out, /Stopped: you answered no at step 5/)
    assert.is((await readCommitted(group))[`${topic}-${pill.partition}`], String(pill.offset), 'nothing moved')
  }),
)

test('every runbook in docs/runbooks has a test here', () => {
  const names = readdirSync(join(root, 'docs', 'runbooks'))
    .filter((f) => f.endsWith('.md') && f !== 'README.md')
    .map((f) => f.replace(/\.md$/, ''))
    .sort()
  assert.equal(names, [...TESTED].sort())
})

test.run()
