/**
 * `recover peek` by position: --at offset:N / earliest, --until, --key / --header / --grep over a
 * bounded range, --tail N and --follow, against the real broker. The records are produced here
 * (by kafkajs, and by kcat with each compression codec), so every match is checked against
 * exactly what was written.
 */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { seedIncident } from '../../src/fixtures/seed-incident.js'
import { runCli, spawnCli } from '../support/cli.js'
import { createTopic, produce, testBrokers, testKafka, uniqueName } from '../support/kafka.js'
import { repoRoot } from '../support/paths.js'
import { withTimeout } from '../support/timeout.js'

interface PeekedJson {
  partition: number
  offset: string
  key: { format: string; value: unknown }
  value: { format: string; value: unknown }
  headers: Array<{ key: string; value: string | null }>
}

const PARTITIONS = 3
const PER_PARTITION = 40
let plain = ''

/** Record i of partition p: key k-p-i, value {"p":p,"i":i}, header app-version 1.6.0 on every 10th. */
function plainRecord(p: number, i: number) {
  return {
    partition: p,
    key: `k-${p}-${i}`,
    value: JSON.stringify({ p, i, note: i === 17 ? 'refund requested' : 'ok' }),
    timestampMs: Date.UTC(2018, 2, 21) + i * 1000 + p,
    headers: { 'app-version': i % 10 === 0 ? '1.6.0' : '1.5.0' },
  }
}

test.before(async () => {
  plain = uniqueName('e2e-peek-pos')
  await createTopic(plain, PARTITIONS)
  const records = []
  for (let p = 0; p < PARTITIONS; p++) for (let i = 0; i < PER_PARTITION; i++) records.push(plainRecord(p, i))
  await produce(plain, records)
})

const peek = (args: string[]) => runCli(['peek', '--topic', plain, ...args, '--json'], { timeoutMs: 60_000 })
const where = (records: PeekedJson[]) => records.map((r) => `${r.partition}@${r.offset}`)

test(
  '--at offset:N --partition P shows the record at that offset; -c and -n both count; offset:0=N,2=M reads only those partitions',
  withTimeout(90_000, async () => {
    const one = await peek(['--at', 'offset:17', '--partition', '2', '-c', '1'])
    assert.is(one.exitCode, 0, one.stderr)
    assert.equal(where(one.json.records), ['2@17'])
    assert.equal(one.json.records[0].key.value, 'k-2-17')
    assert.equal(one.json.records[0].value.value, { p: 2, i: 17, note: 'refund requested' })

    const three = await peek(['--at', 'offset:5', '-p', '1', '-n', '3'])
    assert.equal(where(three.json.records), ['1@5', '1@6', '1@7'])

    const named = await peek(['--at', 'offset:0=38,2=39'])
    assert.is(named.exitCode, 0, named.stderr)
    assert.equal(
      named.json.partitions.map((p: { partition: number }) => p.partition),
      [0, 2],
    )
    assert.equal(where(named.json.records).sort(), ['0@38', '0@39', '2@39'])

    const earliest = await peek(['--at', 'earliest', '-p', '0', '-c', '2'])
    assert.equal(where(earliest.json.records), ['0@0', '0@1'])
    const byDefault = await peek(['-p', '0', '-c', '2'])
    assert.equal(where(byDefault.json.records), ['0@0', '0@1'], 'without --at a peek starts at the log start')

    const bounded = await peek(['--at', 'offset:30', '--until', 'offset:33', '-p', '0', '-c', '100'])
    assert.equal(where(bounded.json.records), ['0@30', '0@31', '0@32'], '--until is exclusive')
  }),
)

test(
  'a time --at keeps working, also with --until and filters',
  withTimeout(90_000, async () => {
    const at = await peek(['--at', '2018-03-21T00:00:30Z', '-p', '1', '-c', '2'])
    assert.is(at.exitCode, 0, at.stderr)
    assert.equal(where(at.json.records), ['1@30', '1@31'])
    const window = await peek(['--at', '2018-03-21T00:00:10Z', '--until', '2018-03-21T00:00:21Z', '--header', 'app-version=1.6.0'])
    assert.equal(where(window.json.records), ['0@10', '1@10', '2@10', '0@20', '1@20', '2@20'])
  }),
)

