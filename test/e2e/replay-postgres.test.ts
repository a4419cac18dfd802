import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ORDER_SCHEMA_IDS, type IncidentTruth } from '../../src/fixtures/index.js'
import { seedIncident } from '../../src/fixtures/seed-incident.js'
import { installOrderedHeaders } from '../../src/kafka/ordered-headers.js'
import type { KafkaRecord } from '../../src/kafka/kafka-record.js'
import { runCli, spawnCli } from '../support/cli.js'
import { killBetweenCommits } from '../support/kill-between-commits.js'
import { testKafka, uniqueName, readTopic } from '../support/kafka.js'
import { createTableWithWriteLog, dropTestTables, expectedOrderRows, orderRows, PG_URL, query, testTable } from '../support/postgres.js'
import { canStartPrivatePostgres, startPrivatePostgres } from '../support/private-postgres.js'
import { repoRoot } from '../support/paths.js'
import { waitFor, withTimeout } from '../support/timeout.js'

installOrderedHeaders()

/**
 * The PostgreSQL sink end to end, through the built CLI: kill -9 at several points and
 * --resume leave exactly the expected rows, and a trigger that logs every row write proves no
 * source record was applied twice (an upsert alone would hide a batch written twice). A private
 * PostgreSQL server, restarted mid-replay, shows the sink reconnecting without loss.
 */
const SCHEMAS = join(repoRoot(), 'fixtures', 'schemas')
const FIX = join(repoRoot(), 'plugins', 'fix-bad-deploy.ts')
const dir = mkdtempSync(join(tmpdir(), 'recover-e2e-pg-'))
const table = () => testTable('e2e_pg')

let topic = ''
let truth: IncidentTruth
let source: KafkaRecord[] = []

/** Records read so far, as the progress committed in PostgreSQL says. */
async function committedRead(url: string): Promise<number> {
  const rows = await query<{ read: string }>(
    `SELECT coalesce(sum((p->>'read')::int), 0)::text AS read FROM recover_replay_checkpoints, jsonb_array_elements(progress->'partitions') p WHERE topic = $1`,
    [topic],
    url,
  ).catch(() => [])
  return Number(rows[0]?.read ?? 0)
}

const tableWithWriteLog = (url = PG_URL) => createTableWithWriteLog(table(), url)

/** Every non-pill source record was written exactly once, and nothing else was. */
async function assertEachRecordWrittenOnce(log: string, url = PG_URL): Promise<void> {
  const written = await query<{ p: number; o: string; n: string }>(
    `SELECT source_partition AS p, source_offset::text AS o, count(*)::text AS n FROM ${log} GROUP BY 1, 2`,
    [],
    url,
  )
  const twice = written.filter((w) => w.n !== '1')
  assert.equal(twice, [], `${twice.length} records written more than once`)
  const pills = new Set(truth.poisonPills.map((p) => `${p.partition}@${p.offset}`))
  const expected = source
    .filter((r) => !pills.has(`${r.partition}@${r.offset}`))
    .map((r) => `${r.partition}@${r.offset}`)
    .sort()
  assert.equal(written.map((w) => `${w.p}@${w.o}`).sort(), expected)
}

const argsFor = (sink: string, checkpoint: string, extra: string[] = []) => [
  'replay',
  '--topic',
  topic,
  '--value-format',
  'avro',
  '--schema',
  SCHEMAS,
  '--reader-schema',
  join(SCHEMAS, 'orders-v2.avsc'),
  '--output-schema-id',
  String(ORDER_SCHEMA_IDS.v2),
  '--transform',
  FIX,
  '--sink',
  sink,
  '--quarantine',
  `file:${checkpoint}.q.jsonl`,
  '--checkpoint',
  checkpoint,
  ...extra,
]

test.before(
  withTimeout(60_000, async () => {
    topic = uniqueName('e2e-pg')
    truth = (await seedIncident({ kafka: testKafka(), topic, count: 4_000, replicationFactor: 1 })).truth
    source = await readTopic(topic)
  }),
)

test(
  'kill -9 at three points, then --resume: exactly the expected rows, and every source record written exactly once',
  withTimeout(240_000, async () => {
    const { table: t, log } = await tableWithWriteLog()
    const checkpoint = join(dir, `${t}.json`)
    const args = argsFor(`${PG_URL}?table=${t}&key=order_id`, checkpoint, ['--batch-size', '100', '--rate', '800', '--commit-interval', '200ms'])
    await killBetweenCommits({ args, cwd: dir, kills: 3, committed: () => committedRead(PG_URL) })
    const last = await runCli([...args, '--resume', '--json'], { cwd: dir, timeoutMs: 120_000 })
    assert.is(last.exitCode, 0, last.stderr)
    const s = last.json
    assert.ok(s.finished && s.reconciled && s.resumed)
    assert.is(s.resumes, 3)
    assert.is(s.resent, 0)
    assert.is(s.duplicatesPossible, false)
    assert.is(s.totals.read, truth.count)
    assert.is(s.totals.quarantined, truth.poisonPills.length)
    assert.equal(await orderRows(t), expectedOrderRows(source, truth))
    await assertEachRecordWrittenOnce(log)
    // The quarantine holds every pill (at least once: it is not part of the transaction).
    const quarantined = new Set(
      readFileSync(`${checkpoint}.q.jsonl`, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const e = JSON.parse(l) as { partition: number; offset: string }
          return `${e.partition}@${e.offset}`
        }),
    )
    assert.equal([...quarantined].sort(), truth.poisonPills.map((p) => `${p.partition}@${p.offset}`).sort())
  }),
)

