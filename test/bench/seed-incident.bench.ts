/**
 * How fast the fixture incident is generated, and generated + produced into a broker.
 *
 *   node dist/test/bench/seed-incident.bench.js [N=1000000] [--partitions 3]
 *        [--batch-size 500] [--max-in-flight 4] [--no-anchor] [--rounds 1] [--baseline DIR]
 *
 * Uses the broker in RECOVER_TEST_BROKERS, or starts a local one. The anchor, side by side in
 * the same run, is Kafka's own ProducerPerformance (Java client) writing the same number of
 * records of the same average size with acks=all and no compression. With --baseline DIR
 * (another built checkout of recover), its generate + produce runs too, in a process of its
 * own, interleaved with this one's: before and after a change in one run. With several rounds
 * the medians are compared.
 */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { resolveConnection } from '../../src/config/resolve-connection.js'
import { generateIncident } from '../../src/fixtures/index.js'
import { seedIncident } from '../../src/fixtures/seed-incident.js'
import { createKafka } from '../../src/kafka/create-kafka.js'
import { runKafkaTool, startLocalKafka, type LocalKafka } from '../../src/local-kafka/index.js'

const PRODUCER_PERFORMANCE = 'org.apache.kafka.tools.ProducerPerformance'

interface Figures {
  records: number
  bytes: number
  ms: number
}

const rate = (f: Figures): string =>
  `${Math.round(f.records / (f.ms / 1000)).toLocaleString('en-US')} records/s, ${(f.bytes / 1e6 / (f.ms / 1000)).toFixed(1)} MB/s (${f.records.toLocaleString('en-US')} records in ${(f.ms / 1000).toFixed(2)} s)`

function generateOnly(count: number, partitions: number): Figures & { truthMs: number } {
  const started = performance.now()
  const incident = generateIncident({ count, partitions })
  const truthMs = performance.now() - started
  let records = 0
  let bytes = 0
  for (const r of incident.records) {
    records++
    bytes += (r.key?.length ?? 0) + (r.value?.length ?? 0)
  }
  return { records, bytes, ms: performance.now() - started, truthMs }
}

