import type { KafkaGateway } from '../kafka/kafka-gateway.js'
import type { KafkaRecord } from '../kafka/kafka-record.js'
import { RecoveryError } from '../errors.js'
import { createPreviewer, previewBytes, type Preview, type Previewer, type PreviewFormat } from '../codecs/preview.js'
import { createCodec, keySources, openSchemaSources, type SchemaSourceOptions, type SchemaSources } from '../codecs/create-codecs.js'
import { mapWithConcurrency } from '../core/map-with-concurrency.js'
import type { PeekBound } from '../core/peek-position.js'
import { checkPeekMode, peekPartitions, planPeekRanges, type PeekPartitionFacts } from '../core/peek-position.js'
import { RangeReader } from '../kafka/range-reader.js'
import type { RecordView } from '../kafka/record-batch-walker.js'
import { ViewRecords } from '../kafka/view-record.js'
import { compileViewFilter, previewText, rawContains, type PeekFilter } from './peek-filter.js'

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
  const wanted = schemas.schema !== undefined || schemas.registry !== undefined || schemas.keySchema !== undefined
  if (!wanted && (keyFormat === 'protobuf' || valueFormat === 'protobuf'))
    throw new RecoveryError('USAGE', 'Showing Protobuf needs schemas: pass --schema DIR|FILE (.proto files, with --message NAME) or --registry URL.')
  if (!wanted && (keyFormat === 'avro' || valueFormat === 'avro')) {
    throw new RecoveryError(
      'USAGE',
      'Showing Avro needs schemas: pass --schema DIR|FILE (.avsc files, with ids.json for Confluent-framed records) or --registry URL.',
    )
  }
  if (!wanted && (keyFormat === 'json-schema' || valueFormat === 'json-schema'))
    throw new RecoveryError('USAGE', 'Showing JSON Schema records needs a schema: pass --schema FILE.json or --registry URL.')
  if (!wanted) return { key: createPreviewer(keyFormat), value: createPreviewer(valueFormat) }
  const sources = openSchemaSources(schemas)
  // In auto, Avro is only recognised by its Confluent header, so it needs schema ids.
  const avroFor = async (format: PreviewFormat, sources: SchemaSources) =>
    format === 'json-schema' || format === 'protobuf'
      ? createCodec({ format }, sources)
      : format === 'avro' || (format === 'auto' && sources.ids)
        ? createCodec({ format: 'avro', ...(format === 'avro' && request.writerHeader ? { writerHeader: request.writerHeader } : {}) }, sources)
        : undefined
  // In auto with a registry, framed records whose schema is a JSON Schema or Protobuf are shown as json-schema or protobuf.
  const fallbacksFor = async (format: PreviewFormat, sources: SchemaSources) =>
    format === 'auto' && sources.registry
      ? [await createCodec({ format: 'json-schema' }, sources), await createCodec({ format: 'protobuf', framing: 'confluent' }, sources)]
      : []
  const forKeys = keySources(sources)
  return {
    key: createPreviewer(keyFormat, await avroFor(keyFormat, forKeys), await fallbacksFor(keyFormat, forKeys)),
    value: createPreviewer(valueFormat, await avroFor(valueFormat, sources), await fallbacksFor(valueFormat, sources)),
  }
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

/** A peek by position or time, filtered or not, over a bounded range (peek --at/--until/--tail/--key/--header/--grep). */
export interface PeekRangeRequest extends Pick<PeekRequest, 'keyFormat' | 'valueFormat' | 'schemas' | 'writerHeader'> {
  topic: string
  partition?: number
  at?: PeekBound
  until?: PeekBound
  /** The last N records of each partition (kcat -o -N). */
  tail?: number
  /** Matches to show at most; undefined = all in the range. */
  count?: number
  filter?: PeekFilter
}

export interface PeekRangePartition {
  partition: number
  /** Where the read started, and its end (exclusive): --until, or the log end when the peek started. */
  startOffset: bigint
  endOffset: bigint
  logStartOffset: bigint
  logEndOffset: bigint
}

export interface PeekRangeResult {
  topic: string
  at: string
  partitions: PeekRangePartition[]
  /** Records looked at, and how many of them matched (each partition stops at --count matches). */
  scanned: number
  matched: number
  /** Every partition was read to its end (false: stopped once --count matches were found). */
  complete: boolean
  records: PeekedRecord[]
}

export interface PeekProgress {
  scanned: number
  matched: number
  /** Records the range holds in all (offsets, so an upper bound where compaction left gaps). */
  planned: bigint
}

/**
 * Reads [start, end) of each partition in place (RangeReader.scan): key and header filters are
 * byte comparisons in the fetch response, so only matching records are built and decoded.
 * Each partition stops at --count matches; the matches are merged by timestamp and the first
 * --count shown, as peek at a time does.
 */
