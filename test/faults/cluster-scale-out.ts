import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as assert from 'uvu/assert'
import type { LocalKafkaCluster } from '../../src/local-kafka/index.js'
import { uniqueName } from '../support/kafka.js'
import { dropTestTables, PG_URL, query, testTable } from '../support/postgres.js'
import { waitFor } from '../support/timeout.js'
import { createIdTableWithWriteLog, misattributedRows, seedTopic, startCli, tally, writtenIds, type CliProcess, type FaultScenario } from './fault-support.js'

const PARTITIONS = 6
const RECORDS = 6_000
const BATCH = 100

/**
 * Scenario C6: three `replay --scale-out` processes share a 6-partition topic into PostgreSQL
 * on the three-node cluster; once a fifth is written, the broker that coordinates their
 * group and leads some of the partitions is killed (-9), then restarted. The members wait out
 * the outage and rebalance; the documented guarantee for PostgreSQL is exactly once: every
 * row write logged by a trigger, none twice, each row's provenance its own record's.
 */
export function scaleOutBrokerKilledScenario(cluster: () => LocalKafkaCluster): FaultScenario {
  return {
    id: 'c6',
    title: '3 brokers: three replay --scale-out processes into PostgreSQL while the group coordinator is killed -9, restarted',
    timeoutMs: 360_000,
    async run(log) {
      const c = cluster()
      const topic = uniqueName('cluster-scale')
      const group = uniqueName('cluster-scale-group')
      await seedTopic(c.brokers, topic, RECORDS, PARTITIONS, 3)
      const { table, log: writes } = await createIdTableWithWriteLog(testTable('cl_scale'), PG_URL)
      const dir = mkdtempSync(join(tmpdir(), 'recover-cluster-scale-'))
      const args = [
        'replay',
        '--topic',
        topic,
        '--scale-out',
        group,
        '--sink',
        `${PG_URL}?table=${table}&key=id`,
        '--value-format',
        'json',
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
        await waitFor(
          'a fifth of the records written',
          async () => (Number((await query<{ n: string }>(`SELECT count(*)::text AS n FROM ${writes}`, [], PG_URL))[0]!.n) >= RECORDS / 5 ? true : undefined),
          120_000,
          100,
        )
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
          const waited = p
            .stderr()
            .split('\n')
            .filter((l) => /^Waiting|answers again/.test(l))
          for (const l of waited) log(`  member ${i + 1} said: ${l.slice(0, 260)}`)
        }
        const t = tally(RECORDS, await writtenIds(writes, PG_URL))
        log(`  found ${t.out} row writes logged by the trigger: ${t.lost} lost, ${t.duplicated} duplicated`)
        assert.is(t.lost, 0, 'lost')
        assert.is(t.duplicated, 0, 'PostgreSQL: every record applied exactly once')
        assert.is(await misattributedRows(table, PG_URL, PARTITIONS), 0, 'provenance')
        return { faults: 1, recordsIn: RECORDS, recordsOut: t.out, lost: t.lost, duplicated: t.duplicated, notes: [] }
      } finally {
        for (const p of procs) p.child.kill('SIGKILL')
        await dropTestTables(PG_URL)
      }
    },
  }
}