async function anchor(brokers: string, topic: string, count: number, recordSize: number): Promise<Figures | undefined> {
  const out = await runKafkaTool(
    PRODUCER_PERFORMANCE,
    [
      '--topic',
      topic,
      '--num-records',
      String(count),
      '--record-size',
      String(recordSize),
      '--throughput',
      '-1',
      '--producer-props',
      `bootstrap.servers=${brokers}`,
      'acks=all',
      'compression.type=none',
    ],
    { timeoutMs: 600_000 },
  )
  const summary = /(\d+) records sent, ([\d.]+) records\/sec/.exec(out.stdout.trim().split('\n').at(-1) ?? '')
  if (out.exitCode !== 0 || !summary) {
    process.stderr.write(`ProducerPerformance failed (exit ${out.exitCode}): ${out.stderr.slice(-500)}\n`)
    return undefined
  }
  const records = Number(summary[1])
  return { records, bytes: records * recordSize, ms: (records / Number(summary[2])) * 1000 }
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      partitions: { type: 'string', default: '3' },
      'batch-size': { type: 'string' },
      'max-in-flight': { type: 'string' },
      'no-anchor': { type: 'boolean', default: false },
      rounds: { type: 'string', default: '1' },
      baseline: { type: 'string' },
    },
  })
  const rounds = Number(values.rounds)
  const count = Number(positionals[0] ?? 1_000_000)
  const partitions = Number(values.partitions)
  const batchSize = values['batch-size'] === undefined ? undefined : Number(values['batch-size'])
  const maxInFlight = values['max-in-flight'] === undefined ? undefined : Number(values['max-in-flight'])

  const gen = generateOnly(count, partitions)
  console.log(`generate only:      ${rate(gen)} (truth ${gen.truthMs.toFixed(0)} ms)`)

  let local: LocalKafka | undefined
  let brokers = process.env.RECOVER_TEST_BROKERS
  if (!brokers) {
    process.stderr.write('RECOVER_TEST_BROKERS is not set; starting a local broker…\n')
    local = await startLocalKafka()
    brokers = local.brokers
  }
  // As `recover demo` seeds: a client made by createKafka (recover's Produce encoding and framing in place).
  const kafka = createKafka(resolveConnection({ brokers }, { clusters: {}, defaults: {} }))
  const suffix = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
  const topics: string[] = []
  const topic = (kind: string) => {
    const name = `bench-${kind}-${suffix}-${topics.length}`
    topics.push(name)
    return name
  }
  const median = (xs: Figures[]): Figures => [...xs].sort((a, b) => a.ms - b.ms)[(xs.length - 1) >> 1]!
  const version = local?.version ?? process.env.RECOVER_KAFKA_VERSION ?? 'unknown version'
  try {
    const ours: Figures[] = []
    const before: Figures[] = []
    const java: Figures[] = []
    let recordSize = 0
    for (let round = 0; round < rounds; round++) {
      const seeded = await seedIncident({ kafka, topic: topic('seed'), count, partitions, batchSize, maxInFlight })
      ours.push({ records: seeded.records, bytes: seeded.bytes, ms: seeded.ms })
      recordSize = Math.round(seeded.bytes / seeded.records)
      if (values.baseline) {
        const b = baselineRun(values.baseline, brokers, count, partitions)
        // The same incident (same generator, count and partitions), so the same bytes.
        if (b) before.push({ ...b, bytes: seeded.bytes })
      }
      if (!values['no-anchor']) {
        const admin = kafka.admin()
        await admin.connect()
        const name = topic('anchor')
        await admin.createTopics({ topics: [{ topic: name, numPartitions: partitions }], waitForLeaders: true })
        await admin.disconnect()
        const j = await anchor(brokers, name, count, recordSize)
        if (j) java.push(j)
      }
    }
    const produced = median(ours)
    const spread = (xs: Figures[]) =>
      xs.length > 1 ? ` [${xs.map((f) => Math.round(f.records / (f.ms / 1000)).toLocaleString('en-US')).join(', ')} records/s]` : ''
    console.log(`generate + produce: ${rate(produced)} into ${partitions} partitions on ${brokers} (Kafka ${version})${spread(ours)}`)
    if (before.length > 0) {
      console.log(`baseline (${values.baseline}) generate + produce: ${rate(median(before))}${spread(before)}`)
      console.log(`ratio generate+produce / baseline: ${(median(before).ms / produced.ms).toFixed(2)}`)
    }
    if (java.length > 0) {
      console.log(`anchor (Java ProducerPerformance, ${recordSize}-byte records): ${rate(median(java))}${spread(java)}`)
      console.log(`ratio generate+produce / anchor: ${(median(java).ms / produced.ms).toFixed(2)} (goal >= 0.5)`)
      if (before.length > 0) console.log(`ratio baseline / anchor: ${(median(java).ms / median(before).ms).toFixed(2)}`)
    }
    console.log('(medians of the rounds; a shared 2-core machine: compare ratios from one run only)')
  } finally {
    const admin = kafka.admin()
    await admin.connect()
    await admin.deleteTopics({ topics }).catch(() => undefined)
    await admin.disconnect()
    await local?.stop()
  }
}

/** The baseline checkout's own seed-incident bench, producing only; its figures as it reports them. */
function baselineRun(root: string, brokers: string, count: number, partitions: number): Figures | undefined {
  const out = spawnSync(
    process.execPath,
    [join(root, 'dist', 'test', 'bench', 'seed-incident.bench.js'), String(count), '--partitions', String(partitions), '--no-anchor'],
    {
      encoding: 'utf8',
      env: { ...process.env, RECOVER_TEST_BROKERS: brokers },
      maxBuffer: 16 << 20,
    },
  )
  const m = /generate \+ produce: [\d,]+ records\/s, [\d.]+ MB\/s \(([\d,]+) records in ([\d.]+) s\)/.exec(out.stdout)
  if (out.status !== 0 || !m) {
    process.stderr.write(`The baseline run failed (exit ${out.status}): ${out.stderr.slice(-500)}\n`)
    return undefined
  }
  const records = Number(m[1]!.replaceAll(',', ''))
  const ms = Number(m[2]) * 1000
  return { records, bytes: 0, ms }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