test(
  '--key, --header and --grep show exactly the records produced with them, and say how many were scanned',
  withTimeout(90_000, async () => {
    const key = await peek(['--key', 'k-1-23'])
    assert.is(key.exitCode, 0, key.stderr)
    assert.equal(where(key.json.records), ['1@23'])
    assert.is(key.json.scanned, PARTITIONS * PER_PARTITION)
    assert.is(key.json.matched, 1)

    const header = await peek(['--header', 'app-version=1.6.0', '-c', '100'])
    const expected = []
    for (let p = 0; p < PARTITIONS; p++) for (let i = 0; i < PER_PARTITION; i += 10) expected.push(`${p}@${i}`)
    assert.equal(where(header.json.records).sort(), expected.sort())
    assert.is(header.json.matched, expected.length)

    const both = await peek(['--header', 'app-version', '--header', 'app-version=1.6.0', '--key', 'k-0-20'])
    assert.equal(where(both.json.records), ['0@20'], 'repeated --header and --key must all match')

    const grep = await peek(['--grep', 'refund'])
    assert.equal(where(grep.json.records).sort(), ['0@17', '1@17', '2@17'])
    assert.is(grep.json.records[0].headers[0].key, 'app-version')

    const none = await peek(['--key', 'no-such-key'])
    assert.is(none.exitCode, 0)
    assert.equal(none.json.records, [])
    assert.is(none.json.scanned, PARTITIONS * PER_PARTITION)

    const capped = await peek(['--header', 'app-version=1.5.0', '-c', '4'])
    assert.equal(where(capped.json.records), ['0@1', '1@1', '2@1', '0@2'], 'the first --count matches by time')

    const human = await runCli(['peek', '--topic', plain, '--key', 'k-2-5'])
    assert.match(human.stdout, /Scanned 120 record\(s\), 1 matched\./)
    assert.match(human.stdout, /k-2-5/)
  }),
)

test(
  '--tail N shows the last N records of each partition',
  withTimeout(60_000, async () => {
    const tail = await peek(['--tail', '2'])
    assert.is(tail.exitCode, 0, tail.stderr)
    assert.equal(where(tail.json.records).sort(), ['0@38', '0@39', '1@38', '1@39', '2@38', '2@39'])
    const filtered = await peek(['--tail', '15', '--header', 'app-version=1.6.0', '-p', '2'])
    assert.equal(where(filtered.json.records), ['2@30'], 'the filters apply within the last N')
  }),
)

test(
  'bad combinations and offsets outside the log are typed errors that say what the log holds',
  withTimeout(90_000, async () => {
    const beyond = await peek(['--at', 'offset:500', '--partition', '1'])
    assert.is(beyond.exitCode, 2)
    assert.is(beyond.json.error.code, 'OFFSET_NOT_IN_LOG')
    assert.match(beyond.json.error.message, new RegExp(`${plain}-1 is beyond the log end: the partition holds offsets 0\\.\\.39`))
    const atEnd = await peek(['--at', 'offset:40', '--partition', '1'])
    assert.is(atEnd.json.error.code, 'OFFSET_NOT_IN_LOG')

    const tailAt = await peek(['--tail', '5', '--at', 'offset:1'])
    assert.is(tailAt.exitCode, 2)
    assert.is(tailAt.json.error.code, 'USAGE')
    const latest = await peek(['--at', 'latest'])
    assert.match(latest.json.error.message, /add --follow/)
    const followUntil = await peek(['--follow', '--until', 'offset:3'])
    assert.is(followUntil.json.error.code, 'USAGE')
    const inverted = await peek(['--at', 'offset:9', '--until', 'offset:3'])
    assert.is(inverted.json.error.code, 'INVERTED_RANGE')
    const noPartition = await peek(['--at', 'offset:0=1,7=1'])
    assert.is(noPartition.json.error.code, 'PARTITION_NOT_FOUND')

    // Under --follow, --json output is NDJSON: even the error is one line.
    const missing = await runCli(['peek', '--topic', uniqueName('no-such-topic'), '--follow', '--json'], { timeoutMs: 60_000 })
    assert.is(missing.exitCode, 2, missing.stderr)
    const lines = missing.stdout.trim().split('\n')
    assert.is(lines.length, 1)
    assert.is(JSON.parse(lines[0]!).error.code, 'TOPIC_NOT_FOUND')
  }),
)

const CODECS = ['gzip', 'snappy', 'lz4', 'zstd'] as const

