import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { partitionForKey } from '../../src/core/key-partitioner.js'
import type { KafkaRecord } from '../../src/kafka/kafka-record.js'
import { KafkaWriter } from '../../src/kafka/kafka-writer.js'
import { runCli, spawnCli } from '../support/cli.js'
import { createTopic, readTopic, testBrokers, uniqueName, withGateway } from '../support/kafka.js'
import { dropTestTables, query, testTable } from '../support/postgres.js'
import { withTimeout } from '../support/timeout.js'
import { repoRoot } from '../support/paths.js'

const dir = mkdtempSync(join(tmpdir(), 'recover-file-source-'))
const T = 1_521_590_400_000
const NO_KAFKA = { RECOVER_BROKERS: '127.0.0.1:1' }

/** Records no text format could carry: binary keys, values and header values, repeated and null headers, tombstones, null keys. */
function awkwardRecords(count: number, partitions: number) {
  return Array.from({ length: count }, (_, i) => ({
    sourcePartition: i % partitions,
    key: i % 7 === 3 ? null : Buffer.from([0x00, 0xff, i & 0xff, 0x0a, 0x22]),
    value: i % 11 === 5 ? null : Buffer.concat([Buffer.from([0xfe, 0x00, 0x0d, 0x0a]), Buffer.from(`ord-${i} ü`)]),
    headers: [
      { key: 'trace', value: Buffer.from(`t-${i}`) },
      { key: 'bin', value: Buffer.from([0x00, 0x80, 0xff, i & 0xff]) },
      { key: 'trace', value: Buffer.from('again') },
      { key: 'nothing', value: null },
      { key: 'en-tête-é', value: Buffer.from('ü') },
    ],
    timestampMs: T + i * 1_000 + (i % 3) * 7,
  }))
}

async function write(topic: string, partitions: number, records: ReturnType<typeof awkwardRecords>): Promise<void> {
  await withGateway(async (gateway) => {
    const writer = await KafkaWriter.open(gateway, topic, { createPartitions: partitions, idempotent: true, errorCode: 'SINK_FAILED', role: 'sink' })
    try {
      await writer.write(records)
    } finally {
      await writer.close()
    }
  })
}

/** Everything a consumer sees of a record except where it landed: bytes as hex, headers in order. */
const content = (r: KafkaRecord) =>
  JSON.stringify([
    r.key?.toString('hex') ?? null,
    r.value?.toString('hex') ?? null,
    r.timestampMs,
    r.headers.map((h) => [h.key, h.value?.toString('hex') ?? null]),
  ])
const placed = (r: KafkaRecord) => `${r.partition}@${r.offset} ${content(r)}`

/** kcat, an independent reader: one partition's records with key, value, timestamp and headers, as raw bytes. */
function kcat(topic: string, partition: number): Buffer {
  return execFileSync('kcat', ['-b', testBrokers(), '-C', '-t', topic, '-p', String(partition), '-o', 'beginning', '-e', '-q', '-f', '%o|%T|%K%k|%S%s|%h\\n'], {
    maxBuffer: 64 << 20,
  })
}

const quarantineFile = () => join(dir, `${uniqueName('q')}.jsonl`)

