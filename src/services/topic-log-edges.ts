import { tpKey, type KafkaGateway } from '../kafka/kafka-gateway.js'
import type { RecordStamp } from '../kafka/log-edges.js'
import type { PartitionFetcher } from '../kafka/partition-fetcher.js'
import type { TopicReader } from '../kafka/topic-reader.js'
import { mapWithConcurrency } from '../core/map-with-concurrency.js'

/** The first and the last record a partition still holds; undefined where it holds none. */
export interface LogEdges {
  first: RecordStamp | undefined
  last: RecordStamp | undefined
}

/** How far back from the log end the last record is looked for, in offsets, before giving up. */
const LAST_RECORD_SPANS = [64n, 1_024n, 16_384n, 262_144n, 4_194_304n]

/**
 * The first and last record of each partition, read as stored (read_uncommitted) with one
 * Fetch per leader at the log starts and one at the log ends - 1, as seek reads the records at
 * its new offsets. Where an answer held no record (a first batch bigger than the fetch size, a
 * transaction marker or a batch compaction emptied at the end), that partition is read on its
 * own: forward from the log start for the first record, and for the last from a little before
 * the log end, further back each time, until a record turns up.
 */
export async function readLogEdges(
  gateway: KafkaGateway,
  reader: TopicReader,
  topic: string,
  partitions: Array<{ partition: number; logStart: bigint; logEnd: bigint }>,
): Promise<Map<number, LogEdges>> {
  const out = new Map<number, LogEdges>()
  for (const p of partitions) out.set(p.partition, { first: undefined, last: undefined })
  const held = partitions.filter((p) => p.logEnd > p.logStart)
  if (held.length === 0) return out
  const fetched = await reader.logEdges(held.map((p) => ({ topic, ...p })))
  const missing: typeof held = []
  for (const p of held) {
    const edges = fetched.get(tpKey(topic, p.partition))
    out.set(p.partition, { first: edges?.first, last: edges?.last })
    if (!edges?.first || !edges.last) missing.push(p)
  }
  if (missing.length === 0) return out
  const fetcher = gateway.fetcher('read_uncommitted')
  await mapWithConcurrency(missing, 8, async (p) => {
    const edges = out.get(p.partition)!
    if (!edges.first) {
      const first = (await fetcher.firstRecords([{ topic, partition: p.partition, offset: p.logStart }])).get(tpKey(topic, p.partition))
      edges.first = first && { offset: first.offset, timestampMs: first.timestampMs }
    }
    // No first record: the partition holds none (only markers, or batches compaction emptied).
    if (edges.first && !edges.last) edges.last = await lastRecordBefore(fetcher, topic, p.partition, p.logStart, p.logEnd)
  })
  return out
}

async function lastRecordBefore(
  fetcher: PartitionFetcher,
  topic: string,
  partition: number,
  logStart: bigint,
  logEnd: bigint,
): Promise<RecordStamp | undefined> {
  for (const span of LAST_RECORD_SPANS) {
    const from = logEnd - span > logStart ? logEnd - span : logStart
    let at = from
    let last: RecordStamp | undefined
    while (at < logEnd) {
      const { records, nextOffset } = await fetcher.fetch(topic, partition, at, { maxWaitMs: 50 })
      for (const r of records) if (r.offset < logEnd) last = { offset: r.offset, timestampMs: r.timestampMs }
      if (nextOffset <= at) break
      at = nextOffset
    }
    if (last || from === logStart) return last
  }
  return undefined
}
