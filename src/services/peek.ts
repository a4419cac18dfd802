import type { KafkaGateway } from '../kafka/kafka-gateway.js'
import type { KafkaRecord } from '../kafka/kafka-record.js'
import { RecoveryError } from '../errors.js'
import { createPreviewer, previewBytes, type Preview, type Previewer, type PreviewFormat } from '../codecs/preview.js'
import { createCodec, openSchemaSources, type SchemaSourceOptions } from '../codecs/create-codecs.js'
import { mapWithConcurrency } from '../core/map-with-concurrency.js'

export interface PeekRequest {
  topic: string
  atMs: number
  count: number
  partition?: number
  keyFormat?: PreviewFormat
  valueFormat?: PreviewFormat
  /** Avro schemas for `avro` (and Avro detection in `auto`): --schema, --registry, --reader-schema. */
  schemas?: SchemaSourceOptions
  /** Raw Avro whose writer schema is named by this record header (a schema id or file name). */
  writerHeader?: string
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
  // Schemas first: a bad --schema is a usage error before any broker round trip.
  const previewers = await openPreviewers(request)
  const all = await gateway.partitionsOf(request.topic)
  if (request.partition !== undefined && !all.includes(request.partition)) {
    throw new RecoveryError('PARTITION_NOT_FOUND', `Topic "${request.topic}" has no partition ${request.partition}; it has partitions ${all.join(', ')}.`, {
      details: { topic: request.topic, partitions: all },
    })
  }
  const partitions = request.partition === undefined ? all : [request.partition]
  const [starts, logs] = await Promise.all([
    gateway.offsetsForTimestamp(request.topic, request.atMs, partitions),
    gateway.logOffsets(request.topic, partitions),
  ])
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

  const chosen = perPartition
    .flat()
    .sort((a, b) => a.timestampMs - b.timestampMs || a.partition - b.partition || (a.offset < b.offset ? -1 : 1))
    .slice(0, request.count)
  // A registry out of reach throws here (exit 5); records that cannot be decoded are shown with why.
  const contexts = chosen.map((r) => ({ headers: r.headers }))
  await previewers.key.prepare(
    chosen.map((r) => r.key),
    contexts,
  )
  await previewers.value.prepare(
    chosen.map((r) => r.value),
    contexts,
  )
  const records = chosen.map((r) => toPeeked(r, previewers))

  return {
    topic: request.topic,
    at: new Date(request.atMs).toISOString(),
    partitions: starts.map(({ partition, offset }) => ({ partition, startOffset: offset, logEndOffset: endOf.get(partition) ?? 0n })),
    records,
  }
}

/** Previewers for keys and values (peek, quarantine show, triage): schemas checked before any broker round trip. */
export async function openPreviewers(
  request: Pick<PeekRequest, 'keyFormat' | 'valueFormat' | 'schemas' | 'writerHeader'>,
): Promise<{ key: Previewer; value: Previewer }> {
  const keyFormat = request.keyFormat ?? 'auto'
  const valueFormat = request.valueFormat ?? 'auto'
  const schemas = request.schemas ?? {}
  const wanted = schemas.schema !== undefined || schemas.registry !== undefined
  if (!wanted && (keyFormat === 'avro' || valueFormat === 'avro')) {
    throw new RecoveryError(
      'USAGE',
      'Showing Avro needs schemas: pass --schema DIR|FILE (.avsc files, with ids.json for Confluent-framed records) or --registry URL.',
    )
  }
  if (!wanted) return { key: createPreviewer(keyFormat), value: createPreviewer(valueFormat) }
  const sources = openSchemaSources(schemas)
  // In auto, Avro is only recognised by its Confluent header, so it needs schema ids.
  const avroFor = async (format: PreviewFormat) =>
    format === 'avro' || (format === 'auto' && sources.ids)
      ? createCodec({ format: 'avro', ...(format === 'avro' && request.writerHeader ? { writerHeader: request.writerHeader } : {}) }, sources)
      : undefined
  return { key: createPreviewer(keyFormat, await avroFor(keyFormat)), value: createPreviewer(valueFormat, await avroFor(valueFormat)) }
}

function toPeeked(r: KafkaRecord, previewers: { key: Previewer; value: Previewer }): PeekedRecord {
  return {
    partition: r.partition,
    offset: r.offset,
    timestamp: new Date(r.timestampMs).toISOString(),
    timestampType: r.timestampType,
    key: previewers.key.preview(r.key, { headers: r.headers }),
    value: previewers.value.preview(r.value, { headers: r.headers }),
    headers: r.headers.map((h) => ({ key: h.key, value: h.value === null ? null : previewHeader(h.value) })),
    size: (r.key?.length ?? 0) + (r.value?.length ?? 0),
  }
}

function previewHeader(value: Buffer): string {
  const p = previewBytes(value, 'string')
  return p.format === 'string' ? String(p.value) : `0x${String(p.value)}`
}
