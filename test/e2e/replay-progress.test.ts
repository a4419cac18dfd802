import { execFile } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { runCli } from '../support/cli.js'
import { createTopic, produce, testBrokers, uniqueName } from '../support/kafka.js'
import { repoRoot } from '../support/paths.js'
import { withTimeout } from '../support/timeout.js'

const run = promisify(execFile)
const dir = mkdtempSync(join(tmpdir(), 'recover-e2e-progress-'))
const plain = (text: string) => text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '')

/** 3 partitions of 400 JSON records, 2 of them not JSON (quarantined at decode). */
async function seed(): Promise<string> {
  const topic = uniqueName('progress')
  await createTopic(topic, 3)
  await produce(topic, [0, 1, 2].flatMap((partition) => Array.from({ length: 400 }, (_, i) => ({ partition, key: `k${partition}-${i}`, timestampMs: Date.UTC(2018, 2, 21) + i, value: partition === 1 && i % 200 === 7 ? '{not json' : JSON.stringify({ id: i, partition }) }))))
  return topic
}

test(
  'on a terminal the replay draws a live Ink view: totals, a line per partition, quarantined; the summary follows',
  withTimeout(90_000, async () => {
    const topic = await seed()
    const out = join(dir, `${topic}.jsonl`)
    const args = ['replay', '--topic', topic, '--value-format', 'json', '--sink', `file:${out}`, '--quarantine', `file:${join(dir, `${topic}.q.jsonl`)}`, '--batch-size', '100', '--checkpoint', join(dir, `${topic}.ckpt.json`)]
    const command = [process.execPath, join(repoRoot(), 'bin', 'run.js'), ...args].join(' ')
    // `script` gives the command a pseudo-terminal, as a person at a terminal has (with a size).
    const { stdout } = await run('script', ['-qec', `stty cols 120 rows 40; ${command}`, '/dev/null'], { env: { ...process.env, RECOVER_BROKERS: testBrokers(), COLUMNS: '120' }, timeout: 80_000 })
    const screen = plain(stdout)
    assert.match(screen, new RegExp(`Replayed ${topic} → file:`))
    assert.match(screen, /100\.0%\s+1,200 read/)
    assert.match(screen, /1,198 written\s+0 dropped\s+2 quarantined/)
    for (const p of [0, 1, 2]) assert.match(screen, new RegExp(`\\n\\s+${p}\\s+█+\\s+400\\s+[\\d.]+\\s+${p === 1 ? 2 : 0}\\s+400 / 400`))
    // The final frame comes before the summary on stdout.
    assert.ok(screen.lastIndexOf('Replayed ') < screen.indexOf('Reconciled: read 1200 = written 1198 + dropped 0 + quarantined 2'), screen)
  }),
)

test(
  'off a terminal there is no live view: progress is plain lines on stderr, and --json prints only the summary',
  withTimeout(90_000, async () => {
    const topic = await seed()
    const base = ['replay', '--topic', topic, '--value-format', 'json', '--batch-size', '100']
    const lines = await runCli([...base, '--quarantine', `file:${join(dir, `${topic}.qa.jsonl`)}`, '--sink', `file:${join(dir, `${topic}.a.jsonl`)}`, '--checkpoint', join(dir, `${topic}.a.json`), '--progress-interval', '1ms'])
    assert.is(lines.exitCode, 0, lines.stderr)
    assert.not.match(lines.stderr, /█|░|\x1b\[/)
    assert.match(lines.stderr, /replay: [\d,]+ read, [\d,]+ written/)
    const json = await runCli([...base, '--quarantine', `file:${join(dir, `${topic}.qb.jsonl`)}`, '--sink', `file:${join(dir, `${topic}.b.jsonl`)}`, '--checkpoint', join(dir, `${topic}.b.json`), '--json'])
    assert.is(json.exitCode, 0, json.stderr)
    assert.is(json.stderr, '')
    assert.is(json.json.totals.read, 1200)
  }),
)

test.run()
