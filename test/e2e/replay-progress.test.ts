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
import { progressLineProblems, progressSchema } from '../support/progress-schema.js'

const run = promisify(execFile)
const dir = mkdtempSync(join(tmpdir(), 'recover-e2e-progress-'))
const plain = (text: string) => text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '')

/** 3 partitions of 400 JSON records, 2 of them not JSON (quarantined at decode). */
async function seed(): Promise<string> {
  const topic = uniqueName('progress')
  await createTopic(topic, 3)
  await produce(
    topic,
    [0, 1, 2].flatMap((partition) =>
      Array.from({ length: 400 }, (_, i) => ({
        partition,
        key: `k${partition}-${i}`,
        timestampMs: Date.UTC(2018, 2, 21) + i,
        value: partition === 1 && i % 200 === 7 ? '{not json' : JSON.stringify({ id: i, partition }),
      })),
    ),
  )
  return topic
}

test(
  'on a terminal the replay draws a live Ink view: totals, a line per partition, quarantined; the summary follows',
  withTimeout(90_000, async () => {
    const topic = await seed()
    const out = join(dir, `${topic}.jsonl`)
    const args = [
      'replay',
      '--topic',
      topic,
      '--value-format',
      'json',
      '--sink',
      `file:${out}`,
      '--quarantine',
      `file:${join(dir, `${topic}.q.jsonl`)}`,
      '--batch-size',
      '100',
      '--checkpoint',
      join(dir, `${topic}.ckpt.json`),
    ]
    const command = [process.execPath, join(repoRoot(), 'bin', 'run.js'), ...args].join(' ')
    // `script` gives the command a pseudo-terminal, as a person at a terminal has (with a size).
    const { stdout } = await run('script', ['-qec', `stty cols 120 rows 40; ${command}`, '/dev/null'], {
      env: { ...process.env, RECOVER_BROKERS: testBrokers(), COLUMNS: '120' },
      timeout: 80_000,
    })
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
  'off a terminal there is no live view: progress is plain lines on stderr, the same figures as the summary at the end',
  withTimeout(90_000, async () => {
    const topic = await seed()
    const lines = await runCli([
      'replay',
      '--topic',
      topic,
      '--value-format',
      'json',
      '--batch-size',
      '100',
      '--quarantine',
      `file:${join(dir, `${topic}.qa.jsonl`)}`,
      '--sink',
      `file:${join(dir, `${topic}.a.jsonl`)}`,
      '--checkpoint',
      join(dir, `${topic}.a.json`),
      '--progress-interval',
      '1ms',
    ])
    assert.is(lines.exitCode, 0, lines.stderr)
    assert.not.match(lines.stderr, /█|░|\x1b\[/)
    assert.match(lines.stderr, /^replay: 1,200 read, 1,198 written, 0 dropped, 2 quarantined, [\d.]+ MB, [\d,]+ rec\/s, 100\.0%, ETA 0s$/m)
  }),
)

test(
  '--json: stdout is the one result document; stderr streams NDJSON progress, every line as docs/progress-events.md says',
  withTimeout(90_000, async () => {
    const topic = await seed()
    const json = await runCli([
      'replay',
      '--topic',
      topic,
      '--value-format',
      'json',
      '--batch-size',
      '100',
      '--quarantine',
      `file:${join(dir, `${topic}.qb.jsonl`)}`,
      '--sink',
      `file:${join(dir, `${topic}.b.jsonl`)}`,
      '--checkpoint',
      join(dir, `${topic}.b.json`),
      '--progress-interval',
      '1ms',
      '--json',
    ])
    assert.is(json.exitCode, 0, json.stderr)
    assert.is(json.json.totals.read, 1200)
    const records = ndjson(json.stderr)
    const types = records.map((r) => r.type)
    assert.is(types[0], 'start')
    assert.is(types.at(-1), 'done')
    assert.ok(types.filter((t) => t === 'progress').length >= 2, types.join(' '))
    const start = records[0]!
    assert.equal(
      [start.topic, start.resumed, start.partitions.map((p: { partition: number; end: string }) => `${p.partition}:${p.end}`)],
      [topic, false, ['0:400', '1:400', '2:400']],
    )
    // The last figures are the summary's.
    const last = records.filter((r) => r.type === 'progress').at(-1)!
    assert.equal([last.read, last.written, last.quarantined, last.percent, last.remaining], [1200, 1198, 2, 100, '0'])
    assert.equal(records.at(-1)!.totals, { read: 1200, written: 1198, dropped: 0, quarantined: 2, outputs: 1198, bytes: json.json.totals.bytes })
  }),
)

test(
  "--scale-out --json streams the same vocabulary: joining, the assignment, each partition's start, progress and stop",
  withTimeout(90_000, async () => {
    const topic = await seed()
    const name = uniqueName('progress-scale')
    const run = await runCli(
      [
        'replay',
        '--topic',
        topic,
        '--value-format',
        'json',
        '--batch-size',
        '100',
        '--scale-out',
        name,
        '--sink',
        `kafka:${name}.out`,
        '--quarantine',
        `kafka:${name}.q`,
        '--progress-interval',
        '1ms',
        '--json',
      ],
      { timeoutMs: 80_000 },
    )
    assert.is(run.exitCode, 0, run.stderr + run.stdout)
    assert.is(run.json.totals.read, 1200)
    const records = ndjson(run.stderr)
    const types = records.map((r) => r.type)
    assert.equal(types.slice(0, 2), ['scale-out-joining', 'scale-out-assigned'])
    assert.equal(
      records
        .filter((r) => r.type === 'partition-start')
        .map((r) => r.partition)
        .sort(),
      [0, 1, 2],
    )
    assert.equal(
      records
        .filter((r) => r.type === 'partition-stop' && r.finished)
        .map((r) => r.partition)
        .sort(),
      [0, 1, 2],
    )
    assert.not.ok(types.includes('start'), "a partition's own start is partition-start")
    assert.is(types.filter((t) => t === 'done').length, 1, "one done, for the process's share")
    assert.equal([types.at(-1), records.at(-1)!.finished, records.at(-1)!.totals.read], ['done', true, 1200])
    const last = records.filter((r) => r.type === 'progress').at(-1)!
    assert.equal([last.read, last.quarantined, last.percent], [1200, 2, 100])
  }),
)

/** stderr as NDJSON records, each checked against the documented schema. */
function ndjson(stderr: string): any[] {
  const lines = stderr.split('\n').filter(Boolean)
  assert.ok(lines.length > 0, 'nothing on stderr')
  const schema = progressSchema()
  assert.equal(
    lines.flatMap((line) => progressLineProblems(line, schema)),
    [],
  )
  return lines.map((line) => JSON.parse(line))
}

test.run()
