import { createReadStream } from 'node:fs'
import { open, stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import { RecoveryError } from '../errors.js'
import { EnvelopeError, parseEnvelopeLine } from '../files/envelope.js'
import type { KafkaGateway } from '../kafka/kafka-gateway.js'
import type { KafkaRecord } from '../kafka/kafka-record.js'
import { RangeReader } from '../kafka/range-reader.js'
import { normalizeRecord, positionId, type QuarantinePosition, type QuarantinedRecord } from './quarantined-record.js'

/** Where dead letters are: what a QuarantineLocation (src/quarantine/quarantine-location.ts) has that readers need. */
export type QuarantineUri = { kind: 'kafka'; topic: string } | { kind: 'file'; path: string }

/** Lines of a file quarantine that are not envelopes: counted and named, never fatal. */
export interface Unreadable {
  line: number
  why: string
}

export interface ScanResult {
  scanned: number
  unreadable: { count: number; first: Unreadable[] }
}

/** Where dead letters are read from. `scan` streams every record; `read` fetches some by position. */
export interface QuarantineSource {
  readonly uri: string
  readonly kind: QuarantineUri['kind']
  /** The topic's partition count (1 for a file). */
  partitions(): Promise<number>
  scan(onBatch: (records: QuarantinedRecord[]) => void | Promise<void>, signal?: AbortSignal): Promise<ScanResult>
  read(positions: readonly QuarantinePosition[]): Promise<QuarantinedRecord[]>
  close(): Promise<void>
}

export function openQuarantineSource(uri: QuarantineUri, gateway: KafkaGateway | undefined): QuarantineSource {
  if (uri.kind === 'file') return new FileQuarantineSource(uri.path)
  if (!gateway) throw new Error('a Kafka quarantine needs a gateway')
  return new KafkaQuarantineSource(gateway, uri.topic)
}

/** A quarantine topic, read by offset from log start to the last stable offset (never joining a group). */
export class KafkaQuarantineSource implements QuarantineSource {
  readonly kind = 'kafka' as const
  private readonly readers = new Set<RangeReader>()

  constructor(
    private readonly gateway: KafkaGateway,
    readonly topic: string,
  ) {}

  get uri(): string {
    return `kafka:${this.topic}`
  }

  async partitions(): Promise<number> {
    return (await this.ids()).length
  }

  private async ids(): Promise<number[]> {
    try {
      return await this.gateway.partitionsOf(this.topic)
    } catch (error) {
      if (error instanceof RecoveryError && error.code === 'TOPIC_NOT_FOUND') {
        throw new RecoveryError(
          'TOPIC_NOT_FOUND',
          `The quarantine topic "${this.topic}" does not exist on ${this.gateway.settings.brokers.join(',')}; check the name given to --dlq (replay quarantines to <topic>.quarantine by default).`,
          { details: { topic: this.topic } },
        )
      }
      throw error
    }
  }

  async scan(onBatch: (records: QuarantinedRecord[]) => void | Promise<void>, signal?: AbortSignal): Promise<ScanResult> {
    const ids = await this.ids()
    // A reader per scan: its connections are closed when the scan ends, not when the command does.
    const reader = new RangeReader(this.gateway.kafka, this.gateway.settings, this.topic)
    this.readers.add(reader)
    try {
      const facts = await reader.partitionFacts(ids)
      let scanned = 0
      for await (const chunks of reader.read(
        facts.map((f) => ({ partition: f.partition, start: f.logStart, end: f.stableEnd })),
        {},
        signal,
      )) {
        const batch: QuarantinedRecord[] = []
        for (const chunk of chunks)
          for (const r of chunk.records) batch.push(normalizeRecord(r, { partition: r.partition, offset: r.offset }, { stack: false }))
        scanned += batch.length
        if (batch.length > 0) await onBatch(batch)
      }
      return { scanned, unreadable: { count: 0, first: [] } }
    } finally {
      this.readers.delete(reader)
      await reader.close()
    }
  }

  async read(positions: readonly QuarantinePosition[]): Promise<QuarantinedRecord[]> {
    const fetcher = this.gateway.fetcher('read_uncommitted')
    const out: QuarantinedRecord[] = []
    const ids = new Set(await this.ids())
    const logs = new Map((await this.gateway.logOffsets(this.topic)).map((l) => [l.partition, l]))
    for (const p of positions) {
      const log = logs.get(p.partition)
      // Positions outside the log (a typo, or deleted by retention) are simply not there.
      if (!ids.has(p.partition) || !log || p.offset < log.logStart || p.offset >= log.logEnd) continue
      const { records } = await fetcher.fetch(this.topic, p.partition, p.offset, { maxWaitMs: 50 })
      const r = records.find((x) => x.offset === p.offset)
      if (r) out.push(normalizeRecord(r, p))
    }
    return out
  }

  async close(): Promise<void> {
    for (const r of this.readers) await r.close()
  }
}

/** A JSONL envelope file; positions are line indexes, and the byte offset of each line is kept after a scan. */
export class FileQuarantineSource implements QuarantineSource {
  readonly kind = 'file' as const
  private lineStarts: number[] | undefined

  constructor(readonly path: string) {}

  get uri(): string {
    return `file:${resolve(this.path)}`
  }

  async partitions(): Promise<number> {
    return 1
  }

  private notFound(cause: unknown): RecoveryError {
    return new RecoveryError(
      'CONFIG_NOT_FOUND',
      `The quarantine file ${resolve(this.path)} cannot be read (${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}); check the path given to --dlq.`,
      { cause, details: { path: resolve(this.path) } },
    )
  }

  async scan(onBatch: (records: QuarantinedRecord[]) => void | Promise<void>): Promise<ScanResult> {
    try {
      await stat(this.path)
    } catch (cause) {
      throw this.notFound(cause)
    }
    const starts: number[] = []
    const unreadable: ScanResult['unreadable'] = { count: 0, first: [] }
    let batch: QuarantinedRecord[] = []
    let scanned = 0
    let offset = 0
    let line = 0
    let rest = Buffer.alloc(0)
    const take = async (bytes: Buffer, at: number) => {
      const text = bytes.toString('utf8').replace(/\r$/, '')
      starts.push(at)
      const index = line++
      if (text.trim() === '') return
      let record: KafkaRecord
      try {
        const e = parseEnvelopeLine(text)
        record = {
          topic: e.topic,
          partition: e.partition,
          offset: e.offset,
          timestampMs: e.timestampMs,
          timestampType: e.timestampType,
          key: e.key,
          value: e.value,
          headers: [...e.headers],
        }
      } catch (error) {
        if (!(error instanceof EnvelopeError)) throw error
        unreadable.count++
        if (unreadable.first.length < 10) unreadable.first.push({ line: index + 1, why: error.message })
        return
      }
      batch.push(normalizeRecord(record, { partition: 0, offset: BigInt(index) }, { stack: false }))
      scanned++
      if (batch.length >= 2000) {
        const b = batch
        batch = []
        await onBatch(b)
      }
    }
    for await (const chunk of createReadStream(this.path) as AsyncIterable<Buffer>) {
      let data = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk
      let from = 0
      for (let nl = data.indexOf(10, from); nl >= 0; nl = data.indexOf(10, from)) {
        await take(data.subarray(from, nl), offset + from)
        from = nl + 1
      }
      offset += from
      rest = Buffer.from(data.subarray(from))
      data = rest
    }
    if (rest.length > 0) await take(rest, offset)
    if (batch.length > 0) await onBatch(batch)
    this.lineStarts = starts
    return { scanned, unreadable }
  }

  async read(positions: readonly QuarantinePosition[]): Promise<QuarantinedRecord[]> {
    if (!this.lineStarts) await this.scan(() => undefined)
    const starts = this.lineStarts!
    const out: QuarantinedRecord[] = []
    let fh
    try {
      fh = await open(this.path, 'r')
    } catch (cause) {
      throw this.notFound(cause)
    }
    try {
      for (const p of positions) {
        const i = Number(p.offset)
        if (p.partition !== 0 || i < 0 || i >= starts.length) continue
        const end = i + 1 < starts.length ? starts[i + 1]! : (await fh.stat()).size
        const buf = Buffer.alloc(end - starts[i]!)
        await fh.read(buf, 0, buf.length, starts[i]!)
        try {
          const e = parseEnvelopeLine(buf.toString('utf8').trimEnd())
          out.push(
            normalizeRecord(
              {
                topic: e.topic,
                partition: e.partition,
                offset: e.offset,
                timestampMs: e.timestampMs,
                timestampType: e.timestampType,
                key: e.key,
                value: e.value,
                headers: [...e.headers],
              },
              p,
            ),
          )
        } catch (error) {
          if (!(error instanceof EnvelopeError)) throw error
        }
      }
    } finally {
      await fh.close()
    }
    return out
  }

  async close(): Promise<void> {}
}

export { positionId }
