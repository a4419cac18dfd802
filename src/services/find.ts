import type { Codec, CodecFormat } from '../codecs/codec.js'
import { createCodec, openSchemaSources, type SchemaSourceOptions } from '../codecs/create-codecs.js'
import { tryDecode } from '../codecs/decode-outcome.js'
import { auditWindow, type AuditWindow } from '../core/audit-window.js'
import { parsePredicate, type ParsedPredicate } from '../core/record-predicate.js'
import { checkBoundPartitions, planReplayRanges, rangeRecordCount, type PartitionRange, type RangeBound } from '../core/replay-range.js'
import { RecoveryError } from '../errors.js'
import type { KafkaGateway } from '../kafka/kafka-gateway.js'
import type { KafkaRecord } from '../kafka/kafka-record.js'
import { PredicateView, predicateRecordOf } from '../kafka/predicate-view.js'
import { RangeReader, type RangeReaderOptions } from '../kafka/range-reader.js'
import type { RecordView } from '../kafka/record-batch-walker.js'
import { ViewRecords } from '../kafka/view-record.js'

export interface FindRequest {
  topic: string
  /** The --where predicate, as written (src/core/record-predicate.ts). */
  where: string
  /** Zone for times in the predicate written without one. */
  tz?: string
  /** Default: every partition. */
  partitions?: number[]
  /** Default earliest. */
  from?: RangeBound
  /** Default latest: the last stable offsets when the scan starts. */
  to?: RangeBound
  /** How values are decoded for value.FIELD tests: json (default), avro, string or bytes. */
  valueFormat?: CodecFormat
  schemas?: SchemaSourceOptions
  /** Raw Avro whose writer schema is named by this header. */
  writerHeader?: string
  fetch?: RangeReaderOptions
  /** Stop reading once every partition has a match: enough for first-match edges. */
  firstOnly?: boolean
}

export interface FoundRecord {
  offset: bigint
  /** UTC, ISO-8601 with milliseconds. */
  timestamp: string
  timestampMs: number
}

export interface FindPartition {
  partition: number
  /** The offsets read: [start, end). */
  start: bigint
  end: bigint
  scanned: number
  matches: number
  first: FoundRecord | null
  last: FoundRecord | null
}

export interface FindResult {
  topic: string
  where: string
  window: AuditWindow
  /** How values were decoded, or null when no test reads a value field. */
  valueFormat: CodecFormat | null
  partitions: FindPartition[]
  totals: { scanned: number; matches: number; partitionsMatched: number; partitions: number; undecodable: number }
  /** False when the scan stopped at the first match of every partition (--first-only / first-match edges). */
  complete: boolean
  elapsedMs: number
}

export type FindEvent =
  | { type: 'find-start'; topic: string; where: string; partitions: PartitionRange[]; records: bigint }
  | { type: 'find-progress'; topic: string; scanned: number; matches: number; records: bigint; elapsedMs: number }
  | { type: 'find-done'; topic: string; scanned: number; matches: number; elapsedMs: number }

const PROGRESS_EVERY_MS = 200

/**
 * `recover find`: reads [--from, --to) of each partition without joining any consumer group
 * (RangeReader.scan, in place) and tests every record against the predicate. Values are decoded
 * only when a test reads a field of them, a fetch response at a time (the codec looks up
 * schemas for the whole response). Keeps per partition only the count and the first and last
 * match, so memory does not grow with the range. Read-only.
 */
export async function findRecords(gateway: KafkaGateway, request: FindRequest, onEvent?: (event: FindEvent) => void): Promise<FindResult> {
  const started = Date.now()
  const predicate = parsePredicate(request.where, { tz: request.tz })
  const valueFormat = predicate.needsDecodedValue ? (request.valueFormat ?? 'json') : null
  if (valueFormat === 'bytes')
    throw new RecoveryError('USAGE', `--where reads value fields, and --value-format bytes does not decode values; pick json, avro or string.`)
  const codec =
    valueFormat === null
      ? undefined
      : await createCodec(
          { format: valueFormat, ...(request.writerHeader ? { writerHeader: request.writerHeader } : {}) },
          openSchemaSources(request.schemas ?? {}),
        )

  const all = await gateway.partitionsOf(request.topic)
  const partitions = request.partitions ?? all
  const unknown = partitions.filter((p) => !all.includes(p))
  if (unknown.length > 0) {
    throw new RecoveryError('PARTITION_NOT_FOUND', `Topic "${request.topic}" has no partition ${unknown.join(', ')}; it has partitions ${all.join(', ')}.`, {
      details: { topic: request.topic, partitions: all },
    })
  }
  const from = request.from ?? { kind: 'earliest' }
  const to = request.to ?? { kind: 'latest' }
  checkBoundPartitions(from, '--from', partitions)
  checkBoundPartitions(to, '--to', partitions)

  const reader = new RangeReader(gateway.kafka, gateway.settings, request.topic)
  try {
    const facts = await reader.partitionFacts(partitions, {
      fromMs: from.kind === 'time' ? from.instantMs : undefined,
      toMs: to.kind === 'time' ? to.instantMs : undefined,
    })
    const ranges = planReplayRanges(from, to, facts)
    const planned = rangeRecordCount(ranges)
    onEvent?.({ type: 'find-start', topic: request.topic, where: request.where, partitions: ranges, records: planned })
    const tally = new Map<number, FindPartition>(
      ranges.map((r) => [r.partition, { partition: r.partition, start: r.start, end: r.end, scanned: 0, matches: 0, first: null, last: null }]),
    )
    const scan = new MatchScan(predicate, tally, codec, request.topic)
    const stop = new AbortController()
    let complete = true
    let lastProgress = started
    for await (const _chunks of reader.scan(ranges, scan.visit, request.fetch, stop.signal)) {
      await scan.decodePending()
      const now = Date.now()
      if (now - lastProgress >= PROGRESS_EVERY_MS) {
        lastProgress = now
        onEvent?.({ type: 'find-progress', topic: request.topic, scanned: scan.scanned, matches: scan.matches, records: planned, elapsedMs: now - started })
      }
      if (request.firstOnly && [...tally.values()].every((p) => p.first !== null || p.start >= p.end)) {
        // Stopped early: what follows each first match was not read, so counts and last matches are partial.
        complete = scan.scanned >= Number(planned)
        stop.abort()
        break
      }
    }
    await scan.decodePending()
    const elapsedMs = Date.now() - started
    onEvent?.({ type: 'find-done', topic: request.topic, scanned: scan.scanned, matches: scan.matches, elapsedMs })
    const list = [...tally.values()].sort((a, b) => a.partition - b.partition)
    return {
      topic: request.topic,
      where: request.where,
      window: auditWindow(from, to),
      valueFormat,
      partitions: list,
      totals: {
        scanned: scan.scanned,
        matches: scan.matches,
        partitionsMatched: list.filter((p) => p.matches > 0).length,
        partitions: list.length,
        undecodable: scan.undecodable,
      },
      complete,
      elapsedMs,
    }
  } finally {
    await reader.close()
  }
}

