import { createRequire } from 'node:module'
import type { Admin, Kafka } from 'kafkajs'
import type { ConnectionSettings } from '../config/connection-settings.js'
import { RecoveryError } from '../errors.js'
import { withDeadline } from '../core/with-deadline.js'
import { createKafka, type KafkaLogLine } from './create-kafka.js'
import { createInternalCluster, type InternalCluster } from './internal-cluster.js'
import { PartitionFetcher } from './partition-fetcher.js'
import { describeConsumerProtocolGroup, type DescribeBroker } from './consumer-group-describe.js'
import { fetchStableOffsets } from './offset-fetch-stable.js'
import { whileLeadersMove } from './leader-retry.js'
import { translateKafkaError, unreachable, type BrokerLeadership } from './translate-error.js'
import { whileCoordinatorLoads } from './coordinator-wait.js'
import {
  tpKey,
  type CommittedOffset,
  type GroupDescription,
  type GroupListing,
  type GroupMember,
  type PartitionLogOffsets,
  type TopicPartitions,
} from './kafka-types.js'

export {
  tpKey,
  type CommittedOffset,
  type GroupDescription,
  type GroupListing,
  type GroupMember,
  type PartitionLogOffsets,
  type TopicPartitions,
} from './kafka-types.js'
import type { ClusterIdentity } from '../core/cluster-identity.js'
import type { TopicReader } from './topic-reader.js'

const require = createRequire(import.meta.url)

/** The whole time allowed to reach a cluster before saying it is unreachable. */
export const CONNECT_DEADLINE_MS = 10_000
const CLOSE_DEADLINE_MS = 2_000

/** A classic consumer's subscription (its member metadata); null when another client's layout does not decode. */
function subscribedTopics(protocol: typeof import('kafkajs').AssignerProtocol, metadata: Buffer): string[] | null {
  try {
    const decoded = protocol.MemberMetadata.decode(metadata)
    return decoded ? [...decoded.topics].sort() : null
  } catch {
    return null
  }
}

/**
 * Our small Kafka interface: everything services need from a cluster, with kafkajs errors
 * translated to RecoveryErrors at this boundary.
 */
export class KafkaGateway {
  private fetchers: PartitionFetcher[] = []
  private offsetsCluster: InternalCluster | undefined

  /** Kafka's cluster id, read from metadata when the gateway opened. */
  clusterId = ''

  private constructor(
    readonly settings: ConnectionSettings,
    readonly kafka: Kafka,
    private readonly admin: Admin,
  ) {}

  /** The cluster this gateway talks to: its id and how it was reached. */
  get cluster(): ClusterIdentity {
    return { id: this.clusterId, bootstrap: this.settings.brokers, source: this.settings.source }
  }

  static async open(settings: ConnectionSettings, options: { log?: (line: KafkaLogLine) => void } = {}): Promise<KafkaGateway> {
    const kafka = createKafka(settings, options)
    const admin = kafka.admin()
    const gateway = new KafkaGateway(settings, kafka, admin)
    try {
      // describeCluster loads the broker list now; otherwise the first group lookup finds an
      // empty broker pool and waits out a retry (about 250 ms on every command).
      const described = await withDeadline(
        admin.connect().then(() => admin.describeCluster()),
        CONNECT_DEADLINE_MS,
        () => unreachable(settings, 'connecting'),
      )
      gateway.clusterId = described.clusterId
    } catch (error) {
      void admin.disconnect().catch(() => undefined)
      throw translateKafkaError(error, settings, 'connecting')
    }
    return gateway
  }

  async close(): Promise<void> {
    const closing = Promise.allSettled([this.admin.disconnect(), ...this.fetchers.map((f) => f.close()), this.offsetsCluster?.disconnect()])
    // A broker that stopped answering must not hold the command open after its work is done.
    await withDeadline(closing, CLOSE_DEADLINE_MS, () => new Error('close timed out')).catch(() => undefined)
  }