export async function peekRange(gateway: KafkaGateway, request: PeekRangeRequest, onProgress?: (progress: PeekProgress) => void): Promise<PeekRangeResult> {
  checkPeekMode({ ...request, follow: false })
  const previewers = await openPreviewers(request)
  const partitions = await choosePartitions(gateway, request)
  const reader = new RangeReader(gateway.kafka, gateway.settings, request.topic)
  try {
    const facts = await peekFacts(reader, partitions, request)
    const ranges = planPeekRanges({ ...request, follow: false }, facts)
    const limit = request.count ?? Number.POSITIVE_INFINITY
    const matcher = new Matcher(request.topic, request.filter ?? {}, previewers, limit, mayBeAvro(request))
    const planned = ranges.reduce((n, r) => n + (r.end - r.start), 0n)
    const done = new Set(ranges.filter((r) => r.start >= r.end).map((r) => r.partition))
    let complete = true
    let lastProgress = Date.now()
    for await (const chunks of reader.scan(ranges, matcher.visit)) {
      await matcher.settle()
      for (const c of chunks) if (c.done) done.add(c.partition)
      if (onProgress && Date.now() - lastProgress > 500) {
        lastProgress = Date.now()
        onProgress({ scanned: matcher.scanned, matched: matcher.matched, planned })
      }
      const open = ranges.filter((r) => !done.has(r.partition))
      if (open.length > 0 && open.every((r) => matcher.countOf(r.partition) >= limit)) {
        complete = false
        break
      }
    }
    const chosen = matcher
      .all()
      .sort(byTime)
      .slice(0, Number.isFinite(limit) ? limit : undefined)
    const records = await previewRecords(chosen, previewers)
    const endOf = new Map(facts.map((f) => [f.partition, f]))
    return {
      topic: request.topic,
      at: describeStart(request),
      partitions: ranges.map((r) => ({
        partition: r.partition,
        startOffset: r.start,
        endOffset: r.end,
        logStartOffset: endOf.get(r.partition)!.logStart,
        logEndOffset: endOf.get(r.partition)!.logEnd,
      })),
      scanned: matcher.scanned,
      matched: matcher.matched,
      complete,
      records,
    }
  } finally {
    await reader.close()
  }
}

const FOLLOW_POLL_MS = 500

/**
 * Prints the range from its start (--at, --tail N, or the log end) and then every new record as
 * it arrives, until `signal` aborts or --count records were shown: the log end is asked every
 * half second, and what was appended since is read like a peek range.
 */
export async function followRecords(
  gateway: KafkaGateway,
  request: PeekRangeRequest,
  onRecords: (records: PeekedRecord[]) => void,
  signal: AbortSignal,
  onStart?: (starts: Array<{ partition: number; offset: bigint }>) => void,
): Promise<{ scanned: number; matched: number }> {
  checkPeekMode({ ...request, follow: true })
  const previewers = await openPreviewers(request)
  const partitions = await choosePartitions(gateway, request)
  const reader = new RangeReader(gateway.kafka, gateway.settings, request.topic)
  const limit = request.count ?? Number.POSITIVE_INFINITY
  const matcher = new Matcher(request.topic, request.filter ?? {}, previewers, Number.POSITIVE_INFINITY, mayBeAvro(request))
  let shown = 0
  try {
    const facts = await peekFacts(reader, partitions, request)
    const next = new Map(planPeekRanges({ ...request, follow: true }, facts).map((r) => [r.partition, r.start]))
    onStart?.([...next].map(([partition, offset]) => ({ partition, offset })))
    while (!signal.aborted && shown < limit) {
      const ends = await reader.partitionFacts(partitions)
      const ranges = ends.map((f) => ({ partition: f.partition, start: next.get(f.partition)!, end: f.stableEnd })).filter((r) => r.start < r.end)
      if (ranges.length === 0) {
        await sleep(FOLLOW_POLL_MS, signal)
        continue
      }
      for await (const chunks of reader.scan(ranges, matcher.visit, { maxWaitMs: 100 }, signal)) {
        await matcher.settle()
        for (const c of chunks) next.set(c.partition, c.nextOffset)
        const found = matcher
          .take()
          .sort(byTime)
          .slice(0, limit - shown)
        if (found.length > 0) {
          shown += found.length
          onRecords(await previewRecords(found, previewers))
        }
        if (signal.aborted || shown >= limit) break
      }
    }
    return { scanned: matcher.scanned, matched: matcher.matched }
  } finally {
    await reader.close()
  }
}

async function choosePartitions(gateway: KafkaGateway, request: PeekRangeRequest): Promise<number[]> {
  const all = await gateway.partitionsOf(request.topic)
  const wanted = peekPartitions(all, request)
  const missing = wanted.filter((p) => !all.includes(p))
  if (missing.length > 0) {
    throw new RecoveryError('PARTITION_NOT_FOUND', `Topic "${request.topic}" has no partition ${missing.join(', ')}; it has partitions ${all.join(', ')}.`, {
      details: { topic: request.topic, partitions: all },
    })
  }
  return wanted
}

