import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ObjectStore } from '../../src/s3/object-store.js'
import { parseS3Location } from '../../src/s3/s3-location.js'
import { runCli, spawnCli } from '../support/cli.js'
import { createTopic, produce, uniqueName } from '../support/kafka.js'
import { killBetweenCommits } from '../support/kill-between-commits.js'
import { createBucket, deleteObject, listKeys, putObject, namesMatchContents, readObjects, readObjectTexts, type StoredRecord } from '../support/s3-objects.js'
import { startS3Proxy, type S3ProxyServer } from '../support/s3proxy.js'
import { waitFor, withTimeout } from '../support/timeout.js'

/**
 * The S3 sink end to end against a real S3Proxy (filesystem backend, started once for the
 * file): Parquet, JSONL and CSV objects read back and compared record by record, kill -9 and
 * --resume, S3Proxy killed and restarted mid-replay, wrong credentials.
 */
const dir = mkdtempSync(join(tmpdir(), 'recover-e2e-s3-'))
const PARTITIONS = 3
const COUNT = 3_000
const bucket = `recover-${Date.now().toString(36)}`
let server: S3ProxyServer
let topic = ''

/** Every source record, as partition@offset → id (ids are unique). */
const sourceIds = new Map<string, number>()

test.before(
  withTimeout(240_000, async () => {
    server = await startS3Proxy({ backend: 'filesystem' })
    await createBucket(server, bucket)
    // The recover processes find the store the AWS way: credentials, region and endpoint from the environment.
    Object.assign(process.env, server.env)
    topic = uniqueName('e2e-s3')
    await createTopic(topic, PARTITIONS)
    const perPartition = new Map<number, number>()
    const records = Array.from({ length: COUNT }, (_, id) => {
      const partition = id % PARTITIONS
      const offset = perPartition.get(partition) ?? 0
      perPartition.set(partition, offset + 1)
      sourceIds.set(`${partition}@${offset}`, id)
      // The note needs CSV quoting (a comma and quotes).
      const value = { id, name: `order ${id}`, amount: id * 1.5, note: `say "hi", ${id}` }
      return { partition, key: `k-${id}`, value: JSON.stringify(value), timestampMs: 1_700_000_000_000 + id }
    })
    await produce(topic, records)
  }),
)

test.after(async () => {
  await server?.stop()
})

const argsFor = (sink: string, checkpoint: string, extra: string[] = []) => [
  'replay',
  '--topic',
  topic,
  '--value-format',
  'json',
  '--sink',
  sink,
  '--quarantine',
  `file:${checkpoint}.q.jsonl`,
  '--checkpoint',
  checkpoint,
  ...extra,
]

/** Every source record is in exactly one object, with its own id, and each name says what its object holds. */
function assertEachRecordOnce(keys: string[], records: StoredRecord[]): void {
  const seen = new Map<string, number>()
  for (const r of records) {
    const at = `${r.partition}@${r.offset}`
    seen.set(at, (seen.get(at) ?? 0) + 1)
    assert.is(r.id, sourceIds.get(at), `the record at ${at}`)
  }
  const twice = [...seen].filter(([, n]) => n > 1)
  assert.equal(twice, [], `${twice.length} records are in more than one object`)
  assert.is(seen.size, COUNT, 'every source record is in an object')
  assert.equal(namesMatchContents(keys, records), [])
}

test(
  'Parquet objects: every record once, named by partition and offsets; the same replay again makes the same objects',
  withTimeout(180_000, async () => {
    const prefix = 'parquet-run'
    const sink = `s3://${bucket}/${prefix}?max_records=400`
    const first = await runCli([...argsFor(sink, join(dir, 'parquet.json')), '--json'], { cwd: dir, env: server.env, timeoutMs: 150_000 })
    assert.is(first.exitCode, 0, first.stderr)
    assert.ok(first.json.finished && first.json.reconciled)
    assert.is(first.json.totals.written, COUNT)
    const { keys, records } = await readObjects(server, bucket, prefix, topic)
    assertEachRecordOnce(keys, records)
    // 1000 records per partition at 400 per object: 400, 400, 200.
    assert.is(keys.length, PARTITIONS * 3)
    assert.ok(keys.includes(`${prefix}/${topic}/p=1/00000000000000000000-00000000000000000399.parquet`), keys.join('\n'))

    // Its own objects are there now: running it again is said with overwrite=true (see the next test).
    const again = await runCli([...argsFor(`${sink}&overwrite=true`, join(dir, 'parquet-again.json')), '--json'], {
      cwd: dir,
      env: server.env,
      timeoutMs: 150_000,
    })
    assert.is(again.exitCode, 0, again.stderr)
    const after = await readObjects(server, bucket, prefix, topic)
    assert.equal(after.keys, keys)
    assertEachRecordOnce(after.keys, after.records)
  }),
)