/** kcat writes `lines` (key:value) into one partition with one header on all of them, compressed. */
function kcatProduce(topic: string, codec: string, lines: string[], header: string): void {
  execFileSync('kcat', ['-P', '-b', testBrokers(), '-t', topic, '-p', '0', '-z', codec, '-K', ':', '-H', header, '-X', 'linger.ms=50'], {
    input: `${lines.join('\n')}\n`,
    timeout: 60_000,
  })
}

test(
  'compressed topics (gzip, snappy, lz4, zstd by kcat): key, header and grep matches are exactly the produced ones',
  withTimeout(150_000, async () => {
    for (const codec of CODECS) {
      const topic = uniqueName(`e2e-peek-${codec}`)
      await createTopic(topic, 1)
      const normal = Array.from({ length: 300 }, (_, i) => `key-${i}:{"n":${i},"status":"${i % 97 === 0 ? 'stuck-order' : 'fine'}"}`)
      kcatProduce(topic, codec, normal, 'app-version=1.5.0')
      kcatProduce(topic, codec, ['pill-1:not json at all', 'pill-2:{"n":-1}'], 'app-version=1.6.0')
      const run = (args: string[]) => runCli(['peek', '--topic', topic, ...args, '--json'], { timeoutMs: 60_000 })

      const key = await run(['--key', 'key-123'])
      assert.is(key.exitCode, 0, `${codec}: ${key.stderr}`)
      assert.equal(where(key.json.records), ['0@123'], codec)
      assert.equal(key.json.records[0].value.value, { n: 123, status: 'fine' }, codec)
      assert.is(key.json.scanned, 302, codec)

      const header = await run(['--header', 'app-version=1.6.0'])
      assert.equal(
        header.json.records.map((r: PeekedJson) => [r.offset, r.key.value]),
        [
          ['300', 'pill-1'],
          ['301', 'pill-2'],
        ],
        codec,
      )

      const grep = await run(['--grep', 'stuck-order', '-c', '100'])
      assert.equal(where(grep.json.records), ['0@0', '0@97', '0@194', '0@291'], codec)

      const at = await run(['--at', 'offset:150', '-c', '1'])
      assert.equal(at.json.records[0].key.value, 'key-150', `${codec}: a record inside a compressed batch, by offset`)
    }
  }),
)

test(
  '--grep matches decoded Avro text (field names and enum symbols are not in the bytes): exactly the records whose decoded value holds it',
  withTimeout(120_000, async () => {
    const topic = uniqueName('e2e-peek-avro-grep')
    await seedIncident({ kafka: testKafka(), topic, count: 600, replicationFactor: 1 })
    const schema = join(repoRoot(), 'fixtures', 'schemas')
    const decode = ['--value-format', 'avro', '--schema', schema]
    const all = await runCli(['peek', '--topic', topic, '--count', '100000', ...decode, '--json'], { timeoutMs: 60_000 })
    assert.is(all.exitCode, 0, all.stderr)
    const text = '"status":"PAID"'
    const paid = (all.json.records as PeekedJson[]).filter((r) => JSON.stringify(r.value.value).includes(text))
    assert.ok(paid.length > 0, 'the fixture has paid orders')
    const grep = await runCli(['peek', '--topic', topic, '--grep', text, '--count', '100000', ...decode, '--json'], { timeoutMs: 60_000 })
    assert.is(grep.exitCode, 0, grep.stderr)
    assert.equal(where(grep.json.records).sort(), where(paid).sort())
    const raw = await runCli(['peek', '--topic', topic, '--grep', text, '--json'], { timeoutMs: 60_000 })
    assert.is(raw.json.matched, 0, 'without schemas only the bytes are searched')
  }),
)

