import { createRequire } from 'node:module'
import type { Kafka } from 'kafkajs'
import type { ConnectionSettings } from '../config/connection-settings.js'
import { RecoveryError } from '../errors.js'
import type { PartitionFacts, PartitionRange } from '../core/replay-range.js'
import { createInternalCluster, type InternalCluster } from './internal-cluster.js'
import type { KafkaRecord } from './kafka-record.js'
import { installOrderedHeaders } from './ordered-headers.js'
import { whileLeadersMove } from './leader-retry.js'
import { rawFetch, type RawFetchBroker, type RawPartitionData } from './raw-fetch.js'
import { lastOffsetOfBatches, walkRecordBatches, type BatchFacts, type RecordView } from './record-batch-walker.js'
import { translateKafkaError, withLeaderScope } from './translate-error.js'
import { ViewRecords } from './view-record.js'

const require = createRequire(import.meta.url)

/** Records read from one partition by one fetch, all inside the range. */
export interface PartitionChunk {
  partition: number
  records: KafkaRecord[]
  /** Where this partition continues after these records: past gaps and control records, capped at the range end. */
  nextOffset: bigint
  /** The partition reached its range end with this chunk. */
  done: boolean
  /** Key + value + header bytes of the records (0 for a scan: its visitor measures). */
  bytes: number
  /** Records in the chunk: records.length, or, for a scan, how many were visited. */
  count: number
}

/** How a fetch round hands on a partition's records: as records (built from their bytes in place), or as visits of views. */
type RoundMode = { kind: 'records' } | { kind: 'visit'; visit: (record: RecordView) => void }

export interface RangeReaderOptions {
  /** Bytes per partition per fetch (Kafka still returns a first batch that is larger). Default 256 KiB for a read, 512 KiB for a scan. */
  maxBytesPerPartition?: number
  /**
   * Bytes per fetch response. Default 1 MiB for a read: as fast as 2 MiB in the replay bench
   * (records built in place), with 20-50 MB less peak RSS. 2 MiB for a scan, which builds no
   * records and is quick enough per response for the next fetch's round trip to show.
   */
  maxBytes?: number
  /**
   * Fetch responses asked for ahead of the one the caller works on. Default 2 for a read: a
   * fetch that is slow now and then (the broker busy on a shared machine) is then waited for
   * less often, for one more response's bytes (maxBytes) of memory; 1 for a scan.
   */
  prefetchRounds?: number
  /** How long the broker may wait for data. Default 100 ms. */
  maxWaitMs?: number
  /** How long a partition may answer nothing below its range end before the read fails. Default 30 s. */
  stallTimeoutMs?: number
  /**
   * Following a log (replay --follow): a fetch round that brought nothing yields an empty list
   * (the caller may flush and report while idle), and every answer's high watermark is handed here.
   */
  follow?: { logEnd(partition: number, highWatermark: bigint): void }
  /** A scan: called for every batch (control batches included) before its records are visited. */
  onBatch?: (batch: BatchFacts) => void
}

// Kafka error codes worth a metadata refresh and another try.
const RETRIABLE = new Set([3, 5, 6, 7, 9, 13, 14, 15, 16, 19, 74, 75, 78, 100])
const OFFSET_OUT_OF_RANGE = 1
const MAX_RETRIES = 8

/**
 * Reads fixed offset ranges of one topic in read_committed isolation (aborted transactions and
 * control records never appear), without joining any consumer group. One Fetch per partition
 * leader covers all of that leader's unfinished partitions; positions move by each fetch's
 * last offset, so gaps from compaction and transaction markers are crossed, and a partition is
 * done when its position reaches its end. Memory is bounded by the fetch response being
 * processed and the ones fetched ahead meanwhile (prefetchRounds).
 */
export class RangeReader {
  private readonly cluster: InternalCluster
  private connected: Promise<void> | undefined
  private readonly views: ViewRecords

  constructor(
    readonly kafka: Kafka,
    private readonly settings: ConnectionSettings,
    readonly topic: string,
    /**
     * read_uncommitted: records of open and aborted transactions too, up to the high watermark
     * (for a scan that resolves transactions itself, by their markers: RangeReaderOptions.onBatch).
     */
    private readonly isolation: 'read_committed' | 'read_uncommitted' = 'read_committed',
  ) {
    installOrderedHeaders()
    this.cluster = createInternalCluster(kafka, { isolation })
    this.views = new ViewRecords(topic)
  }

  private async ready(): Promise<InternalCluster> {
    this.connected ??= this.cluster.connect().then(() => this.cluster.addTargetTopic(this.topic))
    await this.connected
    return this.cluster
  }

  async close(): Promise<void> {
    if (this.connected) await this.cluster.disconnect().catch(() => undefined)
    this.connected = undefined
  }

