/**
 * `recover audit duplicates` on a fixture incident of N records (default 1,000,000), end to end
 * as a user runs it (a fresh `node bin/run.js … --json`), against anchors in the same run:
 *
 * - the raw kafkajs consume rate of the same topic (a consumer group, eachBatch, counting only:
 *   timed from its first batch to its last, so joining the group is not held against it);
 * - kcat | sort | uniq -d (librdkafka and coreutils), which must find the same duplicate keys;
 * - our range reader alone, both ways: decoding records as replay does, and scanning them in
 *   place as the audit does (a visitor that only counts), to separate reading from auditing;
 * - the DuckDB ingest rate on its own: N synthetic scan rows through our Appender writer.
 *
 * Rounds alternate which runs first; medians are printed with the ratio. Peak memory of the
 * audit (VmHWM of the process) is measured for a quarter of the range and the whole range:
 * it should stay flat as the range grows.
 *
 *   node dist/test/bench/audit.bench.js [N=1000000] [--rounds 3] [--topic T (already seeded)]
 *
 * Uses the broker in RECOVER_TEST_BROKERS, or starts a local one.
 */
import { execSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Kafka, logLevel } from 'kafkajs'
import { resolveConnection } from '../../src/config/resolve-connection.js'
import { AuditDatabase } from '../../src/duckdb/audit-db.js'
import { KafkaGateway } from '../../src/kafka/kafka-gateway.js'
import { RangeReader } from '../../src/kafka/range-reader.js'
import { seedIncident } from '../../src/fixtures/seed-incident.js'
import { startLocalKafka, type LocalKafka } from '../../src/local-kafka/index.js'
import { repoRoot } from '../support/paths.js'

const { values, positionals } = parseArgs({ allowPositionals: true, options: { rounds: { type: 'string', default: '3' }, topic: { type: 'string' } } })
const N = Number(positionals[0] ?? 1_000_000)
const ROUNDS = Number(values.rounds)

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}
const perSecond = (records: number, ms: number) => Math.round(records / (ms / 1000))
const fmt = (n: number) => n.toLocaleString('en-US')

/** kafkajs, counting only; ms from the first batch to the end of the topic. */
async function kafkajsConsume(brokers: string, topic: string, ends: Map<number, bigint>): Promise<{ records: number; ms: number }> {
  const kafka = new Kafka({ brokers: brokers.split(','), clientId: 'bench-audit', logLevel: logLevel.NOTHING })
  const consumer = kafka.consumer({ groupId: `bench-audit-${randomBytes(4).toString('hex')}` })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  let records = 0
  let first = 0
  const remaining = new Set([...ends].filter(([, end]) => end > 0n).map(([p]) => p))
  const done = new Promise<number>((resolve) => {
    void consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        if (first === 0) first = performance.now()
        for (const m of batch.messages) if (m.key) records++
        const end = ends.get(batch.partition)!
        if (BigInt(batch.lastOffset()) + 1n >= end) {
          remaining.delete(batch.partition)
          if (remaining.size === 0) resolve(performance.now())
        }
      },
    })
  })
  const last = await done
  await consumer.disconnect()
  return { records, ms: last - first }
}

/** `recover audit duplicates` as a user runs it; peak RSS from /proc while it runs. */
function runAudit(brokers: string, topic: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<{ ms: number; json: any; peakRssMb: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(
      process.execPath,
      [join(repoRoot(), 'bin', 'run.js'), 'audit', 'duplicates', '--topic', topic, '--key', 'key', '--no-history', '--json', ...extra],
      {
        env: { ...process.env, RECOVER_BROKERS: brokers, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let out = ''
    let err = ''
    let peak = 0
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))
        if (m) peak = Math.max(peak, Number(m[1]))
      } catch {
        // exited
      }
    }, 50)
    child.stdout.on('data', (c: Buffer) => (out += c.toString()))
    child.stderr.on('data', (c: Buffer) => (err += c.toString()))
    child.on('close', (code) => {
      clearInterval(poll)
      const ms = performance.now() - started
      if (code !== 0) return reject(new Error(`audit exited ${code}: ${err}${out}`))
      resolve({ ms, json: JSON.parse(out), peakRssMb: peak / 1024 })
    })
  })
}

