import { createRequire } from 'node:module'
import { replaceKafkajsModule } from './kafkajs-module.js'

const require = createRequire(import.meta.url)

let installed: boolean | undefined

/**
 * kafkajs 2.2.4 retries a producer's send() broker by broker, keeping the answers of the
 * brokers that answered. When a partition's leader dies mid-send and Kafka moves the
 * partition to a broker that had already answered for its own partitions, the retry sends
 * that partition's records nowhere, and the send resolves as if they were written: records
 * lost silently (measured on a three-node cluster: a transaction committed without one
 * partition's share of the batch; kafkajs issue #1303). A retry also starts while the other
 * brokers' requests may still be in flight, and sends their records a second time under new
 * sequence numbers, which Kafka cannot tell from new records.
 *
 * This puts a send in its place that keeps acknowledgements per partition, waits for every
 * request of an attempt to end before the next, and sends whatever is not acknowledged to the
 * partition's leader of the moment, failing (to be retried) when a partition has no known
 * leader. Sequence numbers, transactions and errors are handled as kafkajs handles them.
 * kafkajs loads this module with its producer, so this must run before kafkajs is first
 * required (createKafka does); later it is a no-op and returns false.
 */
export function installAcknowledgedSends(): boolean {
  installed ??= replaceKafkajsModule('kafkajs/src/producer/sendMessages.js', createSendMessages)
  return installed
}

interface PartitionAnswer {
  topicName: string
  partition: number
  errorCode: number
  baseOffset?: string
}

interface ProducerBroker {
  nodeId: number
  produce(request: object): Promise<{ topics: Array<{ topicName: string; partitions: Array<Omit<PartitionAnswer, 'topicName'>> }> }>
}

interface ProducerCluster {
  addMultipleTargetTopics(topics: string[]): Promise<void>
  refreshMetadataIfNecessary(): Promise<void>
  refreshMetadata(): Promise<void>
  isConnected(): boolean
  connect(): Promise<void>
  removeBroker(address: { host: string; port: number }): void
  findTopicPartitionMetadata(topic: string): Array<{ partitionId: number; leader: number }>
  findBroker(node: { nodeId: string }): Promise<ProducerBroker>
}

interface EosManager {
  isTransactional(): boolean
  getTransactionalId(): string
  getProducerId(): number
  getProducerEpoch(): number
  getSequence(topic: string, partition: number): number
  updateSequence(topic: string, partition: number, increment: number): void
  acquireBrokerLock(broker: ProducerBroker): Promise<void>
  releaseBrokerLock(broker: ProducerBroker): Promise<void>
  addPartitionsToTransaction(topicData: TopicData[]): Promise<void>
}

interface TopicData {
  topic: string
  partitions: Array<{ partition: number; messages: unknown[]; firstSequence?: number }>
}

type KafkaError = Error & { retriable?: boolean; type?: string; host?: string; port?: number }
type Retrier = <T>(attempt: (bail: (error: Error) => void, retryCount: number, retryTime: number) => Promise<T>) => Promise<T>

interface SendMessagesDeps {
  logger: { debug(message: string, extra?: object): void; error(message: string, extra?: object): void }
  cluster: ProducerCluster
  partitioner: (args: { topic: string; partitionMetadata: unknown[]; message: unknown }) => number
  eosManager: EosManager
  retrier: Retrier
}

interface SendArgs {
  acks: number
  timeout?: number
  compression?: number
  topicMessages: Array<{ topic: string; messages: unknown[] }>
}