  private async call<T>(doing: string, work: () => Promise<T>): Promise<T> {
    try {
      return await whileCoordinatorLoads(work)
    } catch (error) {
      throw translateKafkaError(error, this.settings, doing)
    }
  }

  listGroups(): Promise<GroupListing[]> {
    return this.call('listing consumer groups', async () => {
      const { groups } = await this.admin.listGroups()
      return groups.map((g) => ({ groupId: g.groupId, protocolType: g.protocolType })).sort((a, b) => a.groupId.localeCompare(b.groupId))
    })
  }

  describeGroups(groupIds: string[]): Promise<GroupDescription[]> {
    if (groupIds.length === 0) return Promise.resolve([])
    return this.call(`describing group${groupIds.length > 1 ? 's' : ''} ${groupIds.join(', ')}`, async () => {
      const { AssignerProtocol } = require('kafkajs') as typeof import('kafkajs')
      const { groups } = await this.admin.describeGroups(groupIds)
      const described = groups.map(
        (g): GroupDescription => ({
          groupId: g.groupId,
          state: g.state,
          protocolType: g.protocolType,
          rebalanceProtocol: 'classic',
          assignor: g.protocol ?? '',
          members: g.members.map((m) => {
            let assignments: GroupMember['assignments'] = []
            let topics: string[] | null = null
            if (g.protocolType === 'consumer' && m.memberAssignment?.length) {
              const decoded = AssignerProtocol.MemberAssignment.decode(m.memberAssignment)
              assignments = Object.entries(decoded?.assignment ?? {}).map(([topic, partitions]) => ({
                topic,
                partitions: [...partitions].sort((a, b) => a - b),
              }))
            }
            if (g.protocolType === 'consumer' && m.memberMetadata?.length) topics = subscribedTopics(AssignerProtocol, m.memberMetadata)
            return { memberId: m.memberId, clientId: m.clientId, host: m.clientHost.replace(/^\//, ''), assignments, topics }
          }),
        }),
      )
      // Dead to the classic protocol: maybe a group on the new consumer protocol (KIP-848).
      return Promise.all(described.map(async (g) => (g.state === 'Dead' ? ((await this.describeConsumerProtocolGroup(g.groupId)) ?? g) : g)))
    })
  }

  /** A KIP-848 group as ConsumerGroupDescribe sees it; undefined when it is not one (or the broker predates the API). */
  private async describeConsumerProtocolGroup(groupId: string): Promise<GroupDescription | undefined> {
    try {
      const cluster = await this.offsets()
      const coordinator = await cluster.findGroupCoordinator({ groupId })
      return await describeConsumerProtocolGroup(coordinator as unknown as DescribeBroker, groupId)
    } catch {
      // The classic answer (Dead) stands, as before this request existed.
      return undefined
    }
  }

  /** Committed offsets of a group; with topics, every partition of them (uncommitted ones as null). */
  committedOffsets(groupId: string, topics?: string[]): Promise<CommittedOffset[]> {
    return this.call(`reading the committed offsets of group ${groupId}`, async () => {
      const stable = await this.stableCommittedOffsets(groupId, topics)
      if (stable) return stable
      const result = await this.admin.fetchOffsets({ groupId, topics })
      const out: CommittedOffset[] = []
      for (const { topic, partitions } of result) {
        for (const p of partitions) {
          const offset = BigInt(p.offset)
          out.push({ topic, partition: p.partition, offset: offset < 0n ? null : offset, metadata: p.metadata || null })
        }
      }
      return out.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)
    })
  }

  /** The same read with RequireStable (see offset-fetch-stable.ts); undefined on a broker before Kafka 2.5. */
  private async stableCommittedOffsets(groupId: string, topics?: string[]): Promise<CommittedOffset[] | undefined> {
    const cluster = await this.offsets()
    let scope: Array<{ topic: string; partitions: number[] }> | null = null
    if (topics && topics.length > 0) {
      scope = [...(await this.partitionsOfMany(topics))].map(([topic, partitions]) => ({ topic, partitions }))
    }
    const coordinator = await cluster.findGroupCoordinator({ groupId })
    const fetched = await fetchStableOffsets(coordinator as unknown as DescribeBroker, groupId, scope)
    return fetched
      ?.map(({ topic, partition, offset, metadata }) => ({ topic, partition, offset: offset < 0n ? null : offset, metadata: metadata || null }))
      .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)
  }

