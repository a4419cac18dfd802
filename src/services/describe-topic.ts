import { tpKey, type KafkaGateway, type PartitionLogOffsets } from '../kafka/kafka-gateway.js'
import type { RecordStamp } from '../kafka/log-edges.js'
import type { TopicMetadata } from '../kafka/topic-metadata.js'
import type { TopicReader } from '../kafka/topic-reader.js'
import type { ClusterIdentity } from '../core/cluster-identity.js'
import { nearestNames } from '../core/nearest-name.js'
import { isRecoveryError, RecoveryError } from '../errors.js'
import { RETENTION_CONFIGS, retentionOf, type TopicRetention } from './list-topics.js'
import { readLogEdges } from './topic-log-edges.js'

export interface RecordEdge {
  offset: bigint
  /** ISO-8601 in UTC: the producer's time, or the broker's where the topic's timestampType is LogAppendTime. */
  timestamp: string
}

export interface PartitionDetail {
  partition: number
  /** null: no leader (the partition is offline; its offsets and records cannot be read). */
  leader: number | null
  replicas: number[]
  isr: number[]
  offlineReplicas: number[]
  logStartOffset: bigint | null
  /** The high watermark, as kafka-topics.sh and kcat -Q report it. */
  logEndOffset: bigint | null
  /** The first record the partition still holds (at or after the log start). */
  firstRecord: RecordEdge | null
  /** The last record before the log end. */
  lastRecord: RecordEdge | null
  /** Time between the first and the last record's timestamps. */
  spanMs: number | null
  /** Bytes on disk of the leader's replica; null when the broker does not say. */
  sizeBytes: number | null
}

export interface TopicDetail {
  cluster: ClusterIdentity
  topic: string
  internal: boolean
  replicationFactor: number
  /** null when the configs could not be read (no DescribeConfigs permission). */
  retention: TopicRetention | null
  cleanupPolicy: string | null
  /** CreateTime (the producer's) or LogAppendTime (the broker's); null when unknown. */
  timestampType: string | null
  configs: Record<string, string>
  partitions: PartitionDetail[]
  /** What the log still holds: how far back a seek or a replay can go. */
  holds: {
    /** The earliest first-record timestamp over all partitions. */
    from: string | null
    /** The latest last-record timestamp over all partitions. */
    to: string | null
    spanMs: number | null
    /** From this time on every partition that holds records has them: the latest first-record timestamp. */
    allPartitionsFrom: string | null
    emptyPartitions: number
  }
  totals: {
    partitions: number
    /** Sum of log end - log start: the records held, plus the gaps compaction and transaction markers leave. */
    offsets: bigint
    /** null when no broker reported a size. */
    sizeBytes: number | null
    underReplicatedPartitions: number
    offlinePartitions: number
  }
  measuredAt: string
}

