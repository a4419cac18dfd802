import type { KafkaGateway } from '../kafka/kafka-gateway.js'
import { KafkaWriter } from '../kafka/kafka-writer.js'
import type { Sink, SinkOpenResult, SinkRecord, SinkRejection, SinkState } from './sink.js'

export interface KafkaSinkOptions {
  /** Partitions for the topic when it has to be created: the source topic's count. */
  createPartitions: number
  /** Write the time of writing instead of each record's original timestamp. */
  newTimestamps?: boolean
}

/**
 * `kafka:TOPIC`: an idempotent producer (acks=all), keys and headers (order, repeats, nulls)
 * kept, each record's original timestamp unless --new-timestamps. A record keeps its source
 * partition when the topic has enough partitions. The checkpoint keeps the topic's log end
 * after our last acknowledged batch: on resume, what lies beyond it was written by the
 * interrupted batch and is counted as re-sent (Kafka has no transaction with a checkpoint
 * file, so at most that one batch is duplicated).
 */
export class KafkaSink implements Sink {
  readonly mayDuplicateOnResume = true
  private writer: KafkaWriter | undefined
  private state = new Map<number, bigint>()

  constructor(
    private readonly gateway: KafkaGateway,
    readonly topic: string,
    private readonly options: KafkaSinkOptions,
  ) {}

  get uri(): string {
    return `kafka:${this.topic}`
  }

  async open(resume?: SinkState): Promise<SinkOpenResult> {
    this.writer = await KafkaWriter.open(this.gateway, this.topic, { createPartitions: this.options.createPartitions, idempotent: true, errorCode: 'SINK_FAILED', role: 'sink' })
    const ends = await this.writer.logEnds()
    let resent = 0
    if (resume !== undefined) {
      const checkpointed = (resume.logEnds ?? {}) as Record<string, string>
      for (const [partition, end] of ends) {
        const at = checkpointed[String(partition)]
        if (at !== undefined && end > BigInt(at)) resent += Number(end - BigInt(at))
      }
    }
    this.state = ends
    return { resent }
  }

  async write(records: SinkRecord[]): Promise<SinkRejection[]> {
    const now = Date.now()
    const rejected = await this.writer!.write(
      records.map((r) => ({ sourcePartition: r.source.partition, key: r.key, value: r.value, headers: r.headers, timestampMs: this.options.newTimestamps ? now : r.timestamp })),
    )
    for (const [p, o] of this.writer!.writtenOffsets()) this.state.set(p, o)
    return rejected.map((index) => ({ index, error: Object.assign(new Error(`Kafka refused the record as too large for topic ${this.topic} (max.message.bytes).`), { name: 'RecordTooLargeError' }) }))
  }

  /** Writes were acknowledged by all in-sync replicas when write() resolved: nothing to flush. */
  async checkpoint(): Promise<SinkState> {
    return { logEnds: Object.fromEntries([...this.state].map(([p, o]) => [String(p), o.toString()])) }
  }

  async close(): Promise<void> {
    await this.writer?.close()
  }
}
