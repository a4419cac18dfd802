import type { Admin, CompressionTypes, Message, Producer } from 'kafkajs'
import { RecoveryError, type ErrorCode } from '../errors.js'
import type { KafkaGateway } from './kafka-gateway.js'
import { partitionForKey } from '../fixtures/key-partitioner.js'
import { headersForMessage, installOrderedHeaders, type RecordHeader } from './ordered-headers.js'
import { translateKafkaError } from './translate-error.js'

/** A record to write, with the partition it came from (the writer picks the target partition). */
export interface WritableRecord {
  sourcePartition: number
  key: Buffer | null
  value: Buffer | null
  headers: readonly RecordHeader[]
  timestampMs: number
}

export interface KafkaWriterOptions {
  /** Create the topic with this many partitions when it does not exist. */
  createPartitions: number
  /** Idempotent producer (acks=all, sequence numbers): retries never duplicate or reorder. */
  idempotent?: boolean
  /** Records per produce request; kafkajs groups a request's messages in O(n^2) per partition. */
  requestRecords?: number
  /** The error code for failures (SINK_FAILED or QUARANTINE_FAILED) and what to call the topic. */
  errorCode: Extract<ErrorCode, 'SINK_FAILED' | 'QUARANTINE_FAILED'>
  role: string
  compression?: CompressionTypes
}

/**
 * Writes records to one topic and waits for every acknowledgement (acks=all) before a write
 * resolves. Partitions: a record keeps its source partition when the topic has at least as many
 * partitions as that; otherwise it goes where Kafka's default partitioner puts its key
 * (murmur2), or, without a key, to its source partition modulo the partition count. Tracks the
 * log end after its own writes per partition, for checkpoints.
 */
export class KafkaWriter {
  private readonly written = new Map<number, bigint>()

  private constructor(
    private readonly gateway: KafkaGateway,
    readonly topic: string,
    readonly partitions: number,
    private readonly producer: Producer,
    private readonly options: KafkaWriterOptions,
  ) {}

  static async open(gateway: KafkaGateway, topic: string, options: KafkaWriterOptions): Promise<KafkaWriter> {
    installOrderedHeaders()
    const fail = (error: unknown, doing: string): RecoveryError => {
      const translated = translateKafkaError(error, gateway.settings, doing)
      if (translated.code === 'BROKER_UNREACHABLE') return translated
      return new RecoveryError(options.errorCode, `The ${options.role} topic ${topic} could not be ${doing.startsWith('creating') ? 'created' : 'used'}: ${translated.message}`, { cause: error, details: { topic } })
    }
    const admin: Admin = gateway.kafka.admin()
    let partitions: number
    try {
      await admin.connect()
      partitions = await ensureTopic(admin, topic, options.createPartitions).catch((error: unknown) => {
        throw fail(error, `creating ${options.role} topic ${topic}`)
      })
    } finally {
      await admin.disconnect().catch(() => undefined)
    }
    const producer = gateway.kafka.producer({
      allowAutoTopicCreation: false,
      idempotent: options.idempotent ?? true,
      // Every message names its partition; this also keeps kafkajs from warning about its default partitioner.
      createPartitioner: () => ({ message }) => message.partition ?? 0,
    })
    try {
      await producer.connect()
    } catch (error) {
      throw fail(error, `connecting a producer for ${topic}`)
    }
    return new KafkaWriter(gateway, topic, partitions, producer, options)
  }

  partitionFor(r: Pick<WritableRecord, 'sourcePartition' | 'key'>): number {
    if (r.sourcePartition < this.partitions) return r.sourcePartition
    if (r.key && r.key.length > 0) return partitionForKey(r.key, this.partitions)
    return r.sourcePartition % this.partitions
  }

  /** Writes the records (order kept per target partition) and resolves once all are acknowledged. */
  async write(records: readonly WritableRecord[]): Promise<void> {
    if (records.length === 0) return
    const chunk = this.options.requestRecords ?? 2_000
    const messages: Array<Message & { partition: number }> = records.map((r) => ({
      partition: this.partitionFor(r),
      key: r.key,
      value: r.value,
      timestamp: String(r.timestampMs),
      headers: r.headers.length > 0 ? (headersForMessage(r.headers) as Message['headers']) : undefined,
    }))
    try {
      for (let i = 0; i < messages.length; i += chunk) {
        const part = messages.slice(i, i + chunk)
        const metadata = await this.producer.send({ topic: this.topic, acks: -1, compression: this.options.compression, messages: part })
        const counts = new Map<number, number>()
        for (const m of part) counts.set(m.partition, (counts.get(m.partition) ?? 0) + 1)
        for (const m of metadata) {
          if (m.baseOffset === undefined) continue
          this.written.set(m.partition, BigInt(m.baseOffset) + BigInt(counts.get(m.partition) ?? 0))
        }
      }
    } catch (error) {
      const translated = translateKafkaError(error, this.gateway.settings, `writing to ${this.options.role} topic ${this.topic}`)
      if (translated.code === 'BROKER_UNREACHABLE') throw translated
      throw new RecoveryError(this.options.errorCode, `Writing to the ${this.options.role} topic ${this.topic} failed: ${translated.message}`, { cause: error, details: { topic: this.topic } })
    }
  }

  /** The log end after our last acknowledged write, per partition written to. */
  writtenOffsets(): Map<number, bigint> {
    return new Map(this.written)
  }

  /** The topic's log end offsets now (high watermark). */
  async logEnds(): Promise<Map<number, bigint>> {
    const offsets = await this.gateway.logOffsets(this.topic)
    return new Map(offsets.map((o) => [o.partition, o.logEnd]))
  }

  async close(): Promise<void> {
    await this.producer.disconnect().catch(() => undefined)
  }
}

/** The topic's partition count, creating it (broker-default replication) when it does not exist. */
async function ensureTopic(admin: Admin, topic: string, partitions: number): Promise<number> {
  const count = async (): Promise<number | undefined> => {
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] })
      const n = topics.find((t) => t.name === topic)?.partitions.length
      return n && n > 0 ? n : undefined
    } catch (error) {
      if ((error as { type?: string }).type === 'UNKNOWN_TOPIC_OR_PARTITION') return undefined
      throw error
    }
  }
  const existing = await count()
  if (existing !== undefined) return existing
  try {
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions, replicationFactor: -1 }] })
  } catch (error) {
    const already = (error as { type?: string }).type === 'TOPIC_ALREADY_EXISTS' || (error as { errors?: Array<{ type?: string }> }).errors?.some((e) => e.type === 'TOPIC_ALREADY_EXISTS')
    if (!already) {
      const detail = (error as { errors?: Array<{ type?: string; message?: string }> }).errors?.[0]
      throw detail ? Object.assign(new Error(detail.message ?? String(error)), { type: detail.type }) : error
    }
  }
  for (let i = 0; i < 50; i++) {
    const n = await count()
    if (n !== undefined) return n
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`topic ${topic} was created but its metadata did not appear`)
}
