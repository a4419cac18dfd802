import type { Admin, CompressionTypes, Message, Producer, Transaction } from 'kafkajs'
import { RecoveryError, type ErrorCode } from '../errors.js'
import type { KafkaGateway } from './kafka-gateway.js'
import { partitionForKey } from '../core/key-partitioner.js'
import { installOrderedHeaders, type RecordHeader } from './ordered-headers.js'
import { installProduceEncoding } from './produce-encoding/install.js'
import { translateKafkaError, type BrokerLeadership } from './translate-error.js'

/** A record to write, with the partition it came from (the writer picks the target partition). */
export interface WritableRecord {
  sourcePartition: number
  key: Buffer | null
  value: Buffer | null
  headers: readonly RecordHeader[]
  timestampMs: number
}

export interface KafkaWriterOptions {
  /** The source topic's partition count: the topic is created with it when missing, and decides how records are partitioned. */
  createPartitions: number
  /** Place every keyed record by its key (Kafka's default partitioner), even when the topic could keep its source partition. */
  byKey?: boolean
  /** Idempotent producer (acks=all, sequence numbers): retries never duplicate or reorder. */
  idempotent?: boolean
  /** Records per produce request (default 10000); with the idempotent producer, requests to a broker go one at a time anyway. */
  requestRecords?: number
  /** Bytes per partition per request (default 512 KiB, below the broker's default max.message.bytes of 1 MiB). */
  maxBatchBytes?: number
  /** The error code for failures (SINK_FAILED or QUARANTINE_FAILED) and what to call the topic. */
  errorCode: Extract<ErrorCode, 'SINK_FAILED' | 'QUARANTINE_FAILED'>
  role: string
  /**
   * The codec of the record batches sent; 'topic': the topic's compression.type when recover
   * can write it (gzip, snappy, lz4), so the broker keeps the batches as they come instead of
   * compressing them itself. Default: none.
   */
  compression?: CompressionTypes | 'topic'
  /**
   * A transactional producer with this id: writes go into the transaction opened by begin()
   * and become visible to read_committed readers at commit(). A new producer with the same id
   * fences the old one (its open transaction is aborted), so a restarted replay cannot be
   * overtaken by a zombie.
   */
  transactionalId?: string
  /** Topic configs when the topic is created (cleanup.policy=compact for checkpoints). */
  topicConfig?: Record<string, string>
}

/**
 * Writes records to one topic and waits for every acknowledgement (acks=all) before a write
 * resolves. Partitions: when the topic has at least as many partitions as the source topic,
 * a record keeps its source partition; otherwise it goes where Kafka's default partitioner puts
 * its key (murmur2), or, without a key, to its source partition modulo the partition count. Tracks the
 * log end after its own writes per partition, for checkpoints.
 */
export class KafkaWriter {
  private readonly written = new Map<number, bigint>()
  /** Where this writer's first acknowledged write landed, per partition. */
  private readonly firstBase = new Map<number, bigint>()
  private transaction: Transaction | undefined

  private constructor(
    private readonly gateway: KafkaGateway,
    readonly topic: string,
    readonly partitions: number,
    private readonly producer: Producer,
    private readonly options: KafkaWriterOptions,
    private readonly compression: CompressionTypes | undefined,
  ) {}

