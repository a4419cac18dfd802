import type { KafkaRecord } from './kafka-record.js'
import type { RecordHeader } from './ordered-headers.js'
import type { RecordView } from './record-batch-walker.js'

/**
 * Builds replay records from in-place views (record-batch-walker.ts): key, value and header
 * values are subarrays of the fetch response (or of the decompressed batch), not copies, so a
 * record costs its object, its headers and a few views. Like kafkajs's own decoded buffers,
 * they keep the response they belong to alive while the record is.
 *
 * Header keys repeat from record to record (the same few names in the same places), so the
 * string of each header position is kept and reused while its bytes do not change.
 */
export class ViewRecords {
  private readonly keyBytes: Buffer[] = []
  private readonly keyStrings: string[] = []

  constructor(readonly topic: string) {}

  recordOf(view: RecordView): KafkaRecord {
    const bytes = view.bytes
    const count = view.headerCount
    const headers: RecordHeader[] = new Array(count)
    const ranges = view.headerRanges
    for (let h = 0; h < count; h++) {
      const valueStart = ranges[4 * h + 2]!
      headers[h] = {
        key: this.headerKey(h, bytes, ranges[4 * h]!, ranges[4 * h + 1]!),
        value: valueStart < 0 ? null : bytes.subarray(valueStart, valueStart + ranges[4 * h + 3]!),
      }
    }
    return {
      topic: this.topic,
      partition: view.partition,
      offset: view.offset,
      timestampMs: view.timestampMs,
      timestampType: view.logAppendTime ? 'log-append' : 'create',
      key: view.keyStart < 0 ? null : bytes.subarray(view.keyStart, view.keyStart + view.keyLength),
      value: view.valueStart < 0 ? null : bytes.subarray(view.valueStart, view.valueStart + view.valueLength),
      headers,
    }
  }

  /** The key of header `h` as a string: the one kept for position h when its bytes are the same. */
  private headerKey(h: number, bytes: Buffer, start: number, length: number): string {
    const kept = this.keyBytes[h]
    if (kept !== undefined && kept.length === length) {
      let same = true
      for (let i = 0; i < length; i++) {
        if (kept[i] !== bytes[start + i]) {
          same = false
          break
        }
      }
      if (same) return this.keyStrings[h]!
    }
    const key = bytes.toString('utf8', start, start + length)
    // Positions far down a long header list are rare: not worth keeping.
    if (h < 16 && length <= 64) {
      this.keyBytes[h] = Buffer.from(bytes.subarray(start, start + length))
      this.keyStrings[h] = key
    }
    return key
  }
}
