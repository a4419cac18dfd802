import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { runCli } from '../support/cli.js'
import { createTopic, produce, uniqueName } from '../support/kafka.js'
import { withTimeout } from '../support/timeout.js'

/**
 * A transform that hangs (a synchronous infinite loop, or a promise that never settles) must
 * not hang the replay: the record goes to quarantine at stage transform and the rest passes.
 */
const dir = mkdtempSync(join(tmpdir(), 'recover-transform-timeout-'))

const PLUGIN = `import { defineTransform } from 'recover/plugin-api'
export default defineTransform({
  name: 'sometimes-hangs',
  version: '1.0.0',
  transform(record) {
    if (record.value.mode === 'loop') for (;;) {}
    if (record.value.mode === 'never') return new Promise(() => undefined)
    return { ...record, value: { ...record.value, seen: true } }
  },
})
`

test(
  'a transform that loops forever or never settles is stopped after --transform-timeout; those records are quarantined, the replay completes',
  withTimeout(120_000, async () => {
    const topic = uniqueName('transform-timeout')
    await createTopic(topic, 2)
    const modes = Array.from({ length: 40 }, (_, i) => (i === 7 || i === 30 ? 'loop' : i === 18 ? 'never' : 'ok'))
    await produce(
      topic,
      modes.map((mode, i) => ({ partition: i % 2, key: `k${i}`, value: JSON.stringify({ i, mode }), timestampMs: 1_700_000_000_000 + i })),
    )
    const plugin = join(dir, 'hangs.ts')
    writeFileSync(plugin, PLUGIN)
    const sink = join(dir, 'out.jsonl')
    const quarantine = join(dir, 'q.jsonl')
    const run = await runCli(
      [
        'replay',
        '--topic',
        topic,
        '--value-format',
        'json',
        '--transform',
        plugin,
        '--transform-timeout',
        '1s',
        '--sink',
        `file:${sink}`,
        '--quarantine',
        `file:${quarantine}`,
        '--checkpoint',
        join(dir, 'cp.json'),
        '--json',
      ],
      { cwd: dir, timeoutMs: 90_000 },
    )
    assert.is(run.exitCode, 0, run.stderr)
    assert.ok(run.json.finished && run.json.reconciled)
    assert.is(run.json.totals.written, 37)
    assert.is(run.json.quarantinedByStage.transform, 3)
    const lines = readFileSync(quarantine, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { value: string; headers: Array<{ key: string; text?: string }> })
    const header = (l: (typeof lines)[number], key: string) => l.headers.find((h) => h.key === key)?.text
    assert.equal(
      lines.map((l) => JSON.parse(Buffer.from(l.value, 'base64').toString()).i).sort((a: number, b: number) => a - b),
      [7, 18, 30],
    )
    for (const l of lines) {
      assert.is(header(l, 'recover.error.stage'), 'transform')
      assert.is(header(l, 'recover.error.class'), 'TransformTimeoutError')
      assert.match(header(l, 'recover.error.message') ?? '', /did not finish within 1000 ms/)
      assert.is(header(l, 'recover.transform.name'), 'sometimes-hangs')
    }
    const written = readFileSync(sink, 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { decoded: { value: { seen: boolean } } }).decoded.value)
    assert.ok(written.every((v) => v.seen))
  }),
)

const SINK = `import { defineSink } from 'recover/plugin-api'
export default defineSink({
  name: 'hanging-sink',
  version: '1.0.0',
  write(records, ctx) {
    if (process.env.HANG === 'loop') for (;;) {}
    return new Promise(() => undefined)
  },
})
`

test(
  'a sink plugin whose write loops forever or never settles stops the replay after --sink-timeout: exit 5, one sentence, resumable',
  withTimeout(120_000, async () => {
    const topic = uniqueName('sink-timeout')
    await createTopic(topic, 1)
    await produce(
      topic,
      Array.from({ length: 10 }, (_, i) => ({ partition: 0, key: `k${i}`, value: `v${i}`, timestampMs: 1_700_000_000_000 + i })),
    )
    const plugin = join(dir, 'hanging-sink.ts')
    writeFileSync(plugin, SINK)
    for (const hang of ['loop', 'promise']) {
      const checkpoint = join(dir, `sink-${hang}.json`)
      const run = await runCli(
        [
          'replay',
          '--topic',
          topic,
          '--sink',
          `plugin:${plugin}#x`,
          '--quarantine',
          `file:${join(dir, `sq-${hang}.jsonl`)}`,
          '--sink-timeout',
          '1s',
          '--checkpoint',
          checkpoint,
        ],
        { cwd: dir, timeoutMs: 60_000, env: { HANG: hang } },
      )
      assert.is(run.exitCode, 5, `${hang}: ${run.stderr}`)
      assert.match(
        run.stderr,
        /^Error: Sink plugin hanging-sink@1\.0\.0 did not finish writing a batch of 10 within 1 s \(--sink-timeout\); nothing past the last checkpoint counts as written: fix the sink \(or raise --sink-timeout\)\.$/m,
      )
      // The batch was handed to the sink, so the checkpoint is kept and the advice is to resume.
      assert.match(run.stderr, /^ {2}→ Continue with: recover replay .* --resume$/m)
      const cp = JSON.parse(readFileSync(checkpoint, 'utf8')) as { finished: boolean; partitions: Array<{ next: string; read: number }> }
      assert.is(cp.finished, false)
      assert.is(cp.partitions[0]!.read, 0)
    }
  }),
)

test.run()