/** Waits (bounded) until `check` holds for what the process printed so far. */
async function until(what: string, check: () => boolean, stderr: () => string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; stderr: ${stderr()}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(
    `--follow prints records produced after it started (NDJSON under --json) and ${signal} ends it with exit 0`,
    withTimeout(120_000, async () => {
      const topic = uniqueName('e2e-peek-follow')
      await createTopic(topic, 2)
      await produce(topic, [{ partition: 0, key: 'old', value: 'before start', timestampMs: Date.now() }])
      await produce(topic, [{ partition: 1, key: 'first', value: 'wanted 0', timestampMs: Date.now() }])
      let stdout = ''
      // Starts after the record that was there before; its first line says the follow reads.
      const proc = spawnCli(['peek', '--topic', topic, '--follow', '--at', 'offset:0=1,1=0', '--grep', 'wanted', '--json'], { cwd: repoRoot() })
      proc.child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()))
      await until('the follow to read', () => stdout.includes('wanted 0') || proc.child.exitCode !== null, proc.stderr)
      await produce(topic, [
        { partition: 0, key: 'a', value: 'wanted 1', timestampMs: Date.now() },
        { partition: 1, key: 'b', value: 'not this one', timestampMs: Date.now() },
        { partition: 1, key: 'c', value: 'wanted 2', timestampMs: Date.now() },
      ])
      await until('two followed records', () => stdout.trim().split('\n').filter(Boolean).length >= 3, proc.stderr)
      await produce(topic, [{ partition: 0, key: 'd', value: 'wanted 3', timestampMs: Date.now() }])
      await until('the third record', () => stdout.trim().split('\n').filter(Boolean).length >= 4, proc.stderr)
      proc.child.kill(signal)
      const done = await proc.done
      assert.is(done.code, 0, done.stderr)
      const lines = done.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as PeekedJson)
      assert.equal(lines.map((r) => r.key.value).sort(), ['a', 'c', 'd', 'first'], 'only the matching records from the start on, each once')
      assert.equal(lines.map((r) => r.value.value).sort(), ['wanted 0', 'wanted 1', 'wanted 2', 'wanted 3'])
    }),
  )
}

test(
  '--follow without --at starts at the log end: it says where, and prints only what is produced after that',
  withTimeout(120_000, async () => {
    const topic = uniqueName('e2e-peek-fend')
    await createTopic(topic, 2)
    await produce(topic, [{ partition: 1, key: 'before', value: 'old', timestampMs: Date.now() }])
    let stdout = ''
    const proc = spawnCli(['peek', '--topic', topic, '--follow', '--key', 'after'], { cwd: repoRoot() })
    proc.child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()))
    await until('the follow to start', () => proc.stderr().includes('Following') || proc.child.exitCode !== null, proc.stderr)
    assert.match(proc.stderr(), new RegExp(`Following ${topic} from p0@0, p1@1:`))
    await produce(topic, [
      { partition: 1, key: 'after', value: 'new one', timestampMs: Date.now() },
      { partition: 0, key: 'other', value: 'not this', timestampMs: Date.now() },
    ])
    await until('the new record', () => stdout.includes('new one'), proc.stderr)
    proc.child.kill('SIGTERM')
    const done = await proc.done
    assert.is(done.code, 0, done.stderr)
    assert.equal(
      done.stdout
        .trim()
        .split('\n')
        .map((l) => /p\d@\d+ {2}\S+/.exec(l)?.[0]),
      ['p1@1  after'],
    )
  }),
)

test(
  '--tail N --follow prints the last N of each partition first, then new ones, as lines for people',
  withTimeout(120_000, async () => {
    const topic = uniqueName('e2e-peek-tailf')
    await createTopic(topic, 1)
    await produce(
      topic,
      Array.from({ length: 5 }, (_, i) => ({ partition: 0, key: `old-${i}`, value: `v${i}`, timestampMs: Date.UTC(2018, 2, 21) + i })),
    )
    let stdout = ''
    const proc = spawnCli(['peek', '--topic', topic, '--tail', '2', '--follow'], { cwd: repoRoot() })
    proc.child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()))
    await until('the tail', () => stdout.includes('old-4'), proc.stderr)
    await produce(topic, [{ partition: 0, key: 'new-0', value: 'fresh', timestampMs: Date.now() }])
    await until('the new record', () => stdout.includes('new-0'), proc.stderr)
    proc.child.kill('SIGINT')
    const done = await proc.done
    assert.is(done.code, 0, done.stderr)
    const lines = done.stdout.trim().split('\n')
    assert.equal(
      lines.map((l) => /p0@(\d+)\s+(\S+)/.exec(l)?.slice(1)),
      [
        ['3', 'old-3'],
        ['4', 'old-4'],
        ['5', 'new-0'],
      ],
    )
    assert.match(lines[0]!, /^2018-03-21T00:00:00\.003Z {2}p0@3 {2}old-3 {2}v3/)
  }),
)

test.run()
