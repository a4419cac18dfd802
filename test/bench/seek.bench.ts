/**
 * `recover seek --to TIME --json` (dry run) against Apache Kafka's own
 * `kafka-consumer-groups.sh --reset-offsets --all-topics --to-datetime TIME --dry-run`, on the
 * same group of 3 topics x 32 partitions, in the same run: interleaved, alternating which
 * goes first, median of several cold runs each. Both are spawned as a user would run them
 * (a fresh node or JVM per run). Timed alongside: the same seek printing its table (what people
 * see), and `recover seek` with a TIME it cannot read (start-up and flag parsing, no Kafka: the
 * floor every command pays). Also counts the module files a seek loads, and checks that both
 * plans give every partition the same new offset. Goal: recover at least 3x faster.
 *
 *   node dist/test/bench/seek.bench.js [runs=9] [--records-per-partition 50]
 *
 * Uses the broker in RECOVER_TEST_BROKERS, or starts a local one. Kafka's tool runs from the
 * project's jars with the JVM options of runKafkaTool (C1 only, serial GC), which start faster
 * than kafka-run-class.sh's defaults, so the ratio does not flatter recover.
 */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Kafka, logLevel, type Message } from 'kafkajs'
import { resolveConnection } from '../../src/config/resolve-connection.js'
import { KafkaGateway } from '../../src/kafka/kafka-gateway.js'
import { ensureKafkaJars, startLocalKafka, type LocalKafka } from '../../src/local-kafka/index.js'
import { ensureJava, javaArgs, TOOL_JVM_OPTIONS } from '../../src/local-kafka/java.js'
import { repoRoot } from '../support/paths.js'
import { countModules } from './loaded-modules.js'

const CONSUMER_GROUP_COMMAND = 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand'
const TOPICS = 3
const PARTITIONS = 32
const STEP_MS = 10_000
const GOAL = 3

interface Timed {
  ms: number
  offsets: Map<string, string>
}

const key = (topic: string, partition: number | string) => `${topic}-${partition}`

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

/**
 * Timestamps of record i of a partition: 10 s apart from a per-partition start, one in five
 * pulled 25 s back (out of order, as several producers make them); every eighth partition
 * ends before TIME (its plan is the log end) and partition 31 stays empty.
 */
function timestampsOf(partition: number, count: number, base: number): number[] {
  if (partition === PARTITIONS - 1) return []
  const start = base + partition * 1_000
  const n = partition % 8 === 7 ? Math.floor(count / 3) : count
  return Array.from({ length: n }, (_, i) => start + i * STEP_MS - ((i * 7 + partition) % 5 === 0 ? 25_000 : 0))
}

/** `recover seek ... --json` as a user runs it; new offsets from the JSON plan. */
function runRecover(bin: string, brokers: string, group: string, to: string): Timed {
  const started = performance.now()
  const result = spawnSync(process.execPath, seekArgs(bin, group, to, '--json'), {
    env: { ...process.env, RECOVER_BROKERS: brokers },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  })
  const ms = performance.now() - started
  if (result.status !== 0) throw new Error(`recover seek exited ${result.status}: ${result.stderr}${result.stdout}`)
  const out = JSON.parse(result.stdout) as { plan: { rows: Array<{ topic: string; partition: number; newOffset: string }> } }
  return { ms, offsets: new Map(out.plan.rows.map((r) => [key(r.topic, r.partition), r.newOffset])) }
}

function seekArgs(bin: string, group: string, to: string, ...more: string[]): string[] {
  return [bin, 'seek', '--group', group, '--to', to, ...more]
}

/** The same dry run printing its plan as a table, as people run it. */
function runRecoverTable(bin: string, brokers: string, group: string, to: string): number {
  const started = performance.now()
  const result = spawnSync(process.execPath, seekArgs(bin, group, to), { env: { ...process.env, RECOVER_BROKERS: brokers }, stdio: 'ignore' })
  if (result.status !== 0) throw new Error(`recover seek (table) exited ${result.status}`)
  return performance.now() - started
}

