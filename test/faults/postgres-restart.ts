import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as assert from 'uvu/assert'
import { uniqueName } from '../support/kafka.js'
import { canStartPrivatePostgres, startPrivatePostgres } from '../support/private-postgres.js'
import {
  checkpointRead,
  createIdTableWithWriteLog,
  misattributedRows,
  runCliTo,
  seedTopic,
  startCli,
  tally,
  waitForProgress,
  writtenIds,
  type FaultScenario,
} from './fault-support.js'

const RECORDS = 5_000
const BATCH = 250
const RESTARTS = [0.3, 0.65]

/**
 * Scenario 4: the PostgreSQL sink's server restarted (pg_ctl restart -m fast: the open
 * transaction is cut off) twice mid-replay. The replay must complete by itself, or stop with
 * its resume command and complete after `--resume`; 0 lost, and (a trigger logs every row
 * write) no record applied twice. The server is a private one started for the scenario with
 * initdb and pg_ctl as the postgres user; the machine's shared PostgreSQL is never touched.
 */
export function postgresRestartScenario(brokers: () => string): FaultScenario {
  return {
    id: '4',
    title: `PostgreSQL restarted ${RESTARTS.length} times mid-replay (a private server)`,
    timeoutMs: 240_000,
    async run(log) {
      if (!canStartPrivatePostgres()) {
        log('  skipped: starting a private PostgreSQL needs root (runuser -u postgres)')
        return { faults: 0, recordsIn: 0, recordsOut: 0, lost: 0, duplicated: 0, notes: [], skipped: 'needs root (runuser -u postgres)' }
      }
      const dir = mkdtempSync(join(tmpdir(), 'recover-fault-4-'))
      const topic = uniqueName('fault4-pg')
      await seedTopic(brokers(), topic, RECORDS)
      const server = await startPrivatePostgres()
      log(`  a private PostgreSQL on ${server.url}`)
      try {
        const { table, log: writeLog } = await createIdTableWithWriteLog('fault4_orders', server.url)
        const checkpoint = join(dir, 'cp.json')
        const args = [
          'replay',
          '--topic',
          topic,
          '--value-format',
          'json',
          '--sink',
          `${server.url}?table=${table}&key=id`,
          '--create-table',
          '--quarantine',
          `file:${join(dir, 'q.jsonl')}`,
          '--checkpoint',
          checkpoint,
          '--batch-size',
          String(BATCH),
          '--rate',
          '700',
          '--json',
        ]
        const run = startCli(args, { cwd: dir, brokers: brokers() })
        const limit = setTimeout(() => run.child.kill('SIGKILL'), 180_000)
        let restarts = 0
        try {
          for (const share of RESTARTS) {
            const at = Math.floor(RECORDS * share)
            if ((await waitForProgress(checkpoint, at, run, 90_000)) === 'ended') break
            const started = Date.now()
            server.restart()
            restarts++
            log(`  restart ${restarts}: at ${checkpointRead(checkpoint)} records checkpointed, the server was back after ${Date.now() - started} ms`)
          }
        } catch (error) {
          run.child.kill('SIGKILL')
          throw error
        }
        const ended = await run.done
        clearTimeout(limit)
        let resumed = 0
        let outcome = `the replay completed by itself (exit ${ended.code})`
        let summary: any
        if (ended.code === 0) summary = JSON.parse(run.stdout())
        else {
          // Allowed: a stop with exit 5 and the command that resumes it.
          assert.is(ended.code, 5, run.stdout() + run.stderr())
          const failure = (JSON.parse(run.stdout()) as { error: { code: string; details?: { resumeCommand?: string } } }).error
          assert.ok(failure.details?.resumeCommand, 'the stop names its resume command')
          outcome = `the replay stopped with exit 5 (${failure.code}) and its resume command; --resume completed it`
          const again = await runCliTo([...args, '--resume'], { cwd: dir, brokers: brokers(), timeoutMs: 120_000 })
          assert.is(again.code, 0, again.stderr)
          summary = again.json
          resumed++
        }
        assert.is(restarts, RESTARTS.length, 'the replay was still running at every restart point')
        assert.ok(summary.finished && summary.reconciled, 'finished and reconciled')
        assert.is(summary.totals.read, RECORDS)
        const t = tally(RECORDS, await writtenIds(writeLog, server.url))
        const wrong = await misattributedRows(table, server.url)
        log(
          `  ${outcome}; summary: read ${summary.totals.read}, written ${summary.totals.written}; the trigger logged ${t.out} row writes: ${t.lost} lost, ${t.duplicated} duplicated; ${wrong} rows with another record's provenance`,
        )
        assert.is(t.lost, 0, 'lost')
        assert.is(t.duplicated, 0, 'a batch cut off by the restart is redone, not applied twice')
        assert.is(wrong, 0, 'provenance')
        return {
          faults: restarts,
          recordsIn: RECORDS,
          recordsOut: t.out,
          lost: t.lost,
          duplicated: t.duplicated,
          notes: [outcome, ...(resumed ? ['resumed once'] : [])],
        }
      } finally {
        server.remove()
      }
    },
  }
}
