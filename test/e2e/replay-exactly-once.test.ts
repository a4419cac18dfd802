import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { IncidentTruth } from '../../src/fixtures/index.js'
import { seedIncident } from '../../src/fixtures/seed-incident.js'
import { installOrderedHeaders } from '../../src/kafka/ordered-headers.js'
import type { KafkaRecord } from '../../src/kafka/kafka-record.js'
import { runCli, spawnCli } from '../support/cli.js'
import { killBetweenCommits } from '../support/kill-between-commits.js'
import { testKafka, uniqueName, readTopic } from '../support/kafka.js'
import { repoRoot } from '../support/paths.js'
import { waitFor, withTimeout } from '../support/timeout.js'

installOrderedHeaders()

/**
 * --exactly-once into Kafka, with the oracle of Kafka's own transactions system test: the
 * replay is killed with SIGKILL at several points and resumed; a read_committed reader of the
 * output, one running the whole time and one after the end, sees every input record exactly
 * once, in the input's order within each partition.
 */
const SCHEMAS = join(repoRoot(), 'fixtures', 'schemas')
const FIX = join(repoRoot(), 'plugins', 'fix-bad-deploy.ts')
const dir = mkdtempSync(join(tmpdir(), 'recover-e2e-eos-'))

let topic = ''
let truth: IncidentTruth
let source: KafkaRecord[] = []

/** What identifies a record through the transform: key, original timestamp and headers (trace-id is unique per send). */
const identity = (r: { key: Buffer | null; timestamp: number | string; headers: ReadonlyArray<{ key: string; value: Buffer | null }> }) =>
  `${r.key?.toString()}|${r.timestamp}|${r.headers
    .filter((h) => h.key !== 'recover.replayed-from')
    .map((h) => `${h.key}=${h.value?.toString()}`)
    .join(',')}`

/** The expected output per partition, in order: the input without the poison pills. */
function expectedByPartition(): Map<number, string[]> {
  const pills = new Set(truth.poisonPills.map((p) => `${p.partition}@${p.offset}`))
  const out = new Map<number, string[]>()
  for (const r of [...source].sort((a, b) => a.partition - b.partition || Number(a.offset - b.offset))) {
    if (pills.has(`${r.partition}@${r.offset}`)) continue
    const list = out.get(r.partition) ?? []
    list.push(identity({ key: r.key, timestamp: r.timestampMs, headers: r.headers }))
    out.set(r.partition, list)
  }
  return out
}

const checkpointRead = (path: string) => {
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as { partitions: Array<{ read: number }> }).partitions.reduce((n, p) => n + p.read, 0)
  } catch {
    return 0
  }
}

test.before(
  withTimeout(60_000, async () => {
    topic = uniqueName('e2e-eos')
    truth = (await seedIncident({ kafka: testKafka(), topic, count: 4_000, replicationFactor: 1 })).truth
    source = await readTopic(topic)
  }),
)

