import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import pg from 'pg'
import { DEMO_POSTGRES } from '../../src/demo/demo-steps.js'
import { runCli } from '../support/cli.js'
import { testBrokers, withGateway } from '../support/kafka.js'
import { repoRoot } from '../support/paths.js'
import { withTimeout } from '../support/timeout.js'
import { progressLineProblems } from '../support/progress-schema.js'

const STEPS = ['groups-describe', 'peek', 'seek-dry-run', 'seek-execute', 'replay', 'quarantine-list', 'audit-duplicates']

test(
  'demo --brokers --json walks the recovery and its figures match the seeded incident',
  withTimeout(180_000, async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'recover-demo-'))
    try {
      const run = await runCli(['demo', '--brokers', testBrokers(), '--count', '1000', '--postgres', DEMO_POSTGRES, '--json'], { cwd, timeoutMs: 170_000 })
      assert.is(run.exitCode, 0, run.stderr)
      const demo = run.json
      assert.is(demo.ownBroker, false)
      assert.is(demo.kept, null)
      assert.match(demo.topic, /^orders-demo-[0-9a-f]{6}$/)
      assert.equal(
        demo.steps.map((s: { id: string }) => s.id),
        STEPS,
      )
      for (const step of demo.steps) {
        assert.is(step.exitCode, 0, step.command)
        assert.match(step.command, /^recover /)
      }
      // Its progress under --json: NDJSON on stderr (docs/progress-events.md), a start and an end per step.
      const progress = run.stderr.split('\n').filter(Boolean)
      assert.equal(
        progress.flatMap((line) => progressLineProblems(line)),
        [],
      )
      const records = progress.map((line) => JSON.parse(line) as { type: string; id?: string; exitCode?: number })
      assert.equal(
        records.filter((r) => r.type === 'step-start').map((r) => r.id),
        STEPS,
      )
      assert.equal(
        records.filter((r) => r.type === 'step-end').map((r) => [r.id, r.exitCode]),
        STEPS.map((id) => [id, 0]),
      )
      const f = demo.figures
      assert.ok(f.seeded.recordsInWindow > 0 && f.seeded.poisonPills > 0 && f.seeded.duplicates > 0, JSON.stringify(f.seeded))
      assert.is(f.lagBefore, 0)
      assert.ok(f.rewound >= f.seeded.recordsInWindow)
      assert.equal(f.replayed, {
        read: f.seeded.recordsInWindow,
        written: f.seeded.recordsInWindow - f.seeded.poisonPills,
        dropped: 0,
        quarantined: f.seeded.poisonPills,
      })
      assert.is(f.duplicates.undecodable, f.seeded.poisonPills)
      assert.is(f.duplicates.keys, f.seeded.duplicates)
      assert.is(f.duplicates.identical + f.duplicates.changed, f.seeded.duplicates)

      // Asked for with --postgres, so the replay upserted into a table: one row per order_id of
      // the window (the changed and identical copies of a duplicate key are one row), amounts fixed.
      assert.match(demo.sink, /^postgres:\/\/.*\?table=orders_demo_[0-9a-f]{6}_fixed&key=order_id$/)
      const table = /table=(\w+)/.exec(demo.sink)![1]!
      const pgClient = new pg.Client({ connectionString: DEMO_POSTGRES })
      await pgClient.connect()
      try {
        const rows = await pgClient.query(`SELECT count(*)::int AS n, count(DISTINCT order_id)::int AS keys, max(amount_cents)::bigint AS top FROM ${table}`)
        assert.is(rows.rows[0].n, f.replayed.written - f.duplicates.keys)
        assert.is(rows.rows[0].keys, rows.rows[0].n)
        await pgClient.query(`DROP TABLE ${table}`)
      } finally {
        await pgClient.end()
      }

      // The rewind really happened: the group now sits at the window start.
      const committed = await withGateway((g) => g.committedOffsets(demo.group))
      assert.is(committed.length, 3)
      assert.ok(committed.every((c) => c.offset !== null && c.offset > 0n))
    } finally {
      rmSync(cwd, { recursive: true, force: true })
    }
  }),
)

test(
  'demo prints each command before its output, then what happened; without --postgres the replay writes Parquet, even with a PostgreSQL answering on its default port',
  withTimeout(180_000, async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'recover-demo-'))
    try {
      const run = await runCli(['demo', '--brokers', testBrokers(), '--count', '500'], { cwd, timeoutMs: 170_000 })
      assert.is(run.exitCode, 0, run.stderr)
      const commands = [...run.stdout.matchAll(/^\$ (recover .*)$/gm)].map((m) => m[1]!)
      assert.is(commands.length, STEPS.length)
      assert.match(commands[2]!, /^recover seek --group billing-demo-\w+ --to 2018-03-21T00:00 --dry-run$/)
      // The seek plan follows its command line.
      assert.ok(run.stdout.indexOf('Totals: 3 partitions') > run.stdout.indexOf(commands[2]!))
      assert.match(commands[4]!, /^recover replay .* --sink file:\.recover\/demo\/\w+\/orders-demo-\w+\.fixed\.parquet$/)
      const parquet = join(cwd, commands[4]!.replace(/^.* --sink file:/, ''))
      assert.ok(existsSync(parquet), parquet)
      assert.match(run.stdout, /── What happened/)
      assert.match(run.stdout, /export RECOVER_BROKERS=/)
    } finally {
      rmSync(cwd, { recursive: true, force: true })
    }
  }),
)

