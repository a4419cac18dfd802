/**
 * How fast the fixture incident is generated, and generated + produced into a broker.
 *
 *   node dist/test/bench/seed-incident.bench.js [N=1000000] [--partitions 3]
 *        [--batch-size 500] [--max-in-flight 4] [--no-anchor]
 *
 * Uses the broker in RECOVER_TEST_BROKERS, or starts a local one. The anchor, side by side in
 * the same run, is Kafka's own ProducerPerformance (Java client) writing the same number of
 * records of the same average size with acks=all and no compression.
 */
import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import { Kafka, logLevel } from 'kafkajs'
import { generateIncident } from '../../src/fixtures/index.js'
import { seedIncident } from '../../src/fixtures/seed-incident.js'
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
    },
  })
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
  const kafka = new Kafka({ brokers: brokers.split(','), clientId: 'recover-bench', logLevel: logLevel.NOTHING })
  const suffix = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
  const topics = [`bench-seed-${suffix}`, `bench-anchor-${suffix}`]
  try {
    const seeded = await seedIncident({ kafka, topic: topics[0]!, count, partitions, batchSize, maxInFlight })
    const produced: Figures = { records: seeded.records, bytes: seeded.bytes, ms: seeded.ms }
    const version = local?.version ?? process.env.RECOVER_KAFKA_VERSION ?? 'unknown version'
    console.log(`generate + produce: ${rate(produced)} into ${partitions} partitions on ${brokers} (Kafka ${version})`)
    if (!values['no-anchor']) {
      const admin = kafka.admin()
      await admin.connect()
      await admin.createTopics({ topics: [{ topic: topics[1]!, numPartitions: partitions }], waitForLeaders: true })
      await admin.disconnect()
      const recordSize = Math.round(seeded.bytes / seeded.records)
      const java = await anchor(brokers, topics[1]!, count, recordSize)
      if (java) {
        console.log(`anchor (Java ProducerPerformance, ${recordSize}-byte records): ${rate(java)}`)
        console.log(`ratio generate+produce / anchor: ${(java.ms / produced.ms).toFixed(2)}`)
      }
    }
  } finally {
    const admin = kafka.admin()
    await admin.connect()
    await admin.deleteTopics({ topics }).catch(() => undefined)
    await admin.disconnect()
    await local?.stop()
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