test(
  'JSONL objects: the lossless envelope, every record once',
  withTimeout(180_000, async () => {
    const prefix = 'jsonl-run'
    const result = await runCli([...argsFor(`s3://${bucket}/${prefix}?format=jsonl&max_records=700`, join(dir, 'jsonl.json')), '--json'], {
      cwd: dir,
      env: server.env,
      timeoutMs: 150_000,
    })
    assert.is(result.exitCode, 0, result.stderr)
    const { keys, records } = await readObjects(server, bucket, prefix, topic)
    assert.ok(keys.every((k) => k.endsWith('.jsonl')))
    assertEachRecordOnce(keys, records)
  }),
)

test(
  'CSV objects: the columns and dialect of the CSV file sink, every record once; audit compare finds the records of a deleted object',
  withTimeout(240_000, async () => {
    const prefix = 'csv-run'
    const sink = `s3://${bucket}/${prefix}?format=csv&max_records=600`
    const result = await runCli([...argsFor(sink, join(dir, 'csv.json')), '--json'], { cwd: dir, env: server.env, timeoutMs: 150_000 })
    assert.is(result.exitCode, 0, result.stderr)
    assert.is(result.json.totals.written, COUNT)
    const { keys, records } = await readObjects(server, bucket, prefix, topic)
    // 1000 records per partition at 600 per object: 600, 400.
    assert.is(keys.length, PARTITIONS * 2)
    assert.ok(keys.includes(`${prefix}/${topic}/p=2/00000000000000000600-00000000000000000999.csv`), keys.join('\n'))
    assertEachRecordOnce(keys, records)
    assert.equal(Object.keys(records[0]!.cells!), ['id', 'name', 'amount', 'note'])
    for (const r of records) {
      const id = r.id!
      assert.equal(
        r.cells,
        { id: String(id), name: `order ${id}`, amount: String(id * 1.5), note: `say "hi", ${id}` },
        `the record at ${r.partition}@${r.offset}`,
      )
    }

    // The same rows, byte for byte, as the CSV file sink writes them.
    const file = join(dir, 'file-sink.csv')
    const toFile = await runCli([...argsFor(`file:${file}`, join(dir, 'file-sink.json')), '--json'], { cwd: dir, timeoutMs: 150_000 })
    assert.is(toFile.exitCode, 0, toFile.stderr)
    const [fileHeader, ...fileRows] = readFileSync(file, 'utf8').split('\n').filter(Boolean)
    const objectLines = (await readObjectTexts(server, bucket, prefix, keys)).map((text) => text.split('\n').filter(Boolean))
    assert.ok(
      objectLines.every((lines) => lines[0] === fileHeader),
      fileHeader,
    )
    assert.equal(objectLines.flatMap((lines) => lines.slice(1)).sort(), fileRows.sort())

    await deleteObject(server, bucket, `${prefix}/${topic}/p=2/00000000000000000600-00000000000000000999.csv`)
    const audit = await runCli(
      ['audit', 'compare', '--topic', topic, '--key', 'id', '--value-format', 'json', '--sink', sink, '--db', join(dir, 'audit-csv.duckdb'), '--json'],
      { cwd: dir, timeoutMs: 120_000 },
    )
    assert.is(audit.exitCode, 0, audit.stderr)
    assert.is(audit.json.totals.sinkRows, COUNT - 400)
    assert.is(audit.json.totals.missing, 400)
    assert.is(audit.json.provenance, null, 'CSV objects have the file sink columns: the values only')
    const missingAt = (audit.json.missing as Array<{ first: { partition: number; offset: string } }>).map((m) => `${m.first.partition}@${m.first.offset}`)
    assert.is(missingAt.length, 400)
    assert.ok(
      missingAt.every((at) => /^2@[6-9]\d\d$/.test(at)),
      missingAt.slice(0, 5).join(' '),
    )
  }),
)

