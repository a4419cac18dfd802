import * as assert from 'uvu/assert'
import type { LocalKafkaCluster } from '../../src/local-kafka/index.js'
import { dropTestTables, PG_URL } from '../support/postgres.js'
import type { FaultScenario } from './fault-support.js'
import { assertOutagesReported, assertSinkGuarantee, replayThroughClusterFault, SINK_LABELS, type ClusterSink } from './cluster-replay.js'

const SIZES: Record<ClusterSink, { records: number; batch: number; rate: number }> = {
  kafka: { records: 30_000, batch: 500, rate: 2_500 },
  eos: { records: 8_000, batch: 200, rate: 500 },
  postgres: { records: 8_000, batch: 200, rate: 500 },
}

/**
 * Scenario C1: on the three-node cluster, the broker that leads a partition being read (and,
 * for a Kafka sink, one being written) is killed (-9) mid-replay; once its partitions have a
 * new leader it is restarted on the same data, and a preferred leader election moves its
 * leaderships back, so every moved partition changes leader twice under the replay.
 */
export function leaderKilledScenario(cluster: () => LocalKafkaCluster, sink: ClusterSink): FaultScenario {
  const size = SIZES[sink]
  return {
    id: `c1-${sink}`,
    title: `3 brokers: leader of a read and a written partition killed -9, restarted, leadership moved back (${SINK_LABELS[sink]})`,
    timeoutMs: 360_000,
    async run(log) {
      const c = cluster()
      try {
        const r = await replayThroughClusterFault({
          cluster: c,
          name: `leader-kill-${sink}`,
          sink,
          ...size,
          log,
          inject: async ({ topic, sinkTopic }) => {
            const source = await c.placement(topic)
            const written = sink === 'postgres' ? [] : await c.placement(sinkTopic)
            // The broker leading a source partition and, when the sink is a topic, a sink partition too.
            const victim = source.map((p) => p.leader).find((leader) => written.length === 0 || written.some((w) => w.leader === leader)) ?? source[0]!.leader
            const read = source.filter((p) => p.leader === victim).map((p) => p.partition)
            const wrote = written.filter((p) => p.leader === victim).map((p) => p.partition)
            const node = c.node(victim)
            node.kill('SIGKILL')
            await node.whenExited()
            log(`  killed (-9) broker ${victim}, leader of ${topic} partitions [${read}]${wrote.length ? ` and ${sinkTopic} partitions [${wrote}]` : ''}`)
            const moved = await c.leaderOf(topic, read[0]!)
            log(`  ${topic}-${read[0]} now led by broker ${moved}; restarting broker ${victim} on the same data`)
            await node.restart()
            await c.waitForFullIsr(topic)
            const election = await c.electPreferredLeaders()
            log(
              `  broker ${victim} back in sync; preferred leader election exit ${election.exitCode}; ${topic}-${read[0]} led by ${await c.leaderOf(topic, read[0]!)}`,
            )
            return 2
          },
        })
        assert.is(r.code, 0, r.stderr)
        assert.ok(r.checkpoint.finished, 'finished')
        await assertSinkGuarantee(r, { sink, batch: size.batch }, log)
        assertOutagesReported(r, c, log)
        return { faults: r.faults, recordsIn: size.records, recordsOut: r.tally.out, lost: r.tally.lost, duplicated: r.tally.duplicated, notes: [] }
      } finally {
        if (sink === 'postgres') await dropTestTables(PG_URL)
      }
    },
  }
}
