import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ORDER_SCHEMA_IDS, type IncidentTruth } from '../../src/fixtures/index.js'
import { seedIncident } from '../../src/fixtures/seed-incident.js'
import { installOrderedHeaders } from '../../src/kafka/ordered-headers.js'
import type { KafkaRecord } from '../../src/kafka/kafka-record.js'
import { testKafka, uniqueName, withGateway, readTopic } from '../support/kafka.js'
import { createTableWithWriteLog, dropTestTables, expectedOrderRows, orderRows, PG_URL, query, testTable } from '../support/postgres.js'
import { spawnCli } from '../support/cli.js'
import { repoRoot } from '../support/paths.js'
import { waitFor, withDeadline, withTimeout } from '../support/timeout.js'

installOrderedHeaders()

/**
 * Scale-out: three `recover replay --scale-out` processes split a 6-partition topic through the
 * consumer-group protocol; one is killed with SIGKILL mid-way and started again. Into
 * PostgreSQL the union is the range exactly; into plain Kafka every record is there at least
 * once, with duplicates bounded by the batches in flight at the kill and the rebalances.
 */
const SCHEMAS = join(repoRoot(), 'fixtures', 'schemas')
const FIX = join(repoRoot(), 'plugins', 'fix-bad-deploy.ts')
const dir = mkdtempSync(join(tmpdir(), 'recover-e2e-group-'))
const BATCH = 100

let topic = ''
let truth: IncidentTruth
let source: KafkaRecord[] = []

/**
 * Partition replays cut short: stopped unfinished in a rebalance (handed over, taken over), or
 * running in the killed process. Each may leave one batch written and not committed, which the
 * next owner writes again into a sink without transactions.
 */
function interruptions(stderrs: string[], killedStderr: string): number {
  const stopped = stderrs.concat(killedStderr).reduce((n, e) => n + (e.match(/Partition \d+: (handed over|taken over)/g)?.length ?? 0), 0)
  const running = new Set<string>()
  for (const m of killedStderr.matchAll(/Partition (\d+): (replaying|done|handed over|taken over)/g)) {
    if (m[2] === 'replaying') running.add(m[1]!)
    else running.delete(m[1]!)
  }
  return stopped + running.size
}

/** Three processes; the first is killed once it has replayed part of a partition, then started again. All must finish. */
async function runThreeKillOne(args: string[], progressed: () => Promise<boolean>): Promise<string[] & { interruptions: number }> {
  const procs = [spawnCli(args, { cwd: dir }), spawnCli(args, { cwd: dir }), spawnCli(args, { cwd: dir })]
  try {
    await waitFor('the first process to replay a partition', () => (/Partition \d+: replaying/.test(procs[0]!.stderr()) ? true : undefined), 60_000, 20)
    await waitFor('some progress', async () => ((await progressed()) ? true : undefined), 60_000, 20)
    procs[0]!.child.kill('SIGKILL')
    const killed = await procs[0]!.done
    assert.is(killed.signal, 'SIGKILL', `the first process ended before it was killed: ${killed.stderr}`)
    procs[0] = spawnCli(args, { cwd: dir })
    // A hang says what each member was doing (its partition and waiting lines), not only "timed out".
    const results = await withDeadline(Promise.all(procs.map((p) => p.done)), 180_000, () =>
      procs.map((p, i) => `--- process ${i + 1} ---\n${p.stderr().split('\n').slice(-15).join('\n')}`).join('\n'),
    )
    const summaries = results.map((r) => {
      assert.is(r.code, 0, r.stderr + r.stdout)
      return r.stdout
    })
    return Object.assign(summaries, {
      interruptions: interruptions(
        results.map((r) => r.stderr),
        killed.stderr,
      ),
    })
  } finally {
    for (const p of procs) p.child.kill('SIGKILL')
  }
}

/** Each process's summary says the whole topic is done and reconciles. */
function assertEveryPartitionDone(summaries: string[]): void {
  for (const s of summaries) {
    assert.match(s, /every partition is done/)
    assert.not.match(s, /DOES NOT RECONCILE/)
  }
}

/** True once the sink topic holds at least n records (it may not exist yet). */
async function topicHolds(topic: string, n: number): Promise<boolean> {
  const offsets = await withGateway((g) => g.logOffsets(topic)).catch(() => [])
  return offsets.reduce((sum, o) => sum + Number(o.logEnd), 0) >= n
}

test.before(
  withTimeout(60_000, async () => {
    topic = uniqueName('e2e-group')
    truth = (await seedIncident({ kafka: testKafka(), topic, count: 4_000, partitions: 6, replicationFactor: 1 })).truth
    source = await readTopic(topic)
  }),
)

