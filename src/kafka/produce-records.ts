import type { CompressionTypes, Message, Producer, RecordMetadata } from 'kafkajs'
import { RecoveryError } from '../errors.js'
import { installProduceEncoding } from './produce-encoding/install.js'

/** A record with an explicit partition and timestamp, as fixtures and replays produce them. */
export interface ProducibleRecord {
  partition: number
  key: Buffer | null
  value: Buffer | null
  timestampMs: number
  headers?: Record<string, string>
}

export interface ProduceProgress {
  /** Records acknowledged so far. */
  records: number
  /** Key, value and header bytes acknowledged so far. */
  bytes: number
}

export interface ProduceRecordsOptions {
  /** Records per produce request (one partition each). A kafkajs client not made by createKafka groups messages in O(n²): keep it in the hundreds there. */
  batchSize?: number
  /** Produce requests in flight at once, across partitions; a partition never has more than one. */
  maxInFlight?: number
  /** Default: none. kafkajs itself only ships GZIP. */
  compression?: CompressionTypes
  /** Called after every acknowledged request. */
  onProgress?: (progress: ProduceProgress) => void
}

export interface ProducedPartition {
  partition: number
  records: number
  /** Offset of the first record written, null when none were. */
  firstOffset: bigint | null
  /** Offset after the last record written. */
  nextOffset: bigint | null
  /** False when another writer (or a retried request appended twice) put records between ours. */
  contiguous: boolean
}

export interface ProduceRecordsResult {
  records: number
  bytes: number
  partitions: ProducedPartition[]
}

export const DEFAULT_PRODUCE_BATCH_SIZE = 500
export const DEFAULT_PRODUCE_MAX_IN_FLIGHT = 4

/**
 * Produces records in order with their explicit partition and timestamp (CreateTime), with
 * `acks: -1`. Several requests are in flight, but never two for the same partition, so
 * per-partition order holds even when kafkajs retries a request. Memory stays bounded:
 * at most one open batch per partition plus the requests in flight.
 */
export async function produceRecords(
  producer: Producer,
  topic: string,
  records: Iterable<ProducibleRecord> | AsyncIterable<ProducibleRecord>,
  options: ProduceRecordsOptions = {},
): Promise<ProduceRecordsResult> {
  const batchSize = options.batchSize ?? DEFAULT_PRODUCE_BATCH_SIZE
  const maxInFlight = options.maxInFlight ?? DEFAULT_PRODUCE_MAX_IN_FLIGHT
  if (!(Number.isSafeInteger(batchSize) && batchSize >= 1) || !(Number.isSafeInteger(maxInFlight) && maxInFlight >= 1)) {
    throw new RecoveryError('USAGE', `batchSize and maxInFlight must be whole numbers >= 1 (got ${batchSize} and ${maxInFlight}).`)
  }
  const compression = options.compression ?? (0 as CompressionTypes)
  // From here on kafkajs's Produce requests are encoded by recover, straight from these records.
  installProduceEncoding()

  interface Open {
    messages: Message[]
    bytes: number
  }
  const open = new Map<number, Open>()
  const inFlight = new Map<number, Promise<void>>()
  const produced = new Map<number, ProducedPartition>()
  const progress: ProduceProgress = { records: 0, bytes: 0 }
  let failure: { error: unknown } | undefined

  const send = (partition: number, batch: Open): Promise<void> =>
    producer
      .send({ topic, acks: -1, compression, messages: batch.messages })
      .then((metadata) => {
        record(partition, batch.messages.length, metadata)
        progress.records += batch.messages.length
        progress.bytes += batch.bytes
        options.onProgress?.({ ...progress })
      })
      .catch((error: unknown) => {
        failure ??= { error }
      })
      .finally(() => inFlight.delete(partition))

  const record = (partition: number, count: number, metadata: RecordMetadata[]): void => {
    const meta = metadata.find((m) => m.partition === partition && m.topicName === topic)
    const entry = produced.get(partition) ?? { partition, records: 0, firstOffset: null, nextOffset: null, contiguous: true }
    produced.set(partition, entry)
    entry.records += count
    if (meta?.baseOffset === undefined) {
      entry.contiguous = false
      return
    }
    const base = BigInt(meta.baseOffset)
    if (entry.nextOffset !== null && base !== entry.nextOffset) entry.contiguous = false
    entry.firstOffset ??= base
    entry.nextOffset = base + BigInt(count)
  }

  const throwIfFailed = (): void => {
    if (failure) throw failure.error
  }

  const dispatch = async (partition: number, batch: Open): Promise<void> => {
    open.delete(partition)
    for (let pending = inFlight.get(partition); pending; pending = inFlight.get(partition)) await pending
    while (inFlight.size >= maxInFlight) await Promise.race(inFlight.values())
    throwIfFailed()
    inFlight.set(partition, send(partition, batch))
    // Let kafkajs write the request to the socket before the caller generates the next batch.
    await new Promise<void>((resolve) => setImmediate(resolve))
  }

  const add = (r: ProducibleRecord): Open | undefined => {
    let batch = open.get(r.partition)
    if (!batch) {
      batch = { messages: [], bytes: 0 }
      open.set(r.partition, batch)
    }
    // A number is what the encoder needs (kafkajs's, too, takes one).
    batch.messages.push({ partition: r.partition, key: r.key, value: r.value, timestamp: r.timestampMs as unknown as string, headers: r.headers })
    batch.bytes += (r.key?.length ?? 0) + (r.value?.length ?? 0) + headerBytes(r.headers)
    return batch.messages.length >= batchSize ? batch : undefined
  }

  try {
    if (Symbol.asyncIterator in records) {
      for await (const r of records) {
        const full = add(r)
        if (full) await dispatch(r.partition, full)
      }
    } else {
      for (const r of records) {
        const full = add(r)
        if (full) await dispatch(r.partition, full)
      }
    }
    for (const [partition, batch] of [...open]) await dispatch(partition, batch)
  } finally {
    await Promise.all(inFlight.values())
  }
  throwIfFailed()
  return {
    records: progress.records,
    bytes: progress.bytes,
    partitions: [...produced.values()].sort((a, b) => a.partition - b.partition),
  }
}

function headerBytes(headers: Record<string, string> | undefined): number {
  if (!headers) return 0
  let n = 0
  for (const name in headers) n += Buffer.byteLength(name) + Buffer.byteLength(headers[name]!)
  return n
}
