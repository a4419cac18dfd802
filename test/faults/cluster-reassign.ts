import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as assert from 'uvu/assert'
import type { LocalKafkaCluster, PartitionPlacement } from '../../src/local-kafka/index.js'
import { uniqueName } from '../support/kafka.js'
import { runCliTo, seedTopic, type FaultScenario } from './fault-support.js'
import { assertOutagesReported, assertSinkGuarantee, replayThroughClusterFault } from './cluster-replay.js'

const REPLAY = { records: 30_000, batch: 500, rate: 2_500 }
const AUDIT_RECORDS = 60_000

/** Moves a partition off its leader's broker: the new replica set is the two other brokers, so data and leadership both move. */
async function moveOffLeader(c: LocalKafkaCluster, topic: string, partition: number, log: (line: string) => void): Promise<void> {
  const before = (await c.placement(topic)).find((p) => p.partition === partition) as PartitionPlacement
  const target = c.nodes.map((n) => n.id).filter((id) => id !== before.leader)
  const started = Date.now()
  await c.reassign(topic, partition, target)
  const after = (await c.placement(topic)).find((p) => p.partition === partition)!
  log(
    `  reassigned ${topic}-${partition} from replicas [${before.replicas}] (leader ${before.leader}) to [${after.replicas}] (leader ${after.leader}) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  )
}

/**
 * Scenario C3-replay: a partition being read and one being written are reassigned to a new
 * replica set (Kafka's ReassignPartitionsCommand) mid-replay, each off the broker that led
 * it, so leadership moves too. Plain Kafka sink: every record at least once, duplicates
 * exactly the reported re-sends.
 */
export function reassignDuringReplayScenario(cluster: () => LocalKafkaCluster): FaultScenario {
  return {
    id: 'c3-replay',
    title: '3 brokers: a read and a written partition reassigned to new replicas mid-replay (plain Kafka sink)',
    timeoutMs: 300_000,
    async run(log) {
      const c = cluster()
      const r = await replayThroughClusterFault({
        cluster: c,
        name: 'reassign',
        sink: 'kafka',
        ...REPLAY,
        log,
        inject: async ({ topic, sinkTopic }) => {
          await moveOffLeader(c, topic, 0, log)
          await moveOffLeader(c, sinkTopic, 1, log)
          return 2
        },
      })
      assert.is(r.code, 0, r.stderr)
      assert.ok(r.checkpoint.finished, 'finished')
      await assertSinkGuarantee(r, { sink: 'kafka', batch: REPLAY.batch }, log)
      assertOutagesReported(r, c, log)
      return { faults: r.faults, recordsIn: REPLAY.records, recordsOut: r.tally.out, lost: r.tally.lost, duplicated: r.tally.duplicated, notes: [] }
    },
  }
}

/**
 * Scenario C3-audit: `audit duplicates` scans a topic while two of its partitions are
 * reassigned. Every record is read once: the audit counts exactly the records seeded (unique
 * keys) and finds no duplicate.
 */
export function reassignDuringAuditScenario(cluster: () => LocalKafkaCluster): FaultScenario {
  return {
    id: 'c3-audit',
    title: `3 brokers: audit duplicates over ${AUDIT_RECORDS} records while two partitions are reassigned`,
    timeoutMs: 300_000,
    async run(log) {
      const c = cluster()
      const topic = uniqueName('cluster-audit')
      await seedTopic(c.brokers, topic, AUDIT_RECORDS, 3, 3)
      const dir = mkdtempSync(join(tmpdir(), 'recover-cluster-audit-'))
      let moved = false
      const moving = (async () => {
        await moveOffLeader(c, topic, 0, log)
        await moveOffLeader(c, topic, 2, log)
        moved = true
      })()
      // Audits one after another until both moves completed: the scan running when a move
      // finishes overlaps it, whichever is faster on the machine.
      let audits = 0
      let scanned = 0
      let duplicates = 0
      do {
        const r = await runCliTo(['audit', 'duplicates', '--topic', topic, '--key', 'key', '--no-history', '--json'], {
          cwd: dir,
          brokers: c.brokers,
          timeoutMs: 240_000,
        })
        audits++
        assert.is(r.code, 0, r.stderr)
        const records = Number(r.json?.totals?.records)
        const dups = Number(r.json?.totals?.duplicateKeys)
        log(`  audit ${audits}${moved ? ' (ended after the moves)' : ' (ended during the moves)'}: ${records} records scanned, ${dups} duplicated keys`)
        assert.is(records, AUDIT_RECORDS, 'every record scanned once')
        assert.is(dups, 0, 'no record seen twice')
        scanned += records
        duplicates += dups
      } while (!moved)
      await moving
      return {
        faults: 2,
        recordsIn: AUDIT_RECORDS * audits,
        recordsOut: scanned,
        lost: AUDIT_RECORDS * audits - scanned,
        duplicated: duplicates,
        notes: [`${audits} audits`],
      }
    },
  }
}
