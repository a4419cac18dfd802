import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { createGunzip } from 'node:zlib'
import type { FileLocation } from '../core/location.js'
import type { PartitionRange } from '../core/replay-range.js'
import { RecoveryError } from '../errors.js'
import { EnvelopeError, parseEnvelopeLine } from '../files/envelope.js'
import type { KafkaRecord } from '../kafka/kafka-record.js'
import { originalHeaders, readFailureContext } from '../quarantine/dialects.js'
import type { RecordSource, SourceChunk, SourcePlan } from './record-source.js'

/** Records handed to the batch loop per read. */
const CHUNK_RECORDS = 1_000

/** What a first pass over an envelope file found: the one topic, each partition's offsets, and what will be skipped. */
export interface EnvelopeFileScan {
  path: string
  topic: string
  ranges: PartitionRange[]
  /** The topic had at least this many partitions: a Kafka sink is created with it, and keeps partitions when it has as many. */
  partitionCount: number
  records: number
  /** Dead letters (a quarantine export or quarantine file) replayed as the original records they hold. */
  deadLetters: number
  /** Records whose offset repeats or goes back within their partition: replayed once, in offset order, the rest skipped. */
  outOfOrder: number
  warnings: string[]
}

/** One line read back: the record to replay (a dead letter's original) and the line it came from. */
interface FileRecord {
  record: KafkaRecord
  deadLetter: boolean
}

/**
 * A file of recover's lossless JSONL envelope (`replay --sink file:X.jsonl`, `quarantine
 * export`, a file quarantine) as a replay source. Records keep their topic, partition, offset,
 * key, value, headers and timestamp as the file has them; a dead letter is replayed as the
 * original record it holds (its original position, its headers without the failure context),
 * as a redrive sends it back. The file is streamed (a line at a time, bounded memory), twice:
 * the plan reads it through once to check every line and find each partition's offsets; the
 * replay reads it again. Positions are the records' own offsets per partition, so a checkpoint
 * says how far each partition got and --resume skips what was replayed: each partition must
 * be in offset order in the file (as recover writes it); records that repeat or go back are
 * replayed once and counted in a warning.
 */
export class FileRecordSource implements RecordSource {
  private reading: { close(): void } | undefined

  constructor(
    private readonly location: FileLocation,
    private readonly scan: EnvelopeFileScan,
  ) {}

  get topic(): string {
    return this.scan.topic
  }

  async plan(): Promise<SourcePlan> {
    return { ranges: this.scan.ranges, warnings: this.scan.warnings }
  }

  async *read(ranges: readonly PartitionRange[], signal: AbortSignal): AsyncIterable<readonly SourceChunk[]> {
    const next = new Map(ranges.map((r) => [r.partition, r.start]))
    const ends = new Map(ranges.map((r) => [r.partition, r.end]))
    let pending: KafkaRecord[] = []
    const chunksOf = (records: KafkaRecord[]): SourceChunk[] => {
      // Runs of one partition, as the batch loop takes them.
      const chunks: SourceChunk[] = []
      for (const r of records) {
        const last = chunks.at(-1)
        if (last && last.partition === r.partition) (last.records as KafkaRecord[]).push(r)
        else chunks.push({ partition: r.partition, records: [r], nextOffset: 0n })
      }
      for (const c of chunks) c.nextOffset = c.records.at(-1)!.offset + 1n
      return chunks
    }
    const lines = openLines(this.location)
    this.reading = lines
    try {
      for await (const { text, line } of lines.lines) {
        if (signal.aborted) break
        const parsed = parseFileLine(text, line, this.location)
        if (!parsed) continue
        const r = parsed.record
        if (r.topic !== this.scan.topic) continue
        const at = next.get(r.partition)
        // Replayed already (a resume), another partition, or a repeat: the checkpoint is past it.
        if (at === undefined || r.offset < at || r.offset >= ends.get(r.partition)!) continue
        next.set(r.partition, r.offset + 1n)
        pending.push(r)
        if (pending.length >= CHUNK_RECORDS) {
          yield chunksOf(pending)
          pending = []
        }
      }
      if (pending.length > 0 && !signal.aborted) yield chunksOf(pending)
      // Every partition is at its end once the file is: records skipped at the end leave gaps.
      if (!signal.aborted) {
        const done = ranges.filter((r) => next.get(r.partition)! < r.end).map((r) => ({ partition: r.partition, records: [], nextOffset: r.end }))
        if (done.length > 0) yield done
      }
    } finally {
      lines.close()
      this.reading = undefined
    }
  }

  /** A file has no outage to wait out. */
  async probe(): Promise<void> {}

  async close(): Promise<void> {
    this.reading?.close()
    this.reading = undefined
  }
}

/**
 * Reads the file through once: every line must be an envelope (a line that is not is refused
 * with its number, before anything is written), the records must be of one topic, and each
 * partition's offsets give its range. Blank lines are allowed.
 */