/** Tests records as they are visited; records whose value must be decoded wait for the end of their fetch. */
class MatchScan {
  scanned = 0
  matches = 0
  undecodable = 0
  private readonly view: PredicateView
  private readonly records: ViewRecords
  private pending: KafkaRecord[] = []
  /** A codec that looks schemas up (Avro) decodes a fetch at a time; json and string decode in place. */
  private readonly batchCodec: Codec | undefined

  constructor(
    private readonly predicate: ParsedPredicate,
    private readonly tally: Map<number, FindPartition>,
    codec: Codec | undefined,
    topic: string,
  ) {
    this.records = new ViewRecords(topic)
    const inPlace = codec !== undefined && (codec.format === 'json' || codec.format === 'string')
    this.batchCodec = inPlace ? undefined : codec
    this.view = new PredicateView(
      inPlace
        ? (bytes) => {
            const outcome = tryDecode(codec, bytes)
            if (outcome.ok) return outcome.value
            this.undecodable++
            return undefined
          }
        : undefined,
      inPlace && codec.format === 'json',
    )
  }

  readonly visit = (v: RecordView): void => {
    this.scanned++
    const partition = this.tally.get(v.partition)!
    partition.scanned++
    if (this.batchCodec) {
      // Views of the response's bytes, which stay alive while the record waits.
      this.pending.push(this.records.recordOf(v))
      return
    }
    if (this.predicate.test(this.view.at(v))) this.count(partition, v.offset, v.timestampMs)
  }

  async decodePending(): Promise<void> {
    const codec = this.batchCodec
    if (!codec || this.pending.length === 0) return
    const records = this.pending
    this.pending = []
    const contexts = records.map((r) => ({ headers: r.headers }))
    await codec.prepare(
      records.map((r) => r.value),
      contexts,
    )
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!
      const outcome = tryDecode(codec, r.value, contexts[i])
      if (!outcome.ok) this.undecodable++
      if (this.predicate.test(predicateRecordOf(r, outcome.ok ? outcome.value : undefined))) this.count(this.tally.get(r.partition)!, r.offset, r.timestampMs)
    }
  }

  private count(partition: FindPartition, offset: bigint, timestampMs: number): void {
    this.matches++
    partition.matches++
    const found = { offset, timestamp: new Date(timestampMs).toISOString(), timestampMs }
    // Records come in offset order within a partition.
    partition.first ??= found
    partition.last = found
  }
}

/** A first-match / last-match bound resolved: the offset per partition, and the partitions with no match. */
export interface MatchEdges {
  /** first: the offset of the first match; last: one past the last match. */
  offsets: Map<number, bigint>
  unmatched: number[]
  result: FindResult
}

/**
 * Resolves `first-match:PRED` / `last-match:PRED` over [from, to) of the partitions. A
 * first-match scan stops once every partition has matched. NO_MATCH when no partition has a
 * match: there is no edge to move to.
 */
export async function findMatchEdges(
  gateway: KafkaGateway,
  request: Omit<FindRequest, 'firstOnly'> & { edge: 'first' | 'last'; flag: string },
): Promise<MatchEdges> {
  const result = await findRecords(gateway, { ...request, firstOnly: request.edge === 'first' })
  const offsets = new Map<number, bigint>()
  const unmatched: number[] = []
  for (const p of result.partitions) {
    const found = request.edge === 'first' ? p.first : p.last
    if (found === null) unmatched.push(p.partition)
    else offsets.set(p.partition, request.edge === 'first' ? found.offset : found.offset + 1n)
  }
  if (offsets.size === 0) {
    throw new RecoveryError(
      'NO_MATCH',
      `${request.flag} ${request.edge}-match: no record of ${request.topic} (partitions ${result.partitions.map((p) => p.partition).join(', ')}, ${result.totals.scanned} records read) matches ${JSON.stringify(request.where)}, so there is no edge to move to; nothing was changed.`,
      {
        nextSteps: [`Check the predicate with: recover find --topic ${request.topic} --where '${request.where.replace(/'/g, "'\\''")}'`],
        details: { topic: request.topic, where: request.where, scanned: result.totals.scanned },
      },
    )
  }
  return { offsets, unmatched, result }
}
