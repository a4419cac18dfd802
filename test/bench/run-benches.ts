/**
 * `npm run bench`: every *.bench.js in this folder, one after another, sharing one local
 * broker (or RECOVER_TEST_BROKERS). Each prints its figures and their ratio to its anchor.
 */
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describeLocalKafkaEvent, startLocalKafka, type LocalKafka } from '../../src/local-kafka/index.js'

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
try {
  for (const file of benches) {
    console.log(`\n== ${file}`)
    const result = spawnSync(process.execPath, [join(here, file)], { stdio: 'inherit', env })
    if (result.status !== 0) failed++
  }
} finally {
  await broker?.stop()
}
process.exit(failed === 0 ? 0 : 1)
