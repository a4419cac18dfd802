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
  const matchWarnings: string[] = []
  const upTo: RangeBound = bounds.to.kind === 'match' ? { kind: 'latest' } : bounds.to
  const from = await resolveMatchBound(topic, partitions, bounds.from, { from: { kind: 'earliest' }, to: upTo }, '--from', deps.gateway, matchWarnings)
  const to = await resolveMatchBound(topic, partitions, bounds.to, { from, to: { kind: 'latest' } }, '--to', deps.gateway, matchWarnings)
  checkBoundPartitions(from, '--from', partitions)
  checkBoundPartitions(to, '--to', partitions)
  const facts = await deps.reader.partitionFacts(partitions, {
    fromMs: from.kind === 'time' ? from.instantMs : undefined,
    toMs: to.kind === 'time' ? to.instantMs : undefined,
  })
  const ranges = planReplayRanges(from, to, facts)
  if (ranges.every((r) => r.start >= r.end)) throw emptyRangeError(topic, from, to, await holdings(topic, facts, deps.gateway))
  return { ranges, warnings: [...matchWarnings, ...rangeClampWarnings(from, to, facts)] }
}

/**
 * `first-match:PRED` / `last-match:PRED` as offsets, found by scanning (services/find.ts):
 * --from from the log start (up to a --to that is not itself a match), --to from the
 * resolved --from. A partition without a match replays nothing (its --from is its end, its
 * --to its start), which is said in the warnings; none matching anywhere is NO_MATCH.
 */
export async function resolveMatchBound(
  topic: string,
  partitions: readonly number[],
  bound: RangeBound,
  scan: { from: RangeBound; to: RangeBound },
  flag: '--from' | '--to',
  gateway: KafkaGateway,
  warnings: string[],
): Promise<RangeBound> {
  if (bound.kind !== 'match') return bound
  const { findMatchEdges } = await import('../services/find.js')
  const edges = await findMatchEdges(gateway, {
    topic,
    partitions: [...partitions],
    where: bound.where,
    tz: bound.tz,
    from: scan.from,
    to: scan.to,
    edge: bound.edge,
    flag,
    ...(bound.decode?.valueFormat ? { valueFormat: bound.decode.valueFormat } : {}),
    ...(bound.decode?.schemas ? { schemas: bound.decode.schemas } : {}),
  })
  const perPartition = new Map(edges.offsets)
  for (const p of edges.result.partitions) if (!perPartition.has(p.partition)) perPartition.set(p.partition, flag === '--from' ? p.end : p.start)
  if (edges.unmatched.length > 0)
    warnings.push(
      `${flag} ${bound.edge}-match: partition${edges.unmatched.length > 1 ? 's' : ''} ${edges.unmatched.join(', ')} ${edges.unmatched.length > 1 ? 'have' : 'has'} no matching record and replay${edges.unmatched.length > 1 ? '' : 's'} nothing.`,
    )
  return { kind: 'offsets', perPartition }
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
