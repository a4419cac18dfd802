import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import * as assert from 'uvu/assert'
import type { LocalKafkaCluster } from '../../src/local-kafka/index.js'
import { uniqueName } from '../support/kafka.js'
import { PG_URL, testTable } from '../support/postgres.js'
import {
  checkpointRead,
  createIdTableWithWriteLog,
  misattributedRows,
  readTopicValues,
  seedTopic,
  startCli,
  tally,
  waitForProgress,
  writtenIds,
} from './fault-support.js'

/** The sinks a cluster scenario replays into. */
export type ClusterSink = 'kafka' | 'eos' | 'postgres'

export const SINK_LABELS: Record<ClusterSink, string> = {
  kafka: 'plain Kafka sink',
  eos: 'exactly-once Kafka sink',
  postgres: 'PostgreSQL sink',
}

export interface ClusterReplayPlan {
  cluster: LocalKafkaCluster
  name: string
  sink: ClusterSink
  records: number
  batch: number
  /** --rate: long enough a run for the faults to land inside it. */
  rate: number
  /** Extra options for the sink topic (e.g. min.insync.replicas). */
  sinkTopicConfig?: Array<{ name: string; value: string }>
  /** The sink topic's replicas per partition, preferred leader first (default: Kafka's choice). */
  sinkReplicas?: number[][]
  /** Runs after the replay ended and before the sink is counted (e.g. bring a broker back). */
  beforeCount?: () => Promise<void>
  brokerWait?: string
  /** Injected once the replay has checkpointed a quarter of the records; returns the faults injected. */
  inject(ctx: { topic: string; sinkTopic: string; log: (line: string) => void }): Promise<number>
  log: (line: string) => void
  timeoutMs?: number
}

export interface ClusterReplayOutcome {
  code: number | null
  stdout: string
  stderr: string
  faults: number
  checkpoint: { resent: number; finished: boolean; partitions: Array<{ read: number; written: number }> }
  checkpointPath: string
  tally: ReturnType<typeof tally>
  /** What the count was made of, for the log. */
  counted: string
  args: string[]
  dir: string
  topic: string
  sinkTopic: string
  table?: string
}

/** Creates a replicated topic for a sink (RF 3 on the cluster), so its leaders can be killed too. */
export async function createSinkTopic(
  brokers: string,
  topic: string,
  configEntries: Array<{ name: string; value: string }> = [],
  replicas?: number[][],
): Promise<void> {
  const admin = new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  try {
    const placement = replicas
      ? { replicaAssignment: replicas.map((r, partition) => ({ partition, replicas: r })) }
      : { numPartitions: 3, replicationFactor: 3 }
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, ...placement, configEntries }] })
  } finally {
    await admin.disconnect()
  }
}

/**
 * Seeds a replicated topic, starts `recover replay` into the sink on all three brokers, injects
 * the plan's faults once a quarter is checkpointed, waits for the replay to end, and counts
 * what the sink holds with an independent reader (read_committed for Kafka, the trigger's
 * log of every row write for PostgreSQL).
 */
