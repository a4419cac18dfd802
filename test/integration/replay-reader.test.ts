import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { KafkaGateway } from '../../src/kafka/kafka-gateway.js'
import { resolveConnection } from '../../src/config/resolve-connection.js'
import { installOrderedHeaders, headersForMessage } from '../../src/kafka/ordered-headers.js'
import { RangeReader } from '../../src/kafka/range-reader.js'
import { parseRangeBound, planReplayRanges, type PartitionRange, type RangeBound } from '../../src/core/replay-range.js'
import type { KafkaRecord } from '../../src/kafka/kafka-record.js'
import { createCompactedTopic, compactUntil } from '../support/compaction.js'
import { createTopic, produce, testBrokers, testKafka, uniqueName } from '../support/kafka.js'
import { waitFor, withTimeout } from '../support/timeout.js'

// Before any Produce or Fetch of this process: exact header order and null header values.
installOrderedHeaders()

const T0 = Date.UTC(2018, 2, 21, 0, 0, 0)
const MIN = 60_000

async function withReader<T>(topic: string, work: (reader: RangeReader) => Promise<T>): Promise<T> {
  const gateway = await KafkaGateway.open(resolveConnection({ brokers: testBrokers() }, { clusters: {}, defaults: {} }))
  const reader = new RangeReader(gateway.kafka, gateway.settings, topic)
  try {
    return await work(reader)
  } finally {
    await reader.close()
    await gateway.close()
  }
}

async function plan(reader: RangeReader, partitions: number[], from: RangeBound, to: RangeBound): Promise<PartitionRange[]> {
  const facts = await reader.partitionFacts(partitions, {
    fromMs: from.kind === 'time' ? from.instantMs : undefined,
    toMs: to.kind === 'time' ? to.instantMs : undefined,
  })
  return planReplayRanges(from, to, facts)
}

async function readAll(reader: RangeReader, ranges: PartitionRange[]): Promise<{ records: KafkaRecord[]; done: Map<number, string> }> {
  const records: KafkaRecord[] = []
  const done = new Map<number, string>()
  for await (const chunks of reader.read(ranges, { maxBytesPerPartition: 256 })) {
    for (const c of chunks) {
      records.push(...c.records)
      if (c.done) done.set(c.partition, c.nextOffset.toString())
    }
  }
  return { records, done }
}

const bound = (text: string, flag: '--from' | '--to' = '--from') => parseRangeBound(text, flag)
const ids = (records: KafkaRecord[]) => records.map((r) => `${r.partition}:${r.offset}:${r.value?.toString()}`)

test(
  'reads offset and time ranges per partition, half-open, and every partition finishes at its end',
  withTimeout(60_000, async () => {
    const topic = uniqueName('replay-read')
    await createTopic(topic, 2)
    await produce(topic, [
      ...Array.from({ length: 10 }, (_, i) => ({ partition: 0, key: `a${i}`, value: `a${i}`, timestampMs: T0 + i * MIN })),
      ...Array.from({ length: 6 }, (_, i) => ({ partition: 1, key: `b${i}`, value: `b${i}`, timestampMs: T0 + 2 * i * MIN })),
    ])
    await withReader(topic, async (reader) => {
      const everything = await readAll(reader, await plan(reader, [0, 1], bound('earliest'), bound('latest', '--to')))
      assert.is(everything.records.length, 16)
      assert.equal([...everything.done.entries()].sort(), [
        [0, '10'],
        [1, '6'],
      ])
      // In offset order within each partition, across many small fetches.
      assert.equal(
        everything.records.filter((r) => r.partition === 0).map((r) => r.value?.toString()),
        Array.from({ length: 10 }, (_, i) => `a${i}`),
      )

      const byTime = await readAll(reader, await plan(reader, [0, 1], bound('2018-03-21T00:03'), bound('2018-03-21T00:06', '--to')))
      assert.equal(ids(byTime.records).sort(), ['0:3:a3', '0:4:a4', '0:5:a5', '1:2:b2'])

      const byOffset = await readAll(reader, await plan(reader, [0, 1], bound('offset:0=8,1=1'), bound('offset:0=100,1=3', '--to')))
      assert.equal(ids(byOffset.records).sort(), ['0:8:a8', '0:9:a9', '1:1:b1', '1:2:b2'])

      const one = await readAll(reader, await plan(reader, [1], bound('offset:4'), bound('latest', '--to')))
      assert.equal(ids(one.records), ['1:4:b4', '1:5:b5'])

      const empty = await readAll(reader, await plan(reader, [0], bound('2030-01-01'), bound('latest', '--to')))
      assert.equal(empty.records, [])
      assert.equal([...empty.done.entries()], [[0, '10']])
    })
  }),
)

