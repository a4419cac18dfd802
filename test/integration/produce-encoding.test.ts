import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { CompressionTypes } from 'kafkajs'
import { KafkaWriter, type WritableRecord } from '../../src/kafka/kafka-writer.js'
import type { KafkaRecord } from '../../src/kafka/kafka-record.js'
import type { RecordHeader } from '../../src/kafka/ordered-headers.js'
import { installProduceEncoding } from '../../src/kafka/produce-encoding/install.js'
import { produceRecords, type ProducibleRecord } from '../../src/kafka/produce-records.js'
import { KafkaSink } from '../../src/sinks/kafka-sink.js'
import type { SinkRecord } from '../../src/sinks/sink.js'
import { readTopic, testBrokers, testKafka, uniqueName, withAdmin, withGateway } from '../support/kafka.js'
import { waitFor, withTimeout } from '../support/timeout.js'

/**
 * recover's own Produce encoding against a real broker: what KafkaWriter (idempotent and
 * transactional) and produceRecords (plain, each codec) write is read back by recover's reader
 * and by kcat (librdkafka, checking every batch's CRC), with keys, values, headers (order,
 * repeats, nulls) and timestamps intact.
 */
const require = createRequire(import.meta.url)
const T0 = Date.UTC(2018, 2, 21, 9, 30)

function kcatRead(topic: string): Promise<{ code: number; lines: Array<Record<string, unknown>>; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'kcat',
      ['-C', '-b', testBrokers(), '-t', topic, '-o', 'beginning', '-e', '-q', '-J', '-X', 'check.crcs=true', '-X', 'isolation.level=read_committed'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    child.on('error', reject)
    child.on('close', (code) =>
      resolve({
        code: code ?? -1,
        stderr,
        lines: stdout
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as Record<string, unknown>),
      }),
    )
  })
}

async function createTopic(topic: string, partitions: number, configs: Record<string, string> = {}): Promise<void> {
  await withAdmin((admin) =>
    admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic,
          numPartitions: partitions,
          replicationFactor: 1,
          configEntries: Object.entries({ 'retention.ms': '-1', ...configs }).map(([name, value]) => ({ name, value })),
        },
      ],
    }),
  )
}

const text = (s: string) => Buffer.from(s, 'utf8')

/** Records with every shape a replay carries: nulls, repeated and null headers, non-ASCII, one of 1.5 MB. */
function sampleRecords(): WritableRecord[] {
  const big = Buffer.alloc(1_500_000)
  for (let i = 0; i < big.length; i++) big[i] = (i * 131) & 0xff
  const records: WritableRecord[] = [
    {
      sourcePartition: 0,
      key: text('ключ-🔑'),
      value: text('{"note":"значение — ✓"}'),
      timestampMs: T0,
      headers: [
        { key: 'a', value: text('1') },
        { key: 'b', value: null },
        { key: 'a', value: text('2') },
        { key: 'en-tête-é', value: text('ü') },
      ],
    },
    { sourcePartition: 0, key: null, value: text('no key'), timestampMs: T0 + 1, headers: [] },
    { sourcePartition: 1, key: text('tombstone'), value: null, timestampMs: T0 - 86_400_000, headers: [{ key: 'only-null', value: null }] },
    { sourcePartition: 1, key: text('big'), value: big, timestampMs: T0 + 2, headers: [{ key: 'size', value: text(String(big.length)) }] },
  ]
  for (let i = 0; i < 2_000; i++) {
    records.push({
      sourcePartition: i % 2,
      key: text(`order-${i}`),
      value: text(JSON.stringify({ i, pad: 'x'.repeat(i % 200) })),
      timestampMs: T0 + 10 * i,
      headers: [
        { key: 'trace-id', value: text(i.toString(16)) },
        { key: 'app-version', value: text('1.5.0') },
      ],
    })
  }
  return records
}

