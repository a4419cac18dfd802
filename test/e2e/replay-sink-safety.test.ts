import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { Kafka, logLevel } from 'kafkajs'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { runCli, spawnCli, type CliRun } from '../support/cli.js'
import { createTopic, produce, uniqueName } from '../support/kafka.js'
import { PG_URL } from '../support/postgres.js'
import { waitFor, withTimeout } from '../support/timeout.js'
import { testBrokersB as clusterBBrokers } from '../support/kafka.js'

/**
 * The sinks' side of "no silent overwrite, no silent creation outside what was asked", and
 * honest advice after a failure, through the built CLI against the real broker, DuckDB and
 * PostgreSQL: every file-like sink refuses a file that has content; DuckDB never creates a
 * directory nor, without --create-table, a table (or its file); a replay refused before its
 * first record leaves no file it created; --resume is advised only when there is a checkpoint
 * to resume; and --resume on another cluster is refused (exit 4) with the sink untouched.
 */
const dir = mkdtempSync(join(tmpdir(), 'recover-e2e-sinks-'))
const RECORDS = 40
let topic = ''

const scratch = (name: string) => {
  const d = join(dir, uniqueName(name))
  mkdirSync(d)
  return d
}
const replayArgs = (sink: string, quarantine: string, extra: string[] = []) => [
  'replay',
  '--topic',
  topic,
  '--value-format',
  'json',
  '--sink',
  sink,
  '--quarantine',
  quarantine,
  ...extra,
  '--json',
]
const errorOf = (run: CliRun) => run.json?.error as { code: string; message: string; nextSteps: string[]; details: Record<string, unknown> } | undefined
const describe = (run: CliRun) => `exit ${run.exitCode}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`
/** Every file under a folder, recursively (what a run left behind). */
const filesIn = (folder: string): string[] =>
  readdirSync(folder, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesIn(join(folder, e.name)) : [join(folder, e.name)]))
    .sort()

function records(count: number, tag: string) {
  return Array.from({ length: count }, (_, i) => ({ partition: 0, key: `k${i}`, value: JSON.stringify({ n: i, tag }), timestampMs: Date.UTC(2018, 2, 21) + i }))
}

test.before(
  withTimeout(60_000, async () => {
    topic = uniqueName('e2e-sinks')
    await createTopic(topic, 1)
    await produce(topic, records(RECORDS, 'A'))
  }),
)

test(
  'a Parquet sink refuses a file that already has content (exit 2, as JSONL and CSV do) and leaves it byte for byte',
  withTimeout(60_000, async () => {
    const folder = scratch('parquet-exists')
    const precious = join(folder, 'precious.parquet')
    // A real Parquet file, as someone's earlier export would be.
    const instance = await DuckDBInstance.create(':memory:')
    const connection = await instance.connect()
    await connection.run(`COPY (SELECT 42 AS precious) TO '${precious}' (FORMAT parquet)`)
    connection.closeSync()
    instance.closeSync()
    const before = readFileSync(precious)

    const run = await runCli(replayArgs(`file:${precious}`, `file:${join(folder, 'q.jsonl')}`), { cwd: folder })
    assert.is(run.exitCode, 2, describe(run))
    assert.is(errorOf(run)?.code, 'USAGE')
    assert.match(
      errorOf(run)!.message,
      `The sink file ${precious} already exists and is not empty; remove it, choose another path, or continue the replay that wrote it with --resume.`,
    )
    assert.ok(readFileSync(precious).equals(before), 'the Parquet file was changed')
    assert.equal(filesIn(folder), [precious], 'nothing else is left in the folder')

    // The same refusal, word for word, from the JSONL and CSV sinks.
    for (const name of ['precious.jsonl', 'precious.csv']) {
      const file = join(folder, name)
      writeFileSync(file, 'keep me\n')
      const other = await runCli(replayArgs(`file:${file}`, `file:${join(folder, 'q.jsonl')}`), { cwd: folder })
      assert.is(other.exitCode, 2, describe(other))
      assert.match(errorOf(other)!.message, `The sink file ${file} already exists and is not empty; remove it`)
      assert.is(readFileSync(file, 'utf8'), 'keep me\n')
    }
  }),
)

