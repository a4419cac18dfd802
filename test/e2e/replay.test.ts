import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { correctAmountCents, loadOrderSchemas, type IncidentTruth } from '../../src/fixtures/index.js'
import { seedIncident } from '../../src/fixtures/seed-incident.js'
import { parseEnvelopeLine } from '../../src/files/envelope.js'
import { installOrderedHeaders } from '../../src/kafka/ordered-headers.js'
import type { KafkaRecord } from '../../src/kafka/kafka-record.js'
import { runCli, spawnCli } from '../support/cli.js'
import { testKafka, uniqueName, readTopic } from '../support/kafka.js'
import { repoRoot } from '../support/paths.js'
import { waitFor, withTimeout } from '../support/timeout.js'

installOrderedHeaders()

const SCHEMAS = join(repoRoot(), 'fixtures', 'schemas')
const FIX = join(repoRoot(), 'plugins', 'fix-bad-deploy.ts')
const dir = mkdtempSync(join(tmpdir(), 'recover-e2e-replay-'))
const schemas = loadOrderSchemas()

let topic = ''
let truth: IncidentTruth
let source: KafkaRecord[] = []

/** What identifies a record through the transform: partition, key, original timestamp and headers (trace-id is unique per send). */
const identity = (r: { partition: number; key: Buffer | null; timestampMs: number; headers: ReadonlyArray<{ key: string; value: Buffer | null }> }) =>
  `${r.partition}|${r.key?.toString()}|${r.timestampMs}|${r.headers
    .filter((h) => h.key !== 'recover.replayed-from')
    .map((h) => `${h.key}=${h.value?.toString()}`)
    .join(',')}`

function expectedIdentities(): string[] {
  const pills = new Set(truth.poisonPills.map((p) => `${p.partition}@${p.offset}`))
  return source
    .filter((r) => !pills.has(`${r.partition}@${r.offset}`))
    .map(identity)
    .sort()
}

function countBy(list: string[]): Map<string, number> {
  const m = new Map<string, number>()
  for (const x of list) m.set(x, (m.get(x) ?? 0) + 1)
  return m
}

/** Spawns the built CLI like a user would; the caller kills it or waits for it. */
function checkpointRead(path: string): number | undefined {
  try {
    const c = JSON.parse(readFileSync(path, 'utf8')) as { partitions: Array<{ read: number }> }
    return c.partitions.reduce((n, p) => n + p.read, 0)
  } catch {
    return undefined
  }
}

/** Starts a replay, waits until its checkpoint shows at least `records` read, and kills it with SIGKILL. */
async function killAfter(args: string[], checkpoint: string, records: number): Promise<number> {
  const { child, done } = spawnCli(args, { cwd: dir })
  try {
    const read = await waitFor(
      `checkpoint ${checkpoint} to pass ${records} records`,
      () => {
        const n = checkpointRead(checkpoint)
        return n !== undefined && n >= records ? n : undefined
      },
      60_000,
      20,
    )
    return read
  } finally {
    child.kill('SIGKILL')
    const result = await done
    assert.is(result.signal, 'SIGKILL', `the replay ended before it was killed: ${result.stderr}`)
  }
}

test.before(
  withTimeout(60_000, async () => {
    topic = uniqueName('e2e-replay')
    truth = (await seedIncident({ kafka: testKafka(), topic, count: 6_000, replicationFactor: 1 })).truth
    source = await readTopic(topic)
  }),
)

