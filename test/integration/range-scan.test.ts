import { spawn } from 'node:child_process'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { contentHashes, contentHashesInPlace } from '../../src/core/content-hash.js'
import { parseRangeBound, planReplayRanges, type PartitionRange } from '../../src/core/replay-range.js'
import { KafkaGateway } from '../../src/kafka/kafka-gateway.js'
import { resolveConnection } from '../../src/config/resolve-connection.js'
import { headersForMessage, installOrderedHeaders } from '../../src/kafka/ordered-headers.js'
import { PartitionFetcher } from '../../src/kafka/partition-fetcher.js'
import { RangeReader, type RangeReaderOptions } from '../../src/kafka/range-reader.js'
import type { KafkaRecord } from '../../src/kafka/kafka-record.js'
import type { RecordView } from '../../src/kafka/record-batch-walker.js'
import { testBrokers, testKafka, uniqueName, withAdmin } from '../support/kafka.js'
import { withTimeout } from '../support/timeout.js'

installOrderedHeaders()

/**
 * The in-place scan (what audits read with) and the read (records built in place, what replay
 * reads with) against kafkajs's own decoding (PartitionFetcher) on the same ranges: the same
 * records, byte for byte, in every codec, across committed,
 * aborted and open transactions, with null keys, values and header values, binary keys,
 * repeated headers, log-append time, ranges starting inside a compressed batch, and fetches
 * too small for one batch.
 */

interface Seen {
  offset: string
  timestampMs: number
  timestampType: string
  key: string | null
  value: string | null
  headers: Array<[string, string | null]>
}

const hex = (b: Buffer | null) => (b === null ? null : b.toString('hex'))

function kcat(topic: string, codec: string, lines: string[], headers: string[] = []): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'kcat',
      [
        '-P',
        '-b',
        testBrokers(),
        '-t',
        topic,
        '-p',
        '0',
        '-z',
        codec,
        '-K',
        '\t',
        ...headers.flatMap((h) => ['-H', h]),
        '-X',
        'linger.ms=50',
        '-X',
        'batch.num.messages=100',
      ],
      { stdio: ['pipe', 'ignore', 'pipe'] },
    )
    let stderr = ''
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    child.on('error', reject)
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`kcat -z ${codec}: ${stderr}`))))
    child.stdin.end(`${lines.join('\n')}\n`)
  })
}

async function withReader<T>(
  topic: string,
  work: (reader: RangeReader, ranges: (from: string, to: string) => Promise<PartitionRange[]>) => Promise<T>,
): Promise<T> {
  const gateway = await KafkaGateway.open(resolveConnection({ brokers: testBrokers() }, { clusters: {}, defaults: {} }))
  const reader = new RangeReader(gateway.kafka, gateway.settings, topic)
  const ranges = async (from: string, to: string) =>
    planReplayRanges(parseRangeBound(from, '--from'), parseRangeBound(to, '--to'), await reader.partitionFacts([0]))
  try {
    return await work(reader, ranges)
  } finally {
    await reader.close()
    await gateway.close()
  }
}

type Read = Seen & { hashes: ReturnType<typeof contentHashes> }

function seenOf(r: KafkaRecord): Read {
  return {
    offset: String(r.offset),
    timestampMs: r.timestampMs,
    timestampType: r.timestampType,
    key: hex(r.key),
    value: hex(r.value),
    headers: r.headers.map((h) => [h.key, hex(h.value)]),
    hashes: contentHashes(r.value, r.headers),
  }
}

/** The reference: kafkajs decodes each fetch (PartitionFetcher), from each range's start to its end. */
async function decoded(reader: RangeReader, ranges: PartitionRange[], options: RangeReaderOptions): Promise<Read[]> {
  const fetcher = new PartitionFetcher(reader.kafka, { isolation: 'read_committed' })
  const out: Read[] = []
  try {
    for (const range of ranges) {
      for (let next = range.start; next < range.end; ) {
        const { records, nextOffset } = await fetcher.fetch(reader.topic, range.partition, next, { maxBytes: options.maxBytesPerPartition, maxWaitMs: 100 })
        for (const r of records) if (r.offset >= range.start && r.offset < range.end) out.push(seenOf(r))
        assert.ok(nextOffset > next, `kafkajs did not move past offset ${next}`)
        next = nextOffset
      }
    }
  } finally {
    await fetcher.close()
  }
  return out
}

/** What replay reads with: records built in place. */
async function read(reader: RangeReader, ranges: PartitionRange[], options: RangeReaderOptions): Promise<Read[]> {
  const out: Read[] = []
  for await (const chunks of reader.read(ranges, options)) for (const c of chunks) for (const r of c.records) out.push(seenOf(r))
  return out
}