test(
  'a DuckDB sink in a directory that does not exist: exit 5 like the file sinks, and the directory is not created (with or without --create-table)',
  withTimeout(60_000, async () => {
    const parent = scratch('duck-nodir')
    for (const extra of [[], ['--create-table']]) {
      const run = await runCli(replayArgs(`duckdb:${join(parent, 'missing', 'd.duckdb')}?table=t`, `file:${join(parent, 'q.jsonl')}`, extra), { cwd: parent })
      assert.is(run.exitCode, 5, describe(run))
      assert.is(errorOf(run)?.code, 'SINK_FAILED')
      assert.match(
        errorOf(run)!.message,
        `The sink file ${join(parent, 'missing', 'd.duckdb')} could not be created: the directory ${join(parent, 'missing')} does not exist.`,
      )
      assert.ok(
        errorOf(run)!.nextSteps.some((s) => s.startsWith('Check that the directory exists')),
        describe(run),
      )
      assert.not.ok(existsSync(join(parent, 'missing')), 'the directory was created')
      assert.equal(filesIn(parent), [], 'no quarantine file, no checkpoint left behind')
    }
    // A JSONL sink there says the same.
    const jsonl = await runCli(replayArgs(`file:${join(parent, 'missing', 'x.jsonl')}`, `file:${join(parent, 'q.jsonl')}`), { cwd: parent })
    assert.is(jsonl.exitCode, 5, describe(jsonl))
    assert.ok(
      errorOf(jsonl)!.nextSteps.some((s) => s.startsWith('Check that the directory exists')),
      describe(jsonl),
    )
  }),
)

test(
  'a DuckDB table that does not exist needs --create-table (exit 2, like PostgreSQL): no new .duckdb file, and an existing file is left as it was',
  withTimeout(60_000, async () => {
    const folder = scratch('duck-notable')
    const fresh = join(folder, 'new.duckdb')
    const run = await runCli(replayArgs(`duckdb:${fresh}?table=t`, `file:${join(folder, 'q.jsonl')}`), { cwd: folder })
    assert.is(run.exitCode, 2, describe(run))
    assert.is(errorOf(run)?.code, 'SINK_TABLE_INVALID')
    assert.match(errorOf(run)!.message, `Table t does not exist in ${fresh}; create it, or add --create-table to create it from the first records.`)
    assert.equal(filesIn(folder), [], 'no .duckdb (or .wal, quarantine, checkpoint) file left behind')

    // An existing database without the table: refused, and no table of ours added to it.
    const existing = join(folder, 'existing.duckdb')
    const instance = await DuckDBInstance.create(existing)
    const connection = await instance.connect()
    await connection.run('CREATE TABLE other (x INTEGER)')
    connection.closeSync()
    instance.closeSync()
    const again = await runCli(replayArgs(`duckdb:${existing}?table=t`, `file:${join(folder, 'q.jsonl')}`), { cwd: folder })
    assert.is(again.exitCode, 2, describe(again))
    assert.is(errorOf(again)?.code, 'SINK_TABLE_INVALID')
    const check = await DuckDBInstance.create(existing)
    const c = await check.connect()
    const tables = (await c.runAndReadAll('SELECT table_name FROM information_schema.tables ORDER BY 1')).getRows().map((r) => String(r[0]))
    c.closeSync()
    check.closeSync()
    assert.equal(tables, ['other'])

    // With --create-table it is created and filled.
    const created = await runCli(replayArgs(`duckdb:${fresh}?table=t`, `file:${join(folder, 'q.jsonl')}`, ['--create-table']), { cwd: folder })
    assert.is(created.exitCode, 0, describe(created))
    assert.is(created.json.totals.written, RECORDS)
  }),
)