/** kafkajs's producer/sendMessages.js contract: (deps) => send(args) resolving with every partition's answer. */
function createSendMessages({ logger, cluster, partitioner, eosManager, retrier }: SendMessagesDeps): (args: SendArgs) => Promise<PartitionAnswer[]> {
  const { KafkaJSMetadataNotLoaded } = require('kafkajs/src/errors.js') as { KafkaJSMetadataNotLoaded: new (message: string) => Error }
  const { staleMetadata } = require('kafkajs/src/protocol/error.js') as { staleMetadata: (e: unknown) => boolean }
  const groupMessagesPerPartition = require('kafkajs/src/producer/groupMessagesPerPartition.js') as (args: {
    topic: string
    partitionMetadata: unknown[]
    messages: unknown[]
    partitioner: SendMessagesDeps['partitioner']
  }) => Record<string, unknown[]>

  return async ({ acks, timeout, compression, topicMessages }) => {
    /** Partitions whose leader acknowledged their records in this send, kept across attempts. */
    const done = new Set<string>()
    const answers: PartitionAnswer[] = []
    const topics = topicMessages.map((t) => t.topic)

    /** One attempt: every partition not yet acknowledged, one request per leader, all ended before it returns. */
    const attempt = async (): Promise<void> => {
      await cluster.refreshMetadataIfNecessary()
      const perLeader = new Map<number, TopicData[]>()
      for (const { topic, messages } of topicMessages) {
        const partitionMetadata = cluster.findTopicPartitionMetadata(topic)
        if (partitionMetadata.length === 0) throw new KafkaJSMetadataNotLoaded('Producing to topic without metadata')
        const leaders = new Map(partitionMetadata.map((p) => [p.partitionId, p.leader]))
        for (const [key, partitionMessages] of Object.entries(groupMessagesPerPartition({ topic, partitionMetadata, messages, partitioner }))) {
          const partition = Number(key)
          if (done.has(partitionKey(topic, partition))) continue
          const leader = leaders.get(partition)
          // A partition between leaders: its records wait for the next attempt, after a metadata refresh.
          if (leader === undefined || leader < 0) throw new KafkaJSMetadataNotLoaded(`No leader known for partition ${partition} of topic ${topic}`)
          const data = perLeader.get(leader) ?? []
          perLeader.set(leader, data)
          let entry = data.find((d) => d.topic === topic)
          if (!entry) {
            entry = { topic, partitions: [] }
            data.push(entry)
          }
          entry.partitions.push({ partition, messages: partitionMessages })
        }
      }
      const requests = [...perLeader].map(async ([nodeId, topicData]) => {
        const broker = await cluster.findBroker({ nodeId: String(nodeId) })
        await eosManager.acquireBrokerLock(broker)
        try {
          if (eosManager.isTransactional()) await eosManager.addPartitionsToTransaction(topicData)
          for (const { topic, partitions } of topicData)
            for (const entry of partitions) {
              entry.firstSequence = eosManager.getSequence(topic, entry.partition)
              eosManager.updateSequence(topic, entry.partition, entry.messages.length)
            }
          let response: Awaited<ReturnType<ProducerBroker['produce']>>
          try {
            response = await broker.produce({
              transactionalId: eosManager.isTransactional() ? eosManager.getTransactionalId() : undefined,
              producerId: eosManager.getProducerId(),
              producerEpoch: eosManager.getProducerEpoch(),
              acks,
              timeout,
              compression,
              topicData,
            })
          } catch (error) {
            // Not acknowledged: the same sequence numbers go again, so Kafka drops what it had appended.
            for (const { topic, partitions } of topicData)
              for (const entry of partitions) eosManager.updateSequence(topic, entry.partition, -entry.messages.length)
            throw error
          }
          for (const { topic, partitions } of topicData) for (const entry of partitions) done.add(partitionKey(topic, entry.partition))
          if (acks !== 0) for (const t of response.topics) for (const p of t.partitions) answers.push({ topicName: t.topicName, ...p })
        } finally {
          await eosManager.releaseBrokerLock(broker)
        }
      })
      // Every request ends before the next attempt: none is still in flight when its records are sent again.
      const failed = (await Promise.allSettled(requests)).find((r): r is PromiseRejectedResult => r.status === 'rejected')
      if (failed) throw failed.reason
    }

    return retrier(async (bail, retryCount, retryTime) => {
      await cluster.addMultipleTargetTopics(topics)
      try {
        await attempt()
        return answers
      } catch (caught) {
        const e = caught as KafkaError
        if (e.name === 'KafkaJSConnectionClosedError' && e.host !== undefined && e.port !== undefined) cluster.removeBroker({ host: e.host, port: e.port })
        if (!cluster.isConnected()) {
          logger.debug(`Cluster has disconnected, reconnecting: ${e.message}`, { retryCount, retryTime })
          await cluster.connect()
          await cluster.refreshMetadata()
          throw e
        }
        if (
          staleMetadata(e) ||
          e.name === 'KafkaJSMetadataNotLoaded' ||
          e.name === 'KafkaJSConnectionError' ||
          e.name === 'KafkaJSConnectionClosedError' ||
          (e.name === 'KafkaJSProtocolError' && e.retriable)
        ) {
          logger.error(`Failed to send messages: ${e.message}`, { retryCount, retryTime })
          await cluster.refreshMetadata()
          throw e
        }
        logger.error(e.message, { retryCount, retryTime })
        if (e.retriable) throw e
        bail(e)
        return answers
      }
    })
  }
}

function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`
}