test(
  'kill -9 twice mid-replay into Kafka, then --resume: every record at least once, duplicates exactly what the summary reports, at most a batch per kill',
  withTimeout(180_000, async () => {
    const sink = uniqueName('e2e-replay-fixed')
    const checkpoint = join(dir, `${sink}.json`)
    const batch = 150
    const args = [
      'replay',
      '--topic',
      topic,
      '--value-format',
      'avro',
      '--schema',
      SCHEMAS,
      '--transform',
      FIX,
      '--sink',
      `kafka:${sink}`,
      '--quarantine',
      `kafka:${sink}.q`,
      '--checkpoint',
      checkpoint,
      '--batch-size',
      String(batch),
      '--rate',
      '1500',
    ]
    const first = await killAfter(args, checkpoint, 1_200)
    const second = await killAfter([...args, '--resume'], checkpoint, first + 1_500)
    assert.ok(second > first)
    const last = await runCli([...args, '--resume', '--json'], { cwd: dir, timeoutMs: 120_000 })
    assert.is(last.exitCode, 0, last.stderr)
    const s = last.json
    assert.ok(s.finished && s.reconciled && s.resumed)
    assert.is(s.resumes, 2)
    assert.is(s.totals.read, truth.count)
    assert.is(s.totals.quarantined, truth.poisonPills.length)
    assert.is(s.totals.written + s.totals.quarantined + s.totals.dropped, truth.count)

    const written = await readTopic(sink)
    const expected = expectedIdentities()
    const got = countBy(written.map(identity))
    // No loss: every expected record is there.
    for (const id of new Set(expected)) assert.ok((got.get(id) ?? 0) >= (countBy(expected).get(id) ?? 0), `missing ${id}`)
    // Nothing foreign, and the duplicates are exactly the records the summary says were sent again.
    assert.is(new Set(written.map(identity)).size, new Set(expected).size)
    const duplicates = written.length - expected.length
    assert.is(duplicates, s.resent)
    assert.ok(duplicates <= 2 * batch, `${duplicates} duplicates for 2 kills with batches of ${batch}`)
    // Every value in the sink is a corrected order.
    for (const r of written) {
      const order = schemas.byId.get(r.value!.readUInt32BE(1))!.fromBuffer(r.value!.subarray(5)) as {
        amount_cents: number
        items: Array<{ quantity: number; unit_price_cents: number }>
      }
      assert.is(order.amount_cents, correctAmountCents(order.items))
    }
    // The human summary says it too.
    const text = await runCli([...args, '--resume'], { cwd: dir })
    assert.is(text.exitCode, 0)
    assert.match(
      text.stdout,
      s.resent === 0
        ? /nothing had been written after the last checkpoint/
        : new RegExp(`${s.resent} records? (was|were) written by the interrupted batch and sent again`),
    )
  }),
)

test(
  'kill -9 mid-replay into JSONL, then --resume: the file is cut back to the checkpoint, so every record is there exactly once',
  withTimeout(120_000, async () => {
    const out = join(dir, `${uniqueName('fixed')}.jsonl`)
    const q = join(dir, `${uniqueName('q')}.jsonl`)
    const checkpoint = `${out}.checkpoint.json`
    const args = [
      'replay',
      '--topic',
      topic,
      '--value-format',
      'avro',
      '--schema',
      SCHEMAS,
      '--transform',
      FIX,
      '--sink',
      `file:${out}`,
      '--quarantine',
      `file:${q}`,
      '--checkpoint',
      checkpoint,
      '--batch-size',
      '200',
      '--rate',
      '2000',
    ]
    await killAfter(args, checkpoint, 2_000)
    const last = await runCli([...args, '--resume', '--json'], { cwd: dir, timeoutMs: 120_000 })
    assert.is(last.exitCode, 0, last.stderr)
    assert.ok(last.json.finished && last.json.reconciled)
    assert.is(last.json.resent, 0)
    const lines = readFileSync(out, 'utf8').split('\n').filter(Boolean).map(parseEnvelopeLine)
    assert.equal(lines.map(identity).sort(), expectedIdentities())
    const quarantined = readFileSync(q, 'utf8').split('\n').filter(Boolean).map(parseEnvelopeLine)
    assert.equal(quarantined.map((r) => `${r.partition}@${r.offset}`).sort(), truth.poisonPills.map((p) => `${p.partition}@${p.offset}`).sort())
  }),
)

