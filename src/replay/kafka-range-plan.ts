import {
  checkBoundPartitions,
  emptyRangeError,
  planReplayRanges,
  rangeClampWarnings,
  type PartitionFacts,
  type PartitionHolding,
  type PartitionRange,
  type RangeBound,
} from '../core/replay-range.js'
import type { KafkaGateway } from '../kafka/kafka-gateway.js'
import type { RangeReader } from '../kafka/range-reader.js'

export interface PlannedRanges {
  ranges: PartitionRange[]
  /** Bounds clamped to what a partition holds (an offset before its log start or past its end). */
  warnings: string[]
}

/**
 * The offsets a new replay covers, from its bounds and what the log holds now. A selection
 * with no record in any partition is refused (EMPTY_RANGE, exit 2) with what each partition
 * holds: a replay that "finishes" having done nothing would tell cron it succeeded.
 */
export async function planReplay(
  topic: string,
  partitions: readonly number[],
  bounds: { from: RangeBound; to: RangeBound },
  deps: { reader: RangeReader; gateway: KafkaGateway },
): Promise<PlannedRanges> {
  const { from, to } = bounds
  checkBoundPartitions(from, '--from', partitions)
  checkBoundPartitions(to, '--to', partitions)
  const facts = await deps.reader.partitionFacts(partitions, {
    fromMs: from.kind === 'time' ? from.instantMs : undefined,
    toMs: to.kind === 'time' ? to.instantMs : undefined,
  })
  const ranges = planReplayRanges(from, to, facts)
  if (ranges.every((r) => r.start >= r.end)) throw emptyRangeError(topic, from, to, await holdings(topic, facts, deps.gateway))
  return { ranges, warnings: rangeClampWarnings(from, to, facts) }
}

/** Each partition's offsets and the times of its first and last records (best effort: only for the message). */
async function holdings(topic: string, facts: readonly PartitionFacts[], gateway: KafkaGateway): Promise<PartitionHolding[]> {
  const list: PartitionHolding[] = facts.map((f) => ({ partition: f.partition, logStart: f.logStart, stableEnd: f.stableEnd }))
  const held = facts.filter((f) => f.logStart < f.stableEnd)
  if (held.length === 0) return list
  try {
    const fetcher = gateway.fetcher('read_committed')
    const key = (p: number) => `${topic}\u0000${p}`
    const firsts = await fetcher.firstRecords(held.map((f) => ({ topic, partition: f.partition, offset: f.logStart })))
    // The last offset below the end can be a transaction marker: then no time is shown for it.
    const lasts = await fetcher.firstRecords(held.map((f) => ({ topic, partition: f.partition, offset: f.stableEnd - 1n })))
    for (const h of list) {
      h.firstTimestampMs = firsts.get(key(h.partition))?.timestampMs
      h.lastTimestampMs = lasts.get(key(h.partition))?.timestampMs
    }
  } catch {
    // The offsets alone still say what the topic holds.
  }
  return list
}
