import { createRequire } from 'node:module'
import type { Kafka } from 'kafkajs'
import type { KafkaRecord } from './kafka-record.js'
import { createInternalCluster, type InternalCluster, type InternalMessage } from './internal-cluster.js'
import { orderedHeadersOf } from './ordered-headers.js'

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

  /** Pass `shared` to reuse a connected cluster (the gateway's); otherwise the fetcher makes and closes its own. */
  constructor(
    kafka: Kafka,
    private readonly options: { isolation?: 'read_committed' | 'read_uncommitted'; shared?: { cluster: InternalCluster; ready: () => Promise<unknown> } } = {},
    private readonly translate: (error: unknown, doing: string) => Error = (error) => error as Error,
  ) {
    this.cluster = options.shared?.cluster ?? createInternalCluster(kafka, { isolation: options.isolation ?? 'read_committed' })
  }

  async connect(): Promise<void> {
    if (this.connected) return
    if (this.options.shared) await this.options.shared.ready()
    else await this.cluster.connect()
    this.connected = true
  }

  async close(): Promise<void> {
    if (this.connected && !this.options.shared) await this.cluster.disconnect()
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

  /**
   * The first record at or after each requested offset, with one Fetch request per leader for
   * all of them. Partitions whose answer came back empty are retried one by one.
   */
  async firstRecords(requests: Array<{ topic: string; partition: number; offset: bigint }>): Promise<Map<string, KafkaRecord | undefined>> {
    const out = new Map<string, KafkaRecord | undefined>()
    const key = (topic: string, partition: number) => `${topic}\u0000${partition}`
    try {
      await this.connect()
      for (const topic of new Set(requests.map((r) => r.topic))) await this.cluster.addTargetTopic(topic)
      const byLeader = new Map<string, typeof requests>()
      for (const r of requests) {
        const leader = Object.keys(this.cluster.findLeaderForPartitions(r.topic, [r.partition]))[0]
        if (leader === undefined) continue
        byLeader.set(leader, [...(byLeader.get(leader) ?? []), r])
      }
      const Batch = require('kafkajs/src/consumer/batch') as new (topic: string, fetchedOffset: string, data: unknown) => { messages: InternalMessage[] }
      await Promise.all(
        [...byLeader].map(async ([nodeId, list]) => {
          const broker = await this.cluster.findBroker({ nodeId })
          const topics = [...new Set(list.map((r) => r.topic))].map((topic) => ({
            topic,
            partitions: list.filter((r) => r.topic === topic).map((r) => ({ partition: r.partition, fetchOffset: r.offset.toString(), maxBytes: 64 * 1024 })),
          }))
          const response = await broker.fetch({ replicaId: -1, isolationLevel: this.options.isolation === 'read_uncommitted' ? 0 : 1, maxWaitTime: 10, minBytes: 1, maxBytes: 16 << 20, topics })
          for (const t of response.responses) {
            for (const p of t.partitions) {
              const request = list.find((r) => r.topic === t.topicName && r.partition === p.partition)
              if (!request || p.errorCode !== 0) continue
              const first = new Batch(t.topicName, request.offset.toString(), p).messages[0]
              if (first) out.set(key(t.topicName, p.partition), toRecord(t.topicName, p.partition, first))
            }
          }
        }),
      )
    } catch (error) {
      throw this.translate(error, 'reading the records at the new offsets')
    }
    for (const r of requests) {
      if (out.has(key(r.topic, r.partition))) continue
      const { records } = await this.fetch(r.topic, r.partition, r.offset, { maxBytes: 64 * 1024, maxWaitMs: 50 })
      out.set(key(r.topic, r.partition), records[0])
    }
    return out
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

/** A record as kafkajs decoded it, in our shape: headers in their exact order (see ordered-headers.ts). */
export function toRecord(topic: string, partition: number, m: InternalMessage): KafkaRecord {
  return {
    topic,
    partition,
    offset: BigInt(m.offset),
    timestampMs: Number(m.timestamp),
    timestampType: m.batchContext?.timestampType === 1 ? 'log-append' : 'create',
    key: m.key ?? null,
    value: m.value ?? null,
    headers: orderedHeadersOf(m.headers),
  }
}
