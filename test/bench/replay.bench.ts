/**
 * `recover replay` topic -> topic through an identity transform, against its anchors on the
 * same broker in the same run:
 *   (a) the smallest kafkajs consume-and-produce pipe (kafkajs-pipe.ts: no decoding, no
 *       transform, no checkpoints), the best this client can do;
 *   (b) `kcat -C ... -e | kcat -P ...` (librdkafka; values and keys only, no headers).
 * Input: N JSON orders of about 300 bytes with a key and two headers, over 6 partitions.
 * Every contender is a fresh process, started as a user would, timed wall-clock with its peak
 * RSS from /usr/bin/time; rounds alternate the order. Each destination is checked to hold N
 * records. With --memory-check, recover also replays 3N records, and the peak RSS of both
 * sizes is compared (target: within 20%).
 *
 *   node dist/test/bench/replay.bench.js [--records 1000000] [--rounds 2] [--memory-check] [--no-kcat]
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Kafka, logLevel } from 'kafkajs'
import { produceRecords, type ProducibleRecord } from '../../src/kafka/produce-records.js'
import { createRng, partitionForKey } from '../../src/fixtures/index.js'
import { startLocalKafka, type LocalKafka } from '../../src/local-kafka/index.js'
import { repoRoot } from '../support/paths.js'

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '2' },
    partitions: { type: 'string', default: '6' },
    'memory-check': { type: 'boolean', default: false },
    'no-kcat': { type: 'boolean', default: false },
    'batch-size': { type: 'string' },
  },
})
const N = Number(values.records)
const ROUNDS = Number(values.rounds)
const PARTITIONS = Number(values.partitions)
const here = dirname(fileURLToPath(import.meta.url))
const work = mkdtempSync(join(tmpdir(), 'recover-replay-bench-'))
const stamp = Date.now().toString(36)

interface Sample {
  ms: number
  rssKb: number
  /** User + system CPU of the process (and its children), ms: less sensitive than wall time to a busy machine. */
  cpuMs: number
}

function timed(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Sample & { stdout: string } {
  const result = spawnSync('/usr/bin/time', ['-f', '__TIME__ %e %M %U %S', command, ...args], { encoding: 'utf8', env, maxBuffer: 256 << 20 })
  const m = /__TIME__ ([\d.]+) (\d+) ([\d.]+) ([\d.]+)/.exec(result.stderr)
  if (result.status !== 0 || !m) throw new Error(`${command} ${args.join(' ')} failed (${result.status}): ${result.stderr.slice(-2000)}`)
  return { ms: Number(m[1]) * 1000, rssKb: Number(m[2]), cpuMs: (Number(m[3]) + Number(m[4])) * 1000, stdout: result.stdout }
}

/** Orders as JSON, about 300 bytes each, keyed by order id (partition = Kafka's default partitioner). */
function* orders(count: number): Generator<ProducibleRecord> {
  const rng = createRng(7)
  const t0 = Date.UTC(2018, 2, 20)
  for (let i = 0; i < count; i++) {
    const id = `ord-${String(i).padStart(8, '0')}`
    const items = Array.from({ length: 1 + (i % 3) }, (_, j) => ({
      sku: `SKU-${String(rng.int(500)).padStart(4, '0')}`,
      quantity: 1 + ((i + j) % 3),
      unit_price_cents: rng.between(1, 200) * 100 - 1,
    }))
    const value = {
      order_id: id,
      customer: `cust-${String(rng.int(20_000)).padStart(5, '0')}`,
      amount_cents: items.reduce((s, x) => s + x.quantity * x.unit_price_cents, 0),
      currency: 'EUR',
      status: 'PENDING',
      created_at: t0 + i * 10,
      items,
      channel: 'web',
    }
    const key = Buffer.from(id)
    yield {
      partition: partitionForKey(key, PARTITIONS),
      key,
      value: Buffer.from(JSON.stringify(value)),
      timestampMs: t0 + i * 10,
      headers: { 'app-version': '1.5.0', 'trace-id': rng.hex(16) },
    }
  }
}

async function seed(kafka: Kafka, topic: string, count: number): Promise<number> {
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({
    waitForLeaders: true,
    topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: '-1' }] }],
  })
  await admin.disconnect()
  const producer = kafka.producer({
    allowAutoTopicCreation: false,
    createPartitioner:
      () =>
      ({ message }) =>
        message.partition ?? 0,
  })
  await producer.connect()
  const result = await produceRecords(producer, topic, orders(count), { batchSize: 1000, maxInFlight: 6 })
  await producer.disconnect()
  return result.bytes
}

async function destination(kafka: Kafka, name: string): Promise<string> {
  const admin = kafka.admin()
  await admin.connect()
  // The records keep their 2018 timestamps: default retention would delete them within minutes.
  await admin.createTopics({
    waitForLeaders: true,
    topics: [{ topic: name, numPartitions: PARTITIONS, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: '-1' }] }],
  })
  await admin.disconnect()
  return name
}

async function countRecords(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin()
  await admin.connect()
  const offsets = await admin.fetchTopicOffsets(topic)
  await admin.disconnect()
  // Records written since the topic was created (fresh topics start at offset 0).
  return offsets.reduce((n, o) => n + Number(o.high), 0)
}