/** One topic per partition: offsets, first and last record times, leader, ISR, size, and the time span it holds. */
export async function describeTopic(gateway: KafkaGateway, topic: string, options: { now?: () => number } = {}): Promise<TopicDetail> {
  const now = options.now ?? Date.now
  const reader = await gateway.topicReader()
  const meta = await topicMetadataOrSuggestion(gateway, reader, topic)
  const online = meta.partitions.filter((p) => p.leader >= 0).map((p) => p.partition)
  const [logs, configs, sizes] = await Promise.all([
    online.length > 0 ? gateway.logOffsets(topic, online) : Promise.resolve([] as PartitionLogOffsets[]),
    reader.topicConfigsMany([topic], RETENTION_CONFIGS).then(
      (byTopic) => byTopic.get(topic),
      (error: unknown) => {
        if (isRecoveryError(error) && error.code === 'AUTHORIZATION_FAILED') return undefined
        throw error
      },
    ),
    reader.partitionSizes(meta.partitions.map((p) => ({ topic, partition: p.partition, leader: p.leader }))),
  ])
  const logOf = new Map(logs.map((l) => [l.partition, l]))
  const edges = await readLogEdges(gateway, reader, topic, logs)

  const partitions = meta.partitions.map((p): PartitionDetail => {
    const log = logOf.get(p.partition)
    const edge = edges.get(p.partition)
    const first = edge?.first ? toEdge(edge.first) : null
    const last = edge?.last ? toEdge(edge.last) : null
    return {
      partition: p.partition,
      leader: p.leader >= 0 ? p.leader : null,
      replicas: p.replicas,
      isr: p.isr,
      offlineReplicas: p.offlineReplicas,
      logStartOffset: log?.logStart ?? null,
      logEndOffset: log?.logEnd ?? null,
      firstRecord: first,
      lastRecord: last,
      spanMs: edge?.first && edge.last ? Math.max(0, edge.last.timestampMs - edge.first.timestampMs) : null,
      sizeBytes: sizes.get(tpKey(topic, p.partition)) ?? null,
    }
  })
  const reported = partitions.filter((p) => p.sizeBytes !== null)
  return {
    cluster: gateway.cluster,
    topic,
    internal: meta.internal,
    replicationFactor: Math.max(0, ...meta.partitions.map((p) => p.replicas.length)),
    retention: configs ? retentionOf(configs) : null,
    cleanupPolicy: configs?.get('cleanup.policy') ?? null,
    timestampType: configs?.get('message.timestamp.type') ?? null,
    configs: Object.fromEntries([...(configs ?? new Map<string, string>())].sort(([a], [b]) => a.localeCompare(b))),
    partitions,
    holds: timeHeld(partitions),
    totals: {
      partitions: partitions.length,
      offsets: partitions.reduce((sum, p) => sum + (p.logEndOffset !== null && p.logStartOffset !== null ? p.logEndOffset - p.logStartOffset : 0n), 0n),
      sizeBytes: reported.length > 0 ? reported.reduce((sum, p) => sum + p.sizeBytes!, 0) : null,
      underReplicatedPartitions: partitions.filter((p) => p.isr.length < p.replicas.length).length,
      offlinePartitions: partitions.filter((p) => p.leader === null).length,
    },
    measuredAt: new Date(now()).toISOString(),
  }
}

/** The time span the log holds, from each partition's first and last record. */
export function timeHeld(partitions: Array<Pick<PartitionDetail, 'firstRecord' | 'lastRecord'> & { leader?: number | null }>): TopicDetail['holds'] {
  const firsts = partitions.flatMap((p) => (p.firstRecord ? [Date.parse(p.firstRecord.timestamp)] : []))
  const lasts = partitions.flatMap((p) => (p.lastRecord ? [Date.parse(p.lastRecord.timestamp)] : []))
  const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString())
  const from = firsts.length > 0 ? Math.min(...firsts) : undefined
  const to = lasts.length > 0 ? Math.max(...lasts) : undefined
  return {
    from: iso(from),
    to: iso(to),
    spanMs: from !== undefined && to !== undefined ? Math.max(0, to - from) : null,
    allPartitionsFrom: iso(firsts.length > 0 ? Math.max(...firsts) : undefined),
    // An offline partition is unknown, not empty.
    emptyPartitions: partitions.filter((p) => !p.firstRecord && p.leader !== null).length,
  }
}

/** The topic's metadata; a name that does not exist gets the nearest existing names suggested. */
async function topicMetadataOrSuggestion(gateway: KafkaGateway, reader: TopicReader, topic: string): Promise<TopicMetadata> {
  try {
    const [meta] = await reader.topicsMetadata([topic])
    if (meta && meta.partitions.length > 0) return meta
  } catch (error) {
    if (!isRecoveryError(error) || error.code !== 'TOPIC_NOT_FOUND') throw error
  }
  const names = (await reader.topicsMetadata()).map((t) => t.name)
  const suggestions = nearestNames(topic, names)
  const where = gateway.settings.brokers.join(',')
  const advice =
    suggestions.length === 0
      ? 'check the name, or list the topics with: recover topics.'
      : `did you mean ${suggestions.map((s) => `"${s}"`).join(' or ')}? List the topics with: recover topics.`
  throw new RecoveryError('TOPIC_NOT_FOUND', `Topic "${topic}" does not exist on ${where}; ${advice}`, {
    nextSteps: suggestions.slice(0, 1).map((s) => `recover topics describe --topic ${s}`),
    details: { topic, suggestions },
  })
}

function toEdge(record: RecordStamp): RecordEdge {
  return { offset: record.offset, timestamp: new Date(record.timestampMs).toISOString() }
}