test(
  'a replay refused before its first record leaves no file it created, for every file-like sink: quarantine file exists, quarantine directory missing, checkpoint not writable',
  withTimeout(120_000, async () => {
    const sinks: Array<{ name: string; uri: (folder: string) => string; extra?: string[] }> = [
      { name: 'jsonl', uri: (f) => `file:${join(f, 'out.jsonl')}` },
      { name: 'csv', uri: (f) => `file:${join(f, 'out.csv')}` },
      { name: 'parquet', uri: (f) => `file:${join(f, 'out.parquet')}` },
      { name: 'duckdb', uri: (f) => `duckdb:${join(f, 'out.duckdb')}?table=t`, extra: ['--create-table'] },
    ]
    for (const sink of sinks) {
      // The quarantine file already has content: refused (exit 2), the sink file is not left behind.
      const a = scratch(`refused-${sink.name}`)
      writeFileSync(join(a, 'q.jsonl'), 'earlier dead letters\n')
      const exists = await runCli(replayArgs(sink.uri(a), `file:${join(a, 'q.jsonl')}`, [...(sink.extra ?? []), '--checkpoint', join(a, 'cp.json')]), {
        cwd: a,
      })
      assert.is(exists.exitCode, 2, `${sink.name}: ${describe(exists)}`)
      assert.match(errorOf(exists)!.message, /The quarantine file .* already exists and is not empty/)
      assert.equal(filesIn(a), [join(a, 'q.jsonl')], `${sink.name}: only the quarantine file that was there`)

      // The quarantine cannot be created (its directory is missing): exit 5, nothing left.
      const b = scratch(`noquarantine-${sink.name}`)
      const missing = await runCli(
        replayArgs(sink.uri(b), `file:${join(b, 'missing', 'q.jsonl')}`, [...(sink.extra ?? []), '--checkpoint', join(b, 'cp.json')]),
        { cwd: b },
      )
      assert.is(missing.exitCode, 5, `${sink.name}: ${describe(missing)}`)
      assert.equal(filesIn(b), [], `${sink.name}: nothing left behind`)

      // The checkpoint cannot be written (its path is a folder): exit 5, nothing left but that folder's file.
      const c = scratch(`nocheckpoint-${sink.name}`)
      mkdirSync(join(c, 'cp.json'))
      writeFileSync(join(c, 'cp.json', 'keep'), 'x')
      const noCheckpoint = await runCli(replayArgs(sink.uri(c), `file:${join(c, 'q.jsonl')}`, [...(sink.extra ?? []), '--checkpoint', join(c, 'cp.json')]), {
        cwd: c,
      })
      assert.is(noCheckpoint.exitCode, 5, `${sink.name}: ${describe(noCheckpoint)}`)
      assert.is(errorOf(noCheckpoint)?.code, 'CHECKPOINT_FAILED')
      assert.equal(filesIn(c), [join(c, 'cp.json', 'keep')], `${sink.name}: nothing left behind`)
    }
  }),
)

test(
  'a first run that fails before any checkpoint advises running the same command again, never --resume; a failure after a checkpoint gives the --resume command, which works',
  withTimeout(120_000, async () => {
    // PostgreSQL database that does not exist.
    const a = scratch('advice-pg')
    const noDb = await runCli(
      replayArgs(`${PG_URL.replace(/\/[^/]*$/, '/nosuchdb_recover_e2e')}?table=t&key=n`, `file:${join(a, 'q.jsonl')}`, ['--create-table']),
      { cwd: a },
    )
    assert.is(noDb.exitCode, 5, describe(noDb))
    assert.is(errorOf(noDb)?.code, 'SINK_UNREACHABLE')
    assert.match(errorOf(noDb)!.message, /database "nosuchdb_recover_e2e" does not exist/)
    assert.not.match(JSON.stringify(errorOf(noDb)), /--resume/)
    assert.ok(
      errorOf(noDb)!.nextSteps.includes('Nothing was written and no checkpoint was kept: once the cause is fixed, run the same command again.'),
      describe(noDb),
    )
    assert.equal(filesIn(a), [], 'no quarantine file, no checkpoint')
    const plain = await runCli(
      replayArgs(`${PG_URL.replace(/\/[^/]*$/, '/nosuchdb_recover_e2e')}?table=t&key=n`, `file:${join(a, 'q.jsonl')}`, ['--create-table']).filter(
        (x) => x !== '--json',
      ),
      { cwd: a },
    )
    assert.not.match(plain.stderr, /--resume/)
    assert.match(plain.stderr, /run the same command again/)

    // A checkpoint that cannot be written (a folder at its path).
    const b = scratch('advice-checkpoint')
    mkdirSync(join(b, 'cp.json'))
    writeFileSync(join(b, 'cp.json', 'keep'), 'x')
    const noCheckpoint = await runCli(replayArgs(`file:${join(b, 'out.jsonl')}`, `file:${join(b, 'q.jsonl')}`, ['--checkpoint', join(b, 'cp.json')]), {
      cwd: b,
    })
    assert.is(noCheckpoint.exitCode, 5, describe(noCheckpoint))
    assert.not.match(JSON.stringify(errorOf(noCheckpoint)), /--resume/)
    assert.match(errorOf(noCheckpoint)!.nextSteps.join('\n'), /run the same command again/)

    // A sink plugin that fails on its second batch, once: the first batch is checkpointed,
    // so the advice is the --resume command, and that command finishes the replay.
    const c = scratch('advice-later')
    const plugin = join(c, 'flaky-sink.mjs')
    writeFileSync(
      plugin,
      `import { appendFileSync, existsSync, writeFileSync } from 'node:fs'
import { defineSink } from 'recover/plugin-api'
let target
let batches = 0
export default defineSink({ name: 'flaky', version: '1.0.0',
  open(ctx) { target = ctx.target },
  write(records) {
    batches++
    if (batches === 2 && !existsSync(target + '.failed')) { writeFileSync(target + '.failed', ''); throw new Error('the sink is down') }
    for (const r of records) appendFileSync(target, JSON.stringify(r.decodedValue) + '\\n')
    return { rejected: [] }
  },
})
`,
    )
    const out = join(c, 'out.jsonl')
    const args = replayArgs(`plugin:${plugin}#${out}`, `file:${join(c, 'q.jsonl')}`, ['--checkpoint', join(c, 'cp.json'), '--batch-size', '10'])
    const failed = await runCli(args, { cwd: c })
    assert.is(failed.exitCode, 5, describe(failed))
    const resume = errorOf(failed)!.details.resumeCommand as string
    assert.match(resume, / --resume$/)
    assert.ok(errorOf(failed)!.nextSteps.includes(`Continue with: ${resume}`), describe(failed))
    const resumed = await runCli([...args, '--resume'], { cwd: c })
    assert.is(resumed.exitCode, 0, describe(resumed))
    assert.is(resumed.json.totals.written, RECORDS)
    assert.is(readFileSync(out, 'utf8').trim().split('\n').length, RECORDS)
  }),
)

