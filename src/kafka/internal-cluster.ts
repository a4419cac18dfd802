import type { Kafka } from 'kafkajs'

/**
 * kafkajs keeps its low-level cluster (leaders, ListOffsets, Fetch) private. We need it for
 * two things its public API cannot do: read partitions without joining a group, and list
 * read_uncommitted log-end offsets (the admin client only gives the last stable offset,
 * while Kafka's own tools report the high watermark). kafkajs is pinned at 2.2.4 and frozen.
 */
export function createInternalCluster(kafka: Kafka, options: { isolation: 'read_committed' | 'read_uncommitted' }): InternalCluster {
  const create = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster')
  if (!create) throw new Error('kafkajs internals changed: private:Kafka:createCluster not found (is kafkajs still 2.2.4?)')
  const factory = (kafka as unknown as Record<symbol, (o: object) => InternalCluster>)[create]
  return factory({ allowAutoTopicCreation: false, isolationLevel: options.isolation === 'read_committed' ? 1 : 0 })
}

export interface InternalMessage {
  offset: string
  timestamp: string
  key: Buffer | null
  value: Buffer | null
  headers?: Record<string, Buffer | null | Array<Buffer | null>>
  isControlRecord?: boolean
  batchContext?: { timestampType?: number }
}

export interface InternalPartitionData {
  partition: number
  errorCode: number
  highWatermark: string
  lastStableOffset?: string
  logStartOffset?: string
  messages: InternalMessage[]
}

export interface InternalBroker {
  fetch(args: object): Promise<{ responses: Array<{ topicName: string; partitions: InternalPartitionData[] }> }>
  offsetCommit(args: {
    groupId: string
    groupGenerationId: number
    memberId: string
    retentionTime: number
    topics: Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>
  }): Promise<unknown>
}

export interface InternalCluster {
  connect(): Promise<void>
  disconnect(): Promise<void>
  refreshMetadata(): Promise<void>
  /** A Metadata request: these topics, or every topic when the list is empty. */
  metadata(args: { topics: string[] }): Promise<{ topicMetadata: Array<import('./topic-metadata.js').RawTopicMetadata> }>
  addTargetTopic(topic: string): Promise<void>
  findTopicPartitionMetadata(topic: string): Array<{ partitionId: number; leader: number; partitionErrorCode: number }>
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>
  findBroker(args: { nodeId: string }): Promise<InternalBroker>
  findGroupCoordinator(args: { groupId: string }): Promise<InternalBroker>
  fetchTopicsOffset(
    topics: Array<{ topic: string; partitions: Array<{ partition: number }>; fromBeginning?: boolean; fromTimestamp?: number }>,
  ): Promise<Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>>
}
