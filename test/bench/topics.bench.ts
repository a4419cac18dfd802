/**
 * `recover topics describe --topic T --json` over a 100-partition topic against kcat doing the
 * same, in the same run: interleaved, alternating who goes first, median of several cold runs.
 * Two anchors, because kcat has no single command for it:
 *
 *  - kcat offsets: `kcat -L` (leaders, replicas, ISR) and `kcat -Q` at -2 and -1 for all 100
 *    partitions (log start, log end): what kcat shows by itself, without record times.
 *  - kcat with times: the same, plus what an SRE adds for the first and last record's time:
 *    `kcat -C -o -1 -e` (the last record of every partition, one process) and, since kcat
 *    has no "first record of each partition", `kcat -C -p P -o beginning -c 1` per partition.
 *
 * Also checks that recover and kcat agree on every log start, log end and record time.
 *
 *   node dist/test/bench/topics.bench.js [runs=9] [--records-per-partition 200]
 *
 * Uses the broker in RECOVER_TEST_BROKERS, or starts a local one.
 */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Kafka, logLevel, type Message } from 'kafkajs'
import { startLocalKafka, type LocalKafka } from '../../src/local-kafka/index.js'
import { repoRoot } from '../support/paths.js'

const PARTITIONS = 100
const STEP_MS = 1_000

interface Edges {
  logStart: string
  logEnd: string
  first: number | null
  last: number | null
}

interface Timed {
  ms: number
  edges: Map<number, Edges>
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

function run(command: string, args: string[], env?: NodeJS.ProcessEnv): string {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: env ?? process.env })
  if (result.status !== 0) throw new Error(`${command} ${args.slice(0, 4).join(' ')} exited ${result.status}: ${result.stderr}`)
  return result.stdout
}

function runRecover(bin: string, brokers: string, topic: string): Timed {
  const started = performance.now()
  const out = run(process.execPath, [bin, 'topics', 'describe', '--topic', topic, '--json'], { ...process.env, RECOVER_BROKERS: brokers })
  const ms = performance.now() - started
  const detail = JSON.parse(out) as {
    partitions: Array<{
      partition: number
      logStartOffset: string
      logEndOffset: string
      firstRecord: { timestamp: string } | null
      lastRecord: { timestamp: string } | null
    }>
  }
  const edges = new Map<number, Edges>()
  for (const p of detail.partitions)
    edges.set(p.partition, {
      logStart: p.logStartOffset,
      logEnd: p.logEndOffset,
      first: p.firstRecord ? Date.parse(p.firstRecord.timestamp) : null,
      last: p.lastRecord ? Date.parse(p.lastRecord.timestamp) : null,
    })
  return { ms, edges }
}

/** kcat -L and kcat -Q at -2 and -1: metadata and offsets, no record times. */
function runKcatOffsets(brokers: string, topic: string): Timed {
  const started = performance.now()
  run('kcat', ['-L', '-J', '-b', brokers, '-t', topic])
  const query = (which: number) => {
    const out = run('kcat', ['-Q', '-b', brokers, ...Array.from({ length: PARTITIONS }, (_, p) => ['-t', `${topic}:${p}:${which}`]).flat()])
    return new Map([...out.matchAll(/\[(\d+)\] offset (-?\d+)/g)].map((m) => [Number(m[1]), m[2]!]))
  }
  const starts = query(-2)
  const ends = query(-1)
  const ms = performance.now() - started
  const edges = new Map<number, Edges>()
  for (let p = 0; p < PARTITIONS; p++) edges.set(p, { logStart: starts.get(p) ?? '?', logEnd: ends.get(p) ?? '?', first: null, last: null })
  return { ms, edges }
}

/** The offsets anchor plus the last record of every partition (one process) and the first of each (one process per partition). */
function runKcatWithTimes(brokers: string, topic: string): Timed {
  const started = performance.now()
  const offsets = runKcatOffsets(brokers, topic)
  const lasts = run('kcat', ['-C', '-q', '-b', brokers, '-t', topic, '-o', '-1', '-e', '-f', '%p %T\n'])
  const edges = offsets.edges
  for (const line of lasts.trim().split('\n')) {
    const [p, t] = line.split(' ')
    if (p !== undefined && t !== undefined) edges.get(Number(p))!.last = Number(t)
  }
  for (let p = 0; p < PARTITIONS; p++) {
    if (edges.get(p)!.logStart === edges.get(p)!.logEnd) continue
    const first = run('kcat', ['-C', '-q', '-b', brokers, '-t', topic, '-p', String(p), '-o', 'beginning', '-c', '1', '-e', '-f', '%T\n'])
    edges.get(p)!.first = Number(first.trim())
  }
  return { ms: performance.now() - started, edges }
}

