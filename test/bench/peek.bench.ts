/**
 * `recover peek --key K` over a fixture incident of N records (default 1,000,000), end to end as
 * a user runs it (a fresh `node bin/run.js … --json`), against kcat doing the same in the same
 * run: `kcat -C -e -q -f '%k\n' | grep -c -x -F K` (librdkafka prints every key, grep counts the
 * ones that are K). Both must find the same number of records. Rounds alternate which runs
 * first; medians are printed with the ratio.
 *
 *   node dist/test/bench/peek.bench.js [N=1000000] [--rounds 3] [--topic T (already seeded)]
 *
 * Uses the broker in RECOVER_TEST_BROKERS, or starts a local one.
 */
import { execSync, spawn } from 'node:child_process'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Kafka, logLevel } from 'kafkajs'
import { seedIncident } from '../../src/fixtures/seed-incident.js'
import { startLocalKafka, type LocalKafka } from '../../src/local-kafka/index.js'
import { repoRoot } from '../support/paths.js'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { rounds: { type: 'string', default: '3' }, topic: { type: 'string' }, key: { type: 'string' } },
})
const N = Number(positionals[0] ?? 1_000_000)
const ROUNDS = Number(values.rounds)

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}
const perSecond = (records: number, ms: number) => Math.round(records / (ms / 1000))
const fmt = (n: number) => n.toLocaleString('en-US')

/** `recover peek --key K` as a user runs it, every match shown (so the whole topic is scanned). */
function runPeek(brokers: string, topic: string, key: string): Promise<{ ms: number; scanned: number; matched: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(process.execPath, [join(repoRoot(), 'bin', 'run.js'), 'peek', '--topic', topic, '--key', key, '--count', '1000000', '--json'], {
      env: { ...process.env, RECOVER_BROKERS: brokers },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (c: Buffer) => (out += c.toString()))
    child.stderr.on('data', (c: Buffer) => (err += c.toString()))
    child.on('close', (code) => {
      const ms = performance.now() - started
      if (code !== 0) return reject(new Error(`peek exited ${code}: ${err}${out}`))
      const json = JSON.parse(out)
      resolve({ ms, scanned: json.scanned, matched: json.matched })
    })
  })
}

function kcatGrep(brokers: string, topic: string, key: string): { ms: number; matched: number } {
  const started = performance.now()
  // grep -c exits 1 when nothing matches: still a count.
  const out = execSync(`kcat -C -b ${brokers} -t ${topic} -e -q -f '%k\\n' | grep -c -x -F -- '${key}' || true`, {
    encoding: 'utf8',
    shell: '/bin/bash',
    maxBuffer: 1 << 20,
  })
  return { ms: performance.now() - started, matched: Number(out.trim()) }
}

let broker: LocalKafka | undefined
let brokers = process.env.RECOVER_TEST_BROKERS
if (!brokers) {
  broker = await startLocalKafka()
  brokers = broker.brokers
}
try {
  let topic = values.topic
  // A key that is in the topic twice (a fixture duplicate), so both tools have something to find.
  let key = values.key
  if (!topic) {
    topic = `bench-peek-${Date.now().toString(36)}`
    const seeded = await seedIncident({ kafka: new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING }), topic, count: N, replicationFactor: 1 })
    key ??= seeded.truth.duplicates[0]?.key
    console.log(`Seeded ${fmt(seeded.records)} fixture records (${(seeded.bytes / 1e6).toFixed(0)} MB) into ${topic} in ${(seeded.ms / 1000).toFixed(1)} s.`)
  }
  if (!key) throw new Error('pass --key K with --topic')
  const admin = new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  const offsets = await admin.fetchTopicOffsets(topic)
  await admin.disconnect()
  const total = offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0)

  const peek: number[] = []
  const kcat: number[] = []
  let peekMatched = -1
  let peekScanned = -1
  let kcatMatched = -1
  for (let round = 0; round < ROUNDS; round++) {
    const steps = [
      async () => {
        const r = await runPeek(brokers!, topic!, key!)
        peek.push(r.ms)
        peekMatched = r.matched
        peekScanned = r.scanned
      },
      async () => {
        const r = kcatGrep(brokers!, topic!, key!)
        kcat.push(r.ms)
        kcatMatched = r.matched
      },
    ]
    if (round % 2 === 1) steps.reverse()
    for (const step of steps) await step()
  }

  console.log(`\npeek --key ${key} over ${fmt(total)} records (${offsets.length} partitions), median of ${ROUNDS} rounds:`)
  console.log(`  recover peek --key (end to end, cold CLI): ${(median(peek) / 1000).toFixed(2)} s, ${fmt(perSecond(total, median(peek)))} records/s`)
  console.log(`  kcat -C -e -f '%k\\n' | grep -c -x:          ${(median(kcat) / 1000).toFixed(2)} s, ${fmt(perSecond(total, median(kcat)))} records/s`)
  console.log(`  ratio recover / kcat (throughput):          ${(median(kcat) / median(peek)).toFixed(2)}x`)
  console.log(
    `  matches: recover ${peekMatched} (of ${fmt(peekScanned)} scanned), kcat | grep ${kcatMatched} (${peekMatched === kcatMatched ? 'agree' : 'DISAGREE'})`,
  )
  if (peekMatched !== kcatMatched || peekScanned !== total) process.exitCode = 1
} finally {
  await broker?.stop()
}
