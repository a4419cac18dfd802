import type { KafkaGateway } from '../kafka/kafka-gateway.js'
import { RangeReader, type RangeReaderOptions } from '../kafka/range-reader.js'

/**
 * What the Kafka sources (a bounded range, a follow) share: one RangeReader opened on first use,
 * a probe on connections of its own, and closing.
 */
export abstract class KafkaTopicSource {
  private reader: RangeReader | undefined

  constructor(
    protected readonly gateway: KafkaGateway,
    readonly topic: string,
    protected readonly partitions: readonly number[],
    protected readonly fetch?: RangeReaderOptions,
  ) {}

  /** ListOffsets to every partition's leader, on connections of its own. */
  async probe(): Promise<void> {
    const probe = new RangeReader(this.gateway.kafka, this.gateway.settings, this.topic)
    try {
      await probe.partitionFacts(this.partitions)
    } finally {
      await probe.close()
    }
  }

  async close(): Promise<void> {
    await this.reader?.close()
    this.reader = undefined
  }

  protected open(): RangeReader {
    this.reader ??= new RangeReader(this.gateway.kafka, this.gateway.settings, this.topic)
    return this.reader
  }
}
