import type { KafkaGateway } from '../kafka/kafka-gateway.js'
import type { KafkaRecord } from '../kafka/kafka-record.js'
import { RecoveryError } from '../errors.js'
import { previewBytes, type Preview, type PreviewFormat } from '../codecs/preview.js'
import { mapWithConcurrency } from '../core/map-with-concurrency.js'

export interface PeekRequest {
  topic: string
  atMs: number
  count: number
  partition?: number
  keyFormat?: PreviewFormat
  valueFormat?: PreviewFormat
}

export interface PeekedRecord {
  partition: number
  offset: bigint
  timestamp: string
  timestampType: KafkaRecord['timestampType']
  key: Preview
  value: Preview
  headers: Array<{ key: string; value: string | null }>
  size: number
}

export interface PeekResult {
  topic: string
  at: string
  /** Where each partition starts for this time; startOffset null = no record at or after it (log end). */
  partitions: Array<{ partition: number; startOffset: bigint | null; logEndOffset: bigint }>
  records: PeekedRecord[]
}

const MAX_FETCHES_PER_PARTITION = 50

/** The first records at or after a time, across partitions in timestamp order, decoded for reading. */
export async function peekAtTime(gateway: KafkaGateway, request: PeekRequest): Promise<PeekResult> {
  const all = await gateway.partitionsOf(request.topic)
  if (request.partition !== undefined && !all.includes(request.partition)) {
    throw new RecoveryError('PARTITION_NOT_FOUND', `Topic "${request.topic}" has no partition ${request.partition}; it has partitions ${all.join(', ')}.`, { details: { topic: request.topic, partitions: all } })
  }
  const partitions = request.partition === undefined ? all : [request.partition]
  const [starts, logs] = await Promise.all([gateway.offsetsForTimestamp(request.topic, request.atMs, partitions), gateway.logOffsets(request.topic, partitions)])
  const endOf = new Map(logs.map((l) => [l.partition, l.logEnd]))
  const fetcher = gateway.fetcher('read_uncommitted')

  const perPartition = await mapWithConcurrency(starts, 8, async ({ partition, offset }) => {
    const end = endOf.get(partition) ?? 0n
    const found: KafkaRecord[] = []
    let next = offset ?? end
    for (let i = 0; i < MAX_FETCHES_PER_PARTITION && next < end && found.length < request.count; i++) {
      const { records, nextOffset } = await fetcher.fetch(request.topic, partition, next, { maxWaitMs: 50 })
      // Offset order, as a consumer seeking to this time would read them, even where timestamps are out of order.
      for (const r of records) if (r.offset < end && found.length < request.count) found.push(r)
      if (nextOffset <= next) break
      next = nextOffset
    }
    return found
  })

  const records = perPartition
    .flat()
    .sort((a, b) => a.timestampMs - b.timestampMs || a.partition - b.partition || (a.offset < b.offset ? -1 : 1))
    .slice(0, request.count)
    .map((r) => toPeeked(r, request))

  return {
    topic: request.topic,
    at: new Date(request.atMs).toISOString(),
    partitions: starts.map(({ partition, offset }) => ({ partition, startOffset: offset, logEndOffset: endOf.get(partition) ?? 0n })),
    records,
  }
}

function toPeeked(r: KafkaRecord, request: PeekRequest): PeekedRecord {
  return {
    partition: r.partition,
    offset: r.offset,
    timestamp: new Date(r.timestampMs).toISOString(),
    timestampType: r.timestampType,
    key: previewBytes(r.key, request.keyFormat ?? 'auto'),
    value: previewBytes(r.value, request.valueFormat ?? 'auto'),
    headers: r.headers.map((h) => ({ key: h.key, value: h.value === null ? null : previewHeader(h.value) })),
    size: (r.key?.length ?? 0) + (r.value?.length ?? 0),
  }
}

function previewHeader(value: Buffer): string {
  const p = previewBytes(value, 'string')
  return p.format === 'string' ? String(p.value) : `0x${String(p.value)}`
}