export async function scanEnvelopeFile(location: FileLocation, options: { partitions?: readonly number[] } = {}): Promise<EnvelopeFileScan> {
  const path = resolve(location.path)
  try {
    const s = await stat(path)
    if (!s.isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' })
  } catch (cause) {
    throw new RecoveryError(
      'BAD_SOURCE',
      `The --source file ${path} cannot be read (${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}); check the path (a JSONL file written by replay --sink file:X.jsonl or quarantine export).`,
      { cause, details: { path } },
    )
  }
  const topics = new Map<string, number>()
  const seen = new Map<number, { min: bigint; max: bigint }>()
  let records = 0
  let deadLetters = 0
  let outOfOrder = 0
  let firstOutOfOrder: string | undefined
  const wanted = options.partitions ? new Set(options.partitions) : undefined
  let maxPartition = -1
  const lines = openLines(location)
  try {
    for await (const { text, line } of lines.lines) {
      const parsed = parseFileLine(text, line, location)
      if (!parsed) continue
      const r = parsed.record
      if (parsed.deadLetter) deadLetters++
      topics.set(r.topic, (topics.get(r.topic) ?? 0) + 1)
      maxPartition = Math.max(maxPartition, r.partition)
      if (wanted && !wanted.has(r.partition)) continue
      records++
      const p = seen.get(r.partition)
      if (!p) seen.set(r.partition, { min: r.offset, max: r.offset })
      else if (r.offset <= p.max) {
        outOfOrder++
        firstOutOfOrder ??= `line ${line}: ${r.topic}/${r.partition}@${r.offset} after @${p.max}`
        if (r.offset < p.min) p.min = r.offset
      } else p.max = r.offset
    }
  } finally {
    lines.close()
  }
  if (topics.size > 1) {
    const names = [...topics.keys()]
    throw new RecoveryError(
      'BAD_SOURCE',
      `${path} holds records of ${topics.size} topics (${names.join(', ')}); a replay reads one topic: split the file first, e.g. jq -c 'select(.topic == "${names[0]}")' ${location.path} > ${names[0]}.jsonl`,
      { details: { path, topics: Object.fromEntries(topics) } },
    )
  }
  if (records === 0) {
    const why = topics.size === 0 ? 'holds no records' : `holds no records of partition${wanted!.size > 1 ? 's' : ''} ${[...wanted!].join(', ')}`
    throw new RecoveryError('BAD_SOURCE', `${path} ${why}; nothing to replay.`, { details: { path } })
  }
  const topic = [...topics.keys()][0]!
  const ranges = [...seen].sort(([a], [b]) => a - b).map(([partition, p]) => ({ partition, start: p.min, end: p.max + 1n }))
  const warnings: string[] = []
  if (outOfOrder > 0)
    warnings.push(
      `${outOfOrder} record${outOfOrder === 1 ? '' : 's'} of ${location.path} repeat or go back in their partition's offsets (first: ${firstOutOfOrder}); each partition is replayed once in offset order, so ${outOfOrder === 1 ? 'it is' : 'they are'} skipped. Sort the file by partition and offset to replay them.`,
    )
  return { path, topic, ranges, partitionCount: maxPartition + 1, records, deadLetters, outOfOrder, warnings }
}

/** One line as a record to replay; undefined for a blank line. A line that is not an envelope is refused with its number. */
function parseFileLine(text: string, line: number, location: FileLocation): FileRecord | undefined {
  if (text.trim() === '') return undefined
  let e: ReturnType<typeof parseEnvelopeLine>
  try {
    e = parseEnvelopeLine(text)
  } catch (error) {
    if (!(error instanceof EnvelopeError)) throw error
    throw new RecoveryError(
      'BAD_SOURCE',
      `Line ${line} of ${location.path} is not a record of recover's JSONL envelope (${error.message}); fix or remove that line (e.g. sed -i '${line}d' ${location.path}), or give a file written by replay --sink file:X.jsonl or quarantine export.`,
      { details: { path: resolve(location.path), line, why: error.message } },
    )
  }
  const record: KafkaRecord = {
    topic: e.topic,
    partition: e.partition,
    offset: e.offset,
    timestampMs: e.timestampMs,
    timestampType: e.timestampType,
    key: e.key,
    value: e.value,
    headers: [...e.headers],
  }
  return restoreDeadLetter(record)
}

/** A dead letter of any dialect that says where it came from is replayed as that record: its original position and headers. */
function restoreDeadLetter(record: KafkaRecord): FileRecord {
  if (!record.headers.some((h) => h.key.startsWith('recover.') || h.key.startsWith('__') || h.key.startsWith('kafka_dlt-') || h.key.startsWith('source_')))
    return { record, deadLetter: false }
  const context = readFailureContext(record.headers, record.timestampMs, { stack: false })
  const { topic, partition, offset } = context.original
  if (context.dialect === 'unknown' || topic === undefined || partition === undefined || offset === undefined) return { record, deadLetter: false }
  return { record: { ...record, topic, partition, offset, headers: originalHeaders(record.headers, context.dialect) }, deadLetter: true }
}

/** The file's lines, numbered from 1, streamed (gzip-compressed files too). */
function openLines(location: FileLocation): { lines: AsyncIterable<{ text: string; line: number }>; close(): void } {
  const file = createReadStream(resolve(location.path))
  const input = location.compression === 'gz' ? file.pipe(createGunzip()) : file
  const reader = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })
  async function* numbered(): AsyncIterable<{ text: string; line: number }> {
    let line = 0
    for await (const text of reader) yield { text, line: ++line }
  }
  return {
    lines: numbered(),
    close: () => {
      reader.close()
      file.destroy()
    },
  }
}
