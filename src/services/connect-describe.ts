import type { ConnectClient } from '../connect/connect-client.js'
import type { ConnectOffsetEntry, ConnectorStatus } from '../connect/connect-types.js'
import type { KafkaGateway } from '../kafka/kafka-gateway.js'
import { connectorGroup, connectorTopics } from '../core/connect-offsets.js'
import { RecoveryError } from '../errors.js'
import { mapWithConcurrency } from '../core/map-with-concurrency.js'
import type { PartitionLag } from './describe-group.js'

export interface ConnectorSummary {
  name: string
  type: string
  state: string
  tasks: { total: number; running: number; failed: number }
  workerId: string
}

export interface ConnectorList {
  connectUrl: string
  version: string
  kafkaClusterId: string
  connectors: ConnectorSummary[]
}

/** GET /connectors and each one's status. */
export async function listConnectors(client: ConnectClient): Promise<ConnectorList> {
  const root = await client.root()
  const names = await client.connectorNames()
  const connectors = await mapWithConcurrency(names, 4, async (name) => summarize(await client.status(name)))
  return { connectUrl: client.url, version: root.version, kafkaClusterId: root.kafka_cluster_id, connectors }
}

function summarize(s: ConnectorStatus): ConnectorSummary {
  return {
    name: s.name,
    type: s.type,
    state: s.connector.state,
    tasks: { total: s.tasks.length, running: s.tasks.filter((t) => t.state === 'RUNNING').length, failed: s.tasks.filter((t) => t.state === 'FAILED').length },
    workerId: s.connector.worker_id,
  }
}

export interface DlqErrorCount {
  errorClass: string
  stage: string
  count: number
}

export interface ConnectorDetail {
  name: string
  type: 'sink' | 'source' | 'unknown'
  connectorClass: string
  connectUrl: string
  state: string
  workerId: string
  trace: string | null
  tasks: Array<{ id: number; state: string; workerId: string; trace: string | null }>
  /** Sink: the topics it reads; source: the topic(s) named in its config, when it names them. */
  topics: string[]
  topicsRegex: string | null
  /** Sink: its consumer group. */
  consumerGroup: string | null
  /** Sink: per partition and in total, from the consumer group; null when the group has no offsets yet or Kafka was not asked. */
  lag: { records: bigint; maxLagMs: number | null; partitions: PartitionLag[] } | null
  errors: {
    tolerance: string
    deadLetterTopic: string | null
    /** The dead-letter topic's records by error class and stage (recover quarantine list's reading). */
    deadLetters: { total: number; byError: DlqErrorCount[] } | null
    /** Why the dead letters could not be counted, when they could not. */
    deadLettersUnreadable?: string
  }
  /** GET /connectors/NAME/offsets: a source connector's offset map, a sink's committed offsets. */
  offsets: ConnectOffsetEntry[] | null
  /** Why the offsets could not be read (a worker older than Kafka 3.6, a connector being created). */
  offsetsUnavailable?: string
  config: Record<string, string>
}

/** Everything about one connector a person needs in an incident; Kafka is asked for the lag and the dead letters. */
export async function describeConnector(
  client: ConnectClient,
  name: string,
  kafka?: { gateway: KafkaGateway; countDeadLetters?: (topic: string) => Promise<{ total: number; byError: DlqErrorCount[] }> },
): Promise<ConnectorDetail> {
  const info = await client.info(name)
  const status = await client.status(name)
  const config = info.config
  const type = status.type ?? info.type
  let offsets: ConnectOffsetEntry[] | null = null
  let offsetsUnavailable: string | undefined
  try {
    offsets = (await client.offsets(name)).offsets
  } catch (error) {
    if (!(error instanceof RecoveryError) || error.code === 'CONNECT_UNREACHABLE') throw error
    offsetsUnavailable = error.message
  }
  const isSink = type === 'sink'
  const consumerGroup = isSink ? connectorGroup(name, config) : null
  let lag: ConnectorDetail['lag'] = null
  if (consumerGroup && kafka) {
    const { describeGroup } = await import('./describe-group.js')
    try {
      const detail = await describeGroup(kafka.gateway, consumerGroup)
      lag = { records: detail.totals.lag, maxLagMs: detail.totals.maxLagMs, partitions: detail.partitions }
    } catch (error) {
      if (!(error instanceof RecoveryError && error.code === 'GROUP_NOT_FOUND')) throw error
    }
  }
  const dlq = config['errors.deadletterqueue.topic.name'] || null
  const errors: ConnectorDetail['errors'] = { tolerance: config['errors.tolerance'] ?? 'none', deadLetterTopic: dlq, deadLetters: null }
  if (dlq && kafka?.countDeadLetters) {
    try {
      errors.deadLetters = await kafka.countDeadLetters(dlq)
    } catch (error) {
      if (!(error instanceof RecoveryError)) throw error
      errors.deadLettersUnreadable = error.message
    }
  }
  return {
    name,
    type,
    connectorClass: config['connector.class'] ?? '',
    connectUrl: client.url,
    state: status.connector.state,
    workerId: status.connector.worker_id,
    trace: status.connector.trace ?? null,
    tasks: status.tasks.map((t) => ({ id: t.id, state: t.state, workerId: t.worker_id, trace: t.trace ?? null })),
    topics: isSink ? connectorTopics(config) : connectorTopics({ topics: config.topic ?? config.topics ?? '' }),
    topicsRegex: config['topics.regex'] ?? null,
    consumerGroup,
    lag,
    errors,
    offsets,
    ...(offsetsUnavailable ? { offsetsUnavailable } : {}),
    config,
  }
}
