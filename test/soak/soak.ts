/**
 * `npm run test:soak`: a long replay on the three-node cluster while brokers are bounced, one
 * every 25 s in turn, topic→topic and into PostgreSQL. Bounces alternate between a controlled
 * restart (leaders handed over) and a kill -9 then restart (an outage the replay waits out), so
 * each sink rides through several of both. Holds when nothing is lost, duplicates are only the
 * re-sends the replay reports, and recover's peak RSS at the end is within 20 % of its peak
 * over the first tenth (1M of 10M): memory stays flat. Not part of `npm test`.
 *
 * recover runs with test/soak/memory-sampler.ts loaded: besides the peaks, the figures show RSS,
 * V8's heap and the heap still live after a full collection at 1/10, 1/5, 1/2 and all of the
 * records, so growth that is only garbage not yet collected can be told from a leak.
 *
 * RECOVER_SOAK_RECORDS (default 10 000 000) and RECOVER_SOAK_BOUNCE_MS (default 25 000) make
 * other runs; RECOVER_SOAK_SINKS=kafka or postgres runs one sink.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { resolveConnection } from '../../src/config/resolve-connection.js'
import { parseRangeBound, planReplayRanges } from '../../src/core/replay-range.js'
import { KafkaGateway } from '../../src/kafka/kafka-gateway.js'
import { RangeReader } from '../../src/kafka/range-reader.js'
import { startLocalKafkaCluster, type LocalKafkaCluster } from '../../src/local-kafka/index.js'
import { checkpointRead, startCli } from '../faults/fault-support.js'
import { createSinkTopic } from '../faults/cluster-replay.js'
import { uniqueName } from '../support/kafka.js'
import { PG_URL, query } from '../support/postgres.js'
import type { MemorySample } from './memory-sampler.js'

const RECORDS = Number(process.env.RECOVER_SOAK_RECORDS ?? 10_000_000)
const BOUNCE_MS = Number(process.env.RECOVER_SOAK_BOUNCE_MS ?? 25_000)
/** Node flags for recover's process, e.g. `--max-semi-space-size=8` (V8 sizing flags are refused in NODE_OPTIONS). */
const NODE_FLAGS = (process.env.RECOVER_SOAK_NODE_FLAGS ?? '').split(' ').filter((flag) => flag !== '')
const SINKS = (process.env.RECOVER_SOAK_SINKS ?? 'kafka,postgres').split(',').map((s) => s.trim()) as Array<'kafka' | 'postgres'>
/** More `recover replay` flags for every sink, e.g. `--batch-size 5000`. */
const EXTRA_ARGS = (process.env.RECOVER_SOAK_REPLAY_ARGS ?? '').split(' ').filter((arg) => arg !== '')
const EARLY = Math.min(1_000_000, Math.floor(RECORDS / 10))
/** Where memory is reported: 1M, 2M, 5M and 10M of the default 10M. */
const MILESTONES = [EARLY, Math.floor(RECORDS / 5), Math.floor(RECORDS / 2), RECORDS]
const SAMPLER = new URL('./memory-sampler.js', import.meta.url).href
const log = (line: string) => process.stderr.write(`${line}\n`)

interface SoakResult {
  sink: string
  seconds: number
  bounces: number
  kills: number
  peakEarlyMb: number
  peakEndMb: number
  found: number
  lost: number
  duplicated: number
  resent: number
  outages: string
  memory: MemoryAt[]
}

/** recover's memory once `records` had been read: peaks up to then, and the last sample before. */
interface MemoryAt {
  records: number
  peakRssMb: number
  peakHeapTotalMb: number
  /** V8's young generation (new_space) and old generation (old_space) at their largest so far. */
  peakNewSpaceMb: number
  peakOldSpaceMb: number
  /** Heap still in use after the latest full collection before this point. */
  liveAfterFullGcMb: number | undefined
}

/** Seeds {"id":i} records over 3 partitions (RF 3), 5 000 per request, two requests in flight per partition's producer. */
async function seed(brokers: string, topic: string): Promise<void> {
  const kafka = new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({
    waitForLeaders: true,
    topics: [{ topic, numPartitions: 3, replicationFactor: 3, configEntries: [{ name: 'retention.ms', value: '-1' }] }],
  })
  await admin.disconnect()
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  // One millisecond per record, all in the past: Kafka refuses timestamps over an hour ahead.
  const base = Date.now() - RECORDS - 60_000
  const started = Date.now()
  for (let i = 0; i < RECORDS; i += 15_000) {
    const topicMessages = [
      {
        topic,
        messages: Array.from({ length: Math.min(15_000, RECORDS - i) }, (_, j) => {
          const id = i + j
          return { partition: id % 3, key: `k-${id}`, value: `{"id":${id},"note":"soak payload"}`, timestamp: String(base + id) }
        }),
      },
    ]
    await producer.sendBatch({ topicMessages, acks: -1 })
    if (i % 1_000_000 === 0 && i > 0) log(`  seeded ${i} records (${Math.round(i / ((Date.now() - started) / 1000))}/s)`)
  }
  await producer.disconnect()
}

