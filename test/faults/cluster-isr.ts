import { existsSync } from 'node:fs'
import * as assert from 'uvu/assert'
import type { LocalKafkaCluster } from '../../src/local-kafka/index.js'
import { readTopicValues, runCliTo, sleep, tally, type FaultScenario } from './fault-support.js'
import { assertOutagesReported, assertSinkGuarantee, replayThroughClusterFault } from './cluster-replay.js'

const RECORDS = 20_000
const BATCH = 500
const RATE = 2_000
/** The sink topic demands every replica in sync, so one broker down puts its ISR (2) below min.insync.replicas (3) while the quorum (2 of 3) and the source (min 2) carry on. */
const ALL_IN_SYNC = [{ name: 'min.insync.replicas', value: '3' }]
/** Broker 3 follows every sink partition and leads none: stopping it shrinks the ISR without a leader change. */
const FOLLOWER = 3
const SINK_REPLICAS = [
  [1, 2, 3],
  [2, 1, 3],
  [1, 2, 3],
]

/**
 * Scenario C4a: the sink topic's in-sync replicas drop below min.insync.replicas mid-replay
 * (a follower's broker killed for 40 s; the sink topic requires all three). Kafka answers and refuses every
 * write: recover waits, its progress line says why (NOT_ENOUGH_REPLICAS and the setting), and
 * it completes once the broker is back and the ISR has recovered.
 */
export function isrRecoversScenario(cluster: () => LocalKafkaCluster): FaultScenario {
  return {
    id: 'c4-waits',
    title: '3 brokers: sink ISR below min.insync.replicas mid-replay, recovered after 40 s (plain Kafka sink)',
    timeoutMs: 300_000,
    async run(log) {
      const c = cluster()
      const r = await replayThroughClusterFault({
        cluster: c,
        name: 'isr-waits',
        sink: 'kafka',
        records: RECORDS,
        batch: BATCH,
        rate: RATE,
        sinkTopicConfig: ALL_IN_SYNC,
        sinkReplicas: SINK_REPLICAS,
        log,
        inject: async ({ sinkTopic }) => {
          const victim = c.node(FOLLOWER)
          victim.kill('SIGKILL')
          await victim.whenExited()
          log(`  killed (-9) broker ${victim.id}: ${sinkTopic} has 2 of 3 replicas in sync, min.insync.replicas=3`)
          // Longer than a produce request's timeout (30 s): the refusal, not only a stall, shows.
          await sleep(40_000)
          await victim.restart()
          await c.waitForFullIsr(sinkTopic)
          log(`  broker ${victim.id} back; every replica of ${sinkTopic} in sync`)
          return 1
        },
      })
      assert.is(r.code, 0, r.stderr)
      assert.ok(r.checkpoint.finished, 'finished')
      const waits = r.stderr.split('\n').filter((l) => /^Waiting for Kafka since/.test(l))
      assert.ok(waits.length > 0, `the replay said it waited:\n${r.stderr}`)
      assert.ok(
        waits.some((l) => /NOT_ENOUGH_REPLICAS.*min\.insync\.replicas/.test(l)),
        `the progress says why: too few in-sync replicas\n${waits.join('\n')}`,
      )
      await assertSinkGuarantee(r, { sink: 'kafka', batch: BATCH }, log)
      assertOutagesReported(r, c, log)
      return { faults: r.faults, recordsIn: RECORDS, recordsOut: r.tally.out, lost: r.tally.lost, duplicated: r.tally.duplicated, notes: [] }
    },
  }
}

/**
 * Scenario C4b: the same refusal outlasts a short --broker-wait (10 s): the replay stops with
 * exit 5 and a checkpoint; once the broker is back, --resume completes with every record.
 */
export function isrGivesUpScenario(cluster: () => LocalKafkaCluster): FaultScenario {
  return {
    id: 'c4-exit5',
    title: '3 brokers: sink ISR below min.insync.replicas past --broker-wait 10s: exit 5, then --resume (plain Kafka sink)',
    timeoutMs: 300_000,
    async run(log) {
      const c = cluster()
      const r = await replayThroughClusterFault({
        cluster: c,
        name: 'isr-exit5',
        sink: 'kafka',
        records: RECORDS,
        batch: BATCH,
        rate: RATE,
        brokerWait: '10s',
        sinkTopicConfig: ALL_IN_SYNC,
        sinkReplicas: SINK_REPLICAS,
        log,
        beforeCount: async () => {
          await c.node(FOLLOWER).restart()
          log(`  broker ${FOLLOWER} restarted`)
        },
        inject: async ({ sinkTopic }) => {
          const victim = c.node(FOLLOWER)
          victim.kill('SIGKILL')
          await victim.whenExited()
          log(`  killed (-9) broker ${victim.id} and left it down: ${sinkTopic} has 2 of 3 replicas in sync, min.insync.replicas=3`)
          return 1
        },
      })
      log(`  the replay ended with exit ${r.code}: ${r.stderr.split('\n').find((l) => /^Error:/.test(l)) ?? '(no error line)'}`)
      assert.is(r.code, 5, r.stderr)
      assert.not.ok(r.checkpoint.finished, 'not finished')
      assert.match(r.stderr, /NOT_ENOUGH_REPLICAS/)
      assert.match(r.stderr, /--broker-wait/)
      assert.match(r.stderr, /--resume/, 'the error says how to continue')
      assert.ok(existsSync(r.checkpointPath), 'the checkpoint was kept')
      await c.waitForFullIsr(r.sinkTopic)
      log(`  every replica of ${r.sinkTopic} in sync again; resuming`)
      const resumed = await runCliTo([...r.args, '--resume', '--json'], { cwd: r.dir, brokers: c.brokers, timeoutMs: 180_000 })
      assert.is(resumed.code, 0, resumed.stderr)
      assert.ok(resumed.json?.finished && resumed.json?.reconciled, 'finished and reconciled')
      const t = tally(RECORDS, await readTopicValues(c.brokers, r.sinkTopic))
      log(`  after --resume: ${t.out} records in the sink, ${t.lost} lost, ${t.duplicated} duplicated (re-sent, reported: ${resumed.json.resent})`)
      assert.is(t.lost, 0, 'lost')
      assert.is(t.duplicated, resumed.json.resent, 'duplicates are exactly the re-sends the summary reports')
      return { faults: 1, recordsIn: RECORDS, recordsOut: t.out, lost: t.lost, duplicated: t.duplicated, notes: [] }
    },
  }
}
