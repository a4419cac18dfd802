import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { startLocalKafka, type LocalKafka } from '../../src/local-kafka/index.js'
import { testBrokers } from '../support/kafka.js'
import { withTimeout } from '../support/timeout.js'
import { brokerFrozenScenario, brokerKilledScenario } from './broker-faults.js'
import type { FaultScenario, ScenarioResult } from './fault-support.js'
import { replayCrashScenario } from './replay-crash.js'
import { renderFaultTable } from './report.js'
import { diskFullScenarios } from './disk-full.js'
import { seekBrokerKilledScenario } from './seek-broker-kill.js'
import { postgresRestartScenario } from './postgres-restart.js'

/**
 * `npm run test:faults` (also a suite of `npm test`): faults injected into real processes —
 * kill -9 of recover itself, kill -9 and SIGSTOP of a broker, a PostgreSQL restart, a full
 * disk — and what survived counted record by record. Scenarios that kill or freeze a broker
 * run on a broker of their own, the PostgreSQL restart on a server of its own; the others use
 * the run's shared broker and the shared PostgreSQL. The suite ends with a table.
 * RECOVER_FAULTS=2,3 runs only those scenarios; RECOVER_FAULT_SEED fixes the kill targets.
 */
const seed = Number(process.env.RECOVER_FAULT_SEED ?? Date.now() % 1_000_000)
let own: LocalKafka | undefined
const ownBroker = (): LocalKafka => {
  if (!own) throw new Error('the fault broker did not start')
  return own
}

const SCENARIOS: FaultScenario[] = [
  replayCrashScenario('file', testBrokers, seed),
  replayCrashScenario('kafka', testBrokers, seed + 1),
  replayCrashScenario('postgres', testBrokers, seed + 2),
  replayCrashScenario('eos', testBrokers, seed + 3),
  brokerKilledScenario(ownBroker),
  brokerFrozenScenario(ownBroker),
  postgresRestartScenario(testBrokers),
  seekBrokerKilledScenario(ownBroker),
  ...diskFullScenarios(testBrokers),
]

const only = process.env.RECOVER_FAULTS?.split(',').map((s) => s.trim())
const selected = SCENARIOS.filter((s) => !only || only.some((o) => s.id === o || s.id.startsWith(`${o}-`)))
const results: Array<{ scenario: FaultScenario; result?: ScenarioResult; error?: string }> = []
const log = (line: string) => process.stderr.write(`${line}\n`)

test.before(
  withTimeout(120_000, async () => {
    log(`fault suite: seed ${seed} (RECOVER_FAULT_SEED=${seed} repeats the kill targets)`)
    if (selected.some((s) => ['2', '3', '5'].includes(s.id))) own = await startLocalKafka({})
  }),
)

test.after(async () => {
  await own?.stop()
  process.stdout.write(`\n${renderFaultTable(results)}\n`)
})

for (const scenario of selected) {
  test(
    `scenario ${scenario.id}: ${scenario.title}`,
    withTimeout(scenario.timeoutMs, async () => {
      log(`\n[scenario ${scenario.id}] ${scenario.title}`)
      const entry: (typeof results)[number] = { scenario }
      results.push(entry)
      try {
        entry.result = await scenario.run(log)
      } catch (error) {
        entry.error = error instanceof Error ? error.message : String(error)
        throw error
      }
      assert.is(entry.result.lost, 0, 'records lost')
    }),
  )
}

test.run()