  static async open(gateway: KafkaGateway, topic: string, options: KafkaWriterOptions): Promise<KafkaWriter> {
    installOrderedHeaders()
    installProduceEncoding()
    const fail = (error: unknown, doing: string): RecoveryError => {
      const translated = translateKafkaError(error, gateway.settings, doing)
      if (translated.code === 'BROKER_UNREACHABLE') return translated
      return new RecoveryError(
        options.errorCode,
        `The ${options.role} topic ${topic} could not be ${doing.startsWith('creating') ? 'created' : 'used'}: ${translated.message}`,
        { cause: error, details: { topic } },
      )
    }
    const admin: Admin = gateway.kafka.admin()
    let partitions: number
    try {
      await admin.connect()
      partitions = await ensureTopic(admin, topic, options.createPartitions, options.topicConfig).catch((error: unknown) => {
        throw fail(error, `creating ${options.role} topic ${topic}`)
      })
    } finally {
      await admin.disconnect().catch(() => undefined)
    }
    const producer = gateway.kafka.producer({
      allowAutoTopicCreation: false,
      idempotent: options.idempotent ?? true,
      ...(options.transactionalId ? { transactionalId: options.transactionalId, maxInFlightRequests: 1 } : {}),
      // Every message names its partition; this also keeps kafkajs from warning about its default partitioner.
      createPartitioner:
        () =>
        ({ message }) =>
          message.partition ?? 0,
    })
    try {
      await producer.connect()
    } catch (error) {
      throw fail(error, `connecting a producer for ${topic}`)
    }
    const compression =
      options.compression === 'topic'
        ? compressionForTopic(await gateway.topicConfigs(topic, ['compression.type']).catch(() => new Map<string, string>()))
        : options.compression
    const writer = new KafkaWriter(gateway, topic, partitions, producer, options, compression)
    writer.leadership = await gateway.leadership(topic)
    return writer
  }

  /** Who led which partition when the writer opened: names the broker and partitions of a write that finds its leader gone. */
  private leadership: BrokerLeadership | undefined

  partitionFor(r: Pick<WritableRecord, 'sourcePartition' | 'key'>): number {
    // createPartitions is the source topic's partition count: with at least as many partitions
    // here, every record keeps its partition; with fewer, every record goes by its key.
    if (!this.options.byKey && this.partitions >= this.options.createPartitions && r.sourcePartition < this.partitions) return r.sourcePartition
    if (r.key && r.key.length > 0) return partitionForKey(r.key, this.partitions)
    return r.sourcePartition % this.partitions
  }

  /**
   * Writes the records (order kept per target partition) and resolves once all are
   * acknowledged. Requests are cut so that no partition gets more than `maxBatchBytes` in one
   * (a broker refuses record batches above max.message.bytes, 1 MiB by default). A record that
   * is too large on its own is sent alone; if the broker refuses it, its index is returned
   * (the caller quarantines it) and the others are written.
   */
  async write(records: readonly WritableRecord[]): Promise<number[]> {
    if (records.length === 0) return []
    const maxRecords = this.options.requestRecords ?? 10_000
    const maxBytes = this.options.maxBatchBytes ?? 512 * 1024
    /** A partition's records in order: their messages, estimated sizes and indexes in `records`, and how far they are sent. */
    interface Queue {
      messages: Array<Message & { partition: number }>
      bytes: number[]
      indexes: number[]
      sent: number
    }
    const perPartition = new Map<number, Queue>()
    for (let index = 0; index < records.length; index++) {
      const r = records[index]!
      const partition = this.partitionFor(r)
      let bytes = 70 + (r.key?.length ?? 0) + (r.value?.length ?? 0)
      for (const h of r.headers) bytes += h.key.length + (h.value?.length ?? 0) + 4
      let queue = perPartition.get(partition)
      if (!queue) {
        queue = { messages: [], bytes: [], indexes: [], sent: 0 }
        perPartition.set(partition, queue)
      }
      // Keys and values go as they are (slices of a fetch response, say): the encoder copies
      // them once, into the request. recover's encoder takes numbers for timestamps, and the
      // ordered header list itself.
      queue.messages.push({
        partition,
        key: r.key,
        value: r.value,
        timestamp: r.timestampMs as unknown as string,
        headers: r.headers.length === 0 ? undefined : (r.headers as unknown as Message['headers']),
      })
      queue.bytes.push(bytes)
      queue.indexes.push(index)
    }
    const rejected: number[] = []
    try {
      for (;;) {
        // One request: from each partition, the next records up to maxBytes (at least one).
        // A record larger than maxBytes goes alone, so that if the broker refuses it, nothing
        // else in the request was (or was not) appended with it.
        const request: Array<Message & { partition: number }> = []
        let alone: number | undefined
        for (const queue of perPartition.values()) {
          let at = queue.sent
          let bytes = 0
          while (at < queue.messages.length && request.length < maxRecords && alone === undefined) {
            const size = queue.bytes[at]!
            if (size > maxBytes) {
              if (request.length > 0) break
              alone = queue.indexes[at]!
            } else if (bytes + size > maxBytes) break
            bytes += size
            request.push(queue.messages[at]!)
            at++
          }
          queue.sent = at
          if (alone !== undefined) break
        }
        if (request.length === 0) break
        try {
          await this.send(request)
        } catch (error) {
          if (alone !== undefined && isTooLarge(error)) {
            rejected.push(alone)
            continue
          }
          throw error
        }
      }
    } catch (error) {
      throw this.failed(error, `writing to ${this.options.role} topic ${this.topic}`, `Writing to the ${this.options.role} topic ${this.topic}`)
    }
    return rejected
  }

