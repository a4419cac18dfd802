import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { runCli, testRecoverHome } from '../support/cli.js'
import { commitOffsets, createTopic, produce, testBrokers, uniqueName } from '../support/kafka.js'
import { repoRoot } from '../support/paths.js'
import { TerminalSession } from '../support/terminal.js'
import { withTimeout } from '../support/timeout.js'

/**
 * Lag over time: a group 6 records behind on partition 0 (its next record written an hour
 * ago) and caught up on partition 1; `groups describe --watch` samples it, --record keeps the
 * samples, and `groups history` shows their trend.
 */
let topic = ''
let group = ''
let dir = ''
let db = ''
const BASE_MS = Date.now() - 3_600_000
const tsOf = (i: number) => BASE_MS + i * 1_000

test.before(async () => {
  topic = uniqueName('e2e-lag')
  group = uniqueName('e2e-lag-group')
  dir = mkdtempSync(join(tmpdir(), 'recover-lag-'))
  db = join(dir, 'audit.duckdb')
  await createTopic(topic, 2)
  const records = []
  for (let i = 0; i < 10; i++) for (const partition of [0, 1]) records.push({ partition, key: `k${i}`, value: `v${i}`, timestampMs: tsOf(i) })
  await produce(topic, records)
  await commitOffsets(group, topic, [
    { partition: 0, offset: 4 },
    { partition: 1, offset: 10 },
  ])
})

test.after(() => rmSync(dir, { recursive: true, force: true }))

const lagOf = (sample: any) => sample.partitions.map((p: any) => `${p.partition}:${p.lag}`)

test(
  '--watch --samples 2 --json prints two NDJSON samples with lag in records and in time, and exits 0',
  withTimeout(90_000, async () => {
    const before = Date.now()
    const run = await runCli(['groups', 'describe', '--group', group, '--watch', '--interval', '200ms', '--samples', '2', '--json', '--record', '--db', db])
    assert.is(run.exitCode, 0, run.stderr)
    const samples = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    assert.equal(
      samples.map((s) => s.sample),
      [1, 2],
    )
    for (const s of samples) {
      assert.is(s.type, 'sample')
      assert.equal(lagOf(s), ['0:6', '1:0'])
      const p0 = s.partitions[0]
      // The record at the committed offset 4 was written at tsOf(4): its age is the time lag.
      assert.is(p0.nextRecordTime, new Date(tsOf(4)).toISOString())
      assert.ok(p0.lagMs >= before - tsOf(4), `lagMs ${p0.lagMs}`)
      assert.is(s.partitions[1].lagMs, 0)
      assert.is(s.totals.lag, '6')
      assert.equal(s.recorded.rows, 2)
    }
  }),
)

test(
  'in a pipe, one plain line per sample',
  withTimeout(90_000, async () => {
    const run = await runCli(['groups', 'describe', '-g', group, '--watch', '--interval', '100ms', '--samples', '2'])
    assert.is(run.exitCode, 0, run.stderr)
    const lines = run.stdout.trim().split('\n')
    assert.is(lines.length, 2, run.stdout)
    for (const line of lines) {
      assert.match(line, `group ${group} `)
      assert.match(line, 'lag 6 records')
      assert.match(line, `${topic}-0=6/`)
      assert.match(line, `${topic}-1=0/0s`)
    }
  }),
)