test(
  'Ctrl-C stops after the current batch, exits 130 and prints the command that resumes it',
  withTimeout(120_000, async () => {
    const out = join(dir, `${uniqueName('ctrlc')}.jsonl`)
    const checkpoint = `${out}.checkpoint.json`
    const args = [
      'replay',
      '--topic',
      topic,
      '--sink',
      `file:${out}`,
      '--quarantine',
      `file:${out}.q.jsonl`,
      '--checkpoint',
      checkpoint,
      '--batch-size',
      '100',
      '--rate',
      '1000',
    ]
    const { child, done } = spawnCli(args, { cwd: dir })
    await waitFor('some progress', () => ((checkpointRead(checkpoint) ?? 0) >= 300 ? true : undefined), 60_000, 20)
    child.kill('SIGINT')
    const stopped = await done
    assert.is(stopped.code, 130, stopped.stderr)
    assert.match(stopped.stdout, /INTERRUPTED/)
    const resume = /Continue with:\n\s+(recover replay .*)/.exec(stopped.stdout)
    assert.ok(resume, stopped.stdout)
    assert.match(resume![1]!, /--resume/)
    const read = checkpointRead(checkpoint)!
    assert.ok(read < truth.count)
    const again = await runCli([...args, '--resume', '--json'], { cwd: dir, timeoutMs: 120_000 })
    assert.is(again.exitCode, 0, again.stderr)
    assert.is(again.json.totals.read, truth.count)
    // Bytes values (no decoding): every record, including the poison pills, is copied as is.
    assert.is(readFileSync(out, 'utf8').split('\n').filter(Boolean).length, truth.count)
  }),
)

test(
  'plain progress lines on stderr, the summary on stdout, --json only NDJSON progress on stderr; usage errors exit 2',
  withTimeout(60_000, async () => {
    const out = join(dir, `${uniqueName('plain')}.jsonl`)
    const args = [
      'replay',
      '--topic',
      topic,
      '--sink',
      `file:${out}`,
      '--quarantine',
      `file:${out}.q.jsonl`,
      '--checkpoint',
      `${out}.cp.json`,
      '--batch-size',
      '500',
      '--progress-interval',
      '1ms',
    ]
    const plain = await runCli(args, { cwd: dir })
    assert.is(plain.exitCode, 0, plain.stderr)
    assert.match(plain.stderr, /replay: [\d,]+ read, [\d,]+ written, 0 dropped, 0 quarantined/)
    assert.match(plain.stdout, new RegExp(`Reconciled: read ${truth.count} = written ${truth.count} \\+ dropped 0 \\+ quarantined 0\\.`))

    const json = await runCli([...args.map((a) => a.replace(out, `${out}2.jsonl`)), '--json'], { cwd: dir })
    assert.is(json.exitCode, 0, json.stderr)
    // stderr carries only NDJSON progress (docs/progress-events.md), stdout only the result.
    assert.ok(
      json.stderr
        .split('\n')
        .filter(Boolean)
        .every((line) => /^\{"v":1,"type":"[a-z-]+",/.test(line)),
      json.stderr,
    )
    assert.is(json.json.totals.read, truth.count)
    assert.is(typeof json.json.partitions[0].end, 'string')

    const badFrom = await runCli(['replay', '--topic', topic, '--from', 'sometime', '--sink', `file:${join(dir, 'x.jsonl')}`, '--json'], { cwd: dir })
    assert.is(badFrom.exitCode, 2)
    assert.is(badFrom.json.error.code, 'BAD_TIME_SPEC')
    const noPlugin = await runCli(['replay', '--topic', topic, '--transform', 'nope.ts', '--sink', `file:${join(dir, 'y.jsonl')}`], { cwd: dir })
    assert.is(noPlugin.exitCode, 2)
    assert.match(noPlugin.stderr, /nope\.ts does not exist/)
    assert.not.ok(existsSync(join(dir, 'y.jsonl')))
    const noSink = await runCli(['replay', '--topic', topic], { cwd: dir })
    assert.is(noSink.exitCode, 2)
    assert.match(noSink.stderr, /needs --sink/)
  }),
)

test.run()
