import { RecoveryError } from '../errors.js'
import type { KafkaRecord } from '../kafka/kafka-record.js'
import { isHandled, type AuditTrail } from './audit-trail.js'
import type { QuarantineSource } from './quarantine-source.js'

/**
 * Which source records a run can quarantine: only entries for these are looked up, so a
 * replay of one partition's range keeps no more than that range's entries in memory.
 */
export interface QuarantineScope {
  includes(topic: string, partition: number, offset: bigint): boolean
}

/** A replay's ranges: [start, end) per partition of one topic. */
export function rangeScope(topic: string, ranges: ReadonlyArray<{ partition: number; start: bigint; end: bigint }>): QuarantineScope {
  const byPartition = new Map(ranges.map((r) => [r.partition, r]))
  return {
    includes: (t, partition, offset) => {
      const r = t === topic ? byPartition.get(partition) : undefined
      return r !== undefined && offset >= r.start && offset < r.end
    },
  }
}

/** The records in hand (a retry's): exactly their coordinates. */
export function recordsScope(records: readonly KafkaRecord[]): QuarantineScope {
  const keys = new Set(records.map((r) => coordinates(r.topic, r.partition, r.offset)))
  return { includes: (topic, partition, offset) => keys.has(coordinates(topic, partition, offset)) }
}

/**
 * A source record as the quarantine knows it: topic, partition and offset on one cluster,
 * and the record's timestamp, since a topic deleted and created again reuses offsets for
 * other records (those must be quarantined, not taken for the old ones).
 */
export function sourceKey(record: Pick<KafkaRecord, 'topic' | 'partition' | 'offset' | 'timestampMs'>): string {
  return `${coordinates(record.topic, record.partition, record.offset)}\u0000${record.timestampMs}`
}

function coordinates(topic: string, partition: number, offset: bigint): string {
  return `${topic}\u0000${partition}\u0000${offset}`
}

export interface KnownSourcesOptions {
  scope: QuarantineScope
  /** The cluster the run reads from: entries recorded on another cluster are other records. */
  clusterId: string
  /**
   * Whether an entry that records no cluster (written before recover recorded it) counts as
   * this cluster's: yes for a quarantine topic, which lives on the cluster it was written from;
   * no for a file, which may hold entries from anywhere (a duplicate is better than a loss).
   */
  unrecordedIsThisCluster: boolean
}

/**
 * The source records the quarantine already holds as open entries of recover's own dialect
 * (not redriven, parked, retried or dropped, per its audit trail), within the scope: one
 * scan of the quarantine. Other dialects' entries are never matched: recover did not write
 * them and cannot tell which run they belong to.
 */
export async function loadKnownSources(source: QuarantineSource, trail: AuditTrail, options: KnownSourcesOptions): Promise<Set<string>> {
  const known = new Set<string>()
  try {
    await source.scan((batch) => {
      for (const q of batch) {
        if (q.dialect !== 'recover') continue
        const { topic, partition, offset } = q.original
        if (topic === undefined || partition === undefined || offset === undefined) continue
        if (!options.scope.includes(topic, partition, offset)) continue
        const recorded = q.sourceCluster?.id
        if (recorded === undefined ? !options.unrecordedIsThisCluster : recorded !== options.clusterId) continue
        if (isHandled(trail.states.get(q.id))) continue
        known.add(sourceKey({ topic, partition, offset, timestampMs: q.record.timestampMs }))
      }
    })
  } catch (error) {
    // Nothing quarantined yet: the topic is created (the file written) by the first entry.
    if (error instanceof RecoveryError && (error.code === 'TOPIC_NOT_FOUND' || error.code === 'CONFIG_NOT_FOUND')) return known
    throw error
  }
  return known
}
