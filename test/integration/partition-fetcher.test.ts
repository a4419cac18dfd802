import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { RecoveryError } from '../../src/errors.js'
import { createInternalCluster } from '../../src/kafka/internal-cluster.js'
import type { KafkaRecord } from '../../src/kafka/kafka-record.js'
import type { PartitionFetcher } from '../../src/kafka/partition-fetcher.js'
import { installOrderedHeaders } from '../../src/kafka/ordered-headers.js'
import { rawFetch, type RawFetchBroker } from '../../src/kafka/raw-fetch.js'
import { decodeMessages, lastOffsetOfBatches } from '../../src/kafka/record-batch-walker.js'
import { describeGroup } from '../../src/services/describe-group.js'
import { peekAtTime } from '../../src/services/peek.js'
import { planSeek } from '../../src/services/seek.js'
import { compactUntil, createCompactedTopic } from '../support/compaction.js'
import { commitOffsets, createTopic, produce, readTopic, testKafka, uniqueName, withGateway } from '../support/kafka.js'
import { withTimeout } from '../support/timeout.js'

installOrderedHeaders()

const T0 = Date.UTC(2018, 2, 21, 0, 0, 0)
const MIN = 60_000
// A fetch reads from one log segment. A batch of one record with a value this big is 16 bytes
// short of segment.bytes (1 MiB, the least Kafka allows): 61 bytes of batch header, 12 of
// record framing for a one-byte key. Such a batch fills a segment by itself, and the log
// cleaner cannot merge that segment with even one emptied batch (61 bytes) before it, so the
// emptied batches stay in segments of their own, and a fetch inside them answers nothing else.
const SEGMENT_BYTES = 1 << 20
const NEAR_FULL = SEGMENT_BYTES - 16 - 73

const iso = (ms: number) => new Date(ms).toISOString()

/**
 * Offsets 0-9 (k0..k4 twice) and 11-15 (k0..k4 again) are rewritten later: compaction empties
 * those batches and keeps them, because an idempotent producer wrote them. 10 (a) and 16 (b),
 * a segment each, and 17-21 (k0..k4, last round) survive. Then ticks.
 */
async function compactedTopic(): Promise<string> {
  const topic = uniqueName('fetch-compact')
  await createCompactedTopic(topic, [{ name: 'segment.bytes', value: String(SEGMENT_BYTES) }])
  const round = (r: number) => [0, 1, 2, 3, 4].map((i) => ({ partition: 0, key: `k${i}`, value: `k${i}-r${r}`, timestampMs: T0 + r * MIN + i }))
  const nearFull = (key: string, r: number) => [{ partition: 0, key, value: Buffer.alloc(NEAR_FULL, key), timestampMs: T0 + r * MIN }]
  await produce(topic, round(0))
  await produce(topic, round(1))
  await produce(topic, nearFull('a', 2))
  await produce(topic, round(3))
  await produce(topic, nearFull('b', 4))
  await produce(topic, round(5))
  await compactUntil(topic, T0 + 10 * MIN, 'the log cleaner to empty whole batches', async () => {
    const survivors = (await readTopic(topic)).filter((r) => r.key!.toString() !== 'tick').map((r) => `${r.offset}:${r.key!.toString()}`)
    if (survivors.join() !== '10:a,16:b,17:k0,18:k1,19:k2,20:k3,21:k4') return undefined
    // What this test is about: fetches inside the emptied batches answer batches without records.
    return (await onlyEmptiedBatches(topic, 2n)) && (await onlyEmptiedBatches(topic, 12n)) ? true : undefined
  })
  return topic
}

/** Whether a fetch at `offset` answers whole batches that reach past it with no record in them. */
async function onlyEmptiedBatches(topic: string, offset: bigint): Promise<boolean> {
  const cluster = createInternalCluster(testKafka(), { isolation: 'read_uncommitted' })
  await cluster.connect()
  try {
    await cluster.addTargetTopic(topic)
    const nodeId = Object.keys(cluster.findLeaderForPartitions(topic, [0]))[0]!
    const broker = (await cluster.findBroker({ nodeId })) as unknown as RawFetchBroker
    const response = await rawFetch(broker, {
      isolationLevel: 0,
      maxWaitTime: 50,
      minBytes: 1,
      maxBytes: 1 << 20,
      topics: [{ topic, partitions: [{ partition: 0, fetchOffset: offset.toString(), maxBytes: 1 << 20 }] }],
    })
    const records = response[0]?.partitions[0]?.records
    return records !== null && records !== undefined && lastOffsetOfBatches(records) >= offset && (await decodeMessages(records)).length === 0
  } finally {
    await cluster.disconnect()
  }
}

let scenario: Promise<string> | undefined
const compacted = () => (scenario ??= compactedTopic())

test(
  'peek crosses record batches that compaction emptied: the records after them are shown',
  withTimeout(150_000, async () => {
    const topic = await compacted()
    const peeked = await withGateway((gateway) => peekAtTime(gateway, { topic, atMs: T0 + 2 * MIN, count: 4 }))
    assert.equal(
      peeked.partitions.map((p) => [p.partition, p.startOffset]),
      [[0, 10n]],
    )
    assert.equal(
      peeked.records.map((r) => `${r.offset}:${String(r.key.value)}`),
      ['10:a', '16:b', '17:k0', '18:k1'],
    )
  }),
)