  /**
   * Takes over the transactional id: InitProducerId bumps its epoch, which fences any older
   * producer with the id and aborts its open transaction (Kafka finishes the abort before it
   * answers). Only then is what read_committed readers see final.
   */
  async fence(): Promise<void> {
    await this.guard('taking over the transactional id', async () => {
      const t = await this.producer.transaction()
      await t.abort()
    })
  }

  async begin(): Promise<void> {
    if (this.transaction) return
    await this.guard('beginning a transaction', async () => {
      this.transaction = await this.producer.transaction()
    })
  }

  /** Adds `extra` (a record to another topic, e.g. the replay's progress) and commits the transaction. */
  async commit(extra?: { topic: string; partition: number; key: Buffer; value: Buffer }): Promise<void> {
    await this.begin()
    const t = this.transaction!
    await this.guard(
      'committing a transaction',
      async () => {
        if (extra) await t.send({ topic: extra.topic, acks: -1, messages: [{ partition: extra.partition, key: extra.key, value: extra.value }] })
        await t.commit()
      },
      { committing: true },
    )
    this.transaction = undefined
  }

  async abort(): Promise<void> {
    const t = this.transaction
    this.transaction = undefined
    await t?.abort().catch(() => undefined)
  }

  private async guard(doing: string, work: () => Promise<void>, options: { committing?: boolean } = {}): Promise<void> {
    try {
      await work()
    } catch (error) {
      throw this.failed(
        error,
        `${doing} on ${this.options.role} topic ${this.topic}`,
        `${doing[0]!.toUpperCase()}${doing.slice(1)} on the ${this.options.role} topic ${this.topic}`,
        options,
      )
    }
  }

  /** The error a failed write or transaction step ends with; `headline` says what failed. */
  private failed(error: unknown, doing: string, headline: string, options: { committing?: boolean } = {}): RecoveryError {
    const translated = translateKafkaError(error, this.gateway.settings, doing, {
      transactional: this.options.transactionalId !== undefined,
      committing: options.committing,
      leadership: this.leadership,
    })
    if (translated.code === 'BROKER_UNREACHABLE') return translated
    return new RecoveryError(
      this.options.errorCode,
      translated.fenced
        ? `Kafka fenced the transactional id ${this.options.transactionalId}${kafkaErrorOf(translated)}: another run of this replay took it over (it was restarted elsewhere), or a batch took longer than the transaction timeout (60 s); this run stops, and nothing it had not committed is visible to read_committed readers.`
        : `${headline} failed: ${translated.message}`,
      // A refusal a wait can cure (leaders moving, the ISR below min.insync.replicas) stays one: the replay waits it out (--broker-wait).
      {
        cause: error,
        fenced: translated.fenced,
        retriable: translated.retriable && !translated.fenced,
        details: { topic: this.topic, transactionalId: this.options.transactionalId },
      },
    )
  }

