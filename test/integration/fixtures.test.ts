import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { RecoveryError } from '../../src/errors.js'
import { generateIncident, loadOrderSchemas, type FixtureKind, type FixtureRecord, type IncidentOptions } from '../../src/fixtures/index.js'
import { seedIncident } from '../../src/fixtures/seed-incident.js'
import type { KafkaRecord } from '../../src/kafka/kafka-record.js'
import { PartitionFetcher } from '../../src/kafka/partition-fetcher.js'
import { produceRecords } from '../../src/kafka/produce-records.js'
import { testKafka, uniqueName, withAdmin } from '../support/kafka.js'
import { withTimeout } from '../support/timeout.js'

const INCIDENT: IncidentOptions = {
  seed: 2024,
  count: 5_000,
  partitions: 3,
  poisonPills: { truncatedAvro: 2, badMagic: 2, invalidJson: 2, invalidUtf8: 2 },
  duplicates: { identical: 4, changed: 2 },
}

const schemas = loadOrderSchemas()
const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Reads whole partitions by offset, without a consumer group. */
async function readTopic(topic: string, logEnd: bigint[]): Promise<Map<string, KafkaRecord>> {
  const fetcher = new PartitionFetcher(testKafka(), { isolation: 'read_uncommitted' })
  const out = new Map<string, KafkaRecord>()
  try {
    for (let partition = 0; partition < logEnd.length; partition++) {
      for (let offset = 0n; offset < logEnd[partition]!; ) {
        const { records, nextOffset } = await fetcher.fetch(topic, partition, offset)
        for (const r of records) out.set(`${partition}:${r.offset}`, r)
        assert.ok(nextOffset > offset, `fetching ${topic}-${partition} made no progress at ${offset}`)
        offset = nextOffset
      }
    }
  } finally {
    await fetcher.close()
  }
  return out
}

/** What a record really is when read back, judged only by its bytes. */
function classify(value: Buffer): 'order' | FixtureKind {
  if (value[0] === 0) return decodesAsOrder(value) ? 'order' : 'poison-truncated-avro'
  if (decodesAsOrder(Buffer.concat([Buffer.from([0]), value.subarray(1)]))) return 'poison-bad-magic'
  let text: string
  try {
    text = utf8.decode(value)
  } catch {
    return 'poison-invalid-utf8'
  }
  try {
    JSON.parse(text)
    return 'order'
  } catch {
    return 'poison-invalid-json'
  }
}

function decodesAsOrder(value: Buffer): boolean {
  const type = value[0] === 0 ? schemas.byId.get(value.readUInt32BE(1)) : undefined
  if (!type) return false
  try {
    type.fromBuffer(value.subarray(5))
    return true
  } catch {
    return false
  }
}

function sameRecord(read: KafkaRecord, expected: FixtureRecord): boolean {
  return (
    read.timestampMs === expected.timestampMs &&
    read.timestampType === 'create' &&
    read.key!.equals(expected.key!) &&
    read.value!.equals(expected.value!) &&
    JSON.stringify(read.headers.map((h) => [h.key, h.value?.toString()])) === JSON.stringify(Object.entries(expected.headers))
  )
}

async function deleteTopic(topic: string): Promise<void> {
  await withAdmin((admin) => admin.deleteTopics({ topics: [topic] })).catch(() => undefined)
}

test(
  'seeding writes every record at the offset the truth gives it, and each listed offset holds its kind',
  withTimeout(90_000, async () => {
    const topic = uniqueName('fixtures')
    try {
      const seeded = await seedIncident({ kafka: testKafka(), topic, ...INCIDENT })
      const { truth } = seeded
      assert.is(seeded.records, 5_000)
      assert.ok(seeded.bytes > 0)

      const offsets = await withAdmin((admin) => admin.fetchTopicOffsets(topic))
      assert.equal(
        offsets.sort((a, b) => a.partition - b.partition).map((o) => [o.low, o.high]),
        truth.perPartition.map((p) => ['0', p.logEndOffset.toString()]),
      )

      const read = await readTopic(
        topic,
        truth.perPartition.map((p) => p.logEndOffset),
      )
      assert.is(read.size, 5_000)

      // The whole topic is the generated stream, byte for byte (and no `kind` header leaked).
      const next = new Array<bigint>(truth.partitions).fill(0n)
      for (const expected of generateIncident(INCIDENT).records) {
        const offset = next[expected.partition]!++
        const got = read.get(`${expected.partition}:${offset}`)
        assert.ok(got && sameRecord(got, expected), `${expected.kind} at ${expected.partition}:${offset} differs`)
      }

      for (const pill of truth.poisonPills) {
        const got = read.get(`${pill.partition}:${pill.offset}`)!
        assert.is(got.key!.toString(), pill.key)
        assert.is(got.timestampMs, pill.timestampMs)
        assert.is(classify(got.value!), pill.kind, `${pill.kind} at ${pill.partition}:${pill.offset}`)
      }
      for (const dup of truth.duplicates) {
        const got = read.get(`${dup.partition}:${dup.offset}`)!
        const original = read.get(`${dup.partition}:${dup.original.offset}`)!
        assert.is(got.key!.toString(), dup.key)
        assert.equal(got.key, original.key)
        assert.is(classify(got.value!), 'order')
        assert.is(got.value!.equals(original.value!), dup.kind === 'duplicate-identical')
      }
      for (const w of truth.badDeploy.perPartition) {
        if (w.firstOffset === null) continue
        const first = read.get(`${w.partition}:${w.firstOffset}`)!
        const last = read.get(`${w.partition}:${w.lastOffset}`)!
        assert.ok(first.timestampMs >= truth.badDeploy.startMs && last.timestampMs < truth.badDeploy.endMs)
        if (w.firstOffset > 0n) assert.ok(read.get(`${w.partition}:${w.firstOffset - 1n}`)!.timestampMs < truth.badDeploy.startMs)
        const after = read.get(`${w.partition}:${w.lastOffset! + 1n}`)
        if (after) assert.ok(after.timestampMs >= truth.badDeploy.endMs)
      }

      // The broker's own time index agrees with the truth's seek offsets (what seek --to computes).
      const byTime = await withAdmin((admin) => admin.fetchTopicOffsetsByTimestamp(topic, truth.badDeploy.startMs))
      assert.equal(
        byTime.sort((a, b) => a.partition - b.partition).map((o) => o.offset),
        truth.badDeploy.perPartition.map((p) => p.seekOffset.toString()),
      )

      // 2018 timestamps survive: the topic keeps records forever.
      const configs = await withAdmin((admin) =>
        admin.describeConfigs({ resources: [{ type: 2, name: topic, configNames: ['retention.ms'] }], includeSynonyms: false }),
      )
      assert.is(configs.resources[0]!.configEntries.find((e) => e.configName === 'retention.ms')?.configValue, '-1')
    } finally {
      await deleteTopic(topic)
    }
  }),
)

