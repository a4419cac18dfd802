import { createRequire } from 'node:module'
import type { Kafka } from 'kafkajs'
import type { KafkaRecord } from './kafka-record.js'
import { createInternalCluster, type InternalCluster, type InternalMessage } from './internal-cluster.js'

const require = createRequire(import.meta.url)
const EMPTY_FETCH_RETRIES = 5

/**
 * Reads partitions by offset without joining any consumer group. kafkajs's public consumer
 * always joins a group; a recovery tool must never disturb the production group, and should
 * not litter the cluster with throwaway groups either. So this fetches from partition leaders.
 */
export class PartitionFetcher {
  private readonly cluster: InternalCluster
  private connected = false

  constructor(
    kafka: Kafka,
    private readonly options: { isolation?: 'read_committed' | 'read_uncommitted' } = {},
    private readonly translate: (error: unknown, doing: string) => Error = (error) => error as Error,
  ) {
    this.cluster = createInternalCluster(kafka, { isolation: options.isolation ?? 'read_committed' })
  }

  async connect(): Promise<void> {
    if (this.connected) return
    await this.cluster.connect()
    this.connected = true
  }

  async close(): Promise<void> {
    if (this.connected) await this.cluster.disconnect()
    this.connected = false
  }

  /**
   * One fetch from `offset`: the records at or after it (control records and aborted
   * transactions removed), and the offset to fetch next. nextOffset moves past gaps, so a
   * caller loops until nextOffset reaches its end offset.
   */
  async fetch(topic: string, partition: number, offset: bigint, options: { maxBytes?: number; maxWaitMs?: number } = {}): Promise<{ records: KafkaRecord[]; nextOffset: bigint; highWatermark: bigint }> {
    try {
      let result = await this.fetchOnce(topic, partition, offset, options)
      // A leader can answer an empty fetch below its high watermark (e.g. right after a
      // topic was created or a segment rolled); ask again briefly before reporting nothing.
      for (let retry = 0; retry < EMPTY_FETCH_RETRIES && result.nextOffset === offset && result.highWatermark > offset; retry++) {
        await new Promise((resolve) => setTimeout(resolve, 50 * (retry + 1)))
        result = await this.fetchOnce(topic, partition, offset, { ...options, maxWaitMs: Math.max(options.maxWaitMs ?? 200, 200) })
      }
      return result
    } catch (error) {
      throw this.translate(error, `reading ${topic}-${partition} at offset ${offset}`)
    }
  }

  private async fetchOnce(topic: string, partition: number, offset: bigint, options: { maxBytes?: number; maxWaitMs?: number }): Promise<{ records: KafkaRecord[]; nextOffset: bigint; highWatermark: bigint }> {
    await this.connect()
    await this.cluster.addTargetTopic(topic)
    const leaders = this.cluster.findLeaderForPartitions(topic, [partition])
    const nodeId = Object.keys(leaders)[0]
    if (nodeId === undefined) throw new Error(`No leader for ${topic}-${partition}`)
    const broker = await this.cluster.findBroker({ nodeId })
    const maxBytes = options.maxBytes ?? 1 << 20
    const response = await broker.fetch({
      replicaId: -1,
      isolationLevel: this.options.isolation === 'read_uncommitted' ? 0 : 1,
      maxWaitTime: options.maxWaitMs ?? 200,
      minBytes: 1,
      maxBytes,
      topics: [{ topic, partitions: [{ partition, fetchOffset: offset.toString(), maxBytes }] }],
    })
    const partitionData = response.responses[0]?.partitions[0]
    if (!partitionData) throw new Error(`Empty fetch response for ${topic}-${partition}`)
    if (partitionData.errorCode !== 0) {
      const { createErrorFromCode } = require('kafkajs/src/protocol/error') as { createErrorFromCode: (code: number) => Error }
      throw createErrorFromCode(partitionData.errorCode)
    }
    const Batch = require('kafkajs/src/consumer/batch') as new (topic: string, fetchedOffset: string, data: unknown) => { messages: InternalMessage[]; rawMessages: InternalMessage[] }
    const batch = new Batch(topic, offset.toString(), partitionData)
    const records = batch.messages.map((m) => toRecord(topic, partition, m))
    let nextOffset = offset
    for (const raw of batch.rawMessages) {
      const o = BigInt(raw.offset)
      if (o + 1n > nextOffset) nextOffset = o + 1n
    }
    return { records, nextOffset, highWatermark: BigInt(partitionData.highWatermark) }
  }
}

function toRecord(topic: string, partition: number, m: InternalMessage): KafkaRecord {
  const headers: KafkaRecord['headers'] = []
  for (const [key, value] of Object.entries(m.headers ?? {})) {
    // kafkajs folds repeated header keys into an array, keeping their order.
    for (const v of Array.isArray(value) ? value : [value]) headers.push({ key, value: v ?? null })
  }
  return {
    topic,
    partition,
    offset: BigInt(m.offset),
    timestampMs: Number(m.timestamp),
    timestampType: m.batchContext?.timestampType === 1 ? 'log-append' : 'create',
    key: m.key ?? null,
    value: m.value ?? null,
    headers,
  }
}