const view = (r: { partition: number; key: Buffer | null; value: Buffer | null; timestampMs: number; headers: readonly RecordHeader[] }) => ({
  partition: r.partition,
  key: r.key?.toString('base64') ?? null,
  value: r.value?.toString('base64') ?? null,
  timestampMs: r.timestampMs,
  headers: r.headers.map((h) => [h.key, h.value?.toString('base64') ?? null]),
})

function assertSameRecords(read: KafkaRecord[], written: WritableRecord[]): void {
  assert.is(read.length, written.length)
  const byPartition = (p: number) => read.filter((r) => r.partition === p).map(view)
  for (const p of [0, 1]) {
    assert.equal(
      byPartition(p),
      written.filter((r) => r.sourcePartition === p).map((r) => view({ ...r, partition: p })),
      `partition ${p}`,
    )
  }
  for (const r of read) assert.is(r.timestampType, 'create')
}

/** kcat's view of the small text records: key, value, timestamp and headers (librdkafka checked the CRCs). */
async function assertKcatReads(topic: string, written: WritableRecord[]): Promise<void> {
  const out = await kcatRead(topic)
  assert.is(out.code, 0, out.stderr)
  assert.not.match(out.stderr, /crc|error/i)
  assert.is(out.lines.length, written.length)
  const first = out.lines.find((l) => l.partition === 0 && l.offset === 0)!
  assert.is(first.key, 'ключ-🔑')
  assert.is(first.payload, '{"note":"значение — ✓"}')
  assert.is(first.ts, T0)
  assert.equal(first.headers, ['a', '1', 'b', null, 'a', '2', 'en-tête-é', 'ü'])
}

test.before(() => installProduceEncoding())

test("the Produce requests kafkajs builds for v3 to v7 are recover's", () => {
  const produce = require('kafkajs/src/protocol/requests/produce/index.js') as {
    protocol(a: { version: number }): (args: unknown) => { request: Record<symbol, unknown> & { apiVersion: number } }
  }
  for (const version of [3, 4, 5, 6, 7]) {
    const { request } = produce.protocol({ version })({ acks: -1, timeout: 1000, topicData: [] })
    assert.is(request.apiVersion, version)
    assert.type(request[Symbol.for('recover.encodeFramedRequest')], 'function', `v${version}`)
  }
})

test(
  'an idempotent KafkaWriter writes every record intact: nulls, ordered and null headers, non-ASCII, 1.5 MB',
  withTimeout(120_000, async () => {
    const topic = uniqueName('produce-encoding-idem')
    await createTopic(topic, 2, { 'max.message.bytes': String(4 << 20) })
    const records = sampleRecords()
    await withGateway(async (gateway) => {
      const writer = await KafkaWriter.open(gateway, topic, { createPartitions: 2, errorCode: 'SINK_FAILED', role: 'sink', requestRecords: 700 })
      try {
        assert.equal(await writer.write(records.slice(0, 1000)), [])
        assert.equal(await writer.write(records.slice(1000)), [])
      } finally {
        await writer.close()
      }
    })
    assertSameRecords(await readTopic(topic), records)
    await assertKcatReads(topic, records)
  }),
)

test(
  'a transactional KafkaWriter: committed batches are read back intact, an aborted one is not seen',
  withTimeout(120_000, async () => {
    const topic = uniqueName('produce-encoding-tx')
    await createTopic(topic, 2, { 'max.message.bytes': String(4 << 20) })
    const records = sampleRecords()
    const aborted: WritableRecord[] = [{ sourcePartition: 0, key: text('aborted'), value: text('never seen'), timestampMs: T0, headers: [] }]
    await withGateway(async (gateway) => {
      const writer = await KafkaWriter.open(gateway, topic, {
        createPartitions: 2,
        errorCode: 'SINK_FAILED',
        role: 'sink',
        transactionalId: uniqueName('produce-encoding-tx-id'),
      })
      try {
        await writer.fence()
        await writer.begin()
        assert.equal(await writer.write(records.slice(0, 1500)), [])
        await writer.commit()
        await writer.begin()
        await writer.write(aborted)
        await writer.abort()
        await writer.begin()
        assert.equal(await writer.write(records.slice(1500)), [])
        await writer.commit()
      } finally {
        await writer.close()
      }
    })
    // EndTxn is answered before the transaction markers reach the partitions: until they do, the
    // last stable offset (where a read_committed reader stops) may not include the last commit.
    const read = await waitFor(
      'the committed transactions to be readable (their markers written)',
      async () => {
        const r = await readTopic(topic)
        return r.length >= records.length ? r : undefined
      },
      30_000,
      200,
    )
    assertSameRecords(read, records)
    await assertKcatReads(topic, records)
  }),
)