test(
  "a prefix that already holds other replays' objects: another topic's and another range's are left alone and the audit counts only the topic's; offsets already there stop a fresh replay (SINK_NOT_EMPTY, exit 4) until overwrite=true",
  withTimeout(300_000, async () => {
    const prefix = 'shared'
    const sink = `s3://${bucket}/${prefix}?max_records=200`
    // Another topic's replay object (not Parquet at all: reading it would fail) and a file of someone else's.
    const foreign = {
      [`${prefix}/other-topic/p=0/00000000000000000000-00000000000000000099.parquet`]: 'another replay of another topic',
      [`${prefix}/README.txt`]: 'written by a person',
    }
    for (const [key, text] of Object.entries(foreign)) await putObject(server, bucket, key, text)
    const replay = (name: string, location: string, extra: string[]) =>
      runCli([...argsFor(location, join(dir, `${name}.json`), extra), '--json'], { cwd: dir, env: server.env, timeoutMs: 150_000 })

    // The first half of every partition, then the second half beside it: disjoint offsets.
    const firstHalf = await replay('shared-1', sink, ['--to', 'offset:500'])
    assert.is(firstHalf.exitCode, 0, firstHalf.stderr)
    const secondHalf = await replay('shared-2', sink, ['--from', 'offset:500'])
    assert.is(secondHalf.exitCode, 0, secondHalf.stderr)
    for (const [key, text] of Object.entries(foreign)) assert.is((await readObjectTexts(server, bucket, '', [key]))[0], text, key)
    const { keys, records } = await readObjects(server, bucket, prefix, topic)
    assertEachRecordOnce(keys, records)
    assert.is(keys.length, PARTITIONS * 6, keys.join('\n'))

    const audit = await runCli(
      ['audit', 'compare', '--topic', topic, '--key', 'id', '--value-format', 'json', '--sink', sink, '--db', join(dir, 'audit-shared.duckdb'), '--json'],
      { cwd: dir, timeoutMs: 120_000 },
    )
    assert.is(audit.exitCode, 0, audit.stderr)
    assert.equal(
      [audit.json.totals.sinkRows, audit.json.totals.missing, audit.json.totals.twice, audit.json.totals.onlyInSink, audit.json.totals.lost],
      [COUNT, 0, 0, 0, 0],
    )

    // The whole topic again, afresh, with another cut: its objects would lie over the halves' objects.
    const before = await listKeys(server, bucket, prefix)
    const refused = await replay('shared-3', `s3://${bucket}/${prefix}?max_records=300`, [])
    assert.is(refused.exitCode, 4, refused.stderr)
    const error = JSON.parse(refused.stdout || refused.stderr).error
    assert.is(error.code, 'SINK_NOT_EMPTY')
    assert.match(error.message, new RegExp(`${prefix}/${topic}/p=\\d/\\d{20}-\\d{20}\\.parquet`))
    assert.match(error.message, /another prefix.*overwrite=true/)
    assert.is(error.details.objects, PARTITIONS * 6)
    assert.equal(await listKeys(server, bucket, prefix), before, 'nothing was written, nothing deleted')
    assert.not.ok(existsSync(join(dir, 'shared-3.json')), 'no checkpoint is left behind')

    // The first replay run again, said so: the same records make the same objects, overwritten.
    const again = await replay('shared-4', `${sink}&overwrite=true`, ['--to', 'offset:500'])
    assert.is(again.exitCode, 0, again.stderr)
    assert.equal(await listKeys(server, bucket, prefix), before)
    const after = await readObjects(server, bucket, prefix, topic)
    assertEachRecordOnce(after.keys, after.records)
  }),
)

const checkpointRead = (path: string) => {
  if (!existsSync(path)) return 0
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as { partitions: Array<{ read: number }> }).partitions.reduce((n, p) => n + p.read, 0)
  } catch {
    return 0
  }
}

test(
  'audit compare --sink s3://…: the offsets of a deleted object are missing, exactly; JSONL objects with nothing lost have none',
  withTimeout(180_000, async () => {
    const prefix = 'audited'
    const sink = `s3://${bucket}/${prefix}?max_records=100`
    const replayed = await runCli([...argsFor(sink, join(dir, 'audited.json')), '--json'], { cwd: dir, timeoutMs: 150_000 })
    assert.is(replayed.exitCode, 0, replayed.stderr)
    await deleteObject(server, bucket, `${prefix}/${topic}/p=1/00000000000000000100-00000000000000000199.parquet`)
    const audit = (s: string) =>
      runCli(['audit', 'compare', '--topic', topic, '--key', 'id', '--value-format', 'json', '--sink', s, '--db', join(dir, 'audit.duckdb'), '--json'], {
        cwd: dir,
        timeoutMs: 120_000,
      })
    const run = await audit(sink)
    assert.is(run.exitCode, 0, run.stderr)
    assert.is(run.json.totals.missing, 100)
    assert.is(run.json.totals.lost, 100)
    assert.equal(run.json.provenance, { partition: 'source_partition', offset: 'source_offset' })
    const lostAt = (run.json.lost as Array<{ partition: number; offset: string }>).map((l) => `${l.partition}@${l.offset}`)
    assert.ok(lostAt.length > 0, 'the lost offsets are listed')
    assert.ok(
      lostAt.every((at) => /^1@1\d\d$/.test(at)),
      lostAt.slice(0, 5).join(' '),
    )
    const jsonl = await audit(`s3://${bucket}/jsonl-run?format=jsonl`)
    assert.is(jsonl.exitCode, 0, jsonl.stderr)
    assert.is(jsonl.json.totals.missing, 0)
    assert.is(jsonl.json.totals.sinkRows, COUNT)
  }),
)