function kcatUniq(brokers: string, topic: string): { ms: number; duplicateKeys: number } {
  const started = performance.now()
  const out = execSync(`kcat -C -b ${brokers} -t ${topic} -e -q -f '%k\\n' | sort | uniq -d | wc -l`, {
    encoding: 'utf8',
    shell: '/bin/bash',
    maxBuffer: 1 << 20,
  })
  return { ms: performance.now() - started, duplicateKeys: Number(out.trim()) }
}

/** Our range reader alone, decoding (replay's way) or scanning in place (the audit's), records counted and dropped. */
async function readerOnly(brokers: string, topic: string, mode: 'read' | 'scan'): Promise<{ records: number; ms: number }> {
  const gateway = await KafkaGateway.open(resolveConnection({ brokers }, { clusters: {}, defaults: {} }))
  const reader = new RangeReader(gateway.kafka, gateway.settings, topic)
  try {
    const facts = await reader.partitionFacts(await gateway.partitionsOf(topic))
    const started = performance.now()
    let records = 0
    const ranges = facts.map((f) => ({ partition: f.partition, start: f.logStart, end: f.stableEnd }))
    if (mode === 'read') for await (const chunks of reader.read(ranges)) for (const c of chunks) records += c.records.length
    else for await (const _ of reader.scan(ranges, () => records++));
    return { records, ms: performance.now() - started }
  } finally {
    await reader.close()
    await gateway.close()
  }
}

async function duckdbIngest(rows: number): Promise<number> {
  const db = await AuditDatabase.open()
  try {
    const writer = await db.createScan('bench_scan')
    const started = performance.now()
    for (let i = 0; i < rows; i++) {
      writer.append({
        partition: i % 3,
        offset: BigInt(i),
        timestampMs: 1521590400000 + i,
        key: `ord-${String(i % (rows - rows / 100)).padStart(7, '0')}`,
        valueHash: BigInt(i) * 2654435761n,
        recordHash: BigInt(i) * 40503n,
        size: 130,
        problem: null,
        problemDetail: null,
      })
    }
    writer.close()
    return performance.now() - started
  } finally {
    db.close()
  }
}

