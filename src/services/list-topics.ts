import type { KafkaGateway } from '../kafka/kafka-gateway.js'
import type { TopicMetadata } from '../kafka/topic-metadata.js'
import type { ClusterIdentity } from '../core/cluster-identity.js'
import { isRecoveryError } from '../errors.js'

/** The topic configs `recover topics` reads: what decides how far back the log reaches. */
export const RETENTION_CONFIGS = ['cleanup.policy', 'retention.ms', 'retention.bytes', 'message.timestamp.type', 'min.insync.replicas']

export interface TopicRetention {
  /** retention.ms; null: kept whatever its age (-1). */
  ms: number | null
  /** retention.bytes per partition; null: no size limit (-1). */
  bytes: number | null
}

export interface TopicSummary {
  name: string
  internal: boolean
  partitions: number
  replicationFactor: number
  /** null when the topic's configs could not be read (no DescribeConfigs permission). */
  retention: TopicRetention | null
  /** delete, compact or compact,delete; null when the configs could not be read. */
  cleanupPolicy: string | null
  /** Partitions whose in-sync replicas are fewer than their replicas. */
  underReplicatedPartitions: number
  /** Partitions without a leader: nothing can be read from them or written to them. */
  offlinePartitions: number
}

export interface TopicList {
  cluster: ClusterIdentity
  topics: TopicSummary[]
  /** Internal topics left out (without --internal). */
  hiddenInternal: number
  /** Why retention and cleanup policy are unknown, when they are. */
  configsUnavailable?: string
}

/** Every topic (internal ones only when asked) with partitions, replication, retention and cleanup policy. */
export async function listTopics(gateway: KafkaGateway, options: { internal?: boolean } = {}): Promise<TopicList> {
  const reader = await gateway.topicReader()
  const all = await reader.topicsMetadata()
  const shown = all.filter((t) => options.internal || !t.internal)
  let configs = new Map<string, Map<string, string>>()
  let configsUnavailable: string | undefined
  try {
    configs = await reader.topicConfigsMany(
      shown.map((t) => t.name),
      RETENTION_CONFIGS,
    )
  } catch (error) {
    // Seeing topics without their configs is still worth having; only a refusal is forgiven.
    if (!isRecoveryError(error) || error.code !== 'AUTHORIZATION_FAILED') throw error
    configsUnavailable = error.message
  }
  return {
    cluster: gateway.cluster,
    topics: shown.map((t) => summarise(t, configs.get(t.name))),
    hiddenInternal: all.length - shown.length,
    ...(configsUnavailable ? { configsUnavailable } : {}),
  }
}

export function summarise(topic: TopicMetadata, configs: ReadonlyMap<string, string> | undefined): TopicSummary {
  return {
    name: topic.name,
    internal: topic.internal,
    partitions: topic.partitions.length,
    replicationFactor: Math.max(0, ...topic.partitions.map((p) => p.replicas.length)),
    retention: configs ? retentionOf(configs) : null,
    cleanupPolicy: configs?.get('cleanup.policy') ?? null,
    underReplicatedPartitions: topic.partitions.filter((p) => p.isr.length < p.replicas.length).length,
    offlinePartitions: topic.partitions.filter((p) => p.leader < 0).length,
  }
}

export function retentionOf(configs: ReadonlyMap<string, string>): TopicRetention {
  const limit = (name: string): number | null => {
    const value = Number(configs.get(name) ?? '-1')
    return Number.isFinite(value) && value >= 0 ? value : null
  }
  return { ms: limit('retention.ms'), bytes: limit('retention.bytes') }
}
