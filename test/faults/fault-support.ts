import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { resolveConnection } from '../../src/config/resolve-connection.js'
import { planReplayRanges, parseRangeBound } from '../../src/core/replay-range.js'
import { KafkaGateway } from '../../src/kafka/kafka-gateway.js'
import { RangeReader } from '../../src/kafka/range-reader.js'
import { repoRoot } from '../support/paths.js'
import { query } from '../support/postgres.js'
import { waitFor } from '../support/timeout.js'

/** What one scenario did and found: one row of the suite's table. */
export interface ScenarioResult {
  faults: number
  recordsIn: number
  recordsOut: number
  lost: number
  duplicated: number
  /** What the scenario saw, for the log. */
  notes: string[]
  /** Why it could not run here (then it injected nothing). */
  skipped?: string
}

/** One fault scenario: one entry of the suite's SCENARIOS, one row of its table. */
export interface FaultScenario {
  id: string
  title: string
  /** The scenario's own limit; it fails loudly past it. */
  timeoutMs: number
  run(log: (line: string) => void): Promise<ScenarioResult>
}

/** A running `recover` process that a scenario may kill. */
export interface CliProcess {
  child: ChildProcess
  stdout: () => string
  stderr: () => string
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

export function startCli(args: string[], options: { cwd: string; brokers: string; env?: NodeJS.ProcessEnv; nodeFlags?: string[] }): CliProcess {
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), join(repoRoot(), 'bin', 'run.js'), ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env, RECOVER_BROKERS: options.brokers },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()))
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()))
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })))
  return { child, stdout: () => stdout, stderr: () => stderr, done }
}

/** Runs `recover` to the end, killing it past timeoutMs. */
export async function runCliTo(
  args: string[],
  options: { cwd: string; brokers: string; timeoutMs: number },
): Promise<{ code: number | null; stdout: string; stderr: string; json: any }> {
  const p = startCli(args, options)
  const timer = setTimeout(() => p.child.kill('SIGKILL'), options.timeoutMs)
  const { code } = await p.done
  clearTimeout(timer)
  let json: unknown
  try {
    json = JSON.parse(p.stdout())
  } catch {
    json = undefined
  }
  return { code, stdout: p.stdout(), stderr: p.stderr(), json }
}

/** Records the replay has checkpointed as read (0 before the first checkpoint). */
export function checkpointRead(path: string): number {
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as { partitions: Array<{ read: number }> }).partitions.reduce((n, p) => n + p.read, 0)
  } catch {
    return 0
  }
}

/** Seeds `count` JSON records {"id":i,...} over `partitions` partitions, explicit timestamps, acks=all. */
export async function seedTopic(brokers: string, topic: string, count: number, partitions = 3, replicationFactor = 1): Promise<void> {
  const kafka = new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: partitions, replicationFactor, configEntries: [{ name: 'retention.ms', value: '-1' }] }],
    })
  } finally {
    await admin.disconnect()
  }
  // Recent timestamps: the sink topics keep the broker's default retention (7 days), and its
  // retention check would delete records stamped older than that while a scenario counts them.
  const base = Date.now() - 3_600_000
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  try {
    for (let i = 0; i < count; i += 1000) {
      const messages = Array.from({ length: Math.min(1000, count - i) }, (_, j) => {
        const id = i + j
        return { partition: id % partitions, key: `k-${id}`, value: JSON.stringify({ id, note: 'fault-injection payload' }), timestamp: String(base + id) }
      })
      await producer.send({ topic, acks: -1, messages })
    }
  } finally {
    await producer.disconnect()
  }
}

/** Every record of a topic from earliest to its current end. */
export async function readTopicValues(brokers: string, topic: string): Promise<Buffer[]> {
  const gateway = await KafkaGateway.open(resolveConnection({ brokers }, { clusters: {}, defaults: {} }))
  const reader = new RangeReader(gateway.kafka, gateway.settings, topic)
  try {
    const partitions = await gateway.partitionsOf(topic)
    // A producer's commit returns once Kafka has decided it; the markers that make the records
    // visible follow (later still after a broker failover). Until then the last stable offset
    // stays behind the log end and a read_committed reader would count those records as lost.
    const facts = await waitFor(
      `no open transaction in topic ${topic} (last stable offset = log end on every partition)`,
      async () => {
        const ends = new Map((await gateway.logOffsets(topic, partitions)).map((o) => [o.partition, o.logEnd]))
        const stable = await reader.partitionFacts(partitions)
        return stable.every((f) => f.stableEnd >= (ends.get(f.partition) ?? 0n)) ? stable : undefined
      },
      90_000,
      200,
    )
    const ranges = planReplayRanges(parseRangeBound('earliest', '--from'), parseRangeBound('latest', '--to'), facts)
    const out: Buffer[] = []
    for await (const chunks of reader.read(ranges)) for (const c of chunks) for (const r of c.records) if (r.value) out.push(r.value)
    return out
  } finally {
    await reader.close()
    await gateway.close()
  }
}