let broker: LocalKafka | undefined
let brokers = process.env.RECOVER_TEST_BROKERS
if (!brokers) {
  broker = await startLocalKafka()
  brokers = broker.brokers
}
try {
  let topic = values.topic
  if (!topic) {
    topic = `bench-audit-${Date.now().toString(36)}`
    const seeded = await seedIncident({ kafka: new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING }), topic, count: N, replicationFactor: 1 })
    console.log(
      `Seeded ${fmt(seeded.records)} fixture records (${(seeded.bytes / 1e6).toFixed(0)} MB, ${seeded.truth.duplicates.length} duplicates) into ${topic} in ${(seeded.ms / 1000).toFixed(1)} s.`,
    )
  }
  const admin = new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  const offsets = await admin.fetchTopicOffsets(topic)
  await admin.disconnect()
  const ends = new Map(offsets.map((o) => [o.partition, BigInt(o.high)]))
  const total = Number([...ends.values()].reduce((a, b) => a + b, 0n))

  const raw: number[] = []
  const audit: number[] = []
  const scan: number[] = []
  const kcat: number[] = []
  const reader: number[] = []
  const scanner: number[] = []
  let auditDuplicates = -1
  let kcatDuplicates = -1
  let peakWhole = 0
  for (let round = 0; round < ROUNDS; round++) {
    const steps = [
      async () => {
        const r = await kafkajsConsume(brokers!, topic!, ends)
        raw.push(perSecond(r.records, r.ms))
      },
      async () => {
        const r = await runAudit(brokers!, topic!)
        audit.push(perSecond(r.json.totals.records, r.ms))
        scan.push(r.json.recordsPerSecond)
        auditDuplicates = r.json.totals.duplicateKeys
        peakWhole = Math.max(peakWhole, r.peakRssMb)
      },
      async () => {
        const r = await readerOnly(brokers!, topic!, 'read')
        reader.push(perSecond(r.records, r.ms))
      },
      async () => {
        const r = await readerOnly(brokers!, topic!, 'scan')
        scanner.push(perSecond(r.records, r.ms))
      },
      async () => {
        const r = kcatUniq(brokers!, topic!)
        kcat.push(perSecond(total, r.ms))
        kcatDuplicates = r.duplicateKeys
      },
    ]
    if (round % 2 === 1) steps.reverse()
    for (const step of steps) await step()
  }
  const quarterTo = `offset:${[...ends].map(([p, end]) => `${p}=${end / 4n}`).join(',')}`
  const quarter = await runAudit(brokers, topic, ['--to', quarterTo])
  // With DuckDB held to 64 MB (320,000 rows in memory), half and all of 1M both go to disk: the peak should be the same.
  const small = { RECOVER_DUCKDB_MEMORY: '64MB' }
  const halfTo = `offset:${[...ends].map(([p, end]) => `${p}=${end / 2n}`).join(',')}`
  const quarterSmall = await runAudit(brokers, topic, ['--to', halfTo], small)
  const wholeSmall = await runAudit(brokers, topic, [], small)
  const ingestMs = await duckdbIngest(total)

  console.log(`\naudit duplicates --key key over ${fmt(total)} records, median of ${ROUNDS} rounds:`)
  console.log(`  recover audit (end to end, cold CLI):  ${fmt(median(audit))} records/s (scan phase alone ${fmt(median(scan))} records/s)`)
  console.log(`  kafkajs raw consume (anchor):          ${fmt(median(raw))} records/s`)
  console.log(`  range reader alone, decoding (replay):   ${fmt(median(reader))} records/s`)
  console.log(`  range reader alone, scanning in place (what the audit reads with): ${fmt(median(scanner))} records/s`)
  console.log(`  kcat | sort | uniq -d:                 ${fmt(median(kcat))} records/s`)
  console.log(
    `  ratio audit / kafkajs raw:             ${(median(audit) / median(raw)).toFixed(2)}x (scan phase ${(median(scan) / median(raw)).toFixed(2)}x; target >= 0.8x)`,
  )
  console.log(`  ratio scan phase / in-place scan alone:  ${(median(scan) / median(scanner)).toFixed(2)}x (the audit's own cost per record)`)
  console.log(`  ratio audit / kcat | sort | uniq -d:   ${(median(audit) / median(kcat)).toFixed(2)}x`)
  console.log(
    `  duplicate keys: audit ${auditDuplicates}, kcat | sort | uniq -d ${kcatDuplicates} (${auditDuplicates === kcatDuplicates ? 'agree' : 'DISAGREE'})`,
  )
  console.log(`  DuckDB ingest alone (Appender, ${fmt(total)} rows): ${fmt(perSecond(total, ingestMs))} rows/s`)
  console.log(
    `  peak RSS: ${quarter.peakRssMb.toFixed(0)} MB for ${fmt(quarter.json.totals.records)} records, ${peakWhole.toFixed(0)} MB for ${fmt(total)} (DuckDB limit 256 MB, the default)`,
  )
  console.log(
    `  peak RSS with RECOVER_DUCKDB_MEMORY=64MB: ${quarterSmall.peakRssMb.toFixed(0)} MB for ${fmt(quarterSmall.json.totals.records)} records, ${wholeSmall.peakRssMb.toFixed(0)} MB for ${fmt(wholeSmall.json.totals.records)}`,
  )
  if (auditDuplicates !== kcatDuplicates) process.exitCode = 1
} finally {
  await broker?.stop()
}
