import type { KafkaRecord } from '../kafka/kafka-record.js'
import type { SourceChunk } from './record-source.js'

/** The records of one sink batch, and where each partition continues once they are written. */
export interface WorkInputs {
  inputs: KafkaRecord[]
  bytes: number
  /** Partition -> next offset after this batch (past gaps for partitions whose chunk ended). */
  positions: Map<number, bigint>
}

/** Gathers the records read into sink batches. */
export class WorkBatch implements WorkInputs {
  inputs: KafkaRecord[] = []
  bytes = 0
  positions = new Map<number, bigint>()

  /** Adds records [from, to) of one partition's chunk (to > from). */
  add(records: readonly KafkaRecord[], from: number, to: number): void {
    const inputs = this.inputs
    let bytes = 0
    for (let i = from; i < to; i++) {
      const r = records[i]!
      inputs.push(r)
      bytes += (r.key?.length ?? 0) + (r.value?.length ?? 0)
    }
    this.bytes += bytes
    const last = records[to - 1]!
    this.positions.set(last.partition, last.offset + 1n)
  }

  advance(chunk: SourceChunk): void {
    this.positions.set(chunk.partition, chunk.nextOffset)
  }

  /** Hands over the records and positions gathered so far and starts an empty batch. */
  take(): WorkInputs {
    const taken = { inputs: this.inputs, bytes: this.bytes, positions: this.positions }
    this.inputs = []
    this.bytes = 0
    this.positions = new Map()
    return taken
  }
}
