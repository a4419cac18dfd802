import { writeFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { runCli, spawnCli, type CliProcess } from '../support/cli.js'
import { createTopic, produce, readTopic, uniqueName, withAdmin } from '../support/kafka.js'
import { progressLineProblems, progressSchema } from '../support/progress-schema.js'
import { waitFor, withTimeout } from '../support/timeout.js'

/**
 * `replay --follow` against the real broker: records produced after the follow started reach
 * the sink; SIGTERM ends it with exit 0 and a checkpoint; the same command continues from the
 * checkpoint (also after kill -9) without losing or duplicating a record, into JSONL and into
 * Kafka with --exactly-once; --json progress carries the lag.
 */
const dir = mkdtempSync(join(tmpdir(), 'recover-e2e-follow-'))

/** Records `from`..`from + count - 1`, alternating over two partitions, values naming their number. */
async function produceNumbered(topic: string, from: number, count: number): Promise<void> {
  const records = Array.from({ length: count }, (_, i) => ({ partition: (from + i) % 2, key: `k${from + i}`, value: `v${from + i}`, timestampMs: Date.now() }))
  for (let at = 0; at < records.length; at += 100) await produce(topic, records.slice(at, at + 100))
}

const expected = (count: number) => Array.from({ length: count }, (_, i) => `v${i}`).sort()

/** The complete lines of a JSONL sink (a line being written by a killed run is left out). */
function envelopes(path: string): Array<{ partition: number; offset: string; value: string }> {
  if (!existsSync(path)) return []
  const out: Array<{ partition: number; offset: string; value: string }> = []
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    try {
      out.push(JSON.parse(line) as { partition: number; offset: string; value: string })
    } catch {
      // the torn last line of a killed run
    }
  }
  return out
}

/** The follows a test started: none outlives it, even when it fails (uvu would wait for them forever). */
const running: CliProcess[] = []
function start(args: string[], options: { cwd: string }): CliProcess {
  const run = spawnCli(args, options)
  running.push(run)
  return run
}
test.after.each(() => {
  for (const run of running.splice(0)) if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL')
})

const valuesOf = (rows: Array<{ value: string }>) => rows.map((r) => Buffer.from(r.value, 'base64').toString()).sort()

async function stop(run: CliProcess, signal: NodeJS.Signals) {
  run.child.kill(signal)
  return run.done
}

test(
  'into JSONL: new records arrive while following, SIGTERM exits 0 with a checkpoint, the same command continues (also after kill -9) with every record once, and --json progress has the lag',
  withTimeout(240_000, async () => {
    const topic = uniqueName('e2e-follow')
    await createTopic(topic, 2)
    await produceNumbered(topic, 0, 40)
    const out = join(dir, `${topic}.jsonl`)
    const checkpoint = join(dir, `${topic}.checkpoint.json`)
    const args = [
      'replay',
      '--topic',
      topic,
      '--follow',
      '--sink',
      `file:${out}`,
      '--quarantine',
      `file:${out}.q.jsonl`,
      '--checkpoint',
      checkpoint,
      // Not a divisor of what is produced: the last records of each burst fill no batch and go when the log is idle.
      '--batch-size',
      '32',
      '--progress-interval',
      '200ms',
      '--json',
    ]

    // 1. The records there at the start, then records produced while it follows.
    const first = start(args, { cwd: dir })
    await waitFor('the first 40 records in the file', () => (envelopes(out).length >= 40 ? true : undefined), 60_000)
    await produceNumbered(topic, 40, 60)
    await waitFor('the 60 records produced after the start', () => (envelopes(out).length >= 100 ? true : undefined), 60_000)
    const ended = await stop(first, 'SIGTERM')
    assert.is(ended.code, 0, ended.stderr)
    const summary = JSON.parse(ended.stdout) as { interrupted: boolean; finished: boolean; reconciled: boolean; totals: { read: number } }
    assert.equal([summary.interrupted, summary.finished, summary.reconciled, summary.totals.read], [true, false, true, 100])
    assert.ok(existsSync(checkpoint), 'SIGTERM leaves the checkpoint')
    const saved = JSON.parse(readFileSync(checkpoint, 'utf8')) as { partitions: Array<{ next: string }> }
    assert.equal(
      saved.partitions.map((p) => p.next),
      ['50', '50'],
    )

    // Every stderr line is a documented NDJSON record; the progress carries the lag, caught up at the end.
    const lines = ended.stderr.split('\n').filter((l) => l.startsWith('{'))
    const schema = progressSchema()
    assert.equal(
      lines.flatMap((l) => progressLineProblems(l, schema)),
      [],
    )
    const progress = lines.map((l) => JSON.parse(l) as Record<string, any>).filter((r) => r.type === 'progress')
    const last = progress.at(-1)!
    assert.is(last.lag.records, '0', JSON.stringify(last))
    assert.ok(Number.isInteger(last.lag.timeMs), JSON.stringify(last))
    assert.equal(
      last.partitions.map((p: { logEnd: string; lagRecords: string; end: null }) => [p.logEnd, p.lagRecords, p.end]),
      [
        ['50', '0', null],
        ['50', '0', null],
      ],
    )

    // 2. Records produced while it was stopped; the same command continues from the checkpoint.
    await produceNumbered(topic, 100, 50)
    const second = start(args, { cwd: dir })
    await waitFor('the records produced while stopped', () => (envelopes(out).length >= 150 ? true : undefined), 60_000)

    // 3. kill -9 while a backlog flows in (slowed by --rate so the kill lands mid-way), then the same command again.
    const killed = await stop(second, 'SIGKILL')
    assert.is(killed.signal, 'SIGKILL')
    const third = start([...args, '--rate', '200'], { cwd: dir })
    await waitFor('the third run going', () => (third.stderr().includes('"type":"start"') ? true : undefined), 60_000)
    await produceNumbered(topic, 150, 300)
    await waitFor('part of the backlog', () => (envelopes(out).length >= 250 ? true : undefined), 60_000, 20)
    await stop(third, 'SIGKILL')
    const fourth = start(args, { cwd: dir })
    await waitFor('every record', () => (envelopes(out).length >= 450 ? true : undefined), 90_000)
    // Ctrl-C ends a follow as SIGTERM does.
    const done = await stop(fourth, 'SIGINT')
    assert.is(done.code, 0, done.stderr)
    assert.ok(done.stderr.includes('"resumed":true'), 'the restarted follow continued its checkpoint')

    const rows = envelopes(out)
    assert.equal(valuesOf(rows), expected(450), 'every record exactly once')
    for (const p of [0, 1]) {
      const offsets = rows.filter((r) => r.partition === p).map((r) => Number(r.offset))
      assert.equal(
        offsets,
        offsets.map((_, i) => i),
        `partition ${p} in offset order, no gap`,
      )
    }
  }),
)