test(
  'fetch and firstRecords inside emptied batches answer the first surviving record, and move past those batches',
  withTimeout(150_000, async () => {
    const topic = await compacted()
    await withGateway(async (gateway) => {
      for (const isolation of ['read_uncommitted', 'read_committed'] as const) {
        const fetcher = gateway.fetcher(isolation)
        // At the start of the log, and in the middle.
        for (const [offset, first, next] of [
          [2n, 10n, 11n],
          [12n, 16n, 17n],
        ] as const) {
          const fetched = await fetcher.fetch(topic, 0, offset, { maxWaitMs: 50 })
          assert.is(fetched.records[0]?.offset, first, `${isolation}: fetch at ${offset}`)
          assert.is(fetched.nextOffset, next, `${isolation}: next offset after a fetch at ${offset}`)
          const firsts = await fetcher.firstRecords([{ topic, partition: 0, offset }])
          assert.is(firsts.get(`${topic}\u00000`)?.offset, first, `${isolation}: first record at ${offset}`)
        }
      }
    })
  }),
)

test(
  'groups describe and the seek plan give the time of the next surviving record after emptied batches',
  withTimeout(150_000, async () => {
    const topic = await compacted()
    const group = uniqueName('fetch-compact-group')
    await commitOffsets(group, topic, [{ partition: 0, offset: 12n }])
    await withGateway(async (gateway) => {
      const described = await describeGroup(gateway, group)
      assert.is(described.partitions[0]?.nextRecordTime, iso(T0 + 4 * MIN))
      const plan = await planSeek(gateway, { groups: [group], scope: { kind: 'committed' }, mode: { kind: 'to-offset', offset: 2n } })
      assert.equal(
        plan.rows.map((r) => [r.newOffset, r.newRecordTime]),
        [[2n, iso(T0 + 2 * MIN)]],
      )
    })
  }),
)

test(
  'as before: read_committed leaves out aborted transactions, read_uncommitted shows them, markers never; partition errors translated',
  withTimeout(60_000, async () => {
    const topic = uniqueName('fetch-tx')
    await createTopic(topic, 1)
    const producer = testKafka().producer({ transactionalId: uniqueName('tx'), idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    try {
      for (const [values, commit] of [
        [['c1', 'c2', 'c3'], true],
        [['x1', 'x2', 'x3'], false],
        [['c4', 'c5'], true],
      ] as const) {
        const tx = await producer.transaction()
        await tx.send({ topic, messages: values.map((v, i) => ({ partition: 0, key: v, value: v, timestamp: String(T0 + i) })) })
        await (commit ? tx.commit() : tx.abort())
      }
    } finally {
      await producer.disconnect()
    }
    // 3 + marker + 3 + marker + 2 + marker.
    const values = (records: Array<{ value: Buffer | null }>) => records.map((r) => r.value?.toString())
    const readAll = async (fetcher: PartitionFetcher) => {
      const out: KafkaRecord[] = []
      for (let next = 0n; next < 11n; ) {
        const { records, nextOffset } = await fetcher.fetch(topic, 0, next, { maxWaitMs: 50 })
        assert.ok(nextOffset > next, `no progress at ${next}`)
        out.push(...records)
        next = nextOffset
      }
      return out
    }
    await withGateway(async (gateway) => {
      const committed = gateway.fetcher('read_committed')
      assert.equal(values(await readAll(committed)), ['c1', 'c2', 'c3', 'c4', 'c5'])
      assert.equal(values((await committed.fetch(topic, 0, 5n, { maxWaitMs: 50 })).records), ['c4', 'c5'])
      assert.is((await committed.firstRecords([{ topic, partition: 0, offset: 4n }])).get(`${topic}\u00000`)?.value?.toString(), 'c4')
      const uncommitted = gateway.fetcher('read_uncommitted')
      assert.equal(values(await readAll(uncommitted)), ['c1', 'c2', 'c3', 'x1', 'x2', 'x3', 'c4', 'c5'])
      assert.is((await uncommitted.firstRecords([{ topic, partition: 0, offset: 3n }])).get(`${topic}\u00000`)?.value?.toString(), 'x1')
      // Partition errors are translated as they were from kafkajs's own fetch.
      for (const [call, doing] of [
        [() => uncommitted.fetch(topic, 0, 100n), `reading ${topic}-0 at offset 100`],
        [() => uncommitted.firstRecords([{ topic, partition: 0, offset: 100n }]), 'reading the records at the new offsets'],
      ] as const) {
        const failure = (await (call() as Promise<unknown>).then(
          () => undefined,
          (error: unknown) => error,
        )) as RecoveryError | undefined
        assert.ok(failure instanceof RecoveryError, String(failure))
        assert.is(failure.details.kafkaError, 'OFFSET_OUT_OF_RANGE')
        assert.ok(failure.message.includes(`answered OFFSET_OUT_OF_RANGE while ${doing}:`), failure.message)
      }
    })
  }),
)

test.run()