  private translate(error: unknown, doing: string): RecoveryError {
    return translateKafkaError(error, this.settings, doing)
  }

  /**
   * Log start, last stable offset and, for time bounds, the offsets for those times, per
   * partition: what the range plan needs, captured once at the start.
   */
  async partitionFacts(partitions: readonly number[], times: { fromMs?: number; toMs?: number } = {}): Promise<PartitionFacts[]> {
    try {
      const cluster = await this.ready()
      const query = (spec: { fromBeginning?: boolean; fromTimestamp?: number }) =>
        cluster
          .fetchTopicsOffset([{ topic: this.topic, partitions: partitions.map((partition) => ({ partition })), ...spec }])
          .then((r) => new Map((r[0]?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)])))
      const [starts, ends, fromTimes, toTimes] = await whileLeadersMove(cluster, () =>
        Promise.all([
          query({ fromBeginning: true }),
          query({ fromBeginning: false }),
          times.fromMs === undefined ? undefined : query({ fromTimestamp: times.fromMs }),
          times.toMs === undefined ? undefined : query({ fromTimestamp: times.toMs }),
        ]),
      )
      const atTime = (m: Map<number, bigint> | undefined, p: number): bigint | null | undefined => {
        if (!m) return undefined
        const o = m.get(p)
        return o === undefined || o < 0n ? null : o
      }
      return partitions.map((partition) => ({
        partition,
        logStart: starts.get(partition) ?? 0n,
        stableEnd: ends.get(partition) ?? 0n,
        fromTimeOffset: atTime(fromTimes, partition),
        toTimeOffset: atTime(toTimes, partition),
      }))
    } catch (error) {
      throw this.translate(error, `reading the offsets of topic ${this.topic}`)
    }
  }

  /**
   * Yields the records of the ranges, a fetch response at a time (chunks of several
   * partitions), in offset order within each partition, until every range is done. Records
   * are built from the fetch bytes in place (record-batch-walker.ts): keys, values and header
   * values are views of the response, not copies.
   */
  read(ranges: readonly PartitionRange[], options: RangeReaderOptions = {}, signal?: AbortSignal): AsyncGenerator<PartitionChunk[]> {
    return this.rounds(ranges, options, { kind: 'records' }, signal)
  }

  /**
   * Like `read`, but each record is handed to `visit` in place (key, value and headers as byte
   * ranges of the fetch response) instead of being built as an object: for scans that only
   * look at every record once (audits), cheaper still. The chunks carry counts and no records.
   */
  scan(
    ranges: readonly PartitionRange[],
    visit: (record: RecordView) => void,
    options: RangeReaderOptions = {},
    signal?: AbortSignal,
  ): AsyncGenerator<PartitionChunk[]> {
    return this.rounds(ranges, options, { kind: 'visit', visit }, signal)
  }

  private async *rounds(
    ranges: readonly PartitionRange[],
    options: RangeReaderOptions,
    mode: RoundMode,
    signal?: AbortSignal,
  ): AsyncGenerator<PartitionChunk[]> {
    const positions = new Map<number, { next: bigint; end: bigint; stalledSince?: number }>()
    for (const r of ranges) if (r.start < r.end) positions.set(r.partition, { next: r.start, end: r.end })
    const emptyDone: PartitionChunk[] = ranges
      .filter((r) => r.start >= r.end)
      .map((r) => ({ partition: r.partition, records: [], nextOffset: r.end, done: true, bytes: 0, count: 0 }))
    if (emptyDone.length > 0) yield emptyDone
    let round = 0
    const depth = Math.max(1, options.prefetchRounds ?? (mode.kind === 'visit' ? 1 : 2))
    /** Fetches started and not handed on yet, oldest first; each starts once the one before it has moved the positions. */
    const ahead: Array<Promise<PartitionChunk[] | undefined>> = []
    let last: Promise<PartitionChunk[] | undefined> = Promise.resolve([])
    /** The caller stopped reading (and may close the reader): a fetch queued behind another must not start, nor connect again. */
    let stopped = false
    const fetchAhead = (): void => {
      while (ahead.length < depth) {
        const p = last.then((before) =>
          stopped || signal?.aborted || before === undefined || positions.size === 0 ? undefined : this.fetchRound(positions, options, round++, mode),
        )
        // A caller that stops early never awaits the prefetch: its failure must not be unhandled.
        p.catch(() => undefined)
        ahead.push(p)
        last = p
      }
    }
    if (positions.size > 0) fetchAhead()
    try {
      yield* this.handOn(ahead, fetchAhead, mode, signal, options)
    } finally {
      stopped = true
    }
  }

  /** rounds(): the fetched responses in order, as chunks, asking for more as each is taken. */
  private async *handOn(
    ahead: Array<Promise<PartitionChunk[] | undefined>>,
    fetchAhead: () => void,
    mode: RoundMode,
    signal: AbortSignal | undefined,
    options: RangeReaderOptions,
  ): AsyncGenerator<PartitionChunk[]> {
    for (;;) {
      const next = ahead.shift()
      if (!next) return
      const chunks = await next
      // Every range is done (the fetches queued after the last one have nothing to do).
      if (chunks === undefined) return
      if (signal?.aborted) return
      // Fetch the next responses while the caller works on this one.
      fetchAhead()
      if (chunks.length === 0 && options.follow) yield []
      if (mode.kind === 'visit') {
        if (chunks.length > 0) yield chunks
        continue
      }
      // Records are built a partition at a time, when the caller gets to them: until then a
      // response is one buffer, not thousands of objects for the garbage collector to move.
      for (const chunk of chunks as UnbuiltChunk[]) {
        await this.build(chunk)
        yield [chunk]
        if (signal?.aborted) return
      }
    }
  }

  private async build(chunk: UnbuiltChunk): Promise<void> {
    const unbuilt = chunk.unbuilt
    if (!unbuilt) return
    chunk.unbuilt = undefined
    const records = chunk.records
    await walkRecordBatches(unbuilt.bytes, chunk.partition, unbuilt.abortedTransactions, unbuilt.from, unbuilt.to, (view) => {
      records.push(this.views.recordOf(view))
      chunk.bytes += viewBytes(view)
    })
    chunk.count = records.length
  }

  /** One fetch per leader; advances `positions` and removes the partitions that are done. */
  private async fetchRound(
    positions: Map<number, { next: bigint; end: bigint; stalledSince?: number }>,
    options: RangeReaderOptions,
    round: number,
    mode: RoundMode,
  ): Promise<PartitionChunk[]> {
    const scan = mode.kind === 'visit'
    const perPartition = options.maxBytesPerPartition ?? (scan ? 512 << 10 : 256 << 10)
    const maxBytes = options.maxBytes ?? (scan ? 2 << 20 : 1 << 20)
    for (let attempt = 0; ; attempt++) {
      try {
        const cluster = await this.ready()
        const wanted = [...positions.keys()]
        const byLeader = cluster.findLeaderForPartitions(this.topic, wanted)
        const responses = await Promise.all(
          Object.entries(byLeader).map(async ([nodeId, partitions]) => {
            // Rotate the order so that no partition is always last in line for the response bytes.
            const shift = round % partitions.length
            const ordered = [...partitions.slice(shift), ...partitions.slice(0, shift)]
            // If this leader is out of reach, the error says which one and what it led.
            const scope = { nodeId: Number(nodeId), topic: this.topic, partitions: [...partitions].sort((a, b) => a - b) }
            const broker = await cluster.findBroker({ nodeId }).catch((error: unknown) => {
              throw withLeaderScope(error, scope)
            })
            const request = {
              isolationLevel: this.isolation === 'read_committed' ? (1 as const) : (0 as const),
              maxWaitTime: options.maxWaitMs ?? 100,
              minBytes: 1,
              maxBytes,
              topics: [
                {
                  topic: this.topic,
                  partitions: ordered.map((partition) => ({ partition, fetchOffset: positions.get(partition)!.next.toString(), maxBytes: perPartition })),
                },
              ],
            }
            const response = await rawFetch(broker as unknown as RawFetchBroker, request).catch((error: unknown) => {
              throw withLeaderScope(error, scope)
            })
            return response.flatMap((t) => t.partitions)
          }),
        )
        const chunks: PartitionChunk[] = []
        let retriable: { partition: number; errorCode: number } | undefined
        // Errors first, for every partition: once a partition's position has moved (and, in a
        // scan, its records were visited), this round must not be retried, or those records
        // would be lost (read) or seen twice (scan).
        const usable: (typeof responses)[number] = []
        for (const data of responses.flat()) {
          const position = positions.get(data.partition)
          if (!position) continue
          if (data.errorCode === OFFSET_OUT_OF_RANGE) {
            throw new RecoveryError(
              'KAFKA_ERROR',
              `Offsets ${position.next}..${position.end - 1n} of ${this.topic}-${data.partition} are no longer in the log (deleted by retention or DeleteRecords while the replay ran); they cannot be replayed.`,
              {
                details: { topic: this.topic, partition: data.partition, offset: position.next.toString() },
              },
            )
          }
          if (data.errorCode !== 0) {
            if (RETRIABLE.has(data.errorCode)) {
              retriable = data
              continue
            }
            const { createErrorFromCode } = require('kafkajs/src/protocol/error') as { createErrorFromCode: (code: number) => Error }
            throw createErrorFromCode(data.errorCode)
          }
          usable.push(data)
          options.follow?.logEnd(data.partition, BigInt(data.highWatermark))
        }
        try {
          await this.advance(usable, positions, mode, chunks, options)
        } catch (error) {
          throw new NotRetriable(error)
        }
        if (retriable && chunks.length === 0)
          throw Object.assign(new Error(`partition ${retriable.partition} answered error code ${retriable.errorCode}`), { retriableCode: retriable.errorCode })
        if (retriable) await cluster.refreshMetadata().catch(() => undefined)
        if (chunks.length === 0 && positions.size > 0) await new Promise((resolve) => setTimeout(resolve, 50))
        return chunks
      } catch (error) {
        if (error instanceof NotRetriable) {
          // A visitor's own failure (the audit database, say) is its own, not Kafka's.
          const kafkaError = /^KafkaJS/.test((error.cause as { name?: string } | undefined)?.name ?? '')
          throw kafkaError ? this.translate(error.cause, `reading ${this.topic}`) : error.cause
        }
        if (error instanceof RecoveryError) throw error
        const code = (error as { retriableCode?: number }).retriableCode
        const retriable = code !== undefined || (error as { retriable?: boolean }).retriable === true
        if (!retriable || attempt >= MAX_RETRIES) throw this.translate(error, `reading ${this.topic}`)
        await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 100 * 2 ** attempt)))
        await this.cluster.refreshMetadata().catch(() => undefined)
      }
    }
  }

  /** Builds (or visits) each partition's records and moves its position past what the response covered. */
  private async advance(
    responses: ReadonlyArray<RawPartitionData>,
    positions: Map<number, { next: bigint; end: bigint; stalledSince?: number }>,
    mode: RoundMode,
    chunks: PartitionChunk[],
    options: RangeReaderOptions,
  ): Promise<void> {
    for (const data of responses) {
      const position = positions.get(data.partition)!
      let count = 0
      let unbuilt: UnbuiltChunk['unbuilt']
      let last: bigint
      if (mode.kind === 'visit') {
        // Bytes stay 0 for a scan: its visitor measures what it looks at.
        const visit = mode.visit
        const walked = data.records
          ? await walkRecordBatches(
              data.records,
              data.partition,
              data.abortedTransactions,
              position.next,
              position.end,
              (view) => {
                count++
                visit(view)
              },
              options.onBatch,
            )
          : { lastOffset: -1n }
        last = walked.lastOffset
      } else {
        // The batch headers say how far the response reaches, also past batches that hold no
        // record any more (compaction keeps the empty batches of idempotent and transactional
        // producers, the default since Kafka 3.0), aborted batches and transaction markers.
        // The records are built later, when the caller gets to them (rounds()).
        last = data.records ? lastOffsetOfBatches(data.records) : -1n
        if (data.records && last >= position.next)
          unbuilt = { bytes: data.records, abortedTransactions: data.abortedTransactions, from: position.next, to: position.end }
      }
      if (last < position.next) {
        // Nothing at this position yet: fine while it lasts briefly (a leader catching up).
        position.stalledSince ??= Date.now()
        if (Date.now() - position.stalledSince > (options.stallTimeoutMs ?? 30_000)) {
          throw new RecoveryError(
            'KAFKA_ERROR',
            `${this.topic}-${data.partition} returned no records at offset ${position.next} for ${Math.round((options.stallTimeoutMs ?? 30_000) / 1000)} s although the range ends at ${position.end}; the partition may have been truncated.`,
            {
              details: { topic: this.topic, partition: data.partition, offset: position.next.toString(), end: position.end.toString() },
            },
          )
        }
        continue
      }
      position.stalledSince = undefined
      const next = last + 1n < position.end ? last + 1n : position.end
      position.next = next
      const done = next >= position.end
      if (done) positions.delete(data.partition)
      const chunk: UnbuiltChunk = { partition: data.partition, records: [], nextOffset: next, done, bytes: 0, count, unbuilt }
      chunks.push(chunk)
    }
  }
}

/** A chunk of a read as fetched: its records are built from `unbuilt` when the caller gets to it. */
interface UnbuiltChunk extends PartitionChunk {
  unbuilt?: { bytes: Buffer; abortedTransactions: RawPartitionData['abortedTransactions']; from: bigint; to: bigint }
}

/** An error after positions moved: never retried. */
class NotRetriable extends Error {
  constructor(override readonly cause: unknown) {
    super('not retriable')
  }
}

/** Key + value + header bytes of a record seen in place. */
function viewBytes(view: RecordView): number {
  let n = view.keyLength + view.valueLength
  const ranges = view.headerRanges
  for (let h = 0; h < view.headerCount; h++) n += ranges[4 * h + 1]! + ranges[4 * h + 3]!
  return n
}

/** A reader over the gateway's client: its own read_committed connections, closed by the caller. */
export function openRangeReader(kafka: Kafka, settings: ConnectionSettings, topic: string): RangeReader {
  return new RangeReader(kafka, settings, topic)
}
