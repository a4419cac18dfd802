import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Kafka, logLevel } from 'kafkajs'
import { startLocalKafka, type LocalKafka } from '../../src/local-kafka/index.js'
import { seedIncident } from '../../src/fixtures/seed-incident.js'
import { resolveConnection } from '../../src/config/resolve-connection.js'
import { KafkaGateway } from '../../src/kafka/kafka-gateway.js'
import { RangeReader } from '../../src/kafka/range-reader.js'
import { installOrderedHeaders } from '../../src/kafka/ordered-headers.js'
import { planReplayRanges, parseRangeBound } from '../../src/core/replay-range.js'
import type { KafkaRecord } from '../../src/kafka/kafka-record.js'
import { runCli } from '../support/cli.js'
import { repoRoot } from '../support/paths.js'
import { waitFor, withTimeout } from '../support/timeout.js'

installOrderedHeaders()

/**
 * A broker that dies in the middle of a replay: the replay stops with exit 5 and a valid
 * checkpoint; once the broker is back, --resume finishes with no record lost. This test runs
 * its own broker, so killing it disturbs no other test.
 */
const dir = mkdtempSync(join(tmpdir(), 'recover-replay-restart-'))
let broker: LocalKafka

async function readTopic(brokers: string, topic: string): Promise<KafkaRecord[]> {
  const gateway = await KafkaGateway.open(resolveConnection({ brokers }, { clusters: {}, defaults: {} }))
  const reader = new RangeReader(gateway.kafka, gateway.settings, topic)
  try {
    const ranges = planReplayRanges(
      parseRangeBound('earliest', '--from'),
      parseRangeBound('latest', '--to'),
      await reader.partitionFacts(await gateway.partitionsOf(topic)),
    )
    const out: KafkaRecord[] = []
    for await (const chunks of reader.read(ranges)) for (const c of chunks) out.push(...c.records)
    return out
  } finally {
    await reader.close()
    await gateway.close()
  }
}

const identity = (r: KafkaRecord) =>
  `${r.partition}|${r.key?.toString()}|${r.timestampMs}|${r.headers
    .filter((h) => h.key !== 'recover.replayed-from')
    .map((h) => `${h.key}=${h.value?.toString()}`)
    .join(',')}`

test.before(
  withTimeout(120_000, async () => {
    broker = await startLocalKafka({})
  }),
)

test.after(async () => {
  await broker?.stop()
})

test(
  'the broker is killed mid-replay: exit 5 with the checkpoint intact; after a restart, --resume loses nothing',
  withTimeout(300_000, async () => {
    const brokers = broker.brokers
    const topic = 'orders'
    const truth = (await seedIncident({ kafka: new Kafka({ brokers: [brokers], logLevel: logLevel.NOTHING }), topic, count: 4_000, replicationFactor: 1 }))
      .truth
    const source = await readTopic(brokers, topic)
    const checkpoint = join(dir, 'cp.json')
    const args = [
      'replay',
      '--brokers',
      brokers,
      '--topic',
      topic,
      '--value-format',
      'avro',
      '--schema',
      join(repoRoot(), 'fixtures', 'schemas'),
      '--transform',
      join(repoRoot(), 'plugins', 'fix-bad-deploy.ts'),
      '--sink',
      'kafka:orders.fixed',
      '--checkpoint',
      checkpoint,
      '--batch-size',
      '200',
      '--rate',
      '800',
      '--broker-wait',
      '0s',
      '--json',
    ]
    const child = spawn(process.execPath, [join(repoRoot(), 'bin', 'run.js'), ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
    const read = () => {
      try {
        return (JSON.parse(readFileSync(checkpoint, 'utf8')) as { partitions: Array<{ read: number }> }).partitions.reduce((n, p) => n + p.read, 0)
      } catch {
        return 0
      }
    }
    await waitFor('the replay to make progress', () => (read() >= 1_000 ? true : undefined), 60_000, 20)
    broker.kill('SIGKILL')
    await broker.whenExited()
    const code = await exited
    assert.is(code, 5, stdout)
    const failure = JSON.parse(stdout) as { error: { code: string; message: string } }
    assert.is(failure.error.code, 'BROKER_UNREACHABLE')
    const before = read()
    assert.ok(before >= 1_000 && before < truth.count, String(before))

    await broker.restart()
    const resumed = await runCli([...args, '--resume'], { cwd: dir, timeoutMs: 180_000 })
    assert.is(resumed.exitCode, 0, resumed.stderr)
    const s = resumed.json
    assert.ok(s.finished && s.reconciled && s.resumed)
    assert.is(s.totals.read, truth.count)

    const pills = new Set(truth.poisonPills.map((p) => `${p.partition}@${p.offset}`))
    const expected = source.filter((r) => !pills.has(`${r.partition}@${r.offset}`)).map(identity)
    const written = (await readTopic(brokers, 'orders.fixed')).map(identity)
    const have = new Set(written)
    for (const id of expected) assert.ok(have.has(id), `lost ${id}`)
    assert.is(have.size, new Set(expected).size)
    assert.is(written.length - expected.length, s.resent)
    assert.ok(s.resent <= 200, String(s.resent))
  }),
)

test.run()
