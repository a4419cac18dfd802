import type { InternalCluster } from './internal-cluster.js'
import { rawFetch, throwFirstPartitionError, type RawFetchBroker, type RawPartitionData } from './raw-fetch.js'
import { walkRecordBatches } from './record-batch-walker.js'

/** Where a record sits and when it was written. */
export interface RecordStamp {
  offset: bigint
  timestampMs: number
}

export interface EdgeRequest {
  topic: string
  partition: number
  logStart: bigint
  logEnd: bigint
}

/** A partition's first and last record as one Fetch each saw them; undefined where that Fetch did not show one. */
export interface FetchedEdges {
  first: RecordStamp | undefined
  last: RecordStamp | undefined
}

/** Enough for the first or last batch of most partitions; a bigger one is read on its own by the caller. */
const PARTITION_MAX_BYTES = 64 * 1024
const RESPONSE_MAX_BYTES = 16 << 20

/**
 * The first and last record of many partitions with two Fetch requests per leader, sent
 * together: one at each partition's log start, one at its log end - 1 (the broker answers from
 * the batch that holds it, so the last batch). The answers are walked in place, without
 * decoding records into objects: a partition's first batch can hold thousands of records and
 * only the first one's offset and time matter. read_uncommitted: the log as stored.
 */
export async function fetchLogEdges(cluster: InternalCluster, requests: EdgeRequest[]): Promise<Map<string, FetchedEdges>> {
  const out = new Map<string, FetchedEdges>()
  const key = (topic: string, partition: number) => `${topic}\u0000${partition}`
  const held = requests.filter((r) => r.logEnd > r.logStart)
  for (const topic of new Set(held.map((r) => r.topic))) await cluster.addTargetTopic(topic)
  const byLeader = new Map<string, EdgeRequest[]>()
  for (const r of held) {
    const leader = Object.keys(cluster.findLeaderForPartitions(r.topic, [r.partition]))[0]
    if (leader !== undefined) byLeader.set(leader, [...(byLeader.get(leader) ?? []), r])
  }
  await Promise.all(
    [...byLeader].map(async ([nodeId, list]) => {
      const broker = (await cluster.findBroker({ nodeId })) as unknown as RawFetchBroker
      const fetchAt = (offsetOf: (r: EdgeRequest) => bigint) =>
        rawFetch(broker, {
          isolationLevel: 0,
          maxWaitTime: 10,
          minBytes: 1,
          maxBytes: RESPONSE_MAX_BYTES,
          topics: [...new Set(list.map((r) => r.topic))].map((topic) => ({
            topic,
            partitions: list
              .filter((r) => r.topic === topic)
              .map((r) => ({ partition: r.partition, fetchOffset: offsetOf(r).toString(), maxBytes: PARTITION_MAX_BYTES })),
          })),
        })
      const [starts, ends] = await Promise.all([fetchAt((r) => r.logStart), fetchAt((r) => r.logEnd - 1n)])
      throwFirstPartitionError(starts)
      throwFirstPartitionError(ends)
      const find = (responses: typeof starts, r: EdgeRequest) =>
        responses.find((t) => t.topicName === r.topic)?.partitions.find((p) => p.partition === r.partition)
      for (const r of list) {
        const edges: FetchedEdges = {
          first: await walkFor(find(starts, r), r, 'first'),
          last: await walkFor(find(ends, r), r, 'last'),
        }
        out.set(key(r.topic, r.partition), edges)
      }
    }),
  )
  return out
}

async function walkFor(data: RawPartitionData | undefined, r: EdgeRequest, which: 'first' | 'last'): Promise<RecordStamp | undefined> {
  if (!data?.records) return undefined
  let found: RecordStamp | undefined
  // Records before the log start can still be in its batch (DeleteRecords cuts inside batches).
  await walkRecordBatches(data.records, r.partition, [], r.logStart, r.logEnd, (view) => {
    if (which === 'first' && found) return
    found = { offset: view.offset, timestampMs: view.timestampMs }
  })
  return found
}