test(
  "the default checkpoint lives in the state folder, keyed by the resolved sink: two folders' file:out.jsonl never share one, and nothing goes to ./.recover",
  withTimeout(60_000, async () => {
    const home = scratch('state')
    const results: CliRun[] = []
    const folders = [scratch('folder-a'), scratch('folder-b')]
    for (const folder of folders) results.push(await runCli(replayArgs('file:out.jsonl', 'file:q.jsonl'), { cwd: folder, env: { RECOVER_HOME: home } }))
    for (const r of results) assert.is(r.exitCode, 0, describe(r))
    const checkpoints = results.map((r) => r.json.checkpoint as string)
    for (const cp of checkpoints) assert.ok(cp.startsWith(join(home, 'checkpoints', `replay-${topic}-`)), cp)
    assert.is.not(checkpoints[0], checkpoints[1])
    assert.equal(readdirSync(join(home, 'checkpoints')).length, 2)
    for (const folder of folders) assert.not.ok(existsSync(join(folder, '.recover')), `${folder}/.recover was created`)

    // An unfinished checkpoint an earlier version left in ./.recover/checkpoints (no cluster):
    // found by --resume and by a fresh run, and refused with how to start over.
    const old = scratch('legacy')
    const legacyDir = join(old, '.recover', 'checkpoints')
    mkdirSync(legacyDir, { recursive: true })
    const legacy = JSON.parse(readFileSync(checkpoints[0]!, 'utf8')) as Record<string, unknown>
    delete legacy.cluster
    legacy.finished = false
    writeFileSync(join(old, 'out.jsonl'), readFileSync(join(folders[0]!, 'out.jsonl')))
    writeFileSync(join(old, 'q.jsonl'), '')
    // Named as earlier versions named it: the hash of this folder's resolved sink.
    const sinkUri = `file:${join(old, 'out.jsonl')}`
    const legacyName = join(legacyDir, `replay-${topic}-${createHash('sha256').update(sinkUri).digest('hex').slice(0, 8)}.json`)
    writeFileSync(legacyName, JSON.stringify({ ...legacy, sink: sinkUri, quarantine: `file:${join(old, 'q.jsonl')}` }))
    const resumed = await runCli([...replayArgs('file:out.jsonl', 'file:q.jsonl'), '--resume'], { cwd: old, env: { RECOVER_HOME: home } })
    assert.is(resumed.exitCode, 4, describe(resumed))
    assert.is(errorOf(resumed)?.code, 'CLUSTER_MISMATCH')
    assert.match(errorOf(resumed)!.message, `The replay checkpoint ${legacyName} does not say which cluster it was recorded on`)
    assert.match(errorOf(resumed)!.nextSteps.join('\n'), `remove ${legacyName} (or pass another --checkpoint) and run the same command without --resume`)
    assert.is(readFileSync(join(old, 'out.jsonl'), 'utf8'), readFileSync(join(folders[0]!, 'out.jsonl'), 'utf8'))
  }),
)

/** Cluster B: another cluster with the same topic name and other records at the same offsets. */
const brokersB = clusterBBrokers