async function peekFacts(reader: RangeReader, partitions: number[], request: PeekRangeRequest): Promise<PeekPartitionFacts[]> {
  const facts = await reader.partitionFacts(partitions, {
    fromMs: request.at?.kind === 'time' ? request.at.instantMs : undefined,
    toMs: request.until?.kind === 'time' ? request.until.instantMs : undefined,
  })
  return facts.map((f) => ({
    partition: f.partition,
    logStart: f.logStart,
    logEnd: f.stableEnd,
    atTimeOffset: f.fromTimeOffset,
    untilTimeOffset: f.toTimeOffset,
  }))
}

function describeStart(request: PeekRangeRequest): string {
  if (request.tail !== undefined) return `the last ${request.tail} of each partition`
  const at = request.at
  if (!at || at.kind === 'earliest') return 'earliest'
  if (at.kind === 'latest') return 'latest'
  if (at.kind === 'time') return new Date(at.instantMs).toISOString()
  if (at.all !== undefined) return `offset:${at.all}`
  return `offset:${[...at.perPartition].map(([p, o]) => `${p}=${o}`).join(',')}`
}

/** Avro bytes hold their strings but not the text a person reads (field names, JSON): --grep also decodes them. */
function mayBeAvro(request: PeekRangeRequest): boolean {
  return (
    request.keyFormat === 'avro' ||
    request.valueFormat === 'avro' ||
    request.keyFormat === 'protobuf' ||
    request.valueFormat === 'protobuf' ||
    request.schemas?.schema !== undefined ||
    request.schemas?.registry !== undefined
  )
}

function byTime(a: KafkaRecord, b: KafkaRecord): number {
  return a.timestampMs - b.timestampMs || a.partition - b.partition || (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0)
}

async function previewRecords(records: KafkaRecord[], previewers: { key: Previewer; value: Previewer }): Promise<PeekedRecord[]> {
  // A registry out of reach throws here (exit 5); records that cannot be decoded are shown with why.
  const contexts = records.map((r) => ({ headers: r.headers }))
  await previewers.key.prepare(
    records.map((r) => r.key),
    contexts,
  )
  await previewers.value.prepare(
    records.map((r) => r.value),
    contexts,
  )
  return records.map((r) => toPeeked(r, previewers))
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}

/**
 * Collects the matching records of a scan: key and header filters in place (compileViewFilter);
 * --grep on the records that pass them, first on their bytes and, failing that and when values
 * may be Avro, on their decoded text (after the fetch, when schemas can be looked up).
 */
class Matcher {
  scanned = 0
  matched = 0
  private readonly byPartition = new Map<number, KafkaRecord[]>()
  private pending: KafkaRecord[] = []
  private readonly views: ViewRecords
  private readonly inPlace: (view: RecordView) => boolean
  private readonly decodeForGrep: boolean

  constructor(
    topic: string,
    private readonly filter: PeekFilter,
    private readonly previewers: { key: Previewer; value: Previewer },
    private readonly limit: number,
    mayBeAvro: boolean,
  ) {
    this.views = new ViewRecords(topic)
    this.inPlace = compileViewFilter(filter)
    this.decodeForGrep = filter.grep !== undefined && mayBeAvro
  }

  readonly visit = (view: RecordView): void => {
    this.scanned++
    if (this.countOf(view.partition) >= this.limit) return
    if (!this.inPlace(view)) return
    const record = this.views.recordOf(view)
    const grep = this.filter.grep
    if (grep !== undefined && !rawContains(record.key, record.value, grep)) {
      if (this.decodeForGrep) this.pending.push(record)
      return
    }
    this.keep(record)
  }

  /** Decodes the records --grep did not find in the bytes and keeps those whose decoded text has it. */
  async settle(): Promise<void> {
    if (this.pending.length === 0) return
    const pending = this.pending
    this.pending = []
    const grep = this.filter.grep!
    const previews = await previewRecords(pending, this.previewers)
    pending.forEach((record, i) => {
      const p = previews[i]!
      if (this.countOf(record.partition) < this.limit && (previewText(p.key).includes(grep) || previewText(p.value).includes(grep))) this.keep(record)
    })
  }

  countOf(partition: number): number {
    return this.byPartition.get(partition)?.length ?? 0
  }

  all(): KafkaRecord[] {
    return [...this.byPartition.values()].flat()
  }

  /** The matches so far, handed over (follow prints them and keeps none). */
  take(): KafkaRecord[] {
    const out = this.all()
    this.byPartition.clear()
    return out
  }

  private keep(record: KafkaRecord): void {
    this.matched++
    const list = this.byPartition.get(record.partition)
    if (list) list.push(record)
    else this.byPartition.set(record.partition, [record])
  }
}
