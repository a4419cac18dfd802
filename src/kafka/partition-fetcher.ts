import type { Kafka } from 'kafkajs'
import type { KafkaRecord } from './kafka-record.js'
import { createInternalCluster, type InternalCluster, type InternalMessage } from './internal-cluster.js'
import { orderedHeadersOf } from './ordered-headers.js'
import { decodeFetched, rawFetch, throwFirstPartitionError, type RawFetchBroker, type RawPartitionData } from './raw-fetch.js'
import { walkRecordBatches } from './record-batch-walker.js'
import { ViewRecords } from './view-record.js'

const EMPTY_FETCH_RETRIES = 5
/** Responses one fetch() follows on when they move but hold no record; the caller loops on after that. */
const RECORDLESS_RESPONSES = 32
const LAST_POSSIBLE_OFFSET = (1n << 63n) - 1n

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
   * The next records at or after `offset` (control records, and in read_committed aborted
   * transactions, removed), and the offset to fetch next. nextOffset moves past gaps, so a
   * caller loops until nextOffset reaches its end offset. How far a response reaches comes
   * from its batch headers, so a response can move on and hold no record (batches that
   * compaction emptied, which Kafka keeps for idempotent and transactional producers, the
   * default since Kafka 3.0; aborted transactions; markers): then this fetches on from there,
   * a few responses at most and never past the high watermark, to answer the next records.
   */
  async fetch(
    topic: string,
    partition: number,
    offset: bigint,
    options: { maxBytes?: number; maxWaitMs?: number } = {},
  ): Promise<{ records: KafkaRecord[]; nextOffset: bigint; highWatermark: bigint }> {
    try {
      let result = await this.fetchOnce(topic, partition, offset, options)
      // A leader can answer an empty fetch below its high watermark (e.g. right after a
      // topic was created or a segment rolled); ask again briefly before reporting nothing.
      for (let retry = 0; retry < EMPTY_FETCH_RETRIES && result.nextOffset === offset && result.highWatermark > offset; retry++) {
        await new Promise((resolve) => setTimeout(resolve, 50 * (retry + 1)))
        result = await this.fetchOnce(topic, partition, offset, { ...options, maxWaitMs: Math.max(options.maxWaitMs ?? 200, 200) })
      }
      for (
        let more = 0;
        more < RECORDLESS_RESPONSES && result.records.length === 0 && result.nextOffset > offset && result.nextOffset < result.highWatermark;
        more++
      ) {
        const next = await this.fetchOnce(topic, partition, result.nextOffset, options)
        // Nothing further for now (the last stable offset, a leader catching up): the caller decides.
        if (next.nextOffset <= result.nextOffset) break
        result = next
      }
      return result
    } catch (error) {
      throw this.translate(error, `reading ${topic}-${partition} at offset ${offset}`)
    }
  }

  /**
   * The first record at or after each requested offset, with one Fetch request per leader for
   * all of them. A partition whose answer held no record is read on by itself from where that
   * answer reached (past batches that compaction emptied, say), up to its high watermark.
   */
  async firstRecords(requests: Array<{ topic: string; partition: number; offset: bigint }>): Promise<Map<string, KafkaRecord | undefined>> {
    const out = new Map<string, KafkaRecord | undefined>()
    const key = (topic: string, partition: number) => `${topic}\u0000${partition}`
    const continueAt = new Map<string, bigint>()
    try {
      await this.connect()
      for (const topic of new Set(requests.map((r) => r.topic))) await this.cluster.addTargetTopic(topic)
      const byLeader = new Map<string, typeof requests>()
      for (const r of requests) {
        const leader = Object.keys(this.cluster.findLeaderForPartitions(r.topic, [r.partition]))[0]
        if (leader === undefined) continue
        byLeader.set(leader, [...(byLeader.get(leader) ?? []), r])
      }
      await Promise.all(
        [...byLeader].map(async ([nodeId, list]) => {
          const broker = await this.cluster.findBroker({ nodeId })
          const topics = [...new Set(list.map((r) => r.topic))].map((topic) => ({
            topic,
            partitions: list.filter((r) => r.topic === topic).map((r) => ({ partition: r.partition, fetchOffset: r.offset.toString(), maxBytes: 64 * 1024 })),
          }))
          const responses = await rawFetch(broker as unknown as RawFetchBroker, {
            isolationLevel: this.isolationLevel(),
            maxWaitTime: 10,
            minBytes: 1,
            maxBytes: 16 << 20,
            topics,
          })
          throwFirstPartitionError(responses)
          for (const t of responses) {
            for (const p of t.partitions) {
              const request = list.find((r) => r.topic === t.topicName && r.partition === p.partition)
              if (!request) continue
              const { first, lastOffset } = await firstInPlace(t.topicName, p, request.offset)
              const k = key(t.topicName, p.partition)
              if (first) out.set(k, first)
              else if (lastOffset >= request.offset) {
                // The answer moved on without a record: read on from there, unless that is the end.
                if (lastOffset + 1n >= BigInt(p.highWatermark)) out.set(k, undefined)
                else continueAt.set(k, lastOffset + 1n)
              }
            }
          }
        }),
      )
    } catch (error) {
      throw this.translate(error, 'reading the records at the new offsets')
    }
    for (const r of requests) {
      const k = key(r.topic, r.partition)
      if (out.has(k)) continue
      let offset = continueAt.get(k) ?? r.offset
      let first: KafkaRecord | undefined
      for (;;) {
        const { records, nextOffset, highWatermark } = await this.fetch(r.topic, r.partition, offset, { maxBytes: 64 * 1024, maxWaitMs: 50 })
        first = records[0]
        if (first || nextOffset <= offset || nextOffset >= highWatermark) break
        offset = nextOffset
      }
      out.set(k, first)
    }
    return out
  }

  private isolationLevel(): 0 | 1 {
    return this.options.isolation === 'read_uncommitted' ? 0 : 1
  }

  private async fetchOnce(
    topic: string,
    partition: number,
    offset: bigint,
    options: { maxBytes?: number; maxWaitMs?: number },
  ): Promise<{ records: KafkaRecord[]; nextOffset: bigint; highWatermark: bigint }> {
    await this.connect()
    await this.cluster.addTargetTopic(topic)
    const leaders = this.cluster.findLeaderForPartitions(topic, [partition])
    const nodeId = Object.keys(leaders)[0]
    if (nodeId === undefined) throw new Error(`No leader for ${topic}-${partition}`)
    const broker = await this.cluster.findBroker({ nodeId })
    const maxBytes = options.maxBytes ?? 1 << 20
    const responses = await rawFetch(broker as unknown as RawFetchBroker, {
      isolationLevel: this.isolationLevel(),
      maxWaitTime: options.maxWaitMs ?? 200,
      minBytes: 1,
      maxBytes,
      topics: [{ topic, partitions: [{ partition, fetchOffset: offset.toString(), maxBytes }] }],
    })
    throwFirstPartitionError(responses)
    const partitionData = responses[0]?.partitions[0]
    if (!partitionData) throw new Error(`Empty fetch response for ${topic}-${partition}`)
    const { messages, lastOffset } = await decodeFetched(topic, partitionData, offset)
    const records = messages.map((m) => toRecord(topic, partition, m))
    const nextOffset = lastOffset + 1n > offset ? lastOffset + 1n : offset
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

/**
 * The first record at or after `from` in one partition's fetch answer, walked in place: a seek
 * plan wants one record per partition, and decoding the whole first batch (thousands of records
 * from a busy producer) into objects was most of a dry run's time after start-up.
 */
async function firstInPlace(topic: string, data: RawPartitionData, from: bigint): Promise<{ first: KafkaRecord | undefined; lastOffset: bigint }> {
  if (!data.records) return { first: undefined, lastOffset: -1n }
  let first: KafkaRecord | undefined
  const views = new ViewRecords(topic)
  const { lastOffset } = await walkRecordBatches(data.records, data.partition, data.abortedTransactions, from, LAST_POSSIBLE_OFFSET, (view) => {
    // The view object is reused between visits: keep the first as a record of its own.
    first ??= views.recordOf(view)
  })
  return { first, lastOffset }
}
