/**
 * `recover replay` topic -> topic, two ways, against its anchors on the same broker in the
 * same run:
 *   recover json:  `--value-format json` through an identity transform (decode, transform,
 *                  encode every record);
 *   recover bytes: `--value-format bytes`, no transform (the pass-through a copy needs);
 *   (a) the smallest kafkajs consume-and-produce pipe (kafkajs-pipe.ts: no decoding, no
 *       transform, no checkpoints), the best this client can do;
 *   (b) `kcat -C ... -e | kcat -P ...` (librdkafka; values and keys only, no headers).
 * With --baseline DIR (another built checkout of recover, e.g. the commit before a change),
 * the same two replays run from DIR too, interleaved with the others: before and after in one
 * run. Input: N JSON orders of about 300 bytes with a key and two headers, over 6 partitions.
 * Every contender is a fresh process, started as a user would, timed wall-clock with its peak
 * RSS from /usr/bin/time; rounds alternate the order. Each destination is checked to hold N
 * records, then deleted. With --memory-check, recover also replays 3N records, and the peak
 * RSS of both sizes is compared (target: within 20%).
 *
 *   node dist/test/bench/replay.bench.js [--records 1000000] [--rounds 2] [--memory-check] [--no-kcat]
 *        [--baseline DIR] [--node-flags '--min-semi-space-size=16'] [--only 'recover json,kcat | kcat']
 *
 * --node-flags runs the recover contenders (not the baseline) with those Node/V8 flags: with
 * --baseline pointing at this same checkout, a flag's effect before and after in one run.
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
    baseline: { type: 'string' },
    'node-flags': { type: 'string' },
    only: { type: 'string' },
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

async function dropTopic(kafka: Kafka, topic: string): Promise<void> {
  const admin = kafka.admin()
  await admin.connect()
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined)
  await admin.disconnect()
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
  const source = `bench-replay-src-${stamp}`
  process.stderr.write(`Seeding ${N} records into ${source}…\n`)
  const bytes = await seed(kafka, source, N)

  // Warm the broker's page cache once, so that the first contender does not pay for it alone.
  spawnSync('bash', ['-c', `kcat -C -b ${brokers} -t ${source} -o beginning -e -q > /dev/null`], { stdio: 'ignore' })

  let sequence = 0
  const recoverNodeFlags = values['node-flags']?.split(' ').filter((flag) => flag !== '') ?? []
  /** A replay by the recover checked out at `root`: JSON through the identity transform, or bytes with none. */
  const replay =
    (root: string, format: 'json' | 'bytes', nodeFlags: string[] = []) =>
    async (n: number, src: string): Promise<Sample> => {
      const dst = await destination(kafka, `bench-replay-dst-${stamp}-${sequence++}`)
      const args = [join(root, 'bin', 'run.js'), 'replay', '--topic', src, '--value-format', format]
      if (format === 'json') args.push('--transform', identity)
      args.push('--sink', `kafka:${dst}`, '--checkpoint', join(work, `${dst}.json`), '--json')
      if (values['batch-size']) args.push('--batch-size', values['batch-size'])
      // The anchors copy records as they are: recover's provenance header (on by default since
      // 2026-12-07, about 10 % of a file-to-Kafka replay) is left out so both do the same work.
      // A baseline checkout from before that day has no such header and no such flag.
      if (root === repoRoot()) args.push('--no-provenance-headers')
      const s = timed(process.execPath, [...nodeFlags, ...args], { ...process.env, RECOVER_BROKERS: brokers })
      const summary = JSON.parse(s.stdout) as { totals: { read: number; written: number } }
      if (summary.totals.written !== n || (await countRecords(kafka, dst)) !== n)
        throw new Error(`recover (${root}) wrote ${summary.totals.written} records, expected ${n}`)
      await dropTopic(kafka, dst)
      return s
    }
  const contenders: Record<string, (n: number, src: string) => Promise<Sample>> = {
    'recover json': replay(repoRoot(), 'json', recoverNodeFlags),
    'recover bytes': replay(repoRoot(), 'bytes', recoverNodeFlags),
    ...(values.baseline ? { 'baseline json': replay(values.baseline, 'json'), 'baseline bytes': replay(values.baseline, 'bytes') } : {}),
    'kafkajs pipe': async (n, src) => {
      const dst = await destination(kafka, `bench-replay-dst-${stamp}-${sequence++}`)
      const s = timed(process.execPath, [join(here, 'kafkajs-pipe.js'), brokers!, src, dst, String(n), String(PARTITIONS)])
      if ((await countRecords(kafka, dst)) < n) throw new Error('the kafkajs pipe wrote too few records')
      await dropTopic(kafka, dst)
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
      await dropTopic(kafka, dst)
      return s
    },
  }
  const only = values.only?.split(',').map((n) => n.trim())
  const names = Object.keys(contenders).filter((n) => !(values['no-kcat'] && n.startsWith('kcat')) && (!only || only.includes(n)))
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
    `replay topic -> topic: ${N.toLocaleString('en-US')} JSON records (${Math.round(bytes / N)} B of key+value+headers each, ${(bytes / 1e6).toFixed(0)} MB), ${PARTITIONS} partitions, ${brokers}`,
  )
  console.log('  recover json: --value-format json, identity transform; recover bytes: --value-format bytes, no transform')
  console.log(`  median of ${ROUNDS} round(s) each, whole processes (start-up, connect and close included); a shared 2-core machine`)
  const has = (name: string) => names.includes(name)
  const rate = (name: string) => N / (median(samples.get(name)!.map((s) => s.ms)) / 1000)
  for (const name of names) {
    const list = samples.get(name)!
    const ms = median(list.map((s) => s.ms))
    const rss = Math.max(...list.map((s) => s.rssKb))
    const cpu = median(list.map((s) => s.cpuMs))
    const spread = list.length > 1 ? ` [${list.map((s) => (s.ms / 1000).toFixed(1)).join(', ')} s]` : ''
    console.log(
      `  ${name.padEnd(15)} ${(ms / 1000).toFixed(1).padStart(6)} s  ${Math.round(N / (ms / 1000))
        .toLocaleString('en-US')
        .padStart(
          9,
        )} rec/s  ${(bytes / 1e6 / (ms / 1000)).toFixed(1).padStart(6)} MB/s  client CPU ${(cpu / 1000).toFixed(1)} s (${((cpu * 1000) / N).toFixed(1)} µs/record)  peak RSS ${(rss / 1024).toFixed(0)} MB${spread}`,
    )
  }
  const ratio = (a: string, b: string, goal?: string) => {
    if (has(a) && has(b)) console.log(`  ratio ${`${a} / ${b}:`.padEnd(34)} ${(rate(a) / rate(b)).toFixed(2)}x${goal ? ` (goal ${goal})` : ''}`)
  }
  ratio('recover json', 'kcat | kcat', '>= 0.4x')
  ratio('recover bytes', 'kcat | kcat', '>= 0.8x')
  ratio('recover json', 'kafkajs pipe', '>= 0.8x')
  ratio('recover json', 'baseline json')
  ratio('recover bytes', 'baseline bytes')
  ratio('baseline json', 'kcat | kcat')
  ratio('baseline bytes', 'kcat | kcat')

  if (values['memory-check']) {
    const big = `bench-replay-src3-${stamp}`
    process.stderr.write(`Seeding ${3 * N} records into ${big} for the memory check…\n`)
    await seed(kafka, big, 3 * N)
    const small = Math.max(...(samples.get('recover json') ?? [await contenders['recover json']!(N, source)]).map((s) => s.rssKb))
    const large = (await contenders['recover json']!(3 * N, big)).rssKb
    console.log(
      `  peak RSS of recover json: ${(small / 1024).toFixed(0)} MB for ${N.toLocaleString('en-US')} records, ${(large / 1024).toFixed(0)} MB for ${(3 * N).toLocaleString('en-US')} (${((large / small - 1) * 100).toFixed(0)}%, target within 20%)`,
    )
    await dropTopic(kafka, big)
  }
  await dropTopic(kafka, source)
} finally {
  await broker?.stop()
}
