import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as assert from 'uvu/assert'
import { createRng } from '../../src/fixtures/prng.js'
import { uniqueName } from '../support/kafka.js'
import { dropTestTables, PG_URL, testTable } from '../support/postgres.js'
import {
  checkpointRead,
  createIdTableWithWriteLog,
  misattributedRows,
  readEnvelopeValues,
  readTopicValues,
  runCliTo,
  seedTopic,
  sleep,
  startCli,
  tally,
  waitForProgress,
  writtenIds,
  type FaultScenario,
} from './fault-support.js'

const CRASHES = 10

/** The sinks scenario 1 kills a replay into. */
export type CrashSink = 'file' | 'kafka' | 'postgres' | 'eos'

/**
 * Per sink: records and batch size, and a rate that makes a run last about 6 s so the kills
 * land inside it. The PostgreSQL and exactly-once runs are smaller and slower (a transaction
 * per batch): each run starts with a burst of a second's worth of records (--rate's bucket
 * starts full), which must stay well under the distance between two kill points (records / 11)
 * or a kill lands after the next point and the last runs find nothing left to kill.
 */
const SIZES: Record<CrashSink, { records: number; batch: number; rate: number; label: string }> = {
  file: { records: 20_000, batch: 500, rate: 3500, label: 'JSONL file sink' },
  kafka: { records: 20_000, batch: 500, rate: 3500, label: 'plain Kafka sink' },
  postgres: { records: 6_000, batch: 200, rate: 400, label: 'PostgreSQL sink' },
  eos: { records: 6_000, batch: 200, rate: 400, label: 'exactly-once Kafka sink' },
}

/**
 * Scenario 1: `kill -9` of a replay at random points, resumed each time. Sinks that cut back
 * to their checkpoint (files) or commit it with the batch (PostgreSQL, exactly-once Kafka)
 * must end with every record exactly once; plain Kafka with every record at least once,
 * duplicates at most one batch per crash and exactly as many as the summary reports.
 *
 * PostgreSQL: the table is created beforehand with a trigger that logs every row write, so a
 * record applied twice counts as a duplicate even though the upsert leaves one row (the replay
 * still gets --create-table, and finds the table). Exactly-once Kafka: the output is read in
 * read_committed isolation, as a transactional consumer would.
 */
export function replayCrashScenario(sink: CrashSink, brokers: () => string, seed: number): FaultScenario {
  const { records: RECORDS, batch: BATCH, rate, label } = SIZES[sink]
  const exact = sink !== 'kafka'
  return {
    id: `1-${sink}`,
    title: `kill -9 of a replay at ${CRASHES} random points, resumed each time (${label})`,
    timeoutMs: 300_000,
    async run(log) {
      const rng = createRng(seed)
      const dir = mkdtempSync(join(tmpdir(), `recover-fault-1-${sink}-`))
      const topic = uniqueName(`fault1-${sink}`)
      await seedTopic(brokers(), topic, RECORDS)
      const table = sink === 'postgres' ? await createIdTableWithWriteLog(testTable('fault1_pg'), PG_URL) : undefined
      try {
        const out =
          sink === 'file'
            ? ['--sink', `file:${join(dir, 'out.jsonl')}`]
            : sink === 'postgres'
              ? ['--sink', `${PG_URL}?table=${table!.table}&key=id`, '--create-table', '--value-format', 'json']
              : ['--sink', `kafka:${topic}.out`, ...(sink === 'eos' ? ['--exactly-once'] : [])]
        const checkpoint = join(dir, 'cp.json')
        const args = [
          'replay',
          '--topic',
          topic,
          ...out,
          '--quarantine',
          `file:${join(dir, 'q.jsonl')}`,
          '--checkpoint',
          checkpoint,
          '--batch-size',
          String(BATCH),
          '--rate',
          String(rate),
          ...(exact && sink !== 'file' ? ['--commit-interval', '250ms'] : []),
        ]
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
        const values =
          sink === 'file'
            ? readEnvelopeValues(join(dir, 'out.jsonl'))
            : sink === 'postgres'
              ? await writtenIds(table!.log, PG_URL)
              : await readTopicValues(brokers(), `${topic}.out`)
        const t = tally(RECORDS, values)
        const what = sink === 'postgres' ? 'row writes logged by the trigger' : sink === 'eos' ? 'records a read_committed reader sees' : 'records in the sink'
        log(
          `  resumed ${s.resumes} times; summary: read ${s.totals.read}, written ${s.totals.written}, re-sent (reported) ${s.resent}; found ${t.out} ${what}: ${t.lost} lost, ${t.duplicated} duplicated${t.lostRanges.length > 0 ? ` (lost ids ${t.lostRanges.slice(0, 5).join(', ')})` : ''}`,
        )
        assert.is(t.lost, 0, 'lost')
        if (exact) assert.is(t.duplicated, 0, `the ${label} ends with every record exactly once`)
        assert.is(t.duplicated, s.resent, 'duplicates are exactly the re-sends the summary reports')
        assert.ok(t.duplicated <= crashes * BATCH, `at most one batch (${BATCH}) per crash`)
        if (table) {
          const wrong = await misattributedRows(table.table, PG_URL)
          log(`  ${wrong} rows whose provenance (source_partition, source_offset) is not their record's`)
          assert.is(wrong, 0, 'every row carries its own source record as provenance')
        }
        return { faults: crashes, recordsIn: RECORDS, recordsOut: t.out, lost: t.lost, duplicated: t.duplicated, notes: [] }
      } finally {
        if (table) await dropTestTables(PG_URL)
      }
    },
  }
}
