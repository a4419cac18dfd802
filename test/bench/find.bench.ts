/**
 * `recover find` over N records (default 1,000,000), end to end as a user runs it (a fresh
 * `node bin/run.js find … --json`), against kcat doing the same in the same run:
 *
 *   kcat -C -e -f '%p %o %h\n' | grep 'app-version=1.6.0' | awk (first, last, count per partition)
 *
 * and, for a value field, recover's JSON decoding against kcat printing values through grep.
 * The topic holds a release (header app-version 1.6.0) between two others, written by kcat -P
 * in three runs, so each partition holds one contiguous window of matches. Both sides must find
 * the same first and last offsets and counts; rounds alternate which runs first; medians.
 *
 *   node dist/test/bench/find.bench.js [N=1000000] [--rounds 3] [--topic T (already seeded)]
 *
 * Uses the broker in RECOVER_TEST_BROKERS, or starts a local one.
 */
import { execSync, spawn } from 'node:child_process'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { startLocalKafka, type LocalKafka } from '../../src/local-kafka/index.js'
import { repoRoot } from '../support/paths.js'

const { values, positionals } = parseArgs({ allowPositionals: true, options: { rounds: { type: 'string', default: '3' }, topic: { type: 'string' } } })
const N = Number(positionals[0] ?? 1_000_000)
const ROUNDS = Number(values.rounds)
const PARTITIONS = 3

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}
const fmt = (n: number) => Math.round(n).toLocaleString('en-US')

/** Per partition: "count first last". */
type Edges = Record<string, string>

/** Three kcat -P runs (before, during, after the release), keyed so records spread over the partitions. */
function seed(brokers: string, topic: string): number {
  const started = performance.now()
  execSync(`kcat -b ${brokers} -X topic.metadata.refresh.interval.ms=1000 -L -t ${topic} -q >/dev/null 2>&1 || true`, { shell: '/bin/bash' })
  const phases: Array<[string, number, number, string]> = [
    ['1.5.9', 0, Math.floor(N * 0.4), 'PAID'],
    ['1.6.0', Math.floor(N * 0.4), Math.floor(N * 0.6), 'FAILED'],
    ['1.6.1', Math.floor(N * 0.6), N, 'PAID'],
  ]
  for (const [version, from, to, status] of phases) {
    const lines = `awk 'BEGIN { for (i = ${from}; i < ${to}; i++) printf "ord-%07d\\t{\\"order_id\\":\\"ord-%07d\\",\\"customer\\":\\"c-%d\\",\\"amount_cents\\":%d,\\"currency\\":\\"EUR\\",\\"status\\":\\"${status}\\",\\"channel\\":\\"web\\"}\\n", i, i, i % 977, (i * 37) % 100000 }'`
    execSync(`${lines} | kcat -P -b ${brokers} -t ${topic} -K '\\t' -H app-version=${version} -X linger.ms=50 -X batch.num.messages=10000`, {
      shell: '/bin/bash',
      stdio: ['ignore', 'ignore', 'inherit'],
    })
  }
  return performance.now() - started
}

function runFind(brokers: string, topic: string, where: string): Promise<{ ms: number; edges: Edges; scanned: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(process.execPath, [join(repoRoot(), 'bin', 'run.js'), 'find', '--topic', topic, '--where', where, '--json'], {
      env: { ...process.env, RECOVER_BROKERS: brokers },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (c: Buffer) => (out += c.toString()))
    child.stderr.on('data', (c: Buffer) => (err += c.toString()))
    child.on('close', (code) => {
      const ms = performance.now() - started
      if (code !== 0) return reject(new Error(`find exited ${code}: ${err}${out}`))
      const json = JSON.parse(out)
      const edges: Edges = {}
      for (const p of json.partitions) if (p.matches > 0) edges[p.partition] = `${p.matches} ${p.first.offset} ${p.last.offset}`
      resolve({ ms, edges, scanned: json.totals.scanned })
    })
  })
}