/** Counts a topic's {"id"} records by id with a read_committed reader of its own, without holding them. */
async function countTopic(brokers: string, topic: string): Promise<{ found: number; lost: number; duplicated: number }> {
  const gateway = await KafkaGateway.open(resolveConnection({ brokers }, { clusters: {}, defaults: {} }))
  const reader = new RangeReader(gateway.kafka, gateway.settings, topic)
  const seen = new Uint8Array(RECORDS)
  let found = 0
  let duplicated = 0
  try {
    const ranges = planReplayRanges(
      parseRangeBound('earliest', '--from'),
      parseRangeBound('latest', '--to'),
      await reader.partitionFacts(await gateway.partitionsOf(topic)),
    )
    for await (const chunks of reader.read(ranges))
      for (const c of chunks)
        for (const r of c.records) {
          if (!r.value) continue
          found++
          const id = (JSON.parse(r.value.toString('utf8')) as { id: number }).id
          if (seen[id]! > 0) duplicated++
          else seen[id] = 1
        }
  } finally {
    await reader.close()
    await gateway.close()
  }
  let lost = 0
  for (let id = 0; id < RECORDS; id++) if (seen[id] === 0) lost++
  return { found, lost, duplicated }
}

async function soak(c: LocalKafkaCluster, topic: string, sink: 'kafka' | 'postgres'): Promise<SoakResult> {
  const dir = mkdtempSync(join(tmpdir(), `recover-soak-${sink}-`))
  const checkpoint = join(dir, 'cp.json')
  const sinkTopic = `${topic}.out`
  const table = `soak_${Date.now().toString(36)}`
  if (sink === 'kafka') await createSinkTopic(c.brokers, sinkTopic)
  const out = sink === 'kafka' ? ['--sink', `kafka:${sinkTopic}`] : ['--sink', `${PG_URL}?table=${table}&key=id`, '--create-table', '--value-format', 'json']
  const memoryFile = join(dir, 'memory.jsonl')
  const run = startCli(
    [
      'replay',
      '--topic',
      topic,
      ...out,
      '--quarantine',
      `file:${join(dir, 'q.jsonl')}`,
      '--checkpoint',
      checkpoint,
      '--broker-wait',
      '5m',
      '--progress-interval',
      '30s',
      ...EXTRA_ARGS,
    ],
    {
      cwd: dir,
      brokers: c.brokers,
      nodeFlags: NODE_FLAGS,
      env: { RECOVER_SOAK_MEMORY_FILE: memoryFile, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${SAMPLER}`.trim() },
    },
  )
  const started = Date.now()
  let bounces = 0
  let kills = 0
  let ended = false
  void run.done.then(() => (ended = true))
  // When the replay had read how many records: the memory samples are placed on it by time.
  const progress: Array<{ atMs: number; read: number }> = []
  const tracker = setInterval(() => progress.push({ atMs: Date.now(), read: checkpointRead(checkpoint) }), 250)
  let next = 0
  let bouncing: Promise<void> = Promise.resolve()
  const bouncer = setInterval(() => {
    if (ended) return
    const n = next++
    const node = c.nodes[n % c.nodes.length]!
    // Every other bounce is a crash: the partitions it led are unreachable until the controller moves them.
    const crash = n % 2 === 1
    bouncing = bouncing.then(async () => {
      if (ended) return
      log(`  ${sink}: ${crash ? 'killing (-9) and restarting' : 'restarting'} broker ${node.id} at ${checkpointRead(checkpoint)} records checkpointed`)
      if (crash) {
        node.kill('SIGKILL')
        await node.whenExited()
        kills++
      }
      await node.restart()
      bounces++
    })
  }, BOUNCE_MS)
  const { code } = await run.done
  clearInterval(tracker)
  clearInterval(bouncer)
  await bouncing
  for (const node of c.nodes) if (!node.running) await node.restart()
  const seconds = (Date.now() - started) / 1000
  if (code !== 0) throw new Error(`the ${sink} soak replay ended with exit ${code}: ${run.stderr().split('\n').slice(-5).join('\n')}`)
  const cp = JSON.parse(readFileSync(checkpoint, 'utf8')) as { resent: number }
  const outages = /^Waited out .*$/m.exec(`${run.stdout()}\n${run.stderr()}`)?.[0] ?? 'no outage waited out'
  let counted: { found: number; lost: number; duplicated: number }
  if (sink === 'kafka') counted = await countTopic(c.brokers, sinkTopic)
  else {
    const rows = await query<{ n: string; ids: string; wrong: string }>(
      `SELECT count(*)::text AS n, count(DISTINCT id)::text AS ids, count(*) FILTER (WHERE source_partition <> id % 3 OR source_offset <> id / 3)::text AS wrong FROM ${table}`,
      [],
      PG_URL,
    )
    const { n, ids, wrong } = rows[0]!
    if (Number(wrong) !== 0) throw new Error(`${wrong} rows carry another record's provenance`)
    counted = { found: Number(n), lost: RECORDS - Number(ids), duplicated: Number(n) - Number(ids) }
    await query(`DROP TABLE IF EXISTS ${table}`, [], PG_URL)
  }
  const memory = memoryAt(memoryFile, progress)
  return {
    sink,
    seconds,
    bounces,
    kills,
    peakEarlyMb: memory[0]!.peakRssMb,
    peakEndMb: memory[memory.length - 1]!.peakRssMb,
    ...counted,
    resent: cp.resent,
    outages,
    memory,
  }
}

/** The sampler's lines placed on the replay's progress: peaks and live heap at each milestone. */
function memoryAt(file: string, progress: Array<{ atMs: number; read: number }>): MemoryAt[] {
  if (!existsSync(file)) throw new Error(`the memory sampler wrote nothing (${file}): was ${SAMPLER} loaded?`)
  const samples = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as MemorySample)
  let p = 0
  const placed = samples.map((sample) => {
    while (p + 1 < progress.length && progress[p + 1]!.atMs <= sample.atMs) p++
    return { ...sample, read: progress[p]?.read ?? 0 }
  })
  return MILESTONES.map((records) => {
    const upTo = placed.filter((s) => records >= RECORDS || s.read < records)
    return {
      records,
      peakRssMb: Math.max(0, ...upTo.map((s) => s.rssMb)),
      peakHeapTotalMb: Math.max(0, ...upTo.map((s) => s.heapTotalMb)),
      peakNewSpaceMb: Math.max(0, ...upTo.map((s) => s.newSpaceMb ?? 0)),
      peakOldSpaceMb: Math.max(0, ...upTo.map((s) => s.oldSpaceMb ?? 0)),
      liveAfterFullGcMb: upTo[upTo.length - 1]?.liveAfterFullGcMb,
    }
  })
}

async function main(): Promise<number> {
  log(
    `soak${NODE_FLAGS.length > 0 ? ` (node ${NODE_FLAGS.join(' ')})` : ''}: ${RECORDS} records, a broker bounced every ${BOUNCE_MS / 1000} s (every other one killed -9); early RSS peak taken over the first ${EARLY} records`,
  )
  const c = await startLocalKafkaCluster({})
  try {
    const topic = uniqueName('soak')
    const seeding = Date.now()
    await seed(c.brokers, topic)
    log(`seeded ${RECORDS} records in ${((Date.now() - seeding) / 1000).toFixed(0)} s`)
    const results: SoakResult[] = []
    for (const sink of SINKS) {
      const r = await soak(c, topic, sink)
      results.push(r)
      log(`  ${sink}: ${JSON.stringify(r)}`)
    }
    const mb = (n: number | undefined) => (n === undefined ? '–' : `${n.toFixed(0)} MB`)
    const lines = [
      '| sink | records | time | brokers bounced (killed -9) | peak RSS, first tenth | peak RSS, end | ratio | found | lost | duplicated (reported re-sent) | outages |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
      ...results.map(
        (r) =>
          `| ${r.sink} | ${RECORDS} | ${r.seconds.toFixed(0)} s | ${r.bounces} (${r.kills}) | ${mb(r.peakEarlyMb)} | ${mb(r.peakEndMb)} | ${(r.peakEndMb / r.peakEarlyMb).toFixed(2)} | ${r.found} | ${r.lost} | ${r.duplicated} (${r.resent}) | ${r.outages} |`,
      ),
      '',
      '| sink | records read | peak RSS so far | peak V8 heap so far | of it young generation (new space) | old space | live heap after the last full GC |',
      '|---|---:|---:|---:|---:|---:|---:|',
      ...results.flatMap((r) =>
        r.memory.map(
          (m) =>
            `| ${r.sink} | ${m.records} | ${mb(m.peakRssMb)} | ${mb(m.peakHeapTotalMb)} | ${mb(m.peakNewSpaceMb)} | ${mb(m.peakOldSpaceMb)} | ${mb(m.liveAfterFullGcMb)} |`,
        ),
      ),
    ]
    process.stdout.write(`${lines.join('\n')}\n`)
    const failed = results.filter((r) => r.lost > 0 || r.peakEndMb > r.peakEarlyMb * 1.2 || (r.sink === 'kafka' && r.duplicated !== r.resent))
    for (const r of failed)
      log(
        `FAILED: ${r.sink}: ${r.lost} lost, ${r.duplicated} duplicated (${r.resent} reported), peak RSS ${r.peakEarlyMb.toFixed(0)} → ${r.peakEndMb.toFixed(0)} MB`,
      )
    return failed.length === 0 ? 0 : 1
  } finally {
    await c.stop()
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    log(error instanceof Error ? (error.stack ?? error.message) : String(error))
    process.exit(1)
  },
)