/** The values of a JSONL envelope file (every line must parse: a torn line is a failure). */
export function readEnvelopeValues(path: string): Buffer[] {
  const text = readFileSync(path, 'utf8')
  if (text.length > 0 && !text.endsWith('\n')) throw new Error(`${path} ends in the middle of a line`)
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => Buffer.from((JSON.parse(l) as { value: string }).value, 'base64'))
}

/** Lost and duplicated ids, comparing what arrived with ids 0..count-1. */
export function tally(count: number, values: Buffer[]): { out: number; lost: number; duplicated: number; lostRanges: string[] } {
  const seen = new Uint32Array(count)
  let stray = 0
  for (const v of values) {
    const id = (JSON.parse(v.toString('utf8')) as { id: number }).id
    if (Number.isInteger(id) && id >= 0 && id < count) seen[id]!++
    else stray++
  }
  let lost = 0
  let duplicated = stray
  const lostRanges: string[] = []
  for (let id = 0; id < count; id++) {
    const n = seen[id]!
    if (n === 0) {
      lost++
      if (id === 0 || seen[id - 1] !== 0) lostRanges.push(String(id))
      else if (id === count - 1 || seen[id + 1] !== 0) lostRanges[lostRanges.length - 1] += `..${id}`
    } else duplicated += n - 1
  }
  return { out: values.length, lost, duplicated, lostRanges }
}

/** Waits until the checkpoint has at least `records` read, or the process ended. */
export async function waitForProgress(checkpoint: string, records: number, proc: CliProcess, ms: number): Promise<'reached' | 'ended'> {
  let ended = false
  proc.done.then(
    () => (ended = true),
    () => (ended = true),
  )
  return waitFor(`the replay to read ${records} records`, () => (checkpointRead(checkpoint) >= records ? 'reached' : ended ? 'ended' : undefined), ms, 10)
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * A table for the seeded records ({"id", "note"} plus the replay's provenance) keyed by id, and
 * a trigger that logs the id of every row write (insert or update) into `<table>_log`: an
 * upsert alone would hide a record applied twice.
 */
export async function createIdTableWithWriteLog(table: string, url: string): Promise<{ table: string; log: string }> {
  const log = `${table}_log`
  await query(`CREATE TABLE ${table} (id bigint PRIMARY KEY, note text, source_topic text, source_partition int, source_offset bigint)`, [], url)
  await query(`CREATE TABLE ${log} (id bigint)`, [], url)
  await query(`CREATE FUNCTION ${log}_fn() RETURNS trigger AS $$ BEGIN INSERT INTO ${log} VALUES (NEW.id); RETURN NEW; END $$ LANGUAGE plpgsql`, [], url)
  await query(`CREATE TRIGGER ${log}_tr AFTER INSERT OR UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION ${log}_fn()`, [], url)
  return { table, log }
}

/** Every row write the table's trigger logged, as the values tally() counts (one {"id"} per write). */
export async function writtenIds(log: string, url: string): Promise<Buffer[]> {
  const rows = await query<{ id: string }>(`SELECT id::text AS id FROM ${log}`, [], url)
  return rows.map((r) => Buffer.from(`{"id":${r.id}}`))
}

/** Rows in the table whose provenance is not the source record of their id (seedTopic puts id i at offset ⌊i/partitions⌋ of partition i mod partitions). */
export async function misattributedRows(table: string, url: string, partitions = 3): Promise<number> {
  const rows = await query<{ n: string }>(
    `SELECT count(*)::text AS n FROM ${table} WHERE source_partition <> id % ${partitions} OR source_offset <> id / ${partitions}`,
    [],
    url,
  )
  return Number(rows[0]!.n)
}

/**
 * With RECOVER_FAULT_DUMP set, keeps what a scenario saw for a look afterwards: the topic as
 * kcat (an independent reader) reads it, read_committed and read_uncommitted (`partition offset
 * value` lines), and `files` (a process's output, say), in a new folder under the system's
 * temporary folder. Returns the folder, or undefined without the variable.
 */
export function dumpForInspection(brokers: string, topic: string, files: Record<string, string>): string | undefined {
  if (!process.env.RECOVER_FAULT_DUMP) return undefined
  const dir = mkdtempSync(join(tmpdir(), 'recover-fault-dump-'))
  for (const isolation of ['read_committed', 'read_uncommitted'])
    writeFileSync(
      join(dir, `${isolation}.txt`),
      execFileSync('kcat', ['-C', '-b', brokers, '-t', topic, '-e', '-q', '-X', `isolation.level=${isolation}`, '-f', '%p %o %s\n'], { maxBuffer: 1 << 28 }),
    )
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  return dir
}
