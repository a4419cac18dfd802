/**
 * `npm run bench`: every *.bench.js in this folder, one after another, sharing one local
 * broker (or RECOVER_TEST_BROKERS). Each prints its figures and their ratio to its anchor.
 */
import { spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, platform, release, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describeLocalKafkaEvent, resolveKafkaVersion, startLocalKafka, type LocalKafka } from '../../src/local-kafka/index.js'
import { renderBenchmarksDoc, type BenchRun } from './benchmarks-doc.js'

const here = dirname(fileURLToPath(import.meta.url))
const only = process.argv.slice(2)
const benches = readdirSync(here)
  .filter((f) => f.endsWith('.bench.js'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort()

let broker: LocalKafka | undefined
const env = { ...process.env }
if (!env.RECOVER_TEST_BROKERS) {
  broker = await startLocalKafka({ onProgress: (e) => process.stderr.write(`${describeLocalKafkaEvent(e)}\n`) })
  env.RECOVER_TEST_BROKERS = broker.brokers
}
let failed = 0
const runs: BenchRun[] = []
try {
  for (const file of benches) {
    console.log(`\n== ${file}`)
    const run = await runBench(file)
    runs.push(run)
    if (run.exitCode !== 0) failed++
  }
} finally {
  await broker?.stop()
}
const doc = join(here, '..', '..', '..', 'docs', 'benchmarks.md')
const machine = {
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model.trim() ?? 'unknown CPU',
  memoryGb: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  kafka: broker?.version ?? env.RECOVER_KAFKA_VERSION ?? resolveKafkaVersion(undefined),
  os: `${platform()} ${release()}`,
}
writeFileSync(doc, renderBenchmarksDoc(existsSync(doc) ? readFileSync(doc, 'utf8') : undefined, runs, machine))
console.log(`\nWrote ${doc} (${runs.map((r) => r.file).join(', ')}).`)
process.exit(failed === 0 ? 0 : 1)

/** Runs one benchmark, showing its output live and keeping its stdout for the report. */
function runBench(file: string): Promise<BenchRun> {
  const started = Date.now()
  const at = `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(here, file)], { stdio: ['ignore', 'pipe', 'inherit'], env })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      process.stdout.write(chunk)
    })
    child.on('close', (code) => resolve({ file, output, exitCode: code ?? 1, ms: Date.now() - started, at }))
  })
}