test(
  'into Kafka with --exactly-once: a read_committed reader sees every record produced before and after the start once, across SIGTERM, a restart and kill -9',
  withTimeout(240_000, async () => {
    const topic = uniqueName('e2e-follow-eos')
    const sink = `${topic}.out`
    await createTopic(topic, 2)
    await createTopic(sink, 2)
    await produceNumbered(topic, 0, 40)
    const checkpoint = join(dir, `${topic}.checkpoint.json`)
    const args = [
      'replay',
      '--topic',
      topic,
      '--follow',
      '--sink',
      `kafka:${sink}`,
      '--exactly-once',
      '--quarantine',
      `file:${join(dir, `${topic}.q.jsonl`)}`,
      '--checkpoint',
      checkpoint,
      // Not a divisor of what is produced: the last records of each burst fill no batch and go when the log is idle.
      '--batch-size',
      '32',
      '--commit-interval',
      '200ms',
    ]
    const sinkCount = async () => (await readTopic(sink)).length
    const first = start(args, { cwd: dir })
    await waitFor('the first 40 records committed', async () => ((await sinkCount()) >= 40 ? true : undefined), 60_000, 300)
    await produceNumbered(topic, 40, 60)
    await waitFor('the records produced after the start committed', async () => ((await sinkCount()) >= 100 ? true : undefined), 60_000, 300)
    const ended = await stop(first, 'SIGTERM')
    assert.is(ended.code, 0, ended.stderr)
    assert.match(ended.stdout, /follow stopped/)

    const second = start([...args, '--rate', '200'], { cwd: dir })
    await waitFor('the second run going', () => (second.stderr().includes('Continuing to follow') ? true : undefined), 60_000)
    await produceNumbered(topic, 100, 300)
    await waitFor('part of the backlog committed', async () => ((await sinkCount()) >= 200 ? true : undefined), 60_000, 100)
    await stop(second, 'SIGKILL')
    const third = start(args, { cwd: dir })
    await waitFor('every record committed', async () => ((await sinkCount()) >= 400 ? true : undefined), 90_000, 300)
    const done = await stop(third, 'SIGTERM')
    assert.is(done.code, 0, done.stderr)

    const written = await readTopic(sink)
    assert.equal(written.map((r) => r.value!.toString()).sort(), expected(400), 'every record exactly once')
    for (const p of [0, 1]) {
      const numbers = written.filter((r) => r.partition === p).map((r) => Number(r.value!.toString().slice(1)))
      assert.equal(
        numbers,
        [...numbers].sort((a, b) => a - b),
        `partition ${p} in the source's order`,
      )
    }
  }),
)