  /** Effective configs of a topic (defaults included), by name. */
  topicConfigs(topic: string, names: string[]): Promise<Map<string, string>> {
    return this.call(`reading the configs of topic ${topic}`, async () => {
      const TOPIC = 2 // kafkajs ConfigResourceTypes.TOPIC
      const { resources } = await this.admin.describeConfigs({ includeSynonyms: false, resources: [{ type: TOPIC, name: topic, configNames: names }] })
      return new Map((resources[0]?.configEntries ?? []).filter((e) => e.configValue !== null).map((e) => [e.configName, e.configValue]))
    })
  }

  listTopics(): Promise<string[]> {
    return this.call('listing topics', async () => (await this.admin.listTopics()).sort())
  }

  /**
   * Which partitions of `topic` each broker leads now, by the broker's address; undefined when
   * the cluster cannot say. Only for naming a broker that stops answering (never fails).
   */
  async leadership(topic: string): Promise<BrokerLeadership | undefined> {
    try {
      const [cluster, metadata] = await Promise.all([this.admin.describeCluster(), this.admin.fetchTopicMetadata({ topics: [topic] })])
      const byBroker = new Map<string, { nodeId: number; partitions: number[] }>()
      for (const b of cluster.brokers) byBroker.set(`${b.host}:${b.port}`, { nodeId: b.nodeId, partitions: [] })
      const address = new Map(cluster.brokers.map((b) => [b.nodeId, `${b.host}:${b.port}`]))
      for (const p of metadata.topics[0]?.partitions ?? []) {
        const led = byBroker.get(address.get(p.leader) ?? '')
        led?.partitions.push(p.partitionId)
      }
      for (const led of byBroker.values()) led.partitions.sort((a, b) => a - b)
      return { topic, byBroker }
    } catch {
      return undefined
    }
  }

  /** The partition ids of a topic; TOPIC_NOT_FOUND if it does not exist. */
  partitionsOf(topic: string): Promise<number[]> {
    return this.call(`reading the metadata of topic ${topic}`, async () => {
      const { topics } = await this.admin.fetchTopicMetadata({ topics: [topic] }).catch((error: { type?: string }) => {
        if (error.type === 'UNKNOWN_TOPIC_OR_PARTITION') throw this.topicNotFound(topic)
        throw error
      })
      const meta = topics.find((t) => t.name === topic)
      if (!meta || meta.partitions.length === 0) throw this.topicNotFound(topic)
      return meta.partitions.map((p) => p.partitionId).sort((a, b) => a - b)
    })
  }