test(
  'seeding refuses a topic that already holds records, and recreate replaces it',
  withTimeout(90_000, async () => {
    const topic = uniqueName('fixtures-again')
    const small: IncidentOptions = {
      count: 300,
      partitions: 2,
      poisonPills: { truncatedAvro: 1, badMagic: 1, invalidJson: 1, invalidUtf8: 1 },
      duplicates: { identical: 1, changed: 1 },
    }
    try {
      await seedIncident({ kafka: testKafka(), topic, ...small })
      try {
        await seedIncident({ kafka: testKafka(), topic, ...small })
        assert.unreachable('seeded a topic that already held records')
      } catch (error) {
        assert.instance(error, RecoveryError)
        assert.is((error as RecoveryError).code, 'USAGE')
        assert.match((error as RecoveryError).message, /already exists with 300 records/)
      }
      const again = await seedIncident({ kafka: testKafka(), topic, ...small, partitions: 3, recreate: true })
      const offsets = await withAdmin((admin) => admin.fetchTopicOffsets(topic))
      assert.equal(
        offsets.sort((a, b) => a.partition - b.partition).map((o) => o.high),
        again.truth.perPartition.map((p) => p.logEndOffset.toString()),
      )
    } finally {
      await deleteTopic(topic)
    }
  }),
)

test(
  'seeding an existing empty topic with the right partition count reuses it',
  withTimeout(60_000, async () => {
    const topic = uniqueName('fixtures-empty')
    try {
      await withAdmin((admin) => admin.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 1 }], waitForLeaders: true }))
      const seeded = await seedIncident({
        kafka: testKafka(),
        topic,
        count: 200,
        partitions: 2,
        poisonPills: { truncatedAvro: 1 },
        duplicates: { identical: 1, changed: 0 },
      })
      assert.is(seeded.records, 200)
      const offsets = await withAdmin((admin) => admin.fetchTopicOffsets(topic))
      assert.equal(
        offsets.sort((a, b) => a.partition - b.partition).map((o) => o.high),
        seeded.truth.perPartition.map((p) => p.logEndOffset.toString()),
      )
    } finally {
      await deleteTopic(topic)
    }
  }),
)

test(
  'produceRecords takes an async iterable, keeps each partition in order and reports progress and offsets',
  withTimeout(60_000, async () => {
    const topic = uniqueName('produce-records')
    const producer = testKafka().producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 })
    try {
      await withAdmin((admin) => admin.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 1 }], waitForLeaders: true }))
      await producer.connect()
      async function* records() {
        for (let i = 0; i < 1_000; i++) {
          yield { partition: i % 2, key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`), timestampMs: 1_521_590_400_000 + i, headers: { n: String(i) } }
        }
      }
      const progress: number[] = []
      const result = await produceRecords(producer, topic, records(), { batchSize: 64, maxInFlight: 2, onProgress: (p) => progress.push(p.records) })
      assert.is(result.records, 1_000)
      assert.is(progress.at(-1), 1_000)
      assert.equal(result.partitions, [
        { partition: 0, records: 500, firstOffset: 0n, nextOffset: 500n, contiguous: true },
        { partition: 1, records: 500, firstOffset: 0n, nextOffset: 500n, contiguous: true },
      ])
      const read = await readTopic(topic, [500n, 500n])
      for (let i = 0; i < 1_000; i++) {
        const r = read.get(`${i % 2}:${Math.floor(i / 2)}`)!
        assert.is(r.value!.toString(), `v${i}`)
        assert.is(r.timestampMs, 1_521_590_400_000 + i)
        assert.equal(
          r.headers.map((h) => [h.key, h.value?.toString()]),
          [['n', String(i)]],
        )
      }
    } finally {
      await producer.disconnect()
      await deleteTopic(topic)
    }
  }),
)

test.run()