test(
  'kill -9 twice mid-replay into a DuckDB file, then --resume: every record in the table exactly once (read back with DuckDB)',
  withTimeout(180_000, async () => {
    const file = join(dir, `${table()}.duckdb`)
    const checkpoint = `${file}.json`
    const args = argsFor(`duckdb:${file}?table=orders`, checkpoint, ['--create-table', '--batch-size', '100', '--rate', '800', '--commit-interval', '200ms'])
    const fileRead = () => {
      try {
        return (JSON.parse(readFileSync(checkpoint, 'utf8')) as { partitions: Array<{ read: number }> }).partitions.reduce((n, p) => n + p.read, 0)
      } catch {
        return 0
      }
    }
    await killBetweenCommits({ args, cwd: dir, kills: 2, committed: fileRead })
    const last = await runCli([...args, '--resume', '--json'], { cwd: dir, timeoutMs: 120_000 })
    assert.is(last.exitCode, 0, last.stderr)
    assert.ok(last.json.finished && last.json.reconciled)
    const { DuckDBInstance } = await import('@duckdb/node-api')
    const instance = await DuckDBInstance.create(file)
    const connection = await instance.connect()
    try {
      const rows = (
        await connection.runAndReadAll(`SELECT source_partition::VARCHAR AS p, source_offset::VARCHAR AS o FROM orders`)
      ).getRowObjectsJson() as Array<{ p: string; o: string }>
      const pills = new Set(truth.poisonPills.map((p) => `${p.partition}@${p.offset}`))
      const expected = source
        .filter((r) => !pills.has(`${r.partition}@${r.offset}`))
        .map((r) => `${r.partition}@${r.offset}`)
        .sort()
      assert.equal(rows.map((r) => `${r.p}@${r.o}`).sort(), expected)
    } finally {
      connection.closeSync()
      instance.closeSync()
    }
  }),
)

test(
  'PostgreSQL restarted twice mid-replay: the sink reconnects, redoes the open batch, and the replay completes with exactly the expected rows',
  withTimeout(240_000, async () => {
    if (!canStartPrivatePostgres()) {
      console.warn('skipped: starting a private PostgreSQL needs root (runuser -u postgres)')
      return
    }
    const server = await startPrivatePostgres()
    try {
      const { table: t, log } = await tableWithWriteLog(server.url)
      const checkpoint = join(dir, `${t}.json`)
      const { child, done } = spawnCli(
        [...argsFor(`${server.url}?table=${t}&key=order_id`, checkpoint, ['--batch-size', '100', '--rate', '800', '--commit-interval', '300ms']), '--json'],
        { cwd: dir },
      )
      try {
        for (let restart = 1; restart <= 2; restart++) {
          // Restarted between two commits: the lost transaction held batches the sink redoes.
          const before = await committedRead(server.url)
          await waitFor(`a commit past ${before}`, async () => ((await committedRead(server.url)) > before ? true : undefined), 90_000, 20)
          await new Promise((r) => setTimeout(r, 150))
          server.restart()
        }
      } catch (error) {
        child.kill('SIGKILL')
        throw error
      }
      const result = await done
      assert.is(result.code, 0, result.stdout + result.stderr)
      const s = JSON.parse(result.stdout) as { finished: boolean; reconciled: boolean; totals: { read: number } }
      assert.ok(s.finished && s.reconciled)
      assert.is(s.totals.read, truth.count)
      assert.equal(await orderRows(t, server.url), expectedOrderRows(source, truth))
      await assertEachRecordWrittenOnce(log, server.url)
    } finally {
      server.remove()
    }
  }),
)

test(
  'PostgreSQL down for longer than --sink-retry: exit 5 SINK_UNREACHABLE with the resume command; once it is back, --resume finishes with nothing lost or doubled',
  withTimeout(240_000, async () => {
    if (!canStartPrivatePostgres()) {
      console.warn('skipped: starting a private PostgreSQL needs root (runuser -u postgres)')
      return
    }
    const server = await startPrivatePostgres()
    try {
      const { table: t, log } = await tableWithWriteLog(server.url)
      const checkpoint = join(dir, `${t}.json`)
      const args = argsFor(`${server.url}?table=${t}&key=order_id`, checkpoint, [
        '--batch-size',
        '200',
        '--rate',
        '2000',
        '--sink-retry',
        '2s',
        '--commit-interval',
        '0',
      ])
      const { child, done } = spawnCli([...args, '--json'], { cwd: dir })
      try {
        await waitFor('1000 records committed', async () => ((await committedRead(server.url)) >= 1_000 ? true : undefined), 90_000, 20)
        server.stop()
      } catch (error) {
        child.kill('SIGKILL')
        throw error
      }
      const stopped = await done
      assert.is(stopped.code, 5, stopped.stdout + stopped.stderr)
      const failure = (JSON.parse(stopped.stdout) as { error: { code: string; message: string; nextSteps: string[]; details: { resumeCommand: string } } })
        .error
      assert.is(failure.code, 'SINK_UNREACHABLE')
      assert.match(failure.message, /did not come back within 2 s/)
      assert.match(failure.details.resumeCommand, /^recover replay .* --resume/)
      assert.ok(failure.nextSteps.some((s) => s.includes(failure.details.resumeCommand)))
      server.start()
      const resumed = await runCli([...args, '--resume', '--json'], { cwd: dir, timeoutMs: 120_000 })
      assert.is(resumed.exitCode, 0, resumed.stderr)
      assert.ok(resumed.json.finished && resumed.json.reconciled)
      assert.is(resumed.json.totals.read, truth.count)
      assert.equal(await orderRows(t, server.url), expectedOrderRows(source, truth))
      await assertEachRecordWrittenOnce(log, server.url)
    } finally {
      server.remove()
    }
  }),
)

test.after(() => dropTestTables())

test.run()