  /** Partition ids of several topics with one metadata request; TOPIC_NOT_FOUND names the first missing one. */
  partitionsOfMany(topics: string[]): Promise<Map<string, number[]>> {
    if (topics.length === 0) return Promise.resolve(new Map())
    return this.call(`reading the metadata of topics ${topics.join(', ')}`, async () => {
      const result = await this.admin.fetchTopicMetadata({ topics }).catch(async (error: { type?: string }) => {
        if (error.type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw error
        for (const topic of topics) await this.partitionsOf(topic)
        throw error
      })
      const out = new Map<string, number[]>()
      for (const t of result.topics)
        out.set(
          t.name,
          t.partitions.map((p) => p.partitionId).sort((a, b) => a - b),
        )
      for (const topic of topics) if (!out.get(topic)?.length) throw this.topicNotFound(topic)
      return out
    })
  }

  private topicNotFound(topic: string): RecoveryError {
    return new RecoveryError(
      'TOPIC_NOT_FOUND',
      `Topic "${topic}" does not exist on ${this.settings.brokers.join(',')}; check the name, or list the topics with: recover topics.`,
      { details: { topic } },
    )
  }

  /**
   * Creates a one-partition compacted topic unless it exists (the quarantine audit trail: the
   * latest state per key is what matters, and compaction keeps exactly that).
   */
  ensureCompactedTopic(topic: string): Promise<void> {
    return this.ensureTopic(topic, { partitions: 1, configs: { 'cleanup.policy': 'compact' } })
  }

  /** Creates a topic with these configs unless it exists (an existing topic is left as it is). */
  ensureTopic(topic: string, options: { partitions: number; configs: Record<string, string> }): Promise<void> {
    return this.call(`creating topic ${topic}`, async () => {
      try {
        await this.admin.createTopics({
          waitForLeaders: true,
          topics: [
            {
              topic,
              numPartitions: options.partitions,
              replicationFactor: -1,
              configEntries: Object.entries(options.configs).map(([name, value]) => ({ name, value })),
            },
          ],
        })
      } catch (error) {
        const exists = (e: { type?: string }) => e.type === 'TOPIC_ALREADY_EXISTS'
        if (!(exists(error as { type?: string }) || (error as { errors?: Array<{ type?: string }> }).errors?.some(exists))) throw error
      }
    })
  }

  /** Log start and log end (high watermark, as Kafka's own tools report it) per partition. */
  logOffsets(topic: string, partitions?: number[]): Promise<PartitionLogOffsets[]> {
    return this.call(`reading the offsets of topic ${topic}`, async () => {
      const ids = partitions ?? (await this.partitionsOf(topic))
      const cluster = await this.offsets()
      await cluster.addTargetTopic(topic)
      const query = (fromBeginning: boolean) => cluster.fetchTopicsOffset([{ topic, partitions: ids.map((partition) => ({ partition })), fromBeginning }])
      const [starts, ends] = await whileLeadersMove(cluster, () => Promise.all([query(true), query(false)]))
      const endOf = new Map(ends[0]?.partitions.map((p) => [p.partition, BigInt(p.offset)]))
      return (starts[0]?.partitions ?? [])
        .map((p) => ({ partition: p.partition, logStart: BigInt(p.offset), logEnd: endOf.get(p.partition) ?? BigInt(p.offset) }))
        .sort((a, b) => a.partition - b.partition)
    })
  }

  /** The earliest offset whose timestamp is >= timestampMs per partition; null where no record is that late. */
  offsetsForTimestamp(topic: string, timestampMs: number, partitions?: number[]): Promise<Array<{ partition: number; offset: bigint | null }>> {
    return this.call(`looking up offsets by time in topic ${topic}`, async () => {
      const ids = partitions ?? (await this.partitionsOf(topic))
      const cluster = await this.offsets()
      await cluster.addTargetTopic(topic)
      const [result] = await whileLeadersMove(cluster, () =>
        cluster.fetchTopicsOffset([{ topic, partitions: ids.map((partition) => ({ partition })), fromTimestamp: timestampMs }]),
      )
      return (result?.partitions ?? [])
        .map((p) => ({ partition: p.partition, offset: BigInt(p.offset) < 0n ? null : BigInt(p.offset) }))
        .sort((a, b) => a.partition - b.partition)
    })
  }

  /**
   * Log start and end for many topics at once: one ListOffsets request per broker for each
   * of the two, whatever the number of partitions.
   */
  logOffsetsMany(scope: TopicPartitions[]): Promise<Map<string, PartitionLogOffsets>> {
    return this.call('reading log offsets', async () => {
      const cluster = await this.offsets()
      await Promise.all(scope.map((s) => cluster.addTargetTopic(s.topic)))
      const query = (fromBeginning: boolean) =>
        cluster.fetchTopicsOffset(scope.map((s) => ({ topic: s.topic, partitions: s.partitions.map((partition) => ({ partition })), fromBeginning })))
      const [starts, ends] = await whileLeadersMove(cluster, () => Promise.all([query(true), query(false)]))
      const out = new Map<string, PartitionLogOffsets>()
      for (const t of starts)
        for (const p of t.partitions) out.set(tpKey(t.topic, p.partition), { partition: p.partition, logStart: BigInt(p.offset), logEnd: BigInt(p.offset) })
      for (const t of ends)
        for (const p of t.partitions) {
          const entry = out.get(tpKey(t.topic, p.partition))
          if (entry) entry.logEnd = BigInt(p.offset)
        }
      return out
    })
  }

  /** The earliest offset with timestamp >= timestampMs for many partitions, one request per broker; null = none that late. */
  offsetsForTimestampMany(scope: TopicPartitions[], timestampMs: number): Promise<Map<string, bigint | null>> {
    return this.call('looking up offsets by time', async () => {
      const cluster = await this.offsets()
      await Promise.all(scope.map((s) => cluster.addTargetTopic(s.topic)))
      const result = await whileLeadersMove(cluster, () =>
        cluster.fetchTopicsOffset(
          scope.map((s) => ({ topic: s.topic, partitions: s.partitions.map((partition) => ({ partition })), fromTimestamp: timestampMs })),
        ),
      )
      const out = new Map<string, bigint | null>()
      for (const t of result) for (const p of t.partitions) out.set(tpKey(t.topic, p.partition), BigInt(p.offset) < 0n ? null : BigInt(p.offset))
      return out
    })
  }

  /**
   * Commits offsets for a group the way Kafka's admin client does (generation -1, no member):
   * the broker accepts it only while the group has no active members, so this never joins
   * or disturbs the group. Throws the broker's refusal untranslated-but-typed for the caller.
   */
  async commitGroupOffsets(groupId: string, offsets: Array<{ topic: string; partition: number; offset: bigint }>): Promise<void> {
    const cluster = await this.offsets()
    const byTopic = new Map<string, Array<{ partition: number; offset: string }>>()
    for (const o of offsets) {
      const list = byTopic.get(o.topic) ?? []
      list.push({ partition: o.partition, offset: o.offset.toString() })
      byTopic.set(o.topic, list)
    }
    // On a cluster that has never stored a group offset, __consumer_offsets is created by the
    // first lookup and its coordinator needs a moment (so does a restarted broker's): the same
    // offsets again are harmless, so the coordinator is found again and the commit retried.
    await whileCoordinatorLoads(async () => {
      const coordinator = await this.call(`finding the coordinator of group ${groupId}`, () => cluster.findGroupCoordinator({ groupId }))
      await coordinator.offsetCommit({
        groupId,
        groupGenerationId: -1,
        memberId: '',
        retentionTime: -1,
        topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
      })
    })
  }

  /** A reader that fetches by offset without joining any group; closed with the gateway. */
  fetcher(isolation: 'read_committed' | 'read_uncommitted' = 'read_uncommitted'): PartitionFetcher {
    // Short reads (peek, plan record times) share the gateway's connections; isolation is per request.
    const fetcher = new PartitionFetcher(this.kafka, { isolation, shared: { cluster: this.sharedCluster(), ready: () => this.offsets() } }, (error, doing) =>
      translateKafkaError(error, this.settings, doing),
    )
    this.fetchers.push(fetcher)
    return fetcher
  }

  private sharedCluster(): InternalCluster {
    if (!this.offsetsCluster) this.offsetsCluster = createInternalCluster(this.kafka, { isolation: 'read_uncommitted' })
    return this.offsetsCluster
  }

  private connecting: Promise<void> | undefined

  private async offsets(): Promise<InternalCluster> {
    const cluster = this.sharedCluster()
    this.connecting ??= cluster.connect()
    await this.connecting
    return cluster
  }

  /** Topic metadata, configs, sizes and first and last records (`recover topics`), over this gateway's connections. */
  async topicReader(): Promise<TopicReader> {
    const { TopicReader } = await import('./topic-reader.js')
    return new TopicReader({
      admin: this.admin,
      cluster: () => this.offsets(),
      call: (doing, work) => this.call(doing, work),
      topicNotFound: (topic) => this.topicNotFound(topic),
    })
  }
}