async function scanned(reader: RangeReader, ranges: PartitionRange[], options: RangeReaderOptions): Promise<{ seen: Read[]; counted: number }> {
  const seen: Read[] = []
  const slice = (v: RecordView, start: number, length: number) => (start < 0 ? null : v.bytes.subarray(start, start + length).toString('hex'))
  let counted = 0
  const visit = (v: RecordView) => {
    const headers: Array<[string, string | null]> = []
    for (let h = 0; h < v.headerCount; h++) {
      const [ks, kl, vs, vl] = [v.headerRanges[4 * h]!, v.headerRanges[4 * h + 1]!, v.headerRanges[4 * h + 2]!, v.headerRanges[4 * h + 3]!]
      headers.push([v.bytes.subarray(ks, ks + kl).toString('utf8'), slice(v, vs, vl)])
    }
    seen.push({
      offset: String(v.offset),
      timestampMs: v.timestampMs,
      timestampType: v.logAppendTime ? 'log-append' : 'create',
      key: slice(v, v.keyStart, v.keyLength),
      value: slice(v, v.valueStart, v.valueLength),
      headers,
      hashes: contentHashesInPlace(v.bytes, v.valueStart, v.valueLength, v.headerRanges, v.headerCount),
    })
  }
  for await (const chunks of reader.scan(ranges, visit, options)) for (const c of chunks) counted += c.count
  return { seen, counted }
}

test(
  'scanning in place sees exactly what decoding sees: codecs, transactions, nulls, headers, partial ranges and small fetches',
  withTimeout(120_000, async () => {
    const topic = uniqueName('scan-eq')
    await withAdmin((admin) => admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true }))
    for (const codec of ['gzip', 'snappy', 'lz4', 'zstd']) {
      await kcat(
        topic,
        codec,
        Array.from({ length: 150 }, (_, i) => `${codec}-${i}\t{"n":${i},"codec":"${codec}"}`),
        [`codec=${codec}`, 'dup=1', 'dup=2'],
      )
    }
    const kafka = testKafka()
    const plain = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
    await plain.connect()
    await plain.send({
      topic,
      messages: [
        { partition: 0, key: null, value: 'no key' },
        { partition: 0, key: 'tombstone', value: null },
        { partition: 0, key: 'empty', value: '' },
        { partition: 0, key: Buffer.from([0xff, 0x00, 0xc3]), value: Buffer.from([0, 1, 2, 255]) },
        {
          partition: 0,
          key: 'ünïcödé',
          value: 'x',
          headers: headersForMessage([
            { key: 'h', value: null },
            { key: 'h', value: Buffer.from('b') },
            { key: 'é', value: Buffer.alloc(0) },
          ]) as never,
        },
      ],
    })
    const tx = kafka.producer({ transactionalId: uniqueName('scan-tx'), idempotent: true, maxInFlightRequests: 1 })
    await tx.connect()
    for (const [values, commit] of [
      [['t1', 't2'], true],
      [['a1', 'a2', 'a3'], false],
      [['t3'], true],
    ] as const) {
      const t = await tx.transaction()
      await t.send({ topic, messages: values.map((v) => ({ partition: 0, key: v, value: v })) })
      await (commit ? t.commit() : t.abort())
    }
    await plain.send({ topic, messages: [{ partition: 0, key: 'after', value: 'after' }] })
    const open = kafka.producer({ transactionalId: uniqueName('scan-open'), idempotent: true, maxInFlightRequests: 1 })
    await open.connect()
    const pendingTx = await open.transaction()
    await pendingTx.send({ topic, messages: [{ partition: 0, key: 'open', value: 'open' }] })
    try {
      await withReader(topic, async (reader, ranges) => {
        for (const [from, to, options] of [
          ['earliest', 'latest', {}],
          ['offset:50', 'offset:420', {}],
          ['offset:151', 'latest', { maxBytesPerPartition: 300, maxBytes: 300 }],
        ] as const) {
          const planned = await ranges(from, to)
          const expected = await decoded(reader, planned, options)
          const got = await scanned(reader, planned, options)
          assert.is(got.counted, got.seen.length)
          assert.equal(got.seen, expected, `scan ${from}..${to}`)
          assert.equal(await read(reader, planned, options), expected, `read ${from}..${to}`)
          if (from === 'earliest') {
            // 600 from kcat, 5 plain, t1 t2 t3, after: nothing aborted, nothing open.
            assert.is(expected.length, 609)
            assert.equal(
              expected
                .filter((r) => /^(61|74|6f)/.test(r.key ?? '') && ['t1', 't2', 't3', 'a1', 'a2', 'a3', 'open'].includes(Buffer.from(r.key!, 'hex').toString()))
                .map((r) => Buffer.from(r.key!, 'hex').toString()),
              ['t1', 't2', 't3'],
            )
          }
        }
      })
    } finally {
      await pendingTx.abort().catch(() => undefined)
      await Promise.all([open.disconnect(), tx.disconnect(), plain.disconnect()])
    }
  }),
)

test(
  'log-append time: the scan and the read give every record the time the broker wrote it, as kafkajs does',
  withTimeout(60_000, async () => {
    const topic = uniqueName('scan-lat')
    await withAdmin((admin) =>
      admin.createTopics({
        topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }] }],
        waitForLeaders: true,
      }),
    )
    await kcat(
      topic,
      'lz4',
      Array.from({ length: 20 }, (_, i) => `k${i}\tv${i}`),
    )
    await withReader(topic, async (reader, ranges) => {
      const planned = await ranges('earliest', 'latest')
      const expected = await decoded(reader, planned, {})
      const got = await scanned(reader, planned, {})
      assert.is(expected.length, 20)
      assert.ok(expected.every((r) => r.timestampMs > Date.UTC(2020, 0, 1) && r.timestampType === 'log-append'))
      assert.equal(got.seen, expected)
      assert.equal(await read(reader, planned, {}), expected)
    })
  }),
)

test.run()