/** kcat prints partition, offset and what is searched; grep keeps the matches; awk keeps first, last and count per partition. */
function kcatGrep(brokers: string, topic: string, format: string, pattern: string): { ms: number; edges: Edges } {
  const started = performance.now()
  const out = execSync(
    `kcat -C -b ${brokers} -t ${topic} -e -q -f '${format}' | grep -F '${pattern}' | awk '{ c[$1]++; if (!($1 in f)) f[$1] = $2; l[$1] = $2 } END { for (p in c) print p, c[p], f[p], l[p] }'`,
    { encoding: 'utf8', shell: '/bin/bash', maxBuffer: 1 << 20 },
  )
  const edges: Edges = {}
  for (const line of out.trim().split('\n').filter(Boolean)) {
    const [p, count, first, last] = line.split(' ')
    edges[p!] = `${count} ${first} ${last}`
  }
  return { ms: performance.now() - started, edges }
}

const same = (a: Edges, b: Edges) => JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort())

let broker: LocalKafka | undefined
let brokers = process.env.RECOVER_TEST_BROKERS
if (!brokers) {
  broker = await startLocalKafka()
  brokers = broker.brokers
}
try {
  let topic = values.topic
  if (!topic) {
    topic = `bench-find-${Date.now().toString(36)}`
    execSync(`kcat -b ${brokers} -L >/dev/null`, { shell: '/bin/bash' })
    const { Kafka, logLevel } = await import('kafkajs')
    const admin = new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING }).admin()
    await admin.connect()
    await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }], waitForLeaders: true })
    await admin.disconnect()
    const ms = seed(brokers, topic)
    console.log(`Seeded ${fmt(N)} records (app-version 1.5.9, 1.6.0, 1.6.1 in three kcat -P runs) into ${topic} in ${(ms / 1000).toFixed(1)} s.`)
  }

  const header = { find: [] as number[], kcat: [] as number[] }
  const value = { find: [] as number[], kcat: [] as number[] }
  let agree = true
  let total = N
  for (let round = 0; round < ROUNDS; round++) {
    const steps = [
      async () => {
        const r = await runFind(brokers!, topic!, 'header app-version = 1.6.0')
        header.find.push(r.ms)
        total = r.scanned
        const k = kcatGrep(brokers!, topic!, '%p %o %h\\n', 'app-version=1.6.0')
        header.kcat.push(k.ms)
        if (!same(r.edges, k.edges)) {
          agree = false
          console.log(`  header edges DISAGREE: find ${JSON.stringify(r.edges)}, kcat ${JSON.stringify(k.edges)}`)
        }
      },
      async () => {
        const k = kcatGrep(brokers!, topic!, '%p %o %s\\n', '"status":"FAILED"')
        value.kcat.push(k.ms)
        const r = await runFind(brokers!, topic!, 'value.status = FAILED')
        value.find.push(r.ms)
        if (!same(r.edges, k.edges)) {
          agree = false
          console.log(`  value edges DISAGREE: find ${JSON.stringify(r.edges)}, kcat ${JSON.stringify(k.edges)}`)
        }
      },
    ]
    if (round % 2 === 1) steps.reverse()
    for (const step of steps) await step()
  }
  const rate = (ms: number) => `${fmt(total / (ms / 1000))} records/s (${(ms / 1000).toFixed(1)} s)`
  console.log(`\nfind over ${fmt(total)} records in ${PARTITIONS} partitions, end to end (cold CLI), median of ${ROUNDS} rounds:`)
  console.log(`  recover find --where 'header app-version = 1.6.0':   ${rate(median(header.find))}`)
  console.log(`  kcat -C -e -f '%p %o %h' | grep | awk:                ${rate(median(header.kcat))}`)
  console.log(`  ratio find / kcat (header):                           ${(median(header.kcat) / median(header.find)).toFixed(2)}x kcat's speed`)
  console.log(`  recover find --where 'value.status = FAILED' (JSON):  ${rate(median(value.find))}`)
  console.log(`  kcat -C -e -f '%p %o %s' | grep | awk:                ${rate(median(value.kcat))}`)
  console.log(`  ratio find / kcat (value field):                      ${(median(value.kcat) / median(value.find)).toFixed(2)}x kcat's speed`)
  console.log(`  first/last offsets and counts per partition: ${agree ? 'find and kcat agree' : 'DISAGREE'}`)
  if (!agree) process.exitCode = 1
} finally {
  await broker?.stop()
}