test(
  'kill -9 at three points, then --resume: every record in exactly one object, none torn',
  withTimeout(300_000, async () => {
    const prefix = 'killed'
    const checkpoint = join(dir, 'killed.json')
    const args = argsFor(`s3://${bucket}/${prefix}?max_records=150`, checkpoint, ['--batch-size', '100', '--rate', '600', '--commit-interval', '200ms'])
    await killBetweenCommits({ args, cwd: dir, kills: 3, committed: () => checkpointRead(checkpoint) })
    const last = await runCli([...args, '--resume', '--json'], { cwd: dir, env: server.env, timeoutMs: 150_000 })
    assert.is(last.exitCode, 0, last.stderr)
    assert.ok(last.json.finished && last.json.reconciled && last.json.resumed)
    assert.is(last.json.totals.read, COUNT)
    const { keys, records } = await readObjects(server, bucket, prefix, topic)
    assertEachRecordOnce(keys, records)
  }),
)

test(
  "CSV objects: kill -9 twice, then --resume: every record in exactly one object, each with the first run's header",
  withTimeout(300_000, async () => {
    const prefix = 'killed-csv'
    const checkpoint = join(dir, 'killed-csv.json')
    const args = argsFor(`s3://${bucket}/${prefix}?format=csv&max_records=150`, checkpoint, [
      '--batch-size',
      '100',
      '--rate',
      '1000',
      '--commit-interval',
      '200ms',
    ])
    await killBetweenCommits({ args, cwd: dir, kills: 2, committed: () => checkpointRead(checkpoint) })
    const last = await runCli([...args, '--resume', '--json'], { cwd: dir, env: server.env, timeoutMs: 150_000 })
    assert.is(last.exitCode, 0, last.stderr)
    assert.ok(last.json.finished && last.json.reconciled && last.json.resumed)
    const { keys, records } = await readObjects(server, bucket, prefix, topic)
    assert.ok(keys.every((k) => k.endsWith('.csv')))
    assertEachRecordOnce(keys, records)
    for (const r of records) assert.equal(Object.keys(r.cells!), ['id', 'name', 'amount', 'note'], r.object)
  }),
)

test(
  'S3Proxy killed and restarted mid-replay: the replay waits, completes, and nothing is lost',
  withTimeout(300_000, async () => {
    const prefix = 'restarted'
    const checkpoint = join(dir, 'restarted.json')
    const args = argsFor(`s3://${bucket}/${prefix}?max_records=100`, checkpoint, [
      '--batch-size',
      '100',
      '--rate',
      '1000',
      '--commit-interval',
      '200ms',
      '--json',
    ])
    const run = spawnCli(args, { cwd: dir, env: server.env })
    await waitFor('a third of the records read', () => (checkpointRead(checkpoint) >= COUNT / 3 ? true : undefined), 120_000, 20)
    await server.kill()
    assert.is(run.child.exitCode, null, 'the replay was still running when S3Proxy went away')
    await server.restart()
    const result = await run.done
    assert.is(result.code, 0, result.stderr)
    const { keys, records } = await readObjects(server, bucket, prefix, topic)
    assertEachRecordOnce(keys, records)
  }),
)

test(
  'an object above the part size goes up in parts (multipart) and reads back byte for byte',
  withTimeout(120_000, async () => {
    const store = new ObjectStore(parseS3Location(`s3://${bucket}/multipart`))
    try {
      const file = join(dir, 'big.bin')
      const bytes = randomBytes(20 * 1024 * 1024)
      writeFileSync(file, bytes)
      await store.upload('multipart/big.bin', file, 'application/octet-stream')
      await store.download('multipart/big.bin', join(dir, 'big.back'))
      const digest = (b: Buffer) => createHash('sha256').update(b).digest('hex')
      assert.is(digest(readFileSync(join(dir, 'big.back'))), digest(bytes))
    } finally {
      store.close()
    }
  }),
)

test(
  'wrong credentials: BUCKET_ACCESS_DENIED (exit 5) with the fix, before any record is read',
  withTimeout(60_000, async () => {
    const checkpoint = join(dir, 'denied.json')
    const result = await runCli([...argsFor(`s3://${bucket}/denied`, checkpoint), '--json'], {
      cwd: dir,
      env: { ...server.env, AWS_SECRET_ACCESS_KEY: 'not-the-secret' },
    })
    assert.is(result.exitCode, 5, result.stderr)
    const error = JSON.parse(result.stdout || result.stderr).error ?? JSON.parse(result.stdout || result.stderr)
    assert.is(error.code, 'BUCKET_ACCESS_DENIED')
    assert.match(error.message, /AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/)
    assert.not.ok(existsSync(checkpoint), 'no checkpoint is left behind')
  }),
)

test.run()