export async function replayThroughClusterFault(plan: ClusterReplayPlan): Promise<ClusterReplayOutcome> {
  const { cluster, sink, records, log } = plan
  const dir = mkdtempSync(join(tmpdir(), `recover-cluster-${plan.name}-`))
  const topic = uniqueName(`cluster-${plan.name}`)
  const sinkTopic = `${topic}.out`
  await seedTopic(cluster.brokers, topic, records, 3, 3)
  if (sink !== 'postgres') await createSinkTopic(cluster.brokers, sinkTopic, plan.sinkTopicConfig, plan.sinkReplicas)
  const table = sink === 'postgres' ? await createIdTableWithWriteLog(testTable(`cl_${plan.name.replace(/-/g, '_')}`), PG_URL) : undefined
  const out =
    sink === 'postgres'
      ? ['--sink', `${PG_URL}?table=${table!.table}&key=id`, '--create-table', '--value-format', 'json', '--commit-interval', '250ms']
      : ['--sink', `kafka:${sinkTopic}`, ...(sink === 'eos' ? ['--exactly-once', '--commit-interval', '250ms'] : [])]
  const checkpointPath = join(dir, 'cp.json')
  const args = [
    'replay',
    '--topic',
    topic,
    ...out,
    '--quarantine',
    `file:${join(dir, 'q.jsonl')}`,
    '--checkpoint',
    checkpointPath,
    '--batch-size',
    String(plan.batch),
    '--rate',
    String(plan.rate),
    '--broker-wait',
    plan.brokerWait ?? '2m',
    '--progress-interval',
    '2s',
  ]
  const run = startCli(args, { cwd: dir, brokers: cluster.brokers })
  const timer = setTimeout(() => run.child.kill('SIGKILL'), plan.timeoutMs ?? 240_000)
  try {
    assert.is(await waitForProgress(checkpointPath, records / 4, run, 90_000), 'reached', `the replay reached a quarter before the fault: ${run.stderr()}`)
    log(`  fault at ${checkpointRead(checkpointPath)} of ${records} records checkpointed`)
    const faults = await plan.inject({ topic, sinkTopic, log })
    const { code } = await run.done
    const checkpoint = JSON.parse(readFileSync(checkpointPath, 'utf8')) as ClusterReplayOutcome['checkpoint']
    for (const line of run
      .stderr()
      .split('\n')
      .filter((l) => /Waiting|answers again/.test(l)))
      log(`  replay said: ${line}`)
    await plan.beforeCount?.()
    const values = sink === 'postgres' ? await writtenIds(table!.log, PG_URL) : await readTopicValues(cluster.runningBrokers(), sinkTopic)
    const counted = sink === 'postgres' ? 'row writes logged by the trigger' : sink === 'eos' ? 'records a read_committed reader sees' : 'records in the sink'
    return {
      code,
      stdout: run.stdout(),
      stderr: run.stderr(),
      faults,
      checkpoint,
      checkpointPath,
      tally: tally(records, values),
      counted,
      args,
      dir,
      topic,
      sinkTopic,
      table: table?.table,
    }
  } finally {
    clearTimeout(timer)
  }
}

/**
 * The documented guarantee of each sink after faults the replay waited through: every record
 * at least once; exactly once for PostgreSQL and --exactly-once; for plain Kafka, duplicates
 * exactly the re-sends the checkpoint reports, at most a batch per partition per fault.
 */
export async function assertSinkGuarantee(r: ClusterReplayOutcome, plan: { sink: ClusterSink; batch: number }, log: (line: string) => void): Promise<void> {
  const t = r.tally
  log(
    `  found ${t.out} ${r.counted}: ${t.lost} lost${t.lost > 0 ? ` (ids ${t.lostRanges.slice(0, 8).join(', ')})` : ''}, ${t.duplicated} duplicated (re-sent, reported: ${r.checkpoint.resent})`,
  )
  assert.is(t.lost, 0, 'records lost')
  if (plan.sink === 'kafka') {
    assert.is(t.duplicated, r.checkpoint.resent, 'duplicates are exactly the re-sends the checkpoint reports')
    assert.ok(t.duplicated <= Math.max(1, r.faults) * 3 * plan.batch, 'at most a batch per partition per fault')
  } else {
    assert.is(t.duplicated, 0, `the ${SINK_LABELS[plan.sink]} holds every record exactly once`)
  }
  if (r.table) assert.is(await misattributedRows(r.table, PG_URL), 0, 'every row carries its own source record as provenance')
}

/**
 * What the replay said about the outages it waited through: each "Could not reach" names the
 * one broker that did not answer (never the whole bootstrap list while others answered), and
 * the summary counts the outages. Returns how many it waited out.
 */
export function assertOutagesReported(r: ClusterReplayOutcome, cluster: LocalKafkaCluster, log: (line: string) => void): number {
  const lines = r.stderr.split('\n')
  const waits = lines.filter((l) => /^Waiting for Kafka since/.test(l))
  for (const l of waits.filter((w) => /Could not reach Kafka/.test(w))) {
    assert.not.ok(l.includes(`Could not reach Kafka at ${cluster.brokers}`), `the outage names the broker that did not answer: ${l}`)
    assert.match(l, /Could not reach Kafka broker 127\.0\.0\.1:\d+ \(node \d/)
  }
  const summary = /^Waited out (\d+) Kafka outages? .*$/m.exec(`${r.stdout}\n${r.stderr}`)
  if (waits.length > 0) {
    assert.ok(summary, `the summary mentions the ${waits.length} outage(s) waited out:\n${r.stdout}`)
    assert.is(Number(summary![1]), waits.length, 'as many as it said it waited for')
    log(`  summary said: ${summary![0]}`)
  } else assert.not.ok(summary, 'no outage, no outage line')
  return waits.length
}
