import { randomBytes } from 'node:crypto'
import { Kafka, logLevel, type Admin, type Message } from 'kafkajs'
import { KafkaGateway } from '../../src/kafka/kafka-gateway.js'
import { resolveConnection } from '../../src/config/resolve-connection.js'
import { parseRangeBound, planReplayRanges } from '../../src/core/replay-range.js'
import type { KafkaRecord } from '../../src/kafka/kafka-record.js'
import { RangeReader } from '../../src/kafka/range-reader.js'

/** The one broker of this test run (started by run-tests). */
export function testBrokers(): string {
  const brokers = process.env.RECOVER_TEST_BROKERS
  if (!brokers) throw new Error('RECOVER_TEST_BROKERS is not set: run integration tests through npm test')
  return brokers
}

/**
 * A second cluster (its own cluster id), for what must refuse to cross clusters. Topics and
 * groups may have the same names on both, as in production.
 */
export function testBrokersB(): string {
  const brokers = process.env.RECOVER_TEST_BROKERS_B
  if (!brokers) throw new Error('RECOVER_TEST_BROKERS_B is not set: run the tests through npm test, or point it at a second broker')
  return brokers
}

/** Topic and group names unique per test, so tests sharing the broker stay independent. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
}

export function testKafka(brokers = testBrokers()): Kafka {
  return new Kafka({ brokers: brokers.split(','), clientId: 'recover-tests', logLevel: logLevel.NOTHING })
}

export async function withAdmin<T>(work: (admin: Admin) => Promise<T>, brokers = testBrokers()): Promise<T> {
  const admin = testKafka(brokers).admin()
  await admin.connect()
  try {
    return await work(admin)
  } finally {
    await admin.disconnect()
  }
}

export async function createTopic(topic: string, partitions = 1, brokers = testBrokers()): Promise<void> {
  await withAdmin(async (admin) => {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true })
  }, brokers)
}

export interface TestRecord {
  partition: number
  key?: string | Buffer | null
  value: string | Buffer | null
  timestampMs: number
  headers?: Record<string, string>
}

export async function produce(topic: string, records: TestRecord[], brokers = testBrokers()): Promise<void> {
  // Idempotent: a send retried on a busy machine must not write its records twice.
  const producer = testKafka(brokers).producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  try {
    const messages: Array<Message & { partition: number }> = records.map((r) => ({
      partition: r.partition,
      key: r.key ?? null,
      value: r.value,
      timestamp: String(r.timestampMs),
      headers: r.headers,
    }))
    await producer.send({ topic, acks: -1, messages })
  } finally {
    await producer.disconnect()
  }
}

/**
 * Commits offsets for an empty group the way Kafka's admin client does (no join). kafkajs's
 * admin.setOffsets joins the group and takes about 5 s per call.
 */
/** Our own gateway on the test broker, closed after the work. */
export async function withGateway<T>(work: (g: KafkaGateway) => Promise<T>, brokers = testBrokers()): Promise<T> {
  const gateway = await KafkaGateway.open(resolveConnection({ brokers }, { clusters: {}, defaults: {} }))
  try {
    return await work(gateway)
  } finally {
    await gateway.close()
  }
}

export async function commitOffsets(
  groupId: string,
  topic: string,
  offsets: Array<{ partition: number; offset: bigint | number }>,
  brokers = testBrokers(),
): Promise<void> {
  await withGateway(
    (gateway) =>
      gateway.commitGroupOffsets(
        groupId,
        offsets.map((o) => ({ topic, partition: o.partition, offset: BigInt(o.offset) })),
      ),
    brokers,
  )
}

/** Every record of a topic, read_committed, log start to last stable offset, in offset order per partition. */
export async function readTopic(topic: string, brokers?: string): Promise<KafkaRecord[]> {
  return withGateway(async (gateway) => {
    const reader = new RangeReader(gateway.kafka, gateway.settings, topic)
    try {
      const ranges = planReplayRanges(
        parseRangeBound('earliest', '--from'),
        parseRangeBound('latest', '--to'),
        await reader.partitionFacts(await gateway.partitionsOf(topic)),
      )
      const out: KafkaRecord[] = []
      for await (const chunks of reader.read(ranges)) for (const c of chunks) out.push(...c.records)
      return out
    } finally {
      await reader.close()
    }
  }, brokers)
}

/** The group's committed offsets as "topic-partition" -> offset string (never-committed partitions absent). */
export async function readCommitted(groupId: string, brokers = testBrokers()): Promise<Record<string, string>> {
  return withAdmin(async (admin) => {
    const out: Record<string, string> = {}
    for (const { topic, partitions } of await admin.fetchOffsets({ groupId })) {
      for (const p of partitions) if (Number(p.offset) >= 0) out[`${topic}-${p.partition}`] = p.offset
    }
    return out
  }, brokers)
}