test(
  'export → import round trip: topic → replay --sink file:x.jsonl → replay --source file:x.jsonl --sink kafka:other gives the same records byte for byte (kcat agrees)',
  withTimeout(180_000, async () => {
    const source = uniqueName('file-src')
    await createTopic(source, 3)
    await write(source, 3, awkwardRecords(120, 3))
    const exported = join(dir, `${uniqueName('export')}.jsonl`)
    const out = await runCli(['replay', '--topic', source, '--sink', `file:${exported}`, '--quarantine', quarantineFile(), '--json'])
    assert.is(out.exitCode, 0, out.stdout + out.stderr)
    assert.is(out.json.totals.written, 120)

    const restored = uniqueName('file-restored')
    const back = await runCli([
      'replay',
      '--source',
      `file:${exported}`,
      '--sink',
      `kafka:${restored}`,
      '--no-provenance-headers',
      '--quarantine',
      quarantineFile(),
      '--json',
    ])
    assert.is(back.exitCode, 0, back.stdout + back.stderr)
    assert.equal([back.json.topic, back.json.totals.read, back.json.totals.written, back.json.totals.quarantined], [source, 120, 120, 0])
    assert.is(back.json.source, `file:${exported}`)

    const before = await readTopic(source)
    const after = await readTopic(restored)
    // The sink topic was created with the source's partition count; every record is where it was, at the same offset.
    assert.equal(after.map(placed), before.map(placed))
    for (const p of [0, 1, 2]) assert.ok(kcat(restored, p).equals(kcat(source, p)), `kcat sees partition ${p} differently`)

    // And back out again: the second export is the first, byte for byte.
    const again = join(dir, `${uniqueName('export-again')}.jsonl`)
    const reexport = await runCli(['replay', '--topic', restored, '--sink', `file:${again}`, '--quarantine', quarantineFile(), '--json'])
    assert.is(reexport.exitCode, 0, reexport.stdout + reexport.stderr)
    const fileToFile = join(dir, `${uniqueName('file-to-file')}.jsonl`)
    const copied = await runCli(['replay', '--source', `file:${exported}`, '--sink', `file:${fileToFile}`, '--quarantine', quarantineFile(), '--json'])
    assert.is(copied.exitCode, 0, copied.stdout + copied.stderr)
    const lines = (path: string) =>
      readFileSync(path, 'utf8')
        .trim()
        .split('\n')
        .map((l) => {
          const e = JSON.parse(l)
          return JSON.stringify({ ...e, topic: 'T' })
        })
        .sort()
    assert.equal(lines(again), lines(exported))
    assert.equal(readFileSync(fileToFile, 'utf8').split('\n').sort(), readFileSync(exported, 'utf8').split('\n').sort(), 'file → file keeps every line')
  }),
)

test(
  'into a topic with fewer partitions, records go by key as Kafka places them (keyless ones to their partition modulo the count); --partitioning key does so always',
  withTimeout(120_000, async () => {
    const source = uniqueName('file-src-keys')
    await createTopic(source, 3)
    await write(source, 3, awkwardRecords(30, 3))
    const exported = join(dir, `${uniqueName('export')}.jsonl`)
    assert.is((await runCli(['replay', '--topic', source, '--sink', `file:${exported}`, '--quarantine', quarantineFile()])).exitCode, 0)
    const narrow = uniqueName('file-narrow')
    await createTopic(narrow, 2)
    const run = await runCli([
      'replay',
      '--source',
      `file:${exported}`,
      '--sink',
      `kafka:${narrow}`,
      '--no-provenance-headers',
      '--quarantine',
      quarantineFile(),
      '--json',
    ])
    assert.is(run.exitCode, 0, run.stdout + run.stderr)
    const before = await readTopic(source)
    const after = await readTopic(narrow)
    assert.is(after.length, before.length)
    const expected = new Map(before.map((r) => [content(r), r.key ? partitionForKey(r.key, 2) : r.partition % 2]))
    for (const r of after) assert.is(r.partition, expected.get(content(r)) ?? -1)

    // --partitioning key: by key even into a topic with more partitions, where each would have kept its own.
    const wide = uniqueName('file-wide')
    await createTopic(wide, 5)
    const byKey = await runCli([
      'replay',
      '--source',
      `file:${exported}`,
      '--sink',
      `kafka:${wide}`,
      '--partitioning',
      'key',
      '--no-provenance-headers',
      '--quarantine',
      quarantineFile(),
      '--json',
    ])
    assert.is(byKey.exitCode, 0, byKey.stdout + byKey.stderr)
    const spread = await readTopic(wide)
    assert.is(spread.length, before.length)
    const expectedWide = new Map(before.map((r) => [content(r), r.key ? partitionForKey(r.key, 5) : r.partition % 5]))
    for (const r of spread) assert.is(r.partition, expectedWide.get(content(r)) ?? -1)
    assert.ok(new Set(spread.map((r) => r.partition)).size > 3, 'keys spread over the new partitions')
  }),
)

