import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { startLocalKafkaCluster, type LocalKafkaCluster } from '../../src/local-kafka/index.js'
import { withTimeout } from '../support/timeout.js'
import { leaderKilledScenario } from './cluster-failover.js'
import { acknowledgedSendsScenario } from './cluster-produce.js'
import { isrGivesUpScenario, isrRecoversScenario } from './cluster-isr.js'
import { seekCoordinatorKilledScenario } from './cluster-seek.js'
import { rollingRestartScenario } from './cluster-rolling.js'
import { scaleOutBrokerKilledScenario } from './cluster-scale-out.js'
import { reassignDuringAuditScenario, reassignDuringReplayScenario } from './cluster-reassign.js'
import type { FaultScenario, ScenarioResult } from './fault-support.js'
import { renderFaultTable } from './report.js'

/**
 * The fault scenarios that need leaders to move: a three-node KRaft cluster (every node
 * controller and broker, replication factor 3, min.insync.replicas=2) started once for this
 * file, whose nodes the scenarios kill, freeze, restart and reassign under a running recover.
 * RECOVER_FAULTS=c1,c4 runs only those scenarios.
 */
let started: LocalKafkaCluster | undefined
const cluster = (): LocalKafkaCluster => {
  if (!started) throw new Error('the three-node cluster did not start')
  return started
}

const SCENARIOS: FaultScenario[] = [
  leaderKilledScenario(cluster, 'kafka'),
  leaderKilledScenario(cluster, 'eos'),
  leaderKilledScenario(cluster, 'postgres'),
  isrRecoversScenario(cluster),
  isrGivesUpScenario(cluster),
  seekCoordinatorKilledScenario(cluster),
  reassignDuringReplayScenario(cluster),
  reassignDuringAuditScenario(cluster),
  rollingRestartScenario(cluster),
  scaleOutBrokerKilledScenario(cluster, 'postgres'),
  scaleOutBrokerKilledScenario(cluster, 'eos'),
  acknowledgedSendsScenario(cluster),
  // Not in the suite: kafkajs's own send under the same fault, to show what c7-send catches (RECOVER_FAULTS=c7-kafkajs-send).
  ...(process.env.RECOVER_FAULTS?.includes('c7-kafkajs-send') ? [acknowledgedSendsScenario(cluster, 'kafkajs-first')] : []),
]

const only = process.env.RECOVER_FAULTS?.split(',').map((s) => s.trim())
const selected = SCENARIOS.filter((s) => !only || only.some((o) => s.id === o || s.id.startsWith(`${o}-`)))
const results: Array<{ scenario: FaultScenario; result?: ScenarioResult; error?: string }> = []
const log = (line: string) => process.stderr.write(`${line}\n`)

test.before(
  withTimeout(180_000, async () => {
    if (selected.length === 0) return
    const t0 = Date.now()
    started = await startLocalKafkaCluster({})
    log(`three-node cluster on ${started.brokers} (pids ${started.nodes.map((n) => n.pid).join(', ')}) ready in ${Date.now() - t0} ms`)
  }),
)

test.after(async () => {
  await started?.stop()
  if (results.length > 0) process.stdout.write(`\n${renderFaultTable(results)}\n`)
})

for (const scenario of selected) {
  test(
    `scenario ${scenario.id}: ${scenario.title}`,
    withTimeout(scenario.timeoutMs, async () => {
      log(`\n[scenario ${scenario.id}] ${scenario.title}`)
      const entry: (typeof results)[number] = { scenario }
      results.push(entry)
      const t0 = Date.now()
      try {
        // A scenario that failed half-way may have left a node down: start each one on three.
        for (const node of cluster().nodes) {
          node.kill('SIGCONT')
          if (!node.running) await node.restart()
        }
        entry.result = await scenario.run(log)
      } catch (error) {
        entry.error = error instanceof Error ? error.message : String(error)
        throw error
      } finally {
        log(`  scenario ${scenario.id} took ${((Date.now() - t0) / 1000).toFixed(1)} s`)
      }
      assert.is(entry.result.lost, 0, 'records lost')
    }),
  )
}

test.run()
