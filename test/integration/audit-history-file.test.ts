import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { AuditDatabase } from '../../src/duckdb/audit-db.js'
import { openAuditRunDatabase, readHistory, recordAuditRun, type AuditRunRecord } from '../../src/duckdb/history.js'

const dir = mkdtempSync(join(tmpdir(), 'recover-history-file-'))
test.after(() => rmSync(dir, { recursive: true, force: true }))

/** The audit_runs table as version 1 wrote it: no window columns. */
const VERSION_1_COLUMNS =
  'run_id VARCHAR NOT NULL, audit VARCHAR NOT NULL, topic VARCHAR NOT NULL, started_at TIMESTAMPTZ NOT NULL, elapsed_ms BIGINT, key VARCHAR, within VARCHAR, sink VARCHAR, range_json VARCHAR, records BIGINT, distinct_keys BIGINT, duplicate_keys BIGINT, extra_copies BIGINT, identical BIGINT, same_value BIGINT, changed BIGINT, value_duplicates BIGINT, undecodable BIGINT, no_key BIGINT, missing BIGINT, twice BIGINT, only_in_sink BIGINT, lost BIGINT, exceeded VARCHAR, result_json VARCHAR'

function run(runId: string, startedAt: string): AuditRunRecord {
  return {
    runId,
    audit: 'duplicates',
    topic: 'orders',
    startedAt,
    elapsedMs: 10,
    key: 'key',
    within: null,
    sink: null,
    range: [],
    windowFrom: '2024-05-01T10:00:00.000Z',
    windowTo: 'latest',
    records: 5,
    distinctKeys: 4,
    duplicateKeys: 1,
    extraCopies: 1,
    identical: 1,
    sameValue: 0,
    changed: 0,
    valueDuplicates: 0,
    undecodable: 0,
    noKey: 0,
    missing: null,
    twice: null,
    onlyInSink: null,
    lost: null,
    exceeded: [],
    result: {},
  }
}

test('a history file of version 1 (no window columns) reads with unknown windows, and the next run adds them', async () => {
  const path = join(dir, 'v1.duckdb')
  const old = await AuditDatabase.open()
  await old.attachHistory(path)
  await old.run(`CREATE TABLE history.audit_meta (name VARCHAR PRIMARY KEY, value VARCHAR)`)
  await old.run(`INSERT INTO history.audit_meta VALUES ('schema_version', '1')`)
  await old.run(`CREATE TABLE history.audit_runs (${VERSION_1_COLUMNS})`)
  await old.run(
    `INSERT INTO history.audit_runs (run_id, audit, topic, started_at, key, records, undecodable, no_key, exceeded) VALUES ('old', 'duplicates', 'orders', '2024-05-01T00:00:00Z', 'key', 3, 0, 0, '')`,
  )
  old.close()

  const reader = await AuditDatabase.open()
  await reader.attachHistory(path, { readOnly: true })
  const before = await readHistory(reader, { limit: 10 })
  reader.close()
  assert.equal(
    before[0]!.recent.map((r) => [r.runId, r.windowFrom, r.windowTo]),
    [['old', null, null]],
  )

  const { db } = await openAuditRunDatabase(undefined, path)
  await recordAuditRun(db, run('new', '2024-05-02T00:00:00Z'))
  const after = await readHistory(db, { limit: 10 })
  assert.equal(
    after[0]!.recent.map((r) => [r.runId, r.windowFrom, r.windowTo]),
    [
      ['new', '2024-05-01T10:00:00.000Z', 'latest'],
      ['old', null, null],
    ],
  )
  assert.equal((await db.one(`SELECT value FROM history.audit_meta WHERE name = 'schema_version'`)).value, '2')
  db.close()
})

test.run()