test(
  'produceRecords without idempotence, uncompressed and with gzip, snappy and lz4: records and offsets as written',
  withTimeout(120_000, async () => {
    const kafka = testKafka()
    for (const compression of [0, 1, 2, 3] as CompressionTypes[]) {
      const topic = uniqueName(`produce-encoding-codec-${compression}`)
      await createTopic(topic, 2)
      const records: ProducibleRecord[] = Array.from({ length: 3_000 }, (_, i) => ({
        partition: i % 2,
        key: i % 7 === 0 ? null : text(`k-${i}`),
        value: i % 11 === 0 ? null : text(`value ${i} ${'the same words again '.repeat(i % 5)}`),
        timestampMs: T0 + i,
        headers: i % 3 === 0 ? undefined : { source: 'fixture', 'ü-key': `v${i}` },
      }))
      // not idempotent on purpose: this test is the encoder's path for producers without idempotence.
      const producer = kafka.producer({
        allowAutoTopicCreation: false,
        createPartitioner:
          () =>
          ({ message }) =>
            message.partition ?? 0,
      })
      await producer.connect()
      try {
        const result = await produceRecords(producer, topic, records, { batchSize: 400, compression })
        assert.equal(
          result.partitions.map((p) => [p.partition, p.records, p.firstOffset, p.nextOffset, p.contiguous]),
          [
            [0, 1500, 0n, 1500n, true],
            [1, 1500, 0n, 1500n, true],
          ],
        )
      } finally {
        await producer.disconnect()
      }
      const read = await readTopic(topic)
      const expected = (p: number) =>
        records
          .filter((r) => r.partition === p)
          .map((r) => view({ ...r, headers: Object.entries(r.headers ?? {}).map(([key, v]) => ({ key, value: text(v) })) }))
      for (const p of [0, 1]) assert.equal(read.filter((r) => r.partition === p).map(view), expected(p), `compression ${compression}, partition ${p}`)
      const kcat = await kcatRead(topic)
      assert.is(kcat.code, 0, kcat.stderr)
      assert.not.match(kcat.stderr, /crc|error/i)
      assert.is(kcat.lines.length, records.length)
    }
  }),
)

interface WatchedRequest {
  compression?: number
  topicData: Array<{ topic: string; partitions: Array<{ messages: Array<{ key?: unknown; value?: unknown; headers?: unknown }> }> }>
}

/** Runs `work` while kafkajs's Produce requests (v3 to v7) show their arguments to `seen` first. */
async function watchingProduceRequests(seen: (request: WatchedRequest) => void, work: () => Promise<void>): Promise<void> {
  const paths = [3, 4, 5, 6, 7].map((v) => require.resolve(`kafkajs/src/protocol/requests/produce/v${v}/request.js`))
  const originals = paths.map((p) => require.cache[p]!.exports as (args: WatchedRequest) => unknown)
  paths.forEach((p, i) => {
    require.cache[p]!.exports = (args: WatchedRequest) => {
      seen(args)
      return originals[i]!(args)
    }
  })
  try {
    await work()
  } finally {
    paths.forEach((p, i) => {
      require.cache[p]!.exports = originals[i]
    })
  }
}