async function seedClusterB(name: string, count: number): Promise<void> {
  const kafka = new Kafka({ brokers: brokersB().split(','), clientId: 'recover-tests', logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  try {
    await admin.createTopics({ topics: [{ topic: name, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true })
  } finally {
    await admin.disconnect()
  }
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  try {
    await producer.send({
      topic: name,
      acks: -1,
      messages: records(count, 'B').map((r) => ({ partition: 0, key: r.key, value: r.value, timestamp: String(r.timestampMs) })),
    })
  } finally {
    await producer.disconnect()
  }
}

test(
  '--resume on cluster B of a replay checkpointed on cluster A: exit 4 CLUSTER_MISMATCH, the sink and the checkpoint untouched; a checkpoint that records no cluster is refused the same way, with how to start over',
  withTimeout(120_000, async () => {
    const name = uniqueName('e2e-sinks-xc')
    await createTopic(name, 1)
    await produce(name, records(400, 'A'))
    await seedClusterB(name, 400)
    const folder = scratch('cross-cluster')
    const out = join(folder, 'out.jsonl')
    const checkpoint = join(folder, 'cp.json')
    const args = [
      'replay',
      '--topic',
      name,
      '--value-format',
      'json',
      '--sink',
      `file:${out}`,
      '--quarantine',
      `file:${join(folder, 'q.jsonl')}`,
      '--checkpoint',
      checkpoint,
      '--batch-size',
      '20',
      '--rate',
      '100',
    ]
    // Stopped with Ctrl-C part way on cluster A: an unfinished checkpoint.
    const first = spawnCli(args, { cwd: folder })
    await waitFor(
      'a checkpoint with progress',
      () => {
        try {
          const c = JSON.parse(readFileSync(checkpoint, 'utf8')) as { partitions: Array<{ read: number }> }
          return c.partitions[0]!.read >= 40 ? true : undefined
        } catch {
          return undefined
        }
      },
      30_000,
      20,
    )
    first.child.kill('SIGINT')
    const stopped = await first.done
    assert.is(stopped.code, 130, stopped.stderr)
    const saved = JSON.parse(readFileSync(checkpoint, 'utf8')) as { finished: boolean; cluster?: { id: string; bootstrap: string[] } }
    assert.not.ok(saved.finished)
    assert.ok(saved.cluster?.id, 'the checkpoint records the cluster id')
    assert.equal(saved.cluster!.bootstrap, process.env.RECOVER_TEST_BROKERS!.split(','))
    const sinkBefore = readFileSync(out)
    const checkpointBefore = readFileSync(checkpoint)

    const onB = await runCli([...args, '--resume', '--brokers', brokersB(), '--json'], { cwd: folder })
    assert.is(onB.exitCode, 4, describe(onB))
    assert.is(errorOf(onB)?.code, 'CLUSTER_MISMATCH')
    assert.match(errorOf(onB)!.message, `The replay checkpoint ${checkpoint} was recorded on cluster ${saved.cluster!.id}`)
    assert.ok(readFileSync(out).equals(sinkBefore), 'the sink file changed')
    assert.ok(readFileSync(checkpoint).equals(checkpointBefore), 'the checkpoint changed')

    // A checkpoint from before recover recorded clusters: refused too, saying how to start over.
    const legacy = JSON.parse(checkpointBefore.toString('utf8')) as Record<string, unknown>
    delete legacy.cluster
    writeFileSync(checkpoint, JSON.stringify(legacy))
    const old = await runCli([...args, '--resume', '--json'], { cwd: folder })
    assert.is(old.exitCode, 4, describe(old))
    assert.is(errorOf(old)?.code, 'CLUSTER_MISMATCH')
    assert.match(errorOf(old)!.message, /written before recover recorded clusters/)
    assert.match(errorOf(old)!.nextSteps.join('\n'), `remove ${checkpoint} (or pass another --checkpoint) and run the same command without --resume`)
    assert.ok(readFileSync(out).equals(sinkBefore), 'the sink file changed')

    // On cluster A, with the checkpoint as it was, the replay finishes.
    writeFileSync(checkpoint, checkpointBefore)
    const onA = await runCli([...args, '--resume', '--json'], { cwd: folder })
    assert.is(onA.exitCode, 0, describe(onA))
    assert.is(onA.json.totals.written, 400)
    const lines = readFileSync(out, 'utf8').trim().split('\n')
    assert.is(lines.length, 400)
    assert.is(lines.filter((l) => l.includes('"tag":"A"')).length, 400, 'every record comes from cluster A')
  }),
)

test.run()
