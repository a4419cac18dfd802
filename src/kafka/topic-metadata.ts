/** Topic and partition metadata as `recover topics` shows it, kafkajs-free for services and core. */

export interface PartitionMetadata {
  partition: number
  /** Broker id of the leader; -1 when the partition has none (offline). */
  leader: number
  replicas: number[]
  isr: number[]
  offlineReplicas: number[]
}

export interface TopicMetadata {
  name: string
  /** Kafka's own flag (__consumer_offsets, __transaction_state, …), or a name starting with "__". */
  internal: boolean
  partitions: PartitionMetadata[]
}

/** A Metadata response's topic as kafkajs decodes it (protocol v1 and later). */
export interface RawTopicMetadata {
  topic: string
  isInternal?: boolean
  partitionMetadata: Array<{ partitionId: number; leader: number; replicas?: number[]; isr?: number[]; offlineReplicas?: number[] }>
}

/**
 * Kafka flags only its own bookkeeping topics as internal; names that start with "__" are the
 * convention for everything else that is not application data (Connect, Streams, Schema
 * Registry deployments use it too), and are hidden with them.
 */
export function isInternalTopic(name: string, flagged = false): boolean {
  return flagged || name.startsWith('__')
}

export function toTopicMetadata(raw: RawTopicMetadata): TopicMetadata {
  return {
    name: raw.topic,
    internal: isInternalTopic(raw.topic, raw.isInternal === true),
    partitions: raw.partitionMetadata
      .map((p) => ({
        partition: p.partitionId,
        leader: p.leader,
        replicas: [...(p.replicas ?? [])],
        isr: [...(p.isr ?? [])].sort((a, b) => a - b),
        offlineReplicas: [...(p.offlineReplicas ?? [])].sort((a, b) => a - b),
      }))
      .sort((a, b) => a.partition - b.partition),
  }
}