test(
  'a partition added to the topic while following is followed from its log start, and kept in the checkpoint for the next run',
  withTimeout(180_000, async () => {
    const topic = uniqueName('e2e-follow-grow')
    await createTopic(topic, 1)
    await produce(topic, [{ partition: 0, value: 'a', timestampMs: Date.now() }])
    const out = join(dir, `${topic}.jsonl`)
    const checkpoint = join(dir, `${topic}.checkpoint.json`)
    const args = ['replay', '--topic', topic, '--follow', '--sink', `file:${out}`, '--quarantine', `file:${out}.q.jsonl`, '--checkpoint', checkpoint]
    const run = start(args, { cwd: dir })
    await waitFor('the first record', () => (envelopes(out).length >= 1 ? true : undefined), 60_000)
    await withAdmin((admin) => admin.createPartitions({ topicPartitions: [{ topic, count: 2 }] }))
    await produce(topic, [{ partition: 1, value: 'b', timestampMs: Date.now() }])
    // The topic's metadata is read every 30 s while idle.
    await waitFor('the new partition followed', () => (envelopes(out).length >= 2 ? true : undefined), 90_000, 500)
    assert.match(run.stderr(), /has new partitions, followed from their log start: 1 from offset 0/)
    const ended = await stop(run, 'SIGTERM')
    assert.is(ended.code, 0, ended.stderr)
    const saved = JSON.parse(readFileSync(checkpoint, 'utf8')) as { partitions: Array<{ partition: number; next: string }> }
    assert.equal(
      saved.partitions.map((p) => [p.partition, p.next]),
      [
        [0, '1'],
        [1, '1'],
      ],
    )

    // The next run follows both from the checkpoint at once.
    await produce(topic, [{ partition: 1, value: 'c', timestampMs: Date.now() }])
    const again = start(args, { cwd: dir })
    await waitFor('the record written while stopped', () => (envelopes(out).length >= 3 ? true : undefined), 60_000)
    const done = await stop(again, 'SIGTERM')
    assert.is(done.code, 0, done.stderr)
    assert.equal(
      envelopes(out).map((r) => [r.partition, Buffer.from(r.value, 'base64').toString()]),
      [
        [0, 'a'],
        [1, 'b'],
        [1, 'c'],
      ],
    )
  }),
)

test(
  '--follow refuses --to and --scale-out (FOLLOW_CONFLICT, exit 2) before writing anything; an unreachable cluster exits 5',
  withTimeout(60_000, async () => {
    const out = join(dir, 'refused.jsonl')
    for (const extra of [
      ['--to', 'latest'],
      ['--scale-out', 'fix'],
    ]) {
      const run = await runCli(['replay', '--topic', 'anything', '--follow', '--sink', `file:${out}`, ...extra, '--json'], { cwd: dir })
      assert.is(run.exitCode, 2, run.stderr)
      assert.is(run.json.error.code, 'FOLLOW_CONFLICT', run.stdout)
      assert.ok(run.json.error.message.includes(extra[0]!), run.json.error.message)
    }
    // A file gets no new records: following one is refused too, before the file is read.
    const fileSource = join(dir, 'source.jsonl')
    writeFileSync(fileSource, '')
    const fromFile = await runCli(['replay', '--source', `file:${fileSource}`, '--follow', '--sink', `file:${out}`, '--json'], { cwd: dir })
    assert.is(fromFile.exitCode, 2, fromFile.stderr)
    assert.is(fromFile.json.error.code, 'FOLLOW_CONFLICT', fromFile.stdout)
    assert.match(fromFile.json.error.message, '--source')
    assert.not.ok(existsSync(out))
    // A fatal error exits non-zero, so a supervisor restarts the follow.
    const unreachable = await runCli(['replay', '--topic', 'anything', '--follow', '--sink', `file:${out}`, '--brokers', '127.0.0.1:1', '--json'], { cwd: dir })
    assert.is(unreachable.exitCode, 5, unreachable.stderr)
    assert.is(unreachable.json.error.code, 'BROKER_UNREACHABLE', unreachable.stdout)
  }),
)

test(
  '--from first-match: follows from where the predicate first matches, in each partition',
  withTimeout(120_000, async () => {
    const topic = uniqueName('e2e-follow-match')
    await createTopic(topic, 2)
    // k0..k19 over two partitions (k0, k2… on 0; k1, k3… on 1): the first k1x is k10 on 0 and k11 on 1.
    await produceNumbered(topic, 0, 20)
    const out = join(dir, `${topic}.jsonl`)
    const run = start(
      [
        'replay',
        '--topic',
        topic,
        '--from',
        'first-match:key matches /^k1[0-9]$/',
        '--follow',
        '--sink',
        `file:${out}`,
        '--checkpoint',
        join(dir, `${topic}.cp.json`),
      ],
      { cwd: dir },
    )
    await waitFor('the matched records in the sink', () => (envelopes(out).length >= 10 ? true : undefined), 60_000, 200)
    await produceNumbered(topic, 20, 4)
    await waitFor('the new records in the sink', () => (envelopes(out).length >= 14 ? true : undefined), 60_000, 200)
    const done = await stop(run, 'SIGTERM')
    assert.is(done.code, 0, done.stderr)
    assert.equal(valuesOf(envelopes(out)), Array.from({ length: 14 }, (_, i) => `v${i + 10}`).sort())
  }),
)

test.run()
