import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { runCli } from '../support/cli.js'
import { createTopic, produce, uniqueName, type TestRecord } from '../support/kafka.js'
import { withTimeout } from '../support/timeout.js'

/** Audit runs are kept in the --db file and `recover audit history` shows them per topic with the trend. */
let dir = ''
const BASE = Date.parse('2024-06-01T00:00:00Z')

test.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'recover-audit-history-'))
})

test.after(() => {
  rmSync(dir, { recursive: true, force: true })
})

const order = (partition: number, id: string, amount: number, i: number): TestRecord => ({
  partition,
  key: id,
  value: JSON.stringify({ id, amount }),
  timestampMs: BASE + i * 1_000,
})

test(
  'three runs build a history: newest first, counts per run, and the trend against the run before',
  withTimeout(120_000, async () => {
    const db = join(dir, 'nightly.duckdb')
    const topic = uniqueName('e2e-audit-hist')
    const other = uniqueName('e2e-audit-hist-other')
    await createTopic(topic, 2)
    await createTopic(other, 1)
    await produce(topic, [order(0, 'o-1', 5, 0), order(0, 'o-1', 5, 1), order(1, 'o-2', 7, 2)])
    await produce(other, [order(0, 'x-1', 1, 0)])
    const audit = (t: string, ...extra: string[]) => runCli(['audit', 'duplicates', '--topic', t, '--key', 'id', '--db', db, '--json', ...extra])

    const first = await audit(topic)
    assert.is(first.exitCode, 0, first.stderr)
    assert.equal(first.json.history, { db, runId: first.json.runId })
    await produce(topic, [order(1, 'o-2', 8, 3)])
    assert.is((await audit(topic)).exitCode, 0)
    await produce(topic, [order(0, 'o-3', 9, 4)])
    assert.is((await audit(topic)).exitCode, 0)
    assert.is((await audit(other)).exitCode, 0)
    // --no-history records nothing.
    const unrecorded = await audit(topic, '--no-history')
    assert.is(unrecorded.exitCode, 0)
    assert.is(unrecorded.json.history, null)

    const history = await runCli(['audit', 'history', '--db', db, '--topic', topic, '--json'])
    assert.is(history.exitCode, 0, history.stderr)
    assert.is(history.json.topics.length, 1)
    const t = history.json.topics[0]
    assert.is(t.topic, topic)
    assert.is(t.runs, 3)
    assert.equal(
      t.recent.map((r: { records: number }) => r.records),
      [5, 4, 3],
    )
    assert.equal(
      t.recent.map((r: { duplicateKeys: number }) => r.duplicateKeys),
      [2, 2, 1],
    )
    assert.equal(
      t.recent.map((r: { extraCopies: number }) => r.extraCopies),
      [2, 2, 1],
    )
    assert.is(t.recent[2].runId, first.json.runId)
    assert.equal(t.recent[0].missing, null)
    const dupTrend = t.trend.find((f: { metric: string }) => f.metric === 'duplicate keys')
    assert.equal(dupTrend, { metric: 'duplicate keys', latest: 2, previous: 2, change: 0 })

    const all = await runCli(['audit', 'history', '--db', db, '--json'])
    assert.equal(all.json.topics.map((x: { topic: string }) => x.topic).sort(), [topic, other].sort())

    const table = await runCli(['audit', 'history', '--db', db, '--topic', topic])
    assert.is(table.exitCode, 0)
    assert.match(table.stdout, new RegExp(`${topic}: 3 runs`))
    assert.match(table.stdout, /STARTED\s+FROM\s+TO\s+AUDIT\s+KEY\s+RECORDS\s+DUP-KEYS/)
    assert.match(table.stdout, /Trend \(latest run, change since the one before\): duplicate keys 2 \(±0\)/)
  }),
)

test(
  'history of a file that does not exist says so and creates nothing',
  withTimeout(30_000, async () => {
    const db = join(dir, 'never.duckdb')
    const run = await runCli(['audit', 'history', '--db', db, '--json'])
    assert.is(run.exitCode, 0, run.stderr)
    assert.equal(run.json, { db, exists: false, topics: [] })
    assert.not.ok(existsSync(db))
  }),
)

test(
  'a --db another process holds is an environment error (exit 5) before anything is scanned',
  withTimeout(60_000, async () => {
    const db = join(dir, 'locked.duckdb')
    const { DuckDBInstance } = await import('@duckdb/node-api')
    const holder = await DuckDBInstance.create(db)
    const connection = await holder.connect()
    try {
      const topic = uniqueName('e2e-audit-lock')
      await createTopic(topic, 1)
      const run = await runCli(['audit', 'duplicates', '--topic', topic, '--key', 'key', '--db', db, '--json'])
      assert.is(run.exitCode, 5)
      assert.is(run.json.error.code, 'AUDIT_DB_FAILED')
      assert.match(run.json.error.message, /lock/i)
    } finally {
      connection.closeSync()
      holder.closeSync()
    }
  }),
)

test.run()
