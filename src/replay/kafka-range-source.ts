import type { PartitionRange, RangeBound } from '../core/replay-range.js'
import type { KafkaGateway } from '../kafka/kafka-gateway.js'
import type { RangeReaderOptions } from '../kafka/range-reader.js'
import { planReplay } from './kafka-range-plan.js'
import { KafkaTopicSource } from './kafka-topic-source.js'
import type { RecordSource, SourceChunk, SourcePlan } from './record-source.js'

/**
 * A bounded range of a Kafka topic's partitions, read by offset in read_committed isolation
 * without joining any consumer group (RangeReader). Its plan is made from the bounds and what
 * the log holds when the replay starts, or given, already made (a --scale-out partition whose
 * range the group keeps).
 */
export class KafkaRangeSource extends KafkaTopicSource implements RecordSource {
  constructor(
    gateway: KafkaGateway,
    topic: string,
    partitions: readonly number[],
    private readonly planning: { from: RangeBound; to: RangeBound } | SourcePlan,
    fetch?: RangeReaderOptions,
  ) {
    super(gateway, topic, partitions, fetch)
  }

  async plan(): Promise<SourcePlan> {
    if ('ranges' in this.planning) return this.planning
    return planReplay(this.topic, this.partitions, this.planning, { reader: this.open(), gateway: this.gateway })
  }

  read(ranges: readonly PartitionRange[], signal: AbortSignal): AsyncIterable<readonly SourceChunk[]> {
    return this.open().read(ranges, this.fetch, signal)
  }
}
