import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as assert from 'uvu/assert'
import type { LocalKafka } from '../../src/local-kafka/index.js'
import { uniqueName } from '../support/kafka.js'
import { checkpointRead, readTopicValues, seedTopic, sleep, startCli, tally, waitForProgress, type FaultScenario } from './fault-support.js'

const RECORDS = 20_000
const BATCH = 500

async function replayThroughFault(
  broker: () => LocalKafka,
  name: string,
  inject: (b: LocalKafka, log: (line: string) => void) => Promise<void>,
  log: (line: string) => void,
): Promise<{
  stderr: string
  stdout: string
  code: number | null
  checkpoint: { resent: number; finished: boolean; partitions: Array<{ read: number; written: number }> }
  tally: ReturnType<typeof tally>
}> {
  const b = broker()
  const dir = mkdtempSync(join(tmpdir(), `recover-fault-${name}-`))
  const topic = uniqueName(`fault-${name}`)
  await seedTopic(b.brokers, topic, RECORDS)
  const checkpoint = join(dir, 'cp.json')
  const run = startCli(
    [
      'replay',
      '--topic',
      topic,
      '--sink',
      `kafka:${topic}.out`,
      '--quarantine',
      `file:${join(dir, 'q.jsonl')}`,
      '--checkpoint',
      checkpoint,
      '--batch-size',
      String(BATCH),
      '--rate',
      '2500',
      '--broker-wait',
      '2m',
      '--progress-interval',
      '2s',
    ],
    { cwd: dir, brokers: b.brokers },
  )
  const timer = setTimeout(() => run.child.kill('SIGKILL'), 240_000)
  try {
    assert.is(await waitForProgress(checkpoint, RECORDS / 4, run, 60_000), 'reached', 'the replay reached a quarter before the fault')
    log(`  fault at ${checkpointRead(checkpoint)} of ${RECORDS} records checkpointed`)
    await inject(b, log)
    const { code } = await run.done
    const cp = JSON.parse(readFileSync(checkpoint, 'utf8')) as { resent: number; finished: boolean; partitions: Array<{ read: number; written: number }> }
    const t = tally(RECORDS, await readTopicValues(b.brokers, `${topic}.out`))
    return { stderr: run.stderr(), stdout: run.stdout(), code, checkpoint: cp, tally: t }
  } finally {
    clearTimeout(timer)
  }
}

/** Scenario 2: the broker is killed (-9) mid-replay and restarted on the same data; the replay waits, reconnects, completes. */
export function brokerKilledScenario(broker: () => LocalKafka): FaultScenario {
  return {
    id: '2',
    title: 'broker kill -9 mid-replay, restarted on the same data',
    timeoutMs: 300_000,
    async run(log) {
      const r = await replayThroughFault(
        broker,
        'broker-kill',
        async (b, log) => {
          b.kill('SIGKILL')
          await b.whenExited()
          log('  broker killed (-9); restarting it on the same data dir')
          const started = Date.now()
          await b.restart()
          log(`  broker back after ${((Date.now() - started) / 1000).toFixed(1)} s`)
        },
        log,
      )
      const waiting = r.stderr.split('\n').filter((l) => /Waiting|answers again/.test(l))
      for (const l of waiting) log(`  replay said: ${l}`)
      assert.is(r.code, 0, r.stderr)
      assert.ok(r.checkpoint.finished, 'finished')
      assert.ok(
        waiting.some((l) => /^Waiting for Kafka since/.test(l)),
        'the replay said it was waiting for Kafka',
      )
      log(
        `  found ${r.tally.out} in the sink: ${r.tally.lost} lost${r.tally.lost > 0 ? ` (ids ${r.tally.lostRanges.slice(0, 8).join(', ')})` : ''}, ${r.tally.duplicated} duplicated (re-sent, reported: ${r.checkpoint.resent}); checkpoint: ${JSON.stringify(r.checkpoint.partitions.map((p) => ({ read: p.read, written: p.written })))}`,
      )
      assert.is(r.tally.lost, 0)
      assert.is(r.tally.duplicated, r.checkpoint.resent)
      assert.ok(r.tally.duplicated <= BATCH)
      return { faults: 1, recordsIn: RECORDS, recordsOut: r.tally.out, lost: r.tally.lost, duplicated: r.tally.duplicated, notes: [] }
    },
  }
}

/** Scenario 3: the broker is frozen (SIGSTOP) for 20 s, then thawed; the replay stalls, says it waits, completes. */
export function brokerFrozenScenario(broker: () => LocalKafka): FaultScenario {
  return {
    id: '3',
    title: 'broker frozen (SIGSTOP) for 20 s, then SIGCONT',
    timeoutMs: 300_000,
    async run(log) {
      const r = await replayThroughFault(
        broker,
        'broker-stop',
        async (b, log) => {
          b.kill('SIGSTOP')
          log('  broker frozen (SIGSTOP) for 20 s')
          try {
            await sleep(20_000)
          } finally {
            b.kill('SIGCONT')
          }
          log('  broker thawed (SIGCONT)')
        },
        log,
      )
      const waiting = r.stderr.split('\n').filter((l) => /Waiting|answers again/.test(l))
      for (const l of waiting) log(`  replay said: ${l}`)
      assert.is(r.code, 0, r.stderr)
      assert.ok(r.checkpoint.finished, 'finished')
      assert.ok(
        waiting.some((l) => /^Waiting /.test(l)),
        'the progress output said it was waiting',
      )
      log(
        `  found ${r.tally.out} in the sink: ${r.tally.lost} lost${r.tally.lost > 0 ? ` (ids ${r.tally.lostRanges.slice(0, 8).join(', ')})` : ''}, ${r.tally.duplicated} duplicated (re-sent, reported: ${r.checkpoint.resent}); checkpoint: ${JSON.stringify(r.checkpoint.partitions.map((p) => ({ read: p.read, written: p.written })))}`,
      )
      assert.is(r.tally.lost, 0)
      assert.is(r.tally.duplicated, r.checkpoint.resent)
      assert.ok(r.tally.duplicated <= BATCH)
      return { faults: 1, recordsIn: RECORDS, recordsOut: r.tally.out, lost: r.tally.lost, duplicated: r.tally.duplicated, notes: [] }
    },
  }
}
