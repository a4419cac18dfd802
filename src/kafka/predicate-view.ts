import type { PredicateRecord } from '../core/record-predicate.js'
import type { KafkaRecord } from './kafka-record.js'
import type { RecordView } from './record-batch-walker.js'

const BACKSLASH = 0x5c

/**
 * A record seen in place (record-batch-walker.ts), as the --where evaluator asks for it: key,
 * headers and value are read from the fetch bytes only when a test looks at them, and a
 * header is found by comparing its name's bytes, so a scan builds no record object and, for
 * `header NAME = …`, one string per record. Re-pointed at each visit (`at`).
 */
export class PredicateView implements PredicateRecord {
  private view!: RecordView
  private readonly names = new Map<string, Buffer>()
  private decoded: { value: unknown } | undefined

  /**
   * `decode`: for codecs that need no schema look-up (json, string), the value is decoded in
   * place, only when a test reaches a value field (`header v = 1 and value.a = 2` decodes
   * only the records of version 1). Returns undefined for a value it cannot decode.
   */
  constructor(
    private readonly decode?: (bytes: Buffer) => unknown,
    /** The values are JSON: a field's text, unescaped, is in the bytes (valueMayContain). */
    private readonly json = false,
  ) {}

  private readonly needles = new Map<string, Buffer>()

  valueMayContain(text: string): boolean {
    if (!this.json) return true
    const v = this.view
    if (v.valueStart < 0) return true
    let needle = this.needles.get(text)
    if (needle === undefined) {
      needle = Buffer.from(text, 'utf8')
      this.needles.set(text, needle)
    }
    const value = v.bytes.subarray(v.valueStart, v.valueStart + v.valueLength)
    // An escape (\u0041, \/) can spell the text differently: then only decoding tells.
    return value.includes(needle) || value.includes(BACKSLASH)
  }

  at(view: RecordView): this {
    this.view = view
    this.decoded = undefined
    return this
  }

  get partition(): number {
    return this.view.partition
  }

  get offset(): bigint {
    return this.view.offset
  }

  get timestampMs(): number {
    return this.view.timestampMs
  }

  key(): string | null {
    const v = this.view
    return v.keyStart < 0 ? null : v.bytes.toString('utf8', v.keyStart, v.keyStart + v.keyLength)
  }

  headerValues(name: string): Array<string | null> {
    let wanted = this.names.get(name)
    if (wanted === undefined) {
      wanted = Buffer.from(name, 'utf8')
      this.names.set(name, wanted)
    }
    const v = this.view
    const ranges = v.headerRanges
    const found: Array<string | null> = []
    for (let h = 0; h < v.headerCount; h++) {
      const start = ranges[4 * h]!
      const length = ranges[4 * h + 1]!
      if (length !== wanted.length || v.bytes.compare(wanted, 0, length, start, start + length) !== 0) continue
      const valueStart = ranges[4 * h + 2]!
      found.push(valueStart < 0 ? null : v.bytes.toString('utf8', valueStart, valueStart + ranges[4 * h + 3]!))
    }
    return found
  }

  valueText(): string | null {
    const v = this.view
    return v.valueStart < 0 ? null : v.bytes.toString('utf8', v.valueStart, v.valueStart + v.valueLength)
  }

  decodedValue(): unknown {
    if (!this.decode) return undefined
    if (this.decoded === undefined) {
      const v = this.view
      this.decoded = { value: v.valueStart < 0 ? undefined : this.decode(v.bytes.subarray(v.valueStart, v.valueStart + v.valueLength)) }
    }
    return this.decoded.value
  }
}

/** A record kept past its visit (values waiting for the codec), with its decoded value. */
export function predicateRecordOf(record: KafkaRecord, decoded: unknown): PredicateRecord {
  return {
    partition: record.partition,
    offset: record.offset,
    timestampMs: record.timestampMs,
    key: () => (record.key === null ? null : record.key.toString('utf8')),
    headerValues: (name) => record.headers.filter((h) => h.key === name).map((h) => (h.value === null ? null : h.value.toString('utf8'))),
    valueText: () => (record.value === null ? null : record.value.toString('utf8')),
    decodedValue: () => decoded,
  }
}
