/**
 * `npm test`: one broker for the whole run, then the unit, integration and end-to-end suites
 * (each a uvu process), then the broker stops. The last line is "N passed, N failed".
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describeLocalKafkaEvent, startLocalKafka, type LocalKafka } from '../../src/local-kafka/index.js'
import { collectFailures, describeFailures, type TestFailure } from './failure-digest.js'
import { repoRoot } from './paths.js'

const SUITES = ['unit', 'integration', 'e2e', 'faults']
const SUITE_TIMEOUT_MS = 20 * 60_000
const LINGER_MS = 3_000

interface SuiteResult {
  suite: string
  passed: number
  failed: number
  skipped: number
  ms: number
  failures: TestFailure[]
}

async function main(): Promise<number> {
  const root = repoRoot()
  const only = process.argv.slice(2)
  const suites = only.length > 0 ? only : SUITES
  let broker: LocalKafka | undefined
  let clusterB: LocalKafka | undefined
  const env = { ...process.env }
  if (!env.RECOVER_TEST_BROKERS && suites.some((s) => s !== 'unit')) {
    const started = Date.now()
    process.stderr.write('Starting a local Kafka broker for the tests…\n')
    // A second cluster for the e2e tests that prove nothing crosses clusters (same group and
    // topic names on both); started alongside the first, so it costs no extra wall time.
    const wantB = !env.RECOVER_TEST_BROKERS_B && suites.some((s) => s === 'e2e' || s === 'integration')
    const [a, b] = await Promise.all([
      startLocalKafka({ onProgress: (e) => process.stderr.write(`  ${describeLocalKafkaEvent(e)}\n`) }),
      wantB ? startLocalKafka({}) : Promise.resolve(undefined),
    ])
    broker = a
    clusterB = b
    env.RECOVER_TEST_BROKERS = broker.brokers
    env.RECOVER_TEST_SASL_BROKERS = broker.saslBrokers
    env.RECOVER_KAFKA_VERSION = broker.version
    if (clusterB) env.RECOVER_TEST_BROKERS_B = clusterB.brokers
    process.stderr.write(
      `Kafka ${broker.version} on ${broker.brokers}${clusterB ? `, a second cluster on ${clusterB.brokers}` : ''} (ready in ${Date.now() - started} ms)\n`,
    )
  }
  const results: SuiteResult[] = []
  try {
    for (const suite of suites) {
      const dir = join(root, 'dist', 'test', suite)
      if (!existsSync(dir)) continue
      results.push(await runSuite(suite, dir, env, root))
    }
  } finally {
    await Promise.all([broker?.stop(), clusterB?.stop()])
  }
  const passed = results.reduce((n, r) => n + r.passed, 0)
  const failed = results.reduce((n, r) => n + r.failed, 0)
  const failing = results.filter((r) => r.failures.length > 0 || r.failed > 0)
  if (failing.length > 0) {
    process.stdout.write('\nFailures:\n')
    for (const r of failing) {
      const described = describeFailures(r.suite, r.failures)
      process.stdout.write(`${described || `  ✘ ${r.suite}: the suite ended without a summary (crashed or killed; see above)`}\n`)
    }
    process.stdout.write('\n')
  }
  for (const r of results)
    process.stdout.write(`  ${r.suite.padEnd(12)} ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped (${(r.ms / 1000).toFixed(1)} s)\n`)
  process.stdout.write(`${passed} passed, ${failed} failed\n`)
  return failed === 0 && passed > 0 ? 0 : 1
}

function runSuite(suite: string, dir: string, env: NodeJS.ProcessEnv, cwd: string): Promise<SuiteResult> {
  const started = Date.now()
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(cwd, 'node_modules', 'uvu', 'bin.js'), dir, '\\.test\\.js$'], {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let output = ''
    let lingering: NodeJS.Timeout | undefined
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      process.stdout.write(chunk)
      // uvu never calls process.exit: a client socket left open would keep the suite alive
      // after its summary. The summary is the result; give the process a moment, then end it.
      if (!lingering && /Duration:\s+[\d.]+m?s/.test(output.replace(/\x1b\[[0-9;]*m/g, ''))) {
        lingering = setTimeout(() => child.kill('SIGKILL'), LINGER_MS)
      }
    })
    const timer = setTimeout(() => {
      process.stdout.write(`\n${suite}: still running after ${SUITE_TIMEOUT_MS / 60_000} minutes; killing it.\n`)
      child.kill('SIGKILL')
    }, SUITE_TIMEOUT_MS)
    child.on('close', (code) => {
      clearTimeout(timer)
      clearTimeout(lingering)
      // uvu's summary: "Total: N / Passed: N / Skipped: N" (colour codes stripped).
      const plain = output.replace(/\x1b\[[0-9;]*m/g, '')
      const count = (label: string) => Number(new RegExp(`${label}:\\s+(\\d+)`).exec(plain)?.[1] ?? 0)
      const total = count('Total')
      const passed = count('Passed')
      const skipped = count('Skipped')
      let failed = Math.max(0, total - passed - skipped)
      // A file that crashes before its summary, or a killed suite, still counts as a failure.
      const killedAfterSummary = lingering !== undefined && code === null
      if (code !== 0 && failed === 0 && !killedAfterSummary) failed = 1
      resolve({ suite, passed, failed, skipped, ms: Date.now() - started, failures: collectFailures(output) })
    })
  })
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`)
    process.stdout.write('0 passed, 1 failed\n')
    process.exit(1)
  },
)
