import type { PartitionRange, RangeBound } from '../core/replay-range.js'
import type { KafkaGateway } from '../kafka/kafka-gateway.js'
import { RangeReader, type RangeReaderOptions } from '../kafka/range-reader.js'
import { planReplay } from './kafka-range-plan.js'
import type { RecordSource, SourceChunk, SourcePlan } from './record-source.js'

/**
 * A bounded range of a Kafka topic's partitions, read by offset in read_committed isolation
 * without joining any consumer group (RangeReader). Its plan is made from the bounds and what
 * the log holds when the replay starts, or given, already made (a --scale-out partition whose
 * range the group keeps).
 */
export class KafkaRangeSource implements RecordSource {
  private reader: RangeReader | undefined

  constructor(
    private readonly gateway: KafkaGateway,
    readonly topic: string,
    private readonly partitions: readonly number[],
    private readonly planning: { from: RangeBound; to: RangeBound } | SourcePlan,
    private readonly fetch?: RangeReaderOptions,
  ) {}

  async plan(): Promise<SourcePlan> {
    if ('ranges' in this.planning) return this.planning
    return planReplay(this.topic, this.partitions, this.planning, { reader: this.open(), gateway: this.gateway })
  }

  read(ranges: readonly PartitionRange[], signal: AbortSignal): AsyncIterable<readonly SourceChunk[]> {
    return this.open().read(ranges, this.fetch, signal)
  }

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

  private open(): RangeReader {
    this.reader ??= new RangeReader(this.gateway.kafka, this.gateway.settings, this.topic)
    return this.reader
  }
}
