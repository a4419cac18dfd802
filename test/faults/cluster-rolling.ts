import * as assert from 'uvu/assert'
import type { LocalKafkaCluster } from '../../src/local-kafka/index.js'
import type { FaultScenario } from './fault-support.js'
import { assertOutagesReported, assertSinkGuarantee, replayThroughClusterFault } from './cluster-replay.js'

/** 200 000 records (not the 1M: the suite's time budget), paced so that the three restarts land inside the replay. */
const RECORDS = 200_000
const BATCH = 1_000
const RATE = 4_000

/**
 * Scenario C2: a rolling restart of all three brokers mid-replay, as an upgrade does it: each
 * in turn stopped with SIGTERM (a controlled shutdown that hands its leaderships over),
 * started again on the same data, and waited for until every replica is back in sync, so every
 * leader of both topics moves at least twice. Plain Kafka sink: every record at least once,
 * duplicates exactly the reported re-sends.
 */
export function rollingRestartScenario(cluster: () => LocalKafkaCluster): FaultScenario {
  return {
    id: 'c2',
    title: `3 brokers: rolling restart of every broker during a ${RECORDS / 1000}k-record replay (plain Kafka sink)`,
    timeoutMs: 420_000,
    async run(log) {
      const c = cluster()
      let inside = 0
      const r = await replayThroughClusterFault({
        cluster: c,
        name: 'rolling',
        sink: 'kafka',
        records: RECORDS,
        batch: BATCH,
        rate: RATE,
        log,
        timeoutMs: 360_000,
        inject: async ({ topic, sinkTopic }) => {
          for (const node of c.nodes) {
            const started = Date.now()
            await node.restart()
            await c.waitForFullIsr(topic)
            await c.waitForFullIsr(sinkTopic)
            log(`  broker ${node.id} restarted and back in sync in ${((Date.now() - started) / 1000).toFixed(1)} s`)
            inside++
          }
          return inside
        },
      })
      assert.is(r.code, 0, r.stderr)
      assert.ok(r.checkpoint.finished, 'finished')
      await assertSinkGuarantee(r, { sink: 'kafka', batch: BATCH }, log)
      assertOutagesReported(r, c, log)
      return { faults: r.faults, recordsIn: RECORDS, recordsOut: r.tally.out, lost: r.tally.lost, duplicated: r.tally.duplicated, notes: [] }
    },
  }
}