function compare(recover: Map<number, Edges>, kcat: Map<number, Edges>, withTimes: boolean): string[] {
  const problems: string[] = []
  for (let p = 0; p < PARTITIONS; p++) {
    const r = recover.get(p)
    const k = kcat.get(p)
    if (!r || !k) {
      problems.push(`partition ${p}: missing from ${r ? 'kcat' : 'recover'}`)
      continue
    }
    if (r.logStart !== k.logStart || r.logEnd !== k.logEnd)
      problems.push(`partition ${p}: recover [${r.logStart}, ${r.logEnd}), kcat [${k.logStart}, ${k.logEnd})`)
    if (withTimes && (r.first !== k.first || r.last !== k.last))
      problems.push(`partition ${p}: recover times ${r.first}..${r.last}, kcat ${k.first}..${k.last}`)
  }
  return problems
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { 'records-per-partition': { type: 'string', default: '200' } } })
  const runs = Number(positionals[0] ?? 9)
  const perPartition = Number(values['records-per-partition'])
  if (!(runs >= 1) || !(perPartition >= 1)) throw new Error('usage: topics.bench.js [runs>=1] [--records-per-partition N>=1]')

  let local: LocalKafka | undefined
  let brokers = process.env.RECOVER_TEST_BROKERS
  if (!brokers) {
    process.stderr.write('RECOVER_TEST_BROKERS is not set; starting a local broker…\n')
    local = await startLocalKafka()
    brokers = local.brokers
  }
  const topic = `bench-topics-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
  const kafka = new Kafka({ brokers: brokers.split(','), clientId: 'recover-bench', logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }], waitForLeaders: true })
    const producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    const base = Date.UTC(2018, 2, 21)
    let records = 0
    try {
      // Partition 99 stays empty; the others get perPartition records of 100 bytes, a second apart.
      for (let from = 0; from < perPartition; from += 50) {
        const messages: Array<Message & { partition: number }> = []
        for (let p = 0; p < PARTITIONS - 1; p++)
          for (let i = from; i < Math.min(perPartition, from + 50); i++)
            messages.push({ partition: p, key: `k${i}`, value: 'x'.repeat(100), timestamp: String(base + p * 60_000 + i * STEP_MS) })
        await producer.send({ topic, acks: -1, messages })
        records += messages.length
      }
    } finally {
      await producer.disconnect()
    }

    const bin = join(repoRoot(), 'bin', 'run.js')
    // One untimed run of each warms the page cache and checks that all agree.
    const warm = runRecover(bin, brokers, topic)
    const disagreements = new Set([
      ...compare(warm.edges, runKcatOffsets(brokers, topic).edges, false),
      ...compare(warm.edges, runKcatWithTimes(brokers, topic).edges, true),
    ])
    const samples = { recover: [] as number[], offsets: [] as number[], times: [] as number[], floor: [] as number[] }
    for (let i = 0; i < runs; i++) {
      const order = i % 2 === 0 ? (['recover', 'offsets', 'times'] as const) : (['times', 'offsets', 'recover'] as const)
      for (const who of order) {
        if (who === 'recover') {
          const r = runRecover(bin, brokers, topic)
          samples.recover.push(r.ms)
        } else if (who === 'offsets') samples.offsets.push(runKcatOffsets(brokers, topic).ms)
        else {
          const k = runKcatWithTimes(brokers, topic)
          samples.times.push(k.ms)
          for (const problem of compare(warm.edges, k.edges, true)) disagreements.add(problem)
        }
      }
      const started = performance.now()
      run(process.execPath, [bin, '--version'])
      samples.floor.push(performance.now() - started)
    }

    const r = median(samples.recover)
    console.log(
      `topics describe: ${PARTITIONS} partitions, ${records} records of 100 bytes (Kafka ${local?.version ?? process.env.RECOVER_KAFKA_VERSION ?? '?'}, ${brokers})`,
    )
    console.log(`  median of ${runs} cold runs each, interleaved (min-max in brackets); the machine is shared, so figures are noisy`)
    const line = (name: string, xs: number[]) =>
      `  ${name.padEnd(60)} ${median(xs).toFixed(0).padStart(6)} ms  [${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)}]`
    console.log(line('recover topics describe --json', samples.recover))
    console.log(line('kcat -L + kcat -Q x2 (offsets, no record times)', samples.offsets))
    console.log(line('kcat offsets + -o -1 -e + per-partition -o beginning -c 1', samples.times))
    console.log(line('(recover --version: the CLI start-up floor)', samples.floor))
    console.log(`  ratio kcat offsets / recover: ${(median(samples.offsets) / r).toFixed(2)}x (kcat shows no record times)`)
    console.log(`  ratio kcat with times / recover: ${(median(samples.times) / r).toFixed(2)}x`)
    if (disagreements.size === 0)
      console.log(`  recover and kcat agree on every log start, log end and first and last record time of all ${PARTITIONS} partitions`)
    else {
      console.log(`  recover and kcat DISAGREE on ${disagreements.size} point(s):`)
      for (const d of [...disagreements].slice(0, 20)) console.log(`    ${d}`)
      process.exitCode = 1
    }
  } finally {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined)
    await admin.disconnect()
    await local?.stop()
  }
}

await main()