let broker: LocalKafka | undefined
let brokers = process.env.RECOVER_TEST_BROKERS
if (!brokers) {
  broker = await startLocalKafka({})
  brokers = broker.brokers
}
try {
  const kafka = new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING })
  const identity = join(work, 'identity.mjs')
  writeFileSync(
    identity,
    `import { defineTransform } from ${JSON.stringify(join(repoRoot(), 'dist', 'src', 'plugin-api.js'))}\nexport default defineTransform({ name: 'identity', version: '1.0.0', transform: (r) => r })\n`,
  )
  const bin = join(repoRoot(), 'bin', 'run.js')
  const source = `bench-replay-src-${stamp}`
  process.stderr.write(`Seeding ${N} records into ${source}…\n`)
  const bytes = await seed(kafka, source, N)

  // Warm the broker's page cache once, so that the first contender does not pay for it alone.
  spawnSync('bash', ['-c', `kcat -C -b ${brokers} -t ${source} -o beginning -e -q > /dev/null`], { stdio: 'ignore' })

  let sequence = 0
  const contenders: Record<string, (n: number, src: string) => Promise<Sample>> = {
    recover: async (n, src) => {
      const dst = await destination(kafka, `bench-replay-dst-${stamp}-${sequence++}`)
      const args = [
        bin,
        'replay',
        '--topic',
        src,
        '--value-format',
        'json',
        '--transform',
        identity,
        '--sink',
        `kafka:${dst}`,
        '--checkpoint',
        join(work, `${dst}.json`),
        '--json',
      ]
      if (values['batch-size']) args.push('--batch-size', values['batch-size'])
      const s = timed(process.execPath, args, { ...process.env, RECOVER_BROKERS: brokers })
      const summary = JSON.parse(s.stdout) as { totals: { read: number; written: number } }
      if (summary.totals.written !== n || (await countRecords(kafka, dst)) !== n)
        throw new Error(`recover wrote ${summary.totals.written} records, expected ${n}`)
      return s
    },
    'kafkajs pipe': async (n, src) => {
      const dst = await destination(kafka, `bench-replay-dst-${stamp}-${sequence++}`)
      const s = timed(process.execPath, [join(here, 'kafkajs-pipe.js'), brokers!, src, dst, String(n), String(PARTITIONS)])
      if ((await countRecords(kafka, dst)) < n) throw new Error('the kafkajs pipe wrote too few records')
      return s
    },
    'kcat | kcat': async (n, src) => {
      const dst = await destination(kafka, `bench-replay-dst-${stamp}-${sequence++}`)
      const s = timed('bash', [
        '-o',
        'pipefail',
        '-c',
        `kcat -C -b ${brokers} -t ${src} -o beginning -e -q -f '%k\\t%s\\n' | kcat -P -b ${brokers} -t ${dst} -K '\\t' -X linger.ms=5`,
      ])
      if ((await countRecords(kafka, dst)) !== n) throw new Error('kcat wrote a different number of records')
      return s
    },
  }
  const names = Object.keys(contenders).filter((n) => !(values['no-kcat'] && n.startsWith('kcat')))
  const samples = new Map<string, Sample[]>(names.map((n) => [n, []]))
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse()
    for (const name of order) {
      process.stderr.write(`  round ${round + 1}: ${name}…\n`)
      samples.get(name)!.push(await contenders[name]!(N, source))
    }
  }
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b)
    return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
  }
  console.log(
    `replay topic -> topic, identity transform: ${N.toLocaleString('en-US')} JSON records (${Math.round(bytes / N)} B of key+value+headers each, ${(bytes / 1e6).toFixed(0)} MB), ${PARTITIONS} partitions, ${brokers}`,
  )
  console.log(`  median of ${ROUNDS} round(s) each, whole processes (start-up, connect and close included)`)
  const rate = (name: string) => N / (median(samples.get(name)!.map((s) => s.ms)) / 1000)
  for (const name of names) {
    const list = samples.get(name)!
    const ms = median(list.map((s) => s.ms))
    const rss = Math.max(...list.map((s) => s.rssKb))
    const cpu = median(list.map((s) => s.cpuMs))
    const spread = list.length > 1 ? ` [${list.map((s) => (s.ms / 1000).toFixed(1)).join(', ')} s]` : ''
    console.log(
      `  ${name.padEnd(14)} ${(ms / 1000).toFixed(1).padStart(6)} s  ${Math.round(N / (ms / 1000))
        .toLocaleString('en-US')
        .padStart(
          9,
        )} rec/s  ${(bytes / 1e6 / (ms / 1000)).toFixed(1).padStart(6)} MB/s  client CPU ${(cpu / 1000).toFixed(1)} s  peak RSS ${(rss / 1024).toFixed(0)} MB${spread}`,
    )
  }
  const cpuOf = (name: string) => median(samples.get(name)!.map((s) => s.cpuMs))
  console.log(
    `  client CPU per record: recover ${((cpuOf('recover') * 1000) / N).toFixed(1)} µs, kafkajs pipe ${((cpuOf('kafkajs pipe') * 1000) / N).toFixed(1)} µs`,
  )
  console.log(`  ratio recover / kafkajs pipe: ${(rate('recover') / rate('kafkajs pipe')).toFixed(2)}x (target >= 0.8x)`)
  if (names.includes('kcat | kcat')) console.log(`  ratio recover / kcat pipe:    ${(rate('recover') / rate('kcat | kcat')).toFixed(2)}x`)

  if (values['memory-check']) {
    const big = `bench-replay-src3-${stamp}`
    process.stderr.write(`Seeding ${3 * N} records into ${big} for the memory check…\n`)
    await seed(kafka, big, 3 * N)
    const small = Math.max(...samples.get('recover')!.map((s) => s.rssKb))
    const large = (await contenders.recover!(3 * N, big)).rssKb
    console.log(
      `  peak RSS of recover: ${(small / 1024).toFixed(0)} MB for ${N.toLocaleString('en-US')} records, ${(large / 1024).toFixed(0)} MB for ${(3 * N).toLocaleString('en-US')} (${((large / small - 1) * 100).toFixed(0)}%, target within 20%)`,
    )
  }
} finally {
  await broker?.stop()
}
