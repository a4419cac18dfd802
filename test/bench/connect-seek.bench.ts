/**
 * A full `recover seek --connector NAME --to TIME --execute --yes` (plan, stop, wait for
 * STOPPED and an empty group, journal, PATCH, read back, resume) on a FileStreamSink over
 * 3 topics x 32 partitions, against the same cycle done by hand as a person does it with curl
 * (PUT stop, poll the status until STOPPED, PATCH the offsets, PUT resume), in the same run,
 * alternating which goes first; median of several runs each. Both run on one distributed
 * Connect worker (Connect 4.1 from Maven Central) against the broker in RECOVER_TEST_BROKERS.
 *
 *   node dist/test/bench/connect-seek.bench.js [runs=5]
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startLocalKafka, type LocalKafka } from '../../src/local-kafka/index.js'
import { startDistributedWorker } from '../support/connect-distributed.js'
import { createTopic, produce, uniqueName } from '../support/kafka.js'
import { repoRoot } from '../support/paths.js'

const TOPICS = 3
const PARTITIONS = 32
const runs = Number(process.argv[2] ?? 5)

let broker: LocalKafka | undefined
if (!process.env.RECOVER_TEST_BROKERS) {
  broker = await startLocalKafka({})
  process.env.RECOVER_TEST_BROKERS = broker.brokers
}
const brokers = process.env.RECOVER_TEST_BROKERS
const worker = await startDistributedWorker({ brokers })
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
try {
  const T0 = Date.now() - 3_600_000
  const topics = Array.from({ length: TOPICS }, () => uniqueName('bench-connect'))
  for (const topic of topics) {
    await createTopic(topic, PARTITIONS)
    await produce(
      topic,
      Array.from({ length: PARTITIONS * 4 }, (_, i) => ({ partition: i % PARTITIONS, key: `k${i}`, value: `v${i}`, timestampMs: T0 + i * 1000 })),
    )
  }
  const name = uniqueName('bench-sink')
  const dir = mkdtempSync(join(tmpdir(), 'recover-connect-bench-'))
  await worker.createConnector(name, {
    'connector.class': 'org.apache.kafka.connect.file.FileStreamSinkConnector',
    'tasks.max': '1',
    topics: topics.join(','),
    file: join(dir, 'out.txt'),
  })
  const status = async () => (await worker.rest('GET', `/connectors/${name}/status`)) as { connector: { state: string }; tasks: unknown[] }
  const waitUntil = async (done: (s: Awaited<ReturnType<typeof status>>) => boolean) => {
    for (const deadline = Date.now() + 120_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 250)))
      if (await status().then(done, () => false)) return
    throw new Error(`connector ${name} did not get there: ${JSON.stringify(await status())}\n${worker.log()}`)
  }
  await waitUntil((s) => s.connector.state === 'RUNNING' && s.tasks.length === 1)

  const byHand = async () => {
    const started = Date.now()
    await worker.rest('PUT', `/connectors/${name}/stop`)
    await waitUntil((s) => s.connector.state === 'STOPPED' && s.tasks.length === 0)
    const offsets = topics.flatMap((topic) =>
      Array.from({ length: PARTITIONS }, (_, p) => ({ partition: { kafka_topic: topic, kafka_partition: p }, offset: { kafka_offset: 2 } })),
    )
    // The group empties a moment after STOPPED: a person retries the PATCH until Connect takes it.
    for (let attempt = 0; ; attempt++) {
      try {
        await worker.rest('PATCH', `/connectors/${name}/offsets`, { offsets })
        break
      } catch (error) {
        if (attempt > 40) throw error
        await new Promise((r) => setTimeout(r, 250))
      }
    }
    await worker.rest('PUT', `/connectors/${name}/resume`)
    await waitUntil((s) => s.connector.state === 'RUNNING')
    return Date.now() - started
  }
  const withRecover = () => {
    const started = Date.now()
    const run = spawnSync(
      process.execPath,
      [
        join(repoRoot(), 'bin', 'run.js'),
        'seek',
        '--connector',
        name,
        '--connect-url',
        worker.url,
        '--to',
        new Date(T0 + 64_000).toISOString(),
        '--execute',
        '--yes',
        '--json',
      ],
      { encoding: 'utf8', env: { ...process.env, RECOVER_BROKERS: brokers, RECOVER_HOME: dir } },
    )
    if (run.status !== 0) throw new Error(`recover failed (${run.status}): ${run.stderr}`)
    return {
      wall: Date.now() - started,
      cycle: JSON.parse(run.stdout).connectorExecution.timings as { stopMs: number; patchMs: number; resumeMs: number; totalMs: number },
    }
  }
  const hand: number[] = []
  const wall: number[] = []
  const cycle: number[] = []
  for (let i = 0; i < runs; i++) {
    const order = i % 2 === 0 ? ['hand', 'recover'] : ['recover', 'hand']
    for (const which of order) {
      if (which === 'hand') hand.push(await byHand())
      else {
        const r = withRecover()
        wall.push(r.wall)
        cycle.push(r.cycle.totalMs)
      }
    }
  }
  console.log(`connector over ${TOPICS} topics x ${PARTITIONS} partitions, median of ${runs} runs each:`)
  console.log(`  by hand (curl: stop, poll STOPPED, PATCH, resume, poll RUNNING): ${median(hand)} ms`)
  console.log(`  recover seek --connector --execute, stop -> patch -> read back -> resume: ${median(cycle)} ms`)
  console.log(`  recover seek --connector --execute, whole command (start-up, plan over 96 partitions, journal): ${median(wall)} ms`)
  console.log(`  ratio whole command / by hand: ${(median(wall) / median(hand)).toFixed(2)}`)
} finally {
  await worker.stop()
  await broker?.stop()
}
