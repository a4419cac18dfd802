import type { ClusterIdentity } from '../../src/core/cluster-identity.js'
import type { PartitionRange } from '../../src/core/replay-range.js'
import { RecoveryError } from '../../src/errors.js'
import type { KafkaRecord } from '../../src/kafka/kafka-record.js'
import type { Quarantine, QuarantineEntry } from '../../src/quarantine/quarantine.js'
import type { RecordSource, SourceChunk, SourcePlan } from '../../src/replay/record-source.js'
import type { Sink, SinkOpenResult, SinkRecord, SinkRejection, SinkState } from '../../src/sinks/sink.js'

/**
 * In-memory parts for the replay pipeline (src/replay/pipeline.ts), so that its rules can be
 * tested in-process without a broker: a source of records in hand, and a sink and a quarantine
 * that keep what they were given in an array that outlives them (as a file outlives a crash).
 */

export const MEMORY_CLUSTER: ClusterIdentity = { id: 'memory-cluster', bootstrap: ['memory:0'], source: 'a test' }

/** `count` records of `topic`, spread over `partitions` partitions in turn, offsets from 0 per partition. */
export function memoryRecords(topic: string, count: number, value: (i: number) => string, partitions = 1): KafkaRecord[] {
  const next = new Map<number, bigint>()
  return Array.from({ length: count }, (_, i) => {
    const partition = i % partitions
    const offset = next.get(partition) ?? 0n
    next.set(partition, offset + 1n)
    return {
      topic,
      partition,
      offset,
      timestampMs: Date.UTC(2018, 2, 21) + i,
      timestampType: 'create',
      key: Buffer.from(`k${i}`),
      value: Buffer.from(value(i)),
      headers: [{ key: 'i', value: Buffer.from(String(i)) }],
    }
  })
}

/** The n-th record's index, from the header memoryRecords gives it. */
export function indexOf(r: { headers: ReadonlyArray<{ key: string; value: Buffer | null }> }): number {
  return Number(r.headers.find((h) => h.key === 'i')?.value?.toString())
}

export interface MemoryOutage {
  /** The read fails (once) when it reaches this record of this partition. */
  partition: number
  offset: bigint
  error: RecoveryError
  /** probe() fails this many times before the source answers again. */
  probeFailures: number
}

/** Records in hand, read by offset ranges a few records at a time, with an optional outage. */
export class MemorySource implements RecordSource {
  probes = 0
  closes = 0
  private outage: MemoryOutage | undefined
  private readonly chunk: number
  private probeFailures = 0
  private probeError: RecoveryError | undefined

  constructor(
    readonly topic: string,
    private readonly records: readonly KafkaRecord[],
    options: { chunk?: number; outage?: MemoryOutage } = {},
  ) {
    this.chunk = options.chunk ?? 7
    this.outage = options.outage
  }

  async plan(): Promise<SourcePlan> {
    const ends = new Map<number, bigint>()
    for (const r of this.records) ends.set(r.partition, r.offset + 1n > (ends.get(r.partition) ?? 0n) ? r.offset + 1n : ends.get(r.partition)!)
    return { ranges: [...ends].sort(([a], [b]) => a - b).map(([partition, end]) => ({ partition, start: 0n, end })), warnings: [] }
  }

  async *read(ranges: readonly PartitionRange[], signal: AbortSignal): AsyncIterable<readonly SourceChunk[]> {
    const positions = new Map(ranges.map((r) => [r.partition, r.start]))
    for (;;) {
      if (signal.aborted) return
      const chunks: SourceChunk[] = []
      for (const r of ranges) {
        const at = positions.get(r.partition)!
        if (at >= r.end) continue
        const records = this.records.filter((x) => x.partition === r.partition && x.offset >= at && x.offset < r.end).slice(0, this.chunk)
        const o = this.outage
        if (o && o.partition === r.partition && records.some((x) => x.offset >= o.offset)) {
          this.outage = undefined
          this.probeFailures = o.probeFailures
          this.probeError = o.error
          throw o.error
        }
        const next = records.length === this.chunk ? records.at(-1)!.offset + 1n : r.end
        positions.set(r.partition, next)
        chunks.push({ partition: r.partition, records, nextOffset: next })
      }
      if (chunks.length === 0) return
      yield chunks
    }
  }

  async probe(): Promise<void> {
    this.probes++
    if (this.probeFailures-- > 0) throw this.probeError!
  }

  async close(): Promise<void> {
    this.closes++
  }
}

/** What a memory sink or quarantine holds: it outlives them, as a file outlives a crash. */
export interface MemoryStore<T> {
  items: T[]
}

/**
 * A sink that appends to a store and, like a file sink, is cut back to its checkpoint when it
 * is opened again. `reject` refuses records (quarantined, stage sink); `failOnWrite` makes
 * that write fail after appending (a crash between the write and the checkpoint).
 */
export class MemorySink implements Sink {
  readonly uri = 'memory:sink'
  readonly mayDuplicateOnResume = false
  writes = 0

  constructor(
    readonly store: MemoryStore<SinkRecord> = { items: [] },
    private readonly options: {
      reject?: (r: SinkRecord) => string | undefined
      failOnWrite?: number
      /** Writes from number `from` until (not including) number `until` throw `error` and write nothing: a broker that answers and refuses. */
      refuse?: { from: number; until?: number; error: RecoveryError }
      /** After a reopen with a checkpoint's state, this many records of the run before turn up late (takeLateResent). */
      lateAfterReopen?: number
    } = {},
  ) {}

  private late = 0

  takeLateResent(): number {
    const late = this.late
    this.late = 0
    return late
  }

  async open(resume: SinkState | undefined): Promise<SinkOpenResult> {
    if (resume) this.store.items.length = Number(resume.count ?? 0)
    if (resume) this.late = this.options.lateAfterReopen ?? 0
    return { resent: 0 }
  }

  async write(records: SinkRecord[]): Promise<SinkRejection[]> {
    this.writes++
    const refuse = this.options.refuse
    if (refuse && this.writes >= refuse.from && (refuse.until === undefined || this.writes < refuse.until)) throw refuse.error
    const rejected: SinkRejection[] = []
    records.forEach((r, index) => {
      const why = this.options.reject?.(r)
      if (why) rejected.push({ index, error: new Error(why) })
      else this.store.items.push(r)
    })
    if (this.writes === this.options.failOnWrite)
      throw new RecoveryError('SINK_FAILED', `The memory sink failed after its write ${this.writes} (as a crash before the checkpoint would).`)
    return rejected
  }

  async checkpoint(): Promise<SinkState> {
    return { count: this.store.items.length }
  }

  async discard(): Promise<void> {
    this.store.items.length = 0
  }

  async close(): Promise<void> {}
}

/** A quarantine that appends to a store, cut back to its checkpoint when opened again. */
export class MemoryQuarantine implements Quarantine {
  readonly uri = 'memory:quarantine'
  readonly alreadyQuarantined = 0

  constructor(readonly store: MemoryStore<QuarantineEntry> = { items: [] }) {}

  async open(resume?: SinkState): Promise<void> {
    if (resume) this.store.items.length = Number(resume.count ?? 0)
  }

  async write(entries: QuarantineEntry[]): Promise<void> {
    this.store.items.push(...entries)
  }

  async checkpoint(): Promise<SinkState> {
    return { count: this.store.items.length }
  }

  async close(): Promise<void> {}
}
