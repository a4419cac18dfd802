import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as assert from 'uvu/assert'
import { createRng } from '../../src/fixtures/prng.js'
import { uniqueName } from '../support/kafka.js'
import { checkpointRead, readEnvelopeValues, readTopicValues, runCliTo, seedTopic, sleep, startCli, tally, waitForProgress, type FaultScenario } from './fault-support.js'

const RECORDS = 20_000
const BATCH = 500
const CRASHES = 10

/**
 * Scenario 1: `kill -9` of a replay at random points, resumed each time. Sinks that cut back
 * to their checkpoint (files) must end with every record exactly once; sinks that cannot
 * (plain Kafka) with every record at least once, duplicates at most one batch per crash and
 * exactly as many as the summary reports. PostgreSQL and exactly-once Kafka are further
 * entries of this shape (0 duplicated).
 */
export function replayCrashScenario(sink: 'file' | 'kafka', brokers: () => string, seed: number): FaultScenario {
  return {
    id: `1-${sink}`,
    title: `kill -9 of a replay at ${CRASHES} random points, resumed each time (${sink === 'file' ? 'JSONL file' : 'plain Kafka'} sink)`,
    timeoutMs: 300_000,
    async run(log) {
      const rng = createRng(seed)
      const dir = mkdtempSync(join(tmpdir(), `recover-fault-1-${sink}-`))
      const topic = uniqueName(`fault1-${sink}`)
      await seedTopic(brokers(), topic, RECORDS)
      const out = sink === 'file' ? `file:${join(dir, 'out.jsonl')}` : `kafka:${topic}.out`
      const checkpoint = join(dir, 'cp.json')
      // Slowed to about 6 s a run so the kills land inside it.
      const args = ['replay', '--topic', topic, '--sink', out, '--quarantine', `file:${join(dir, 'q.jsonl')}`, '--checkpoint', checkpoint, '--batch-size', String(BATCH), '--rate', '3500']
      let crashes = 0
      for (let k = 1; k <= CRASHES; k++) {
        // Kill points spread over the range, at a random spot in the k-th slice, plus up to
        // 150 ms so they do not all land just after a checkpoint write.
        // Each run makes progress (a batch past where the last one stopped) before its kill.
        const target = Math.max(checkpointRead(checkpoint) + 1, Math.floor((RECORDS * (k - 1 + rng.next())) / (CRASHES + 1)))
        const run = startCli([...args, ...(existsSync(checkpoint) ? ['--resume'] : [])], { cwd: dir, brokers: brokers() })
        const at = await waitForProgress(checkpoint, target, run, 60_000)
        if (at === 'ended') {
          log(`  run ${k}: ended before the kill point (${target} records): ${run.stderr().trim().split('\n').at(-1)}`)
          continue
        }
        await sleep(rng.int(150))
        run.child.kill('SIGKILL')
        await run.done
        crashes++
        log(`  crash ${crashes}: kill -9 at ${checkpointRead(checkpoint)} records checkpointed (kill point ${target})`)
      }
      const final = await runCliTo([...args, '--resume', '--json'], { cwd: dir, brokers: brokers(), timeoutMs: 120_000 })
      assert.is(final.code, 0, final.stderr)
      const s = final.json
      assert.ok(s.finished && s.reconciled, 'finished and reconciled')
      assert.is(s.totals.read, RECORDS)
      const values = sink === 'file' ? readEnvelopeValues(join(dir, 'out.jsonl')) : await readTopicValues(brokers(), `${topic}.out`)
      const t = tally(RECORDS, values)
      log(`  resumed ${s.resumes} times; summary: read ${s.totals.read}, written ${s.totals.written}, re-sent (reported) ${s.resent}; found ${t.out} in the sink: ${t.lost} lost, ${t.duplicated} duplicated`)
      assert.is(t.lost, 0, 'lost')
      if (sink === 'file') assert.is(t.duplicated, 0, 'a file sink is cut back to its checkpoint: no duplicates')
      assert.is(t.duplicated, s.resent, 'duplicates are exactly the re-sends the summary reports')
      assert.ok(t.duplicated <= crashes * BATCH, `at most one batch (${BATCH}) per crash`)
      return { faults: crashes, recordsIn: RECORDS, recordsOut: t.out, lost: t.lost, duplicated: t.duplicated, notes: [] }
    },
  }
}