test(
  'three processes with --scale-out into PostgreSQL, one killed and restarted: the table is exactly the range (keys, fixed values, provenance)',
  withTimeout(240_000, async () => {
    const { table, log } = await createTableWithWriteLog(testTable('e2e_group'))
    const group = uniqueName('replay-group')
    const args = [
      'replay',
      '--topic',
      topic,
      '--scale-out',
      group,
      '--value-format',
      'avro',
      '--schema',
      SCHEMAS,
      '--reader-schema',
      join(SCHEMAS, 'orders-v2.avsc'),
      '--output-schema-id',
      String(ORDER_SCHEMA_IDS.v2),
      '--transform',
      FIX,
      '--sink',
      `${PG_URL}?table=${table}&key=order_id`,
      '--quarantine',
      `kafka:${group}.q`,
      '--batch-size',
      String(BATCH),
      '--rate',
      '300',
    ]
    assertEveryPartitionDone(
      await runThreeKillOne(args, async () => Number((await query<{ n: string }>(`SELECT count(*)::text AS n FROM ${log}`))[0]!.n) >= 600),
    )
    assert.equal(await orderRows(table), expectedOrderRows(source, truth))
    // Every record was written; a record written twice can only come from a partition moving
    // between live members (the old owner's last batch), never from the kill.
    const written = await query<{ p: number; o: string; n: string }>(
      `SELECT source_partition AS p, source_offset::text AS o, count(*)::text AS n FROM ${log} GROUP BY 1, 2`,
    )
    const pills = new Set(truth.poisonPills.map((p) => `${p.partition}@${p.offset}`))
    assert.equal(
      written.map((w) => `${w.p}@${w.o}`).sort(),
      source
        .filter((r) => !pills.has(`${r.partition}@${r.offset}`))
        .map((r) => `${r.partition}@${r.offset}`)
        .sort(),
    )
    const twice = written.filter((w) => w.n !== '1').length
    assert.ok(twice <= 6 * BATCH, `${twice} records written twice`)
  }),
)

test(
  'three processes with --scale-out into plain Kafka, one killed and restarted: every record at least once, duplicates bounded by the batches in flight',
  withTimeout(240_000, async () => {
    const group = uniqueName('replay-group-k')
    const sink = `${group}.out`
    const args = [
      'replay',
      '--topic',
      topic,
      '--scale-out',
      group,
      '--sink',
      `kafka:${sink}`,
      '--quarantine',
      `kafka:${group}.q`,
      '--batch-size',
      String(BATCH),
      '--rate',
      '300',
    ]
    const run = await runThreeKillOne(args, () => topicHolds(sink, 600))
    assertEveryPartitionDone(run)
    const out = await readTopic(sink)
    const id = (r: KafkaRecord) =>
      `${r.partition}|${r.key?.toString()}|${r.timestampMs}|${r.headers
        .filter((h) => h.key !== 'recover.replayed-from')
        .map((h) => `${h.key}=${h.value?.toString()}`)
        .join(',')}`
    const expected = new Set(source.map(id))
    const got = new Set(out.map(id))
    assert.is(expected.size, source.length)
    for (const e of expected) assert.ok(got.has(e), `lost ${e}`)
    assert.is(got.size, expected.size)
    // At least once: a batch in flight at the kill or at a rebalance may arrive twice, no more.
    const duplicates = out.length - source.length
    console.log(`  plain Kafka --scale-out: ${duplicates} duplicates from ${run.interruptions} interrupted partition replays`)
    assert.ok(duplicates <= run.interruptions * BATCH, `${duplicates} duplicates, more than ${run.interruptions} interrupted partition replays × ${BATCH}`)
  }),
)

test(
  'three processes with --scale-out and --exactly-once, one killed and restarted: a read_committed reader sees every record exactly once, in order per partition',
  withTimeout(240_000, async () => {
    const group = uniqueName('replay-group-eos')
    const sink = `${group}.out`
    const args = [
      'replay',
      '--topic',
      topic,
      '--scale-out',
      group,
      '--sink',
      `kafka:${sink}`,
      '--exactly-once',
      '--quarantine',
      `kafka:${group}.q`,
      '--batch-size',
      String(BATCH),
      '--rate',
      '300',
      '--commit-interval',
      '300ms',
    ]
    assertEveryPartitionDone(await runThreeKillOne(args, () => topicHolds(sink, 600)))
    // readTopic reads read_committed: aborted transactions (the killed process's) are not seen.
    const out = await readTopic(sink)
    const id = (r: KafkaRecord) =>
      `${r.key?.toString()}|${r.timestampMs}|${r.headers
        .filter((h) => h.key !== 'recover.replayed-from')
        .map((h) => `${h.key}=${h.value?.toString()}`)
        .join(',')}`
    for (let p = 0; p < 6; p++) {
      const inOrder = (list: KafkaRecord[]) =>
        list
          .filter((r) => r.partition === p)
          .sort((a, b) => Number(a.offset - b.offset))
          .map(id)
      assert.equal(inOrder(out), inOrder(source), `partition ${p}`)
    }
  }),
)

test.after(() => dropTestTables())

test.run()