test(
  "a Kafka sink hands the records' own key and value Buffers and header list to the encoder: nothing is copied before it",
  withTimeout(60_000, async () => {
    const topic = uniqueName('produce-encoding-sink')
    await createTopic(topic, 2)
    // As a fetch response holds them: key and value are slices of one buffer.
    const fetched = Buffer.from('key-0value-0key-1value-1')
    const records: SinkRecord[] = [0, 1].map((i) => ({
      key: fetched.subarray(12 * i, 12 * i + 5),
      value: fetched.subarray(12 * i + 5, 12 * i + 12),
      decodedKey: null,
      decodedValue: null,
      headers: [{ key: 'h', value: fetched.subarray(0, 1) }],
      timestamp: T0 + i,
      timestampType: 'create',
      source: { topic: 'source', partition: i, offset: BigInt(i) },
    }))
    const seen: Array<{ key?: unknown; value?: unknown; headers?: unknown }> = []
    await withGateway(async (gateway) => {
      const sink = new KafkaSink(gateway, topic, { createPartitions: 2 })
      await sink.open(undefined, { runId: uniqueName('run'), topic: 'source' })
      try {
        await watchingProduceRequests(
          (request) => {
            for (const t of request.topicData) for (const part of t.partitions) seen.push(...part.messages)
          },
          async () => {
            assert.equal(await sink.write(records), [])
          },
        )
      } finally {
        await sink.close()
      }
    })
    assert.is(seen.length, 2)
    for (const r of records) {
      const m = seen.find((s) => s.key === r.key)
      assert.ok(m, 'the key Buffer itself reached the encoder')
      assert.ok(m!.value === r.value, 'the value Buffer itself reached the encoder')
      assert.ok(m!.headers === r.headers, 'the header list itself reached the encoder')
    }
    assert.equal(
      (await readTopic(topic)).map((r) => [r.partition, r.key?.toString(), r.value?.toString(), r.timestampMs, r.headers.map((h) => h.value?.toString())]),
      [
        [0, 'key-0', 'value-0', T0, ['k']],
        [1, 'key-1', 'value-1', T0 + 1, ['k']],
      ],
    )
  }),
)

test(
  "a Kafka sink compresses as the topic's compression.type asks (gzip, snappy, lz4; zstd is left to the broker), and the records read back intact",
  withTimeout(120_000, async () => {
    const records: SinkRecord[] = Array.from({ length: 2_000 }, (_, i) => ({
      key: text(`k-${i}`),
      value: i % 9 === 0 ? null : text(`{"i":${i},"note":"${'the same words again '.repeat(1 + (i % 4))}"}`),
      decodedKey: null,
      decodedValue: null,
      headers: [
        { key: 'trace', value: text(String(i)) },
        { key: 'n', value: null },
      ],
      timestamp: T0 + i,
      timestampType: 'create',
      source: { topic: 'source', partition: i % 2, offset: BigInt(i) },
    }))
    for (const [codec, expected] of [
      ['gzip', 1],
      ['snappy', 2],
      ['lz4', 3],
      ['zstd', undefined],
      ['producer', undefined],
    ] as const) {
      const topic = uniqueName(`produce-encoding-topic-${codec}`)
      await createTopic(topic, 2, { 'compression.type': codec })
      const asked = new Set<number | undefined>()
      await withGateway(async (gateway) => {
        const sink = new KafkaSink(gateway, topic, { createPartitions: 2 })
        await sink.open(undefined, { runId: uniqueName('run'), topic: 'source' })
        try {
          await watchingProduceRequests(
            (request) => {
              if (request.topicData.some((t) => t.topic === topic)) asked.add(request.compression || undefined)
            },
            async () => {
              assert.equal(await sink.write(records), [])
            },
          )
        } finally {
          await sink.close()
        }
      })
      assert.equal([...asked], [expected], codec)
      const read = await readTopic(topic)
      for (const p of [0, 1]) {
        assert.equal(
          read.filter((r) => r.partition === p).map(view),
          records.filter((r) => r.source.partition === p).map((r) => view({ ...r, partition: p, timestampMs: r.timestamp })),
          `${codec}, partition ${p}`,
        )
      }
    }
  }),
)

test.run()