test(
  'recorded samples appear in groups history with min, max and last lag; --since keeps the newer ones',
  withTimeout(120_000, async () => {
    // The group moves on: 2 behind now. One more sample, from "cron".
    await commitOffsets(group, topic, [{ partition: 0, offset: 8 }])
    const cron = await runCli(['groups', 'describe', '--group', group, '--json', '--record', '--db', db])
    assert.is(cron.exitCode, 0, cron.stderr)
    assert.equal(cron.json.recorded.rows, 2)

    const history = await runCli(['groups', 'history', '--group', group, '--db', db, '--json'])
    assert.is(history.exitCode, 0, history.stderr)
    const h = history.json
    assert.is(h.samples, 3)
    const p0 = h.partitions.find((p: any) => p.topic === topic && p.partition === 0)
    const p1 = h.partitions.find((p: any) => p.topic === topic && p.partition === 1)
    assert.equal(p0.lag, { min: 2, max: 6, last: 2 })
    assert.equal(
      p0.points.map((p: any) => p.lag),
      [6, 6, 2],
    )
    // Time lag follows the record at the committed offset: offset 8 is younger than offset 4.
    assert.ok(p0.lagMs.last < p0.lagMs.max, JSON.stringify(p0.lagMs))
    assert.ok(p0.lagMs.last >= cron.json.partitions[0].lagMs - 1, JSON.stringify(p0.lagMs))
    assert.equal(p1.lag, { min: 0, max: 0, last: 0 })
    assert.equal(h.total.lag, { min: 2, max: 6, last: 2 })
    assert.equal(h.clusters.length, 1)

    const since = await runCli(['groups', 'history', '-g', group, '--db', db, '--since', cron.json.measuredAt, '--json'])
    assert.is(since.exitCode, 0, since.stderr)
    assert.is(since.json.samples, 1)
    assert.equal(since.json.total.lag, { min: 2, max: 2, last: 2 })

    const table = await runCli(['groups', 'history', '-g', group, '--db', db])
    assert.is(table.exitCode, 0, table.stderr)
    assert.match(table.stdout, '3 samples')
    assert.match(table.stdout, `${topic}-0`)
    assert.match(table.stdout, '2/6/2')
    assert.match(table.stdout, /total\s+2\/6\/2/)

    const none = await runCli(['groups', 'history', '-g', uniqueName('never-sampled'), '--db', db])
    assert.is(none.exitCode, 0, none.stderr)
    assert.match(none.stdout, 'No samples recorded')
  }),
)

test(
  'Ctrl-C stops a watch with exit 0',
  withTimeout(90_000, async () => {
    const child = spawn(process.execPath, [join(repoRoot(), 'bin', 'run.js'), 'groups', 'describe', '-g', group, '--watch', '--interval', '1s'], {
      env: { ...process.env, RECOVER_BROKERS: testBrokers(), RECOVER_HOME: testRecoverHome },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
    await new Promise<void>((resolve) =>
      child.stdout.on('data', (c: Buffer) => {
        stdout += c.toString()
        if (stdout.includes('\n')) resolve()
      }),
    )
    child.kill('SIGINT')
    assert.is(await closed, 0, stderr)
    assert.match(stdout, /lag \d+ records/)
  }),
)

test(
  'on a terminal (tmux, 80x24, CI=true): redrawn in place within 80 columns, a sparkline per partition; Ctrl-C exits 0',
  withTimeout(120_000, async () => {
    const terminal = new TerminalSession(['groups', 'describe', '-g', group, '--watch', '--interval', '300ms'], {
      env: { RECOVER_BROKERS: testBrokers(), RECOVER_HOME: testRecoverHome, CI: 'true' },
      cwd: repoRoot(),
      size: { columns: 80, rows: 24 },
    })
    try {
      await terminal.shows('Sample 3 at')
      const screen = terminal.screen()
      // capture-pane -J joins wrapped lines: a line that did not fit would come back longer.
      for (const line of screen.split('\n')) assert.ok([...line.trimEnd()].length <= 80, `wider than 80: ${line}`)
      assert.match(screen, /-0 +\d+ +\S+ +[▁▂▃▄▅▆▇█]{3}/)
      assert.match(screen, /-1 +0 +0s +[▁▂▃▄▅▆▇█]{3}/)
      // Redrawn in place: one header on the screen, not one per sample.
      assert.is(screen.split('TREND (records)').length, 2, screen)
      terminal.keys('C-c')
      assert.is(await terminal.exitStatus(), 0, terminal.screen())
    } finally {
      terminal.close()
    }
  }),
)

test(
  'usage mistakes: --samples without --watch, a zero interval',
  withTimeout(60_000, async () => {
    const samples = await runCli(['groups', 'describe', '-g', group, '--samples', '2'])
    assert.is(samples.exitCode, 2, samples.stderr)
    assert.match(samples.stderr, '--samples counts the samples of --watch')
    const zero = await runCli(['groups', 'describe', '-g', group, '--watch', '--interval', '0'])
    assert.is(zero.exitCode, 2, zero.stderr)
  }),
)

test.run()