  private async send(messages: Array<Message & { partition: number }>): Promise<void> {
    const metadata = await (this.transaction ?? this.producer).send({ topic: this.topic, acks: -1, compression: this.compression, messages })
    const counts = new Map<number, number>()
    for (const m of messages) counts.set(m.partition, (counts.get(m.partition) ?? 0) + 1)
    // kafkajs's own send (when kafkajs was loaded before recover could put its send in place)
    // can resolve without a partition whose leader moved mid-send: those records were not
    // written, and a write that says otherwise loses them. An outage instead: written again.
    const answered = new Set(metadata.map((m) => m.partition))
    const unanswered = [...counts.keys()].filter((p) => !answered.has(p))
    if (unanswered.length > 0)
      throw new RecoveryError(
        'BROKER_UNREACHABLE',
        `Kafka did not acknowledge the records sent to partition${unanswered.length === 1 ? '' : 's'} ${unanswered.join(', ')} of topic ${this.topic} (a leader moved mid-send); they are sent again.`,
        { retriable: true, details: { topic: this.topic, partitions: unanswered } },
      )
    for (const m of metadata) {
      if (m.baseOffset === undefined) continue
      if (!this.firstBase.has(m.partition)) this.firstBase.set(m.partition, BigInt(m.baseOffset))
      this.written.set(m.partition, BigInt(m.baseOffset) + BigInt(counts.get(m.partition) ?? 0))
    }
  }

  /** The offset of this writer's first acknowledged record, per partition written to. */
  firstWrittenOffsets(): Map<number, bigint> {
    return new Map(this.firstBase)
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
    await this.abort()
    await this.producer.disconnect().catch(() => undefined)
  }
}

/**
 * The codec to send a topic's batches in, from its compression.type: the same codec when
 * recover can write it, so the broker appends them as they are. Otherwise (producer,
 * uncompressed, or zstd, which recover can read but not write) none: the broker then
 * compresses zstd topics itself.
 */
export function compressionForTopic(configs: ReadonlyMap<string, string>): CompressionTypes | undefined {
  const codecs: Record<string, number> = { gzip: 1, snappy: 2, lz4: 3 }
  return codecs[configs.get('compression.type')?.toLowerCase() ?? ''] as CompressionTypes | undefined
}

/** The topic's partition count, creating it (broker-default replication) when it does not exist. */
async function ensureTopic(admin: Admin, topic: string, partitions: number, config?: Record<string, string>): Promise<number> {
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
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic,
          numPartitions: partitions,
          replicationFactor: -1,
          configEntries: config ? Object.entries(config).map(([name, value]) => ({ name, value })) : undefined,
        },
      ],
    })
  } catch (error) {
    const already =
      (error as { type?: string }).type === 'TOPIC_ALREADY_EXISTS' ||
      (error as { errors?: Array<{ type?: string }> }).errors?.some((e) => e.type === 'TOPIC_ALREADY_EXISTS')
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

function isTooLarge(error: unknown): boolean {
  for (let e = error as { type?: string; originalError?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 6; depth++) {
    if (e.type === 'MESSAGE_TOO_LARGE' || e.type === 'RECORD_LIST_TOO_LARGE' || e.type === 'INVALID_RECORD') return true
    e = (e.originalError ?? e.cause) as typeof e
  }
  return false
}

/** " (Kafka answered X)" when Kafka's answer was not plain fencing, so the message says what was seen. */
function kafkaErrorOf(error: RecoveryError): string {
  const type = (error.details as { kafkaError?: unknown }).kafkaError
  return typeof type === 'string' && !/FENCED|INVALID_PRODUCER_EPOCH/.test(type) ? ` (Kafka answered ${type})` : ''
}