/** `recover seek` with a TIME it cannot read: node, oclif, the command and its flags, no Kafka (exit 2); what any command costs at least. */
function runFloor(bin: string): number {
  const started = performance.now()
  const result = spawnSync(process.execPath, seekArgs(bin, 'g', 'not-a-time'), { stdio: 'ignore' })
  if (result.status !== 2) throw new Error(`recover seek --to not-a-time exited ${result.status}, expected 2`)
  return performance.now() - started
}

/** kafka-consumer-groups.sh --reset-offsets --dry-run; new offsets from its GROUP TOPIC PARTITION NEW-OFFSET table. */
function runKafka(java: string, args: string[]): Timed {
  const started = performance.now()
  const result = spawnSync(java, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  const ms = performance.now() - started
  if (result.status !== 0) throw new Error(`ConsumerGroupCommand exited ${result.status}: ${result.stderr}${result.stdout}`)
  const offsets = new Map<string, string>()
  for (const line of result.stdout.split('\n')) {
    const cols = line.trim().split(/\s+/)
    if (cols.length === 4 && /^\d+$/.test(cols[2]!) && /^\d+$/.test(cols[3]!)) offsets.set(key(cols[1]!, cols[2]!), cols[3]!)
  }
  return { ms, offsets }
}

function compare(recover: Map<string, string>, kafka: Map<string, string>, expected: number): string[] {
  const problems: string[] = []
  if (recover.size !== expected) problems.push(`recover planned ${recover.size} partitions, expected ${expected}`)
  if (kafka.size !== expected) problems.push(`Kafka planned ${kafka.size} partitions, expected ${expected}`)
  for (const [tp, offset] of kafka) if (recover.get(tp) !== offset) problems.push(`${tp}: recover ${recover.get(tp) ?? 'missing'}, Kafka ${offset}`)
  for (const tp of recover.keys()) if (!kafka.has(tp)) problems.push(`${tp}: only in recover's plan`)
  return problems
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { 'records-per-partition': { type: 'string', default: '50' } },
  })
  const runs = Number(positionals[0] ?? 9)
  const perPartition = Number(values['records-per-partition'])
  if (!(runs >= 1) || !(perPartition >= 3)) throw new Error('usage: seek.bench.js [runs>=1] [--records-per-partition N>=3]')

  let local: LocalKafka | undefined
  let brokers = process.env.RECOVER_TEST_BROKERS
  if (!brokers) {
    process.stderr.write('RECOVER_TEST_BROKERS is not set; starting a local broker…\n')
    local = await startLocalKafka()
    brokers = local.brokers
  }
  const suffix = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
  const topics = Array.from({ length: TOPICS }, (_, i) => `bench-seek-${i}-${suffix}`)
  const group = `bench-seek-${suffix}`
  const kafka = new Kafka({ brokers: brokers.split(','), clientId: 'recover-bench', logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  const gateway = await KafkaGateway.open(resolveConnection({ brokers }, { clusters: {}, defaults: {} }))
  try {
    // Recent timestamps, so no retention setting of the broker can touch them; an instant with
    // milliseconds, so both tools must honour them.
    const base = Math.floor((Date.now() - 3 * 3_600_000) / 60_000) * 60_000
    const at = new Date(base + Math.floor(perPartition / 2) * STEP_MS + 4_321)
    const to = at.toISOString() // yyyy-MM-ddTHH:mm:ss.SSSZ, read the same by both tools

    await admin.createTopics({ topics: topics.map((topic) => ({ topic, numPartitions: PARTITIONS, replicationFactor: 1 })), waitForLeaders: true })
    const producer = kafka.producer({ allowAutoTopicCreation: false })
    await producer.connect()
    let records = 0
    try {
      for (const topic of topics) {
        const messages: Array<Message & { partition: number }> = []
        for (let p = 0; p < PARTITIONS; p++) {
          for (const ts of timestampsOf(p, perPartition, base)) messages.push({ partition: p, key: null, value: `${topic}/${p}/${ts}`, timestamp: String(ts) })
        }
        await producer.send({ topic, acks: -1, messages })
        records += messages.length
      }
    } finally {
      await producer.disconnect()
    }
    // The group has read everything: committed at the log end of all 96 partitions (0 where empty).
    const commits: Array<{ topic: string; partition: number; offset: bigint }> = []
    for (const topic of topics) {
      for (const p of await admin.fetchTopicOffsets(topic)) commits.push({ topic, partition: p.partition, offset: BigInt(p.high) })
    }
    await gateway.commitGroupOffsets(group, commits)

    const bin = join(repoRoot(), 'bin', 'run.js')
    const { libDir, version } = await ensureKafkaJars()
    const java = await ensureJava()
    const kafkaArgs = javaArgs({
      libDir,
      version,
      jvmOptions: TOOL_JVM_OPTIONS,
      mainClass: CONSUMER_GROUP_COMMAND,
      args: ['--bootstrap-server', brokers, '--reset-offsets', '--group', group, '--all-topics', '--to-datetime', to, '--dry-run'],
    })

    // One untimed run of each warms the page cache (jars, node_modules) and checks both work.
    const warmRecover = runRecover(bin, brokers, group, to)
    const warmKafka = runKafka(java, kafkaArgs)
    const samples = { recover: [] as number[], kafka: [] as number[], table: [] as number[], floor: [] as number[] }
    const disagreements = new Set<string>(compare(warmRecover.offsets, warmKafka.offsets, TOPICS * PARTITIONS))
    for (let i = 0; i < runs; i++) {
      const order = i % 2 === 0 ? (['recover', 'kafka'] as const) : (['kafka', 'recover'] as const)
      const got: Partial<Record<'recover' | 'kafka', Timed>> = {}
      for (const who of order) got[who] = who === 'recover' ? runRecover(bin, brokers, group, to) : runKafka(java, kafkaArgs)
      samples.recover.push(got.recover!.ms)
      samples.kafka.push(got.kafka!.ms)
      samples.table.push(runRecoverTable(bin, brokers, group, to))
      samples.floor.push(runFloor(bin))
      for (const problem of compare(got.recover!.offsets, got.kafka!.offsets, TOPICS * PARTITIONS)) disagreements.add(problem)
    }

    const r = median(samples.recover)
    const k = median(samples.kafka)
    const atLogEnd = [...warmKafka.offsets].filter(([tp, offset]) => offset === String(commits.find((c) => key(c.topic, c.partition) === tp)?.offset)).length
    console.log(
      `seek --to ${to}: group of ${TOPICS} topics x ${PARTITIONS} partitions, ${records} records (Kafka ${local?.version ?? process.env.RECOVER_KAFKA_VERSION ?? version}, ${brokers})`,
    )
    console.log(`  median of ${runs} cold runs each, interleaved (min-max in brackets)`)
    const line = (name: string, xs: number[]) =>
      `  ${name.padEnd(52)} ${median(xs).toFixed(0).padStart(6)} ms  [${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)}]`
    console.log(line('recover seek --to TIME --json', samples.recover))
    console.log(line('kafka-consumer-groups.sh --reset-offsets --dry-run', samples.kafka))
    console.log(line('recover seek --to TIME (the table people read)', samples.table))
    console.log(line('(recover seek, unreadable TIME: start-up floor)', samples.floor))
    const modules = countModules(seekArgs(bin, group, to, '--json'), { ...process.env, RECOVER_BROKERS: brokers })
    console.log(`  recover seek loads ${modules} module files (the build's bundle of oclif counts as one)`)
    console.log(`  ratio Kafka / recover: ${(k / r).toFixed(2)}x (goal >= ${GOAL}x: ${k / r >= GOAL ? 'met' : 'missed'})`)
    if (disagreements.size === 0) {
      console.log(
        `  plans agree: same new offset on all ${TOPICS * PARTITIONS} partitions (${TOPICS * PARTITIONS - atLogEnd} moved back, ${atLogEnd} stay at the log end)`,
      )
    } else {
      console.log(`  plans DISAGREE on ${disagreements.size} point(s):`)
      for (const d of [...disagreements].slice(0, 20)) console.log(`    ${d}`)
      process.exitCode = 1
    }
  } finally {
    await gateway.close()
    await admin.deleteGroups([group]).catch(() => undefined)
    await admin.deleteTopics({ topics }).catch(() => undefined)
    await admin.disconnect()
    await local?.stop()
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