test(
  'aborted transactions are never read, markers are crossed, and an open transaction bounds the range at the last stable offset',
  withTimeout(90_000, async () => {
    const topic = uniqueName('replay-tx')
    await createTopic(topic, 1)
    const kafka = testKafka()
    const txProducer = (id: string) => kafka.producer({ transactionalId: id, idempotent: true, maxInFlightRequests: 1 })
    const p = txProducer(uniqueName('tx'))
    await p.connect()
    const send = async (values: string[], commit: boolean) => {
      const tx = await p.transaction()
      await tx.send({ topic, messages: values.map((v, i) => ({ partition: 0, key: v, value: v, timestamp: String(T0 + i) })) })
      await (commit ? tx.commit() : tx.abort())
    }
    await send(['c1', 'c2', 'c3'], true)
    await send(['x1', 'x2', 'x3'], false)
    await send(['c4', 'c5'], true)
    // Left open: records after the last stable offset are outside the replay.
    const open = txProducer(uniqueName('tx-open'))
    await open.connect()
    const pendingTx = await open.transaction()
    await pendingTx.send({ topic, messages: [{ partition: 0, key: 'o1', value: 'o1', timestamp: String(T0) }] })
    try {
      await withReader(topic, async (reader) => {
        const facts = await reader.partitionFacts([0])
        // 3 + marker + 3 + marker + 2 + marker = 11; the open transaction starts at 11.
        assert.is(facts[0]!.stableEnd.toString(), '11')
        const read = await readAll(reader, planReplayRanges(bound('earliest'), bound('latest', '--to'), facts))
        assert.equal(
          read.records.map((r) => r.value?.toString()),
          ['c1', 'c2', 'c3', 'c4', 'c5'],
        )
        assert.equal([...read.done.entries()], [[0, '11']])
      })
    } finally {
      await pendingTx.abort().catch(() => undefined)
      await open.disconnect()
      await p.disconnect()
    }
  }),
)

test(
  'a topic still being written: the end captured at the start is where the read stops',
  withTimeout(60_000, async () => {
    const topic = uniqueName('replay-live')
    await createTopic(topic, 1)
    await produce(
      topic,
      Array.from({ length: 50 }, (_, i) => ({ partition: 0, value: `v${i}`, timestampMs: T0 + i })),
    )
    const producer = testKafka().producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    let writing = true
    let written = 0
    const writer = (async () => {
      while (writing) {
        await producer.send({ topic, messages: Array.from({ length: 20 }, (_, i) => ({ partition: 0, value: `late${written + i}` })) })
        written += 20
      }
    })()
    try {
      await waitFor('the writer to be writing', () => (written > 0 ? true : undefined))
      await withReader(topic, async (reader) => {
        const ranges = await plan(reader, [0], bound('earliest'), bound('latest', '--to'))
        const end = Number(ranges[0]!.end)
        assert.ok(end >= 70, `end ${end}`)
        await waitFor('more records after the captured end', async () =>
          (await reader.partitionFacts([0]))[0]!.stableEnd > BigInt(end + 100) ? true : undefined,
        )
        const read = await readAll(reader, ranges)
        assert.is(read.records.length, end)
        assert.equal(
          read.records.map((r) => r.offset.toString()),
          Array.from({ length: end }, (_, i) => String(i)),
        )
      })
    } finally {
      writing = false
      await writer
      await producer.disconnect()
    }
  }),
)

test(
  'headers come back in their exact order, duplicates and null values included',
  withTimeout(30_000, async () => {
    const topic = uniqueName('replay-headers')
    await createTopic(topic, 1)
    const producer = testKafka().producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    const headers = [
      { key: 'a', value: Buffer.from('1') },
      { key: 'b', value: null },
      { key: 'a', value: Buffer.from('2') },
      { key: 'c', value: Buffer.alloc(0) },
    ]
    try {
      await producer.send({ topic, messages: [{ partition: 0, value: 'x', headers: headersForMessage(headers) as never }] })
    } finally {
      await producer.disconnect()
    }
    await withReader(topic, async (reader) => {
      const read = await readAll(reader, await plan(reader, [0], bound('earliest'), bound('latest', '--to')))
      assert.equal(
        read.records[0]!.headers.map((h) => [h.key, h.value === null ? null : h.value.toString()]),
        [
          ['a', '1'],
          ['b', null],
          ['a', '2'],
          ['c', ''],
        ],
      )
    })
  }),
)

test(
  'a compacted topic: offsets with gaps are crossed and only the surviving records are read',
  withTimeout(120_000, async () => {
    const topic = uniqueName('replay-compact')
    await createCompactedTopic(topic)
    // Keys k0..k4 in rounds; the last round rewrites only k0, k2 and k4, so k1 and k3 survive
    // from round 2 and compaction leaves gaps inside the log, not only before it.
    for (let round = 0; round < 4; round++) {
      const keys = round === 3 ? [0, 2, 4] : [0, 1, 2, 3, 4]
      await produce(
        topic,
        keys.map((i) => ({ partition: 0, key: `k${i}`, value: `k${i}-r${round}`, timestampMs: T0 + round * MIN + i })),
      )
    }
    await withReader(topic, async (reader) => {
      // Segments roll by record time: each tick is a minute later than the one before.
      const compacted = await compactUntil(topic, T0 + 10 * MIN, 'the log cleaner to compact the topic', async () => {
        const read = await readAll(reader, await plan(reader, [0], bound('earliest'), bound('latest', '--to')))
        const offsets = read.records.map((r) => Number(r.offset))
        const gaps = offsets.some((o, i) => i > 0 && o !== offsets[i - 1]! + 1)
        const stale = read.records.some((r) => /-r[01]$/.test(r.value!.toString()))
        return gaps && !stale ? read : undefined
      })
      const last = new Map<string, string>()
      for (const r of compacted.records) last.set(r.key!.toString(), r.value!.toString())
      assert.equal(
        [0, 1, 2, 3, 4].map((i) => last.get(`k${i}`)),
        ['k0-r3', 'k1-r2', 'k2-r3', 'k3-r2', 'k4-r3'],
      )
      const ks = compacted.records.filter((r) => r.key!.toString() !== 'tick')
      assert.equal(
        ks.map((r) => `${r.offset}:${r.value!.toString()}`),
        ['11:k1-r2', '13:k3-r2', '15:k0-r3', '16:k2-r3', '17:k4-r3'],
      )
    })
  }),
)

test.run()
