import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import * as assert from 'uvu/assert'
import type { LocalKafkaCluster } from '../../src/local-kafka/index.js'
import { uniqueName } from '../support/kafka.js'
import { dropTestTables, PG_URL, query, testTable } from '../support/postgres.js'
import { waitFor } from '../support/timeout.js'
import { createSinkTopic } from './cluster-replay.js'
import {
  createIdTableWithWriteLog,
  dumpForInspection,
  misattributedRows,
  readTopicValues,
  seedTopic,
  startCli,
  tally,
  writtenIds,
  type CliProcess,
  type FaultScenario,
} from './fault-support.js'

const PARTITIONS = 6
const BATCH = 100
/** PostgreSQL as first measured; the exactly-once Kafka variant smaller, to keep the fault suite short. */
const RECORDS: Record<ScaleOutSink, number> = { postgres: 6_000, eos: 3_000 }

export type ScaleOutSink = 'postgres' | 'eos'

/**
 * Scenario C6: three `replay --scale-out` processes share a 6-partition topic into PostgreSQL
 * or, with --exactly-once, into a topic of the three-node cluster; once a fifth is written,
 * the broker that coordinates their group and leads some of the partitions is killed (-9),
 * then restarted. The members wait out the outage and rebalance; the documented guarantee for
 * both sinks is exactly once: for PostgreSQL every row write logged by a trigger, none twice,
 * each row's provenance its own record's; for Kafka, what a read_committed reader sees. A
 * member that waited for Kafka says in its summary how many outages it waited out.
 */
export function scaleOutBrokerKilledScenario(cluster: () => LocalKafkaCluster, sink: ScaleOutSink): FaultScenario {
  const records = RECORDS[sink]
  return {
    id: `c6-${sink}`,
    title: `3 brokers: three replay --scale-out processes into ${sink === 'postgres' ? 'PostgreSQL' : 'Kafka with --exactly-once'} while the group coordinator is killed -9, restarted`,
    timeoutMs: 360_000,
    async run(log) {
      const c = cluster()
      const topic = uniqueName('cluster-scale')
      const sinkTopic = `${topic}.out`
      const group = uniqueName('cluster-scale-group')
      await seedTopic(c.brokers, topic, records, PARTITIONS, 3)
      const pg = sink === 'postgres' ? await createIdTableWithWriteLog(testTable('cl_scale'), PG_URL) : undefined
      if (sink === 'eos') await createSinkTopic(c.brokers, sinkTopic)
      const dir = mkdtempSync(join(tmpdir(), 'recover-cluster-scale-'))
      const out = pg ? ['--sink', `${PG_URL}?table=${pg.table}&key=id`, '--value-format', 'json'] : ['--sink', `kafka:${sinkTopic}`, '--exactly-once']
      const args = [
        'replay',
        '--topic',
        topic,
        '--scale-out',
        group,
        ...out,
        '--quarantine',
        `kafka:${group}.q`,
        '--batch-size',
        String(BATCH),
        '--rate',
        '200',
        '--broker-wait',
        '2m',
      ]
      const procs: CliProcess[] = [0, 1, 2].map(() => startCli(args, { cwd: dir, brokers: c.brokers }))
      try {
        const written = pg
          ? async () => Number((await query<{ n: string }>(`SELECT count(*)::text AS n FROM ${pg.log}`, [], PG_URL))[0]!.n)
          : () => sinkLogEnds(c.brokers, sinkTopic)
        await waitFor('a fifth of the records written', async () => ((await written()) >= records / 5 ? true : undefined), 120_000, 100)
        const victim = c.node(await c.coordinatorOf(`recover-replay.${group}`))
        const led = (await c.placement(topic)).filter((p) => p.leader === victim.id).map((p) => p.partition)
        victim.kill('SIGKILL')
        await victim.whenExited()
        log(`  killed (-9) broker ${victim.id}: coordinator of recover-replay.${group}, leader of ${topic} partitions [${led}]`)
        await victim.restart()
        log(`  broker ${victim.id} restarted`)
        const ends = await Promise.race([
          Promise.all(procs.map((p) => p.done)),
          new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 240_000).unref()),
        ])
        assert.ok(ends, `the three members finished: ${procs.map((p, i) => `--- ${i + 1} ---\n${p.stderr().split('\n').slice(-8).join('\n')}`).join('\n')}`)
        ends!.forEach((e, i) => assert.is(e.code, 0, procs[i]!.stderr()))
        for (const [i, p] of procs.entries()) {
          const lines = p.stderr().split('\n')
          for (const l of lines.filter((l) => /Waiting|answers again/.test(l))) log(`  member ${i + 1} said: ${l.slice(0, 260)}`)
          // Each partition of the member waits for itself; the summary counts the waits that overlap once.
          const waits = lines.filter((l) => /Waiting for Kafka since/.test(l)).length
          const summary = /^Waited out (\d+) Kafka outages? .*$/m.exec(`${p.stdout()}\n${p.stderr()}`)
          if (waits > 0) {
            assert.ok(summary, `member ${i + 1} waited ${waits} time(s) for Kafka and its summary says so:\n${p.stdout()}`)
            assert.ok(Number(summary![1]) >= 1 && Number(summary![1]) <= waits, summary![0])
            log(`  member ${i + 1} summary: ${summary![0]}`)
          } else assert.not.ok(summary, `member ${i + 1} waited for nothing: no outage line`)
        }
        const t = tally(records, pg ? await writtenIds(pg.log, PG_URL) : await readTopicValues(c.runningBrokers(), sinkTopic))
        log(`  found ${t.out} ${pg ? 'row writes logged by the trigger' : 'records a read_committed reader sees'}: ${t.lost} lost, ${t.duplicated} duplicated`)
        if (t.lost > 0 && !pg) {
          const dumped = dumpForInspection(c.runningBrokers(), sinkTopic, Object.fromEntries(procs.map((p, i) => [`member-${i + 1}.err`, p.stderr()])))
          if (dumped) log(`  dumps in ${dumped}`)
        }
        assert.is(t.lost, 0, `lost ids ${t.lostRanges.join(', ')}`)
        assert.is(t.duplicated, 0, `${pg ? 'PostgreSQL' : 'Kafka with --exactly-once'}: every record exactly once`)
        if (pg) assert.is(await misattributedRows(pg.table, PG_URL, PARTITIONS), 0, 'provenance')
        return { faults: 1, recordsIn: records, recordsOut: t.out, lost: t.lost, duplicated: t.duplicated, notes: [] }
      } finally {
        for (const p of procs) p.child.kill('SIGKILL')
        if (pg) await dropTestTables(PG_URL)
      }
    },
  }
}

/** Records (and transaction markers) in the sink topic so far: enough to tell the replay is well under way. */
async function sinkLogEnds(brokers: string, topic: string): Promise<number> {
  const admin = new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0)
  } finally {
    await admin.disconnect()
  }
}
