/** The shapes KafkaGateway answers with, kafkajs-free, for services and core to use. */

export interface GroupListing {
  groupId: string
  protocolType: string
}

export interface GroupMember {
  memberId: string
  clientId: string
  host: string
  assignments: Array<{ topic: string; partitions: number[] }>
  /** The topics the member subscribed to, when Kafka shows them (a classic group only once it is stable). */
  topics: string[] | null
}

export interface GroupDescription {
  groupId: string
  /** Stable, Empty, PreparingRebalance, CompletingRebalance, Dead, Unknown */
  state: string
  protocolType: string
  /** classic: JoinGroup/SyncGroup (kafkajs, older clients); consumer: the KIP-848 protocol. */
  rebalanceProtocol: 'classic' | 'consumer'
  /** The partition assignor the group agreed on; '' when Kafka does not say (a classic group mid-rebalance, or none). */
  assignor: string
  members: GroupMember[]
}

export interface CommittedOffset {
  topic: string
  partition: number
  /** null when the group never committed this partition. */
  offset: bigint | null
  /** The metadata committed with the offset; null when there is none. */
  metadata: string | null
}

export interface TopicPartitions {
  topic: string
  partitions: number[]
}

/** Map key for a topic-partition. */
export function tpKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`
}

export interface PartitionLogOffsets {
  partition: number
  logStart: bigint
  logEnd: bigint
}