test(
  'kill -9 at three points, then --resume: a read_committed reader (live, and after the end) sees every input record exactly once, in order per partition',
  withTimeout(300_000, async () => {
    const sink = uniqueName('e2e-eos-out')
    const checkpoint = join(dir, `${sink}.json`)
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
      '--exactly-once',
      '--quarantine',
      `file:${checkpoint}.q.jsonl`,
      '--checkpoint',
      checkpoint,
      '--batch-size',
      '100',
      '--rate',
      '800',
      '--commit-interval',
      '200ms',
    ]

    // The live reader: a kafkajs consumer (read_committed is its default), from the beginning.
    const live = new Map<number, string[]>()
    const consumer = testKafka().consumer({ groupId: uniqueName('eos-reader'), maxWaitTimeInMs: 200 })
    let consumed = 0
    const expected = expectedByPartition()
    const total = [...expected.values()].reduce((n, l) => n + l.length, 0)

    await killBetweenCommits({
      args,
      cwd: dir,
      kills: 3,
      committed: () => checkpointRead(checkpoint),
      afterKill: async (run) => {
        if (run > 1) return
        // The output topic exists once the first run got going: start the live reader now.
        await consumer.connect()
        await consumer.subscribe({ topic: sink, fromBeginning: true })
        await consumer.run({
          eachMessage: async ({ partition, message }) => {
            const list = live.get(partition) ?? []
            list.push(
              identity({
                key: message.key,
                timestamp: message.timestamp,
                headers: Object.entries(message.headers ?? {}).flatMap(([key, v]) =>
                  (Array.isArray(v) ? v : [v]).map((x) => ({ key, value: x === undefined ? null : Buffer.from(x as Buffer) })),
                ),
              }),
            )
            live.set(partition, list)
            consumed++
          },
        })
      },
    })
    const last = await runCli([...args, '--resume', '--json'], { cwd: dir, timeoutMs: 120_000 })
    assert.is(last.exitCode, 0, last.stderr)
    const s = last.json
    assert.ok(s.finished && s.reconciled && s.resumed)
    assert.is(s.resumes, 3)
    assert.is(s.resent, 0)
    assert.is(s.duplicatesPossible, false)
    assert.is(s.totals.read, truth.count)

    // After the end: our own read_committed reader.
    const written = await readTopic(sink)
    const after = new Map<number, string[]>()
    for (const r of written.sort((a, b) => a.partition - b.partition || Number(a.offset - b.offset))) {
      const list = after.get(r.partition) ?? []
      list.push(identity({ key: r.key, timestamp: r.timestampMs, headers: r.headers }))
      after.set(r.partition, list)
    }
    assert.equal(after, expected)

    await waitFor('the live reader to catch up', () => (consumed >= total ? true : undefined), 60_000, 50)
    await consumer.disconnect()
    // kafkajs gives headers without order; compare the records as sets per partition, and order by key+timestamp.
    for (const [p, list] of expected) {
      const seen = (live.get(p) ?? []).map((id) => id.split('|').slice(0, 2).join('|'))
      assert.equal(
        seen,
        list.map((id) => id.split('|').slice(0, 2).join('|')),
        `partition ${p} as the live reader saw it`,
      )
    }
  }),
)

test(
  'a resumed exactly-once replay must say --exactly-once again (and a plain one must not): the checkpoint records the mode',
  withTimeout(120_000, async () => {
    const sink = uniqueName('e2e-eos-mode')
    const checkpoint = join(dir, `${sink}.json`)
    const args = [
      'replay',
      '--topic',
      topic,
      '--sink',
      `kafka:${sink}`,
      '--quarantine',
      `file:${checkpoint}.q.jsonl`,
      '--checkpoint',
      checkpoint,
      '--batch-size',
      '200',
      '--rate',
      '1500',
    ]
    const { child, done } = spawnCli([...args, '--exactly-once'], { cwd: dir })
    try {
      await waitFor('some progress', () => (checkpointRead(checkpoint) >= 400 ? true : undefined), 60_000, 10)
    } finally {
      child.kill('SIGKILL')
    }
    await done
    const plain = await runCli([...args, '--resume', '--json'], { cwd: dir })
    assert.is(plain.exitCode, 2)
    assert.is(plain.json.error.code, 'CHECKPOINT_MISMATCH')
    assert.match(plain.json.error.message, /--exactly-once/)
    const again = await runCli([...args, '--exactly-once', '--resume', '--json'], { cwd: dir, timeoutMs: 120_000 })
    assert.is(again.exitCode, 0, again.stderr)
    const out = await readTopic(sink)
    assert.is(out.length, truth.count)
    assert.is(new Set(out.map((r) => `${r.partition}|${identity({ key: r.key, timestamp: r.timestampMs, headers: r.headers })}`)).size, truth.count)
  }),
)

test.run()
