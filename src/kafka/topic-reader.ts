import type { Admin } from 'kafkajs'
import type { RecoveryError } from '../errors.js'
import type { InternalCluster } from './internal-cluster.js'
import { tpKey } from './kafka-types.js'
import { whileLeadersMove } from './leader-retry.js'
import type { EdgeRequest, FetchedEdges } from './log-edges.js'
import type { LogDirsBroker } from './describe-log-dirs.js'
import type { TopicMetadata } from './topic-metadata.js'

/** What the reader borrows from its KafkaGateway: its admin client and low-level cluster, its error translation. */
export interface TopicReaderDeps {
  admin: Admin
  cluster(): Promise<InternalCluster>
  call<T>(doing: string, work: () => Promise<T>): Promise<T>
  topicNotFound(topic: string): RecoveryError
}

/**
 * What `recover topics` asks a cluster, beside the gateway's own questions: every topic with
 * leaders, replicas and ISR, topic configs in bulk, partition sizes (DescribeLogDirs), and the
 * first and last record of each partition. Errors are translated as the gateway's are.
 */
export class TopicReader {
  constructor(private readonly gateway: TopicReaderDeps) {}

  /**
   * Topics with their partitions (leader, replicas, ISR) in one Metadata request: the named
   * ones, or every topic when none are named. TOPIC_NOT_FOUND when a named topic does not exist.
   */
  topicsMetadata(topics: string[] = []): Promise<TopicMetadata[]> {
    const doing = topics.length === 0 ? 'listing topics' : `reading the metadata of topic ${topics.join(', ')}`
    return this.gateway.call(doing, async () => {
      const { toTopicMetadata } = await import('./topic-metadata.js')
      const cluster = await this.gateway.cluster()
      const { topicMetadata } = await cluster.metadata({ topics }).catch((error: { type?: string }) => {
        if (error.type === 'UNKNOWN_TOPIC_OR_PARTITION' && topics.length === 1) throw this.gateway.topicNotFound(topics[0]!)
        throw error
      })
      return topicMetadata.map(toTopicMetadata).sort((a, b) => a.name.localeCompare(b.name))
    })
  }

  /** The first and last record of these partitions, with two Fetch requests per leader (log-edges.ts); keys are tpKey(topic, partition). */
  logEdges(requests: EdgeRequest[]): Promise<Map<string, FetchedEdges>> {
    return this.gateway.call('reading the first and last records', async () => {
      const { fetchLogEdges } = await import('./log-edges.js')
      const cluster = await this.gateway.cluster()
      return whileLeadersMove(cluster, () => fetchLogEdges(cluster, requests))
    })
  }

  /** Effective configs (defaults included) of many topics in one DescribeConfigs request, by topic then name. */
  topicConfigsMany(topics: string[], names: string[]): Promise<Map<string, Map<string, string>>> {
    if (topics.length === 0) return Promise.resolve(new Map())
    return this.gateway.call('reading topic configs', async () => {
      const TOPIC = 2 // kafkajs ConfigResourceTypes.TOPIC
      const { resources } = await this.gateway.admin.describeConfigs({
        includeSynonyms: false,
        resources: topics.map((name) => ({ type: TOPIC, name, configNames: names })),
      })
      return new Map(
        resources.map((r) => [r.resourceName, new Map(r.configEntries.filter((e) => e.configValue !== null).map((e) => [e.configName, e.configValue]))]),
      )
    })
  }

  /**
   * Bytes on disk of each partition's leader replica, with one DescribeLogDirs request per
   * leader (as kafka-log-dirs.sh asks); a partition whose broker does not say (no Describe on
   * the cluster, an old broker) is missing from the map. Keys are tpKey(topic, partition).
   */
  async partitionSizes(partitions: Array<{ topic: string; partition: number; leader: number }>): Promise<Map<string, number>> {
    const { replicaSizes } = await import('./describe-log-dirs.js')
    const cluster = await this.gateway.call('connecting', () => this.gateway.cluster())
    const byLeader = new Map<number, Map<string, number[]>>()
    for (const p of partitions) {
      if (p.leader < 0) continue
      const topics = byLeader.get(p.leader) ?? new Map<string, number[]>()
      topics.set(p.topic, [...(topics.get(p.topic) ?? []), p.partition])
      byLeader.set(p.leader, topics)
    }
    const out = new Map<string, number>()
    await Promise.all(
      [...byLeader].map(async ([leader, topics]) => {
        const wanted = new Set(partitions.filter((p) => p.leader === leader).map((p) => tpKey(p.topic, p.partition)))
        try {
          const broker = await cluster.findBroker({ nodeId: String(leader) })
          const sizes = await replicaSizes(
            broker as unknown as LogDirsBroker,
            [...topics].map(([topic, ids]) => ({ topic, partitions: ids })),
          )
          for (const s of sizes ?? []) if (wanted.has(tpKey(s.topic, s.partition))) out.set(tpKey(s.topic, s.partition), s.sizeBytes)
        } catch {
          // The size is an extra: a broker that will not say leaves it unknown, not the command failed.
        }
      }),
    )
    return out
  }
}