test(
  'a quarantine export replays as the original records: original partition, key, headers without the failure context, through a transform',
  withTimeout(180_000, async () => {
    const topic = uniqueName('file-dlq')
    await createTopic(topic, 2)
    await withGateway(async (gateway) => {
      const writer = await KafkaWriter.open(gateway, topic, { createPartitions: 2, idempotent: true, errorCode: 'SINK_FAILED', role: 'sink' })
      await writer.write([
        {
          sourcePartition: 0,
          key: Buffer.from('a'),
          value: Buffer.from('{"id":"a","amount":100}'),
          headers: [{ key: 'trace', value: Buffer.from('t-a') }],
          timestampMs: T,
        },
        {
          sourcePartition: 1,
          key: Buffer.from('b'),
          value: Buffer.from('{broken'),
          headers: [
            { key: 'trace', value: Buffer.from('t-b') },
            { key: 'trace', value: null },
          ],
          timestampMs: T + 1,
        },
        {
          sourcePartition: 1,
          key: Buffer.from('c'),
          value: Buffer.from('plain text'),
          headers: [{ key: 'trace', value: Buffer.from('t-c') }],
          timestampMs: T + 2,
        },
      ])
      await writer.close()
    })
    const dlq = uniqueName('file-dlq-q')
    const first = await runCli([
      'replay',
      '--topic',
      topic,
      '--value-format',
      'json',
      '--sink',
      `file:${join(dir, `${uniqueName('o')}.jsonl`)}`,
      '--quarantine',
      `kafka:${dlq}`,
      '--max-failure-rate',
      '0',
      '--json',
    ])
    assert.is(first.exitCode, 0, first.stdout + first.stderr)
    assert.is(first.json.totals.quarantined, 2)
    const exportFile = join(dir, `${uniqueName('dlq-export')}.jsonl`)
    const exported = await runCli(['quarantine', 'export', '--dlq', `kafka:${dlq}`, '--output', exportFile, '--json'])
    assert.is(exported.exitCode, 0, exported.stdout + exported.stderr)
    assert.match(readFileSync(exportFile, 'utf8'), /recover\.error\.stage/)

    // The bytes as they were (value-format bytes) back into a topic, with the provenance header (on by default).
    const restored = uniqueName('file-dlq-restored')
    const back = await runCli(['replay', '--source', `file:${exportFile}`, '--sink', `kafka:${restored}`, '--quarantine', quarantineFile(), '--json'])
    assert.is(back.exitCode, 0, back.stdout + back.stderr)
    assert.equal([back.json.topic, back.json.totals.written], [topic, 2])
    const records = (await readTopic(restored)).sort((x, y) => x.timestampMs - y.timestampMs)
    assert.equal(
      records.map((r) => [r.partition, r.key?.toString(), r.value?.toString(), r.timestampMs, r.headers.map((h) => [h.key, h.value?.toString() ?? null])]),
      [
        [
          1,
          'b',
          '{broken',
          T + 1,
          [
            ['trace', 't-b'],
            ['trace', null],
            ['recover.replayed-from', `${topic}/1@0`],
          ],
        ],
        [
          1,
          'c',
          'plain text',
          T + 2,
          [
            ['trace', 't-c'],
            ['recover.replayed-from', `${topic}/1@1`],
          ],
        ],
      ],
    )

    // Decoded as JSON they fail again: quarantined as a replay of the topic would, naming their original position.
    const again = quarantineFile()
    const failing = await runCli([
      'replay',
      '--source',
      `file:${exportFile}`,
      '--value-format',
      'json',
      '--sink',
      `file:${join(dir, `${uniqueName('o')}.jsonl`)}`,
      '--quarantine',
      `file:${again}`,
      '--max-failure-rate',
      '0',
      '--json',
    ])
    assert.is(failing.exitCode, 0, failing.stdout + failing.stderr)
    assert.equal([failing.json.totals.quarantined, failing.json.quarantinedByStage.decode], [2, 2])
    const requarantined = readFileSync(again, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    for (const e of requarantined) {
      const h = new Map<string, string>(e.headers.map((x: { key: string; text?: string }) => [x.key, x.text ?? '']))
      assert.equal([e.topic, e.partition, h.get('recover.source.topic'), h.get('recover.source.partition')], [topic, 1, topic, '1'])
    }

    // Through a transform that fixes them, as a replay of the topic would: what still fails is quarantined again.
    const plugin = join(dir, 'fix-broken.ts')
    writeFileSync(
      plugin,
      `import { defineTransform } from 'recover/plugin-api'\nexport default defineTransform({ name: 'fix-broken', version: '1', transform: (r) => ({ ...r, value: Buffer.from(JSON.stringify({ id: r.key, fixed: true })) }) })\n`,
    )
    const fixedFile = join(dir, `${uniqueName('fixed')}.jsonl`)
    const fixed = await runCli([
      'replay',
      '--source',
      `file:${exportFile}`,
      '--key-format',
      'string',
      '--value-format',
      'bytes',
      '--transform',
      plugin,
      '--sink',
      `file:${fixedFile}`,
      '--quarantine',
      quarantineFile(),
      '--json',
    ])
    assert.is(fixed.exitCode, 0, fixed.stdout + fixed.stderr)
    assert.is(fixed.json.totals.written, 2)
    const fixedLines = readFileSync(fixedFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    assert.equal(fixedLines.map((e) => [e.topic, e.partition, Buffer.from(e.value, 'base64').toString()]).sort(), [
      [topic, 1, '{"id":"b","fixed":true}'],
      [topic, 1, '{"id":"c","fixed":true}'],
    ])
  }),
)

test(
  'a file into PostgreSQL: one row per record, source_partition and source_offset as the topic had them',
  withTimeout(120_000, async () => {
    const topic = uniqueName('file-pg')
    await createTopic(topic, 2)
    await withGateway(async (gateway) => {
      const writer = await KafkaWriter.open(gateway, topic, { createPartitions: 2, idempotent: true, errorCode: 'SINK_FAILED', role: 'sink' })
      await writer.write(
        Array.from({ length: 40 }, (_, i) => ({
          sourcePartition: i % 2,
          key: Buffer.from(`o-${i}`),
          value: Buffer.from(JSON.stringify({ order_id: `o-${i}`, amount: i * 10 })),
          headers: [],
          timestampMs: T + i,
        })),
      )
      await writer.close()
    })
    const exported = join(dir, `${uniqueName('export')}.jsonl`)
    assert.is((await runCli(['replay', '--topic', topic, '--sink', `file:${exported}`, '--quarantine', quarantineFile()])).exitCode, 0)
    const table = testTable('file_src')
    const run = await runCli([
      'replay',
      '--source',
      `file:${exported}`,
      '--value-format',
      'json',
      '--sink',
      `postgres://postgres@127.0.0.1:5432/test?table=${table}&key=order_id`,
      '--create-table',
      '--quarantine',
      quarantineFile(),
      '--json',
    ])
    assert.is(run.exitCode, 0, run.stdout + run.stderr)
    const rows = await query<{ order_id: string; amount: string; source_topic: string; source_partition: number; source_offset: string }>(
      `SELECT order_id, amount::text AS amount, source_topic, source_partition, source_offset::text AS source_offset FROM ${table} ORDER BY source_partition, source_offset::bigint`,
    )
    const source = await readTopic(topic)
    assert.equal(
      rows.map((r) => `${r.source_topic}/${r.source_partition}@${r.source_offset} ${r.order_id} ${r.amount}`),
      source.map((r) => {
        const v = JSON.parse(r.value!.toString())
        return `${topic}/${r.partition}@${r.offset} ${v.order_id} ${v.amount}`
      }),
    )
    await dropTestTables()
  }),
)

test(
  'an interrupted file replay resumes where its checkpoint is: every record once',
  withTimeout(180_000, async () => {
    const source = uniqueName('file-resume')
    await createTopic(source, 2)
    await write(source, 2, awkwardRecords(300, 2))
    const exported = join(dir, `${uniqueName('export')}.jsonl`)
    assert.is((await runCli(['replay', '--topic', source, '--sink', `file:${exported}`, '--quarantine', quarantineFile()])).exitCode, 0)
    const target = join(dir, `${uniqueName('resumed')}.jsonl`)
    const checkpoint = join(dir, `${uniqueName('cp')}.json`)
    const q = quarantineFile()
    const args = [
      'replay',
      '--source',
      `file:${exported}`,
      '--sink',
      `file:${target}`,
      '--quarantine',
      q,
      '--checkpoint',
      checkpoint,
      '--batch-size',
      '10',
      '--rate',
      '40',
    ]
    const running = spawnCli(args, { cwd: repoRoot() })
    // Stop it once some batches are checkpointed (bounded by the test's timeout, no sleeps).
    while (!existsSync(checkpoint) || JSON.parse(readFileSync(checkpoint, 'utf8')).batches < 2) {
      await new Promise((r) => setTimeout(r, 100))
      if (running.child.exitCode !== null) break
    }
    running.child.kill('SIGINT')
    const stopped = await running.done
    assert.is(stopped.code, 130, stopped.stderr)
    const partial = readFileSync(target, 'utf8').trim().split('\n').length
    assert.ok(partial < 300, `stopped before the end (${partial} lines)`)
    const resumed = await runCli([...args.filter((a) => a !== '--rate' && a !== '40'), '--resume', '--json'])
    assert.is(resumed.exitCode, 0, resumed.stdout + resumed.stderr)
    assert.ok(resumed.json.resumed)
    const lines = readFileSync(target, 'utf8').trim().split('\n')
    assert.is(lines.length, 300)
    assert.is(new Set(lines).size, 300, 'no record twice')
    assert.equal([...lines].sort(), readFileSync(exported, 'utf8').trim().split('\n').sort())
  }),
)

test(
  'refusals: a malformed line names its number and writes nothing; a missing file; CSV with the fix; --source with --from',
  withTimeout(120_000, async () => {
    const good = JSON.stringify({
      v: 1,
      topic: 'orders',
      partition: 0,
      offset: '0',
      timestamp: T,
      timestampType: 'create',
      key: null,
      value: 'eA==',
      headers: [],
    })
    const bad = join(dir, `${uniqueName('bad')}.jsonl`)
    writeFileSync(bad, `${good}\n${good.replace('"offset":"0"', '"offset":"1"')}\n{"v":1,"topic":"orders","partition":0,"offset":"2"\n`)
    const sink = join(dir, `${uniqueName('never')}.jsonl`)
    const run = await runCli(['replay', '--source', `file:${bad}`, '--sink', `file:${sink}`, '--quarantine', quarantineFile(), '--json'])
    assert.equal([run.exitCode, run.json?.error?.code, run.json?.error?.details?.line], [2, 'BAD_SOURCE', 3], run.stdout + run.stderr)
    assert.match(run.json.error.message, /^Line 3 of .* is not a record of recover's JSONL envelope \(not JSON/)
    assert.not.ok(existsSync(sink), 'nothing written')

    const missing = await runCli(['replay', '--source', `file:${join(dir, 'no-such.jsonl')}`, '--sink', `file:${sink}`, '--json'])
    assert.equal([missing.exitCode, missing.json?.error?.code], [2, 'BAD_SOURCE'])
    assert.match(missing.json.error.message, /cannot be read \(ENOENT\)/)

    // Refused before connecting: nothing listens at NO_KAFKA.
    const csv = await runCli(['replay', '--source', 'file:orders.csv', '--sink', `file:${sink}`, '--json'], { env: NO_KAFKA })
    assert.equal([csv.exitCode, csv.json?.error?.code], [2, 'BAD_SOURCE'])
    assert.match(csv.json.error.message, /CSV keeps no headers.*replay --sink file:X\.jsonl/)
    const both = await runCli(['replay', '--source', `file:${bad}`, '--topic', 'orders', '--sink', `file:${sink}`, '--json'], { env: NO_KAFKA })
    assert.is(both.exitCode, 2)
    const neither = await runCli(['replay', '--sink', `file:${sink}`, '--json'], { env: NO_KAFKA })
    assert.equal([neither.exitCode, neither.json?.error?.code], [2, 'USAGE'])
    const bounded = await runCli(['replay', '--source', `file:${bad}`, '--from', 'offset:1', '--sink', `file:${sink}`, '--json'])
    assert.equal([bounded.exitCode, bounded.json?.error?.code], [2, 'USAGE'])
  }),
)

test.run()