test(
  'demo --json-schema shows an order that breaks its JSON Schema quarantined with the failing path and rule',
  withTimeout(180_000, async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'recover-demo-'))
    try {
      const run = await runCli(['demo', '--brokers', testBrokers(), '--count', '300', '--json-schema', '--json'], { cwd, timeoutMs: 170_000 })
      assert.is(run.exitCode, 0, run.stderr.slice(-3000))
      const demo = run.json
      const jsonSteps = ['json-schema-peek', 'json-schema-replay', 'json-schema-quarantine-show']
      assert.equal(
        demo.steps.map((s: { id: string }) => s.id),
        [...STEPS.slice(0, 5), ...jsonSteps, ...STEPS.slice(5)],
      )
      assert.match(
        demo.steps[5].command,
        /^recover peek --topic orders-demo-\w+-json --value-format json-schema --schema \S*fixtures\/json-schema\/order\.schema\.json$/,
      )
      // Five JSON orders, one with an item of quantity 0: it alone is quarantined, and its dead letter names where and which rule.
      const j = demo.figures.jsonSchema
      assert.equal([j.read, j.written, j.quarantined, j.kind], [5, 4, 1, 'json-schema-invalid'])
      assert.match(j.message, /\/items\/1\/qty must be >= 1 \(rule minimum/)
      // The Avro part of the demo is unchanged by it.
      assert.is(demo.figures.replayed.quarantined, demo.figures.seeded.poisonPills)
    } finally {
      rmSync(cwd, { recursive: true, force: true })
    }
  }),
)

test(
  'on a terminal, the demo waits before each step and q stops it',
  withTimeout(120_000, async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'recover-demo-'))
    try {
      // script(1) gives the demo a real pseudo-terminal, as a person at a shell would have.
      const cmd = `printf 'q\\n' | script -qec "${process.execPath} ${join(repoRoot(), 'bin', 'run.js')} demo --brokers ${testBrokers()} --count 300" /dev/null`
      const out = await new Promise<string>((resolve, reject) => {
        const child = spawn('sh', ['-c', cmd], { cwd })
        let text = ''
        child.stdout.on('data', (c: Buffer) => (text += c.toString()))
        child.stderr.on('data', (c: Buffer) => (text += c.toString()))
        child.on('close', () => resolve(text))
        child.on('error', reject)
      })
      assert.match(out, /Step 1\/7: Where is the consumer group\?/)
      assert.match(out, /Press Enter to run it \(q to stop\)/)
      assert.match(out, /Stopped before the end, as asked\./)
      assert.not.match(out, /Step 2\/7/)
      assert.not.match(out, /TOPIC +PARTITION/)
    } finally {
      rmSync(cwd, { recursive: true, force: true })
    }
  }),
)

test(
  'demo on its own broker with --keep leaves that broker running and says how to stop it',
  withTimeout(240_000, async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'recover-demo-'))
    let kept: { pid: number; dataDir: string } | undefined
    try {
      const run = await runCli(['demo', '--keep', '--count', '300', '--json'], { cwd, timeoutMs: 230_000, env: { RECOVER_BROKERS: '' } })
      assert.is(run.exitCode, 0, run.stdout + run.stderr)
      assert.is(run.json.ownBroker, true)
      kept = run.json.kept
      assert.ok(kept && kept.pid > 0, JSON.stringify(run.json.kept))
      assert.equal([run.json.topic, run.json.group], ['orders', 'billing'])
      // After the demo has exited, its broker still answers, with the rewound group on it.
      const groups = await runCli(['groups', '--json'], { cwd, env: { RECOVER_BROKERS: run.json.brokers } })
      assert.is(groups.exitCode, 0, groups.stderr)
      assert.ok(JSON.stringify(groups.json).includes('billing'))
    } finally {
      if (kept) await stopKept(kept)
      rmSync(cwd, { recursive: true, force: true })
    }
  }),
)

/** Stops the broker the demo left running: only that pid, SIGTERM, and waits for it to go. */
async function stopKept(kept: { pid: number; dataDir: string }): Promise<void> {
  const alive = () => {
    try {
      process.kill(kept.pid, 0)
      return true
    } catch {
      return false
    }
  }
  process.kill(kept.pid, 'SIGTERM')
  for (let i = 0; i < 300 && alive(); i++) await new Promise((resolve) => setTimeout(resolve, 100))
  if (alive()) process.kill(kept.pid, 'SIGKILL')
  rmSync(kept.dataDir, { recursive: true, force: true })
}

test.run()
