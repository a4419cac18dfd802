import { isUtf8 } from 'node:buffer'
import { COPY_NULL } from '../postgres/upsert-table.js'
import { numberText, PROVENANCE_COLUMNS } from './value-columns.js'

/**
 * COPY text made straight from the bytes of flat JSON objects, for a replay into PostgreSQL
 * with no transform: no JSON.parse, no value objects, no strings per field, and no UTF-8
 * encoding of the text again on its way to the server. Each record's line is copied into one
 * buffer per batch, field by field, in the table's column order.
 *
 * It takes only values whose line it can write exactly as the general path (decode, then the
 * column converters of postgres-sink.ts) would: an object of the table's columns whose values
 * are strings without escapes, canonical numbers, booleans and nulls. Anything else (an
 * escape, a nested value, a field the table has no column for, a number JSON.parse would
 * round, bytes that are not UTF-8, text that is not JSON) is declined, and the caller decodes
 * that record the general way, which also classifies what is wrong with it.
 */

/** How a column's value is written: 'text' takes strings, numbers and booleans; 'string' only strings; 'none' only null. */
type Accepts = 'text' | 'string' | 'none'

/** The columns as the direct path writes them, fixed when the table's columns are known. */
export interface JsonCopyPlan {
  /** Each column's name as UTF-8, null for the provenance columns (filled from where the record was read). */
  names: Array<Buffer | null>
  accepts: Accepts[]
  provenance: Array<(typeof PROVENANCE_COLUMNS)[number] | null>
  /** The key columns' positions, for the batch's key identity (as postgres-sink.ts's keyId makes it). */
  keyAt: number[]
}

/** The plan for a table's columns (PostgreSQL type names as information_schema reports them). */
export function jsonCopyPlan(columns: ReadonlyArray<{ name: string; type: string }>, keyAt: number[]): JsonCopyPlan {
  const provenance = columns.map((c) => ((PROVENANCE_COLUMNS as readonly string[]).includes(c.name) ? (c.name as (typeof PROVENANCE_COLUMNS)[number]) : null))
  return {
    names: columns.map((c, j) => (provenance[j] ? null : Buffer.from(c.name, 'utf8'))),
    accepts: columns.map((c) => accepts(c.type)),
    provenance,
    keyAt,
  }
}

/** Mirrors postgres-sink.ts's pgConversion: json, jsonb and bytea values are rewritten, numbers in a time column become dates. */
function accepts(type: string): Accepts {
  if (type === 'json' || type === 'jsonb' || type === 'bytea') return 'none'
  if (type.startsWith('timestamp') || type === 'date') return 'string'
  return 'text'
}

/** What a column's field held in the value being read. */
const ABSENT = 0
const STRING = 1
const NUMBER = 2
const TRUE = 3
const FALSE = 4
const NULL = 5

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COMMA = 0x2c
const COLON = 0x3a
const OPEN = 0x7b
const CLOSE = 0x7d
const MINUS = 0x2d
const ZERO = 0x30
const NINE = 0x39
const NULL_TEXT = Buffer.from(COPY_NULL, 'latin1')
const TRUE_TEXT = Buffer.from('true', 'latin1')
const FALSE_TEXT = Buffer.from('false', 'latin1')
/** Whole numbers of up to 15 digits print as they are read; longer ones are checked (JSON.parse may round them). */
const EXACT_DIGITS = 15

/** A batch's lines made by a JsonCopyText, and for each record of the batch its line (-1: none, the record is formatted the general way). */
export interface DirectLines {
  text: JsonCopyText
  lineOf: Int32Array
}

/** One batch's lines: append() each record, then lineText()/runs by line number. */
export class JsonCopyText {
  private buffer: Buffer
  private length = 0
  /** Line n is buffer[starts[n], starts[n + 1]) including its line end. */
  readonly starts: number[] = [0]
  /** Each line's key identity (undefined: the key is NULL). */
  readonly keys: Array<string | undefined> = []
  private readonly start: Int32Array
  private readonly end: Int32Array
  private readonly kind: Uint8Array
  private topic = ''
  private topicBytes = Buffer.alloc(0)

  constructor(
    private readonly plan: JsonCopyPlan,
    capacity: number,
  ) {
    this.buffer = Buffer.allocUnsafe(Math.max(capacity, 1024))
    const n = plan.names.length
    this.start = new Int32Array(n)
    this.end = new Int32Array(n)
    this.kind = new Uint8Array(n)
  }

  get lines(): number {
    return this.keys.length
  }

  /** The bytes of the lines written so far (a view, not a copy). */
  bytes(from: number, to: number): Buffer {
    return this.buffer.subarray(this.starts[from]!, this.starts[to]!)
  }

  /** One line as text, without its line end. */
  lineText(line: number): string {
    return this.buffer.toString('utf8', this.starts[line]!, this.starts[line + 1]! - 1)
  }

  /** Writes the record's line and returns its number, or -1 when the direct path declines the value (nothing is written). */
  append(b: Buffer, topic: string, partition: number, offset: bigint): number {
    if (!this.scan(b)) return -1
    const plan = this.plan
    const columns = plan.names.length
    if (topic !== this.topic) {
      this.topic = topic
      this.topicBytes = Buffer.from(topic, 'utf8')
    }
    // Never longer than the value, a \N per column, and the provenance.
    this.reserve(b.length + columns * 4 + this.topicBytes.length + 48)
    const out = this.buffer
    let at = this.length
    let keyStart = -1
    let keyEnd = -1
    let compositeKey: Array<string | undefined> | undefined
    for (let j = 0; j < columns; j++) {
      if (j > 0) out[at++] = 0x09
      const from = at
      const provenance = plan.provenance[j]
      if (provenance === 'source_topic') at = put(out, at, this.topicBytes, 0, this.topicBytes.length)
      else if (provenance === 'source_partition') at = putDigits(out, at, partition)
      else if (provenance === 'source_offset') at = offset <= MAX_SAFE ? putDigits(out, at, Number(offset)) : at + out.write(String(offset), at, 'latin1')
      else {
        switch (this.kind[j]) {
          case STRING:
          case NUMBER:
            at = put(out, at, b, this.start[j]!, this.end[j]!)
            break
          case TRUE:
            at = put(out, at, TRUE_TEXT, 0, 4)
            break
          case FALSE:
            at = put(out, at, FALSE_TEXT, 0, 5)
            break
          default:
            at = put(out, at, NULL_TEXT, 0, 2)
        }
      }
      if (plan.keyAt.length === 1) {
        if (plan.keyAt[0] === j) {
          keyStart = from
          keyEnd = at
        }
      } else if (plan.keyAt.includes(j)) {
        compositeKey ??= []
        compositeKey[plan.keyAt.indexOf(j)] = out.toString('utf8', from, at)
      }
    }
    out[at++] = 0x0a
    this.length = at
    this.starts.push(at)
    if (plan.keyAt.length === 1) {
      const key = out.toString('utf8', keyStart, keyEnd)
      this.keys.push(key === COPY_NULL ? undefined : key)
    } else if (compositeKey === undefined || compositeKey.includes(COPY_NULL)) {
      this.keys.push(undefined)
    } else {
      this.keys.push(JSON.stringify(compositeKey))
    }
    return this.keys.length - 1
  }

  /** Reads a flat object into start/end/kind per column; false when the direct path must decline it. */
  private scan(b: Buffer): boolean {
    const plan = this.plan
    const names = plan.names
    const columns = names.length
    this.kind.fill(ABSENT)
    const n = b.length
    let high = false
    let i = skipSpace(b, 0, n)
    if (b[i] !== OPEN) return false
    i = skipSpace(b, i + 1, n)
    let hint = 0
    if (b[i] === CLOSE) i++
    else {
      for (;;) {
        if (b[i] !== QUOTE) return false
        const keyStart = ++i
        for (; i < n; i++) {
          const c = b[i]!
          if (c === QUOTE) break
          if (c === BACKSLASH || c < 0x20) return false
          if (c >= 0x80) high = true
        }
        if (i >= n) return false
        const j = columnOf(names, b, keyStart, i, hint)
        if (j < 0 || this.kind[j] !== ABSENT) return false
        hint = j + 1
        i = skipSpace(b, i + 1, n)
        if (b[i] !== COLON) return false
        i = skipSpace(b, i + 1, n)
        const c = b[i]
        const valueStart = c === QUOTE ? i + 1 : i
        let kind: number
        if (c === QUOTE) {
          for (i++; i < n; i++) {
            const d = b[i]!
            if (d === QUOTE) break
            if (d === BACKSLASH || d < 0x20) return false
            if (d >= 0x80) high = true
          }
          if (i >= n) return false
          this.end[j] = i++
          kind = STRING
        } else if (c === 0x74) {
          if (b[i + 1] !== 0x72 || b[i + 2] !== 0x75 || b[i + 3] !== 0x65) return false
          i += 4
          kind = TRUE
        } else if (c === 0x66) {
          if (b[i + 1] !== 0x61 || b[i + 2] !== 0x6c || b[i + 3] !== 0x73 || b[i + 4] !== 0x65) return false
          i += 5
          kind = FALSE
        } else if (c === 0x6e) {
          if (b[i + 1] !== 0x75 || b[i + 2] !== 0x6c || b[i + 3] !== 0x6c) return false
          i += 4
          kind = NULL
        } else if (c === MINUS || (c !== undefined && c >= ZERO && c <= NINE)) {
          i = numberEnd(b, i, n)
          if (i < 0 || !printsAsRead(b, valueStart, i)) return false
          this.end[j] = i
          kind = NUMBER
        } else {
          // An object, an array, or not JSON.
          return false
        }
        const accepted = plan.accepts[j]
        if (kind !== NULL && (accepted === 'none' || (accepted === 'string' && kind !== STRING))) return false
        this.kind[j] = kind
        this.start[j] = valueStart
        i = skipSpace(b, i, n)
        if (b[i] === COMMA) {
          i = skipSpace(b, i + 1, n)
          continue
        }
        if (b[i] !== CLOSE) return false
        i++
        break
      }
    }
    if (skipSpace(b, i, n) !== n) return false
    if (high && !isUtf8(b)) return false
    for (let j = 0; j < columns; j++) if (plan.provenance[j] === null && this.kind[j] === ABSENT) this.kind[j] = NULL
    return true
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + bytes))
    this.buffer.copy(grown, 0, 0, this.length)
    this.buffer = grown
  }
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)

/** Writes a whole number ≥ 0 in decimal, without making a string of it. */
function putDigits(out: Buffer, at: number, n: number): number {
  let digits = 1
  for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++
  let k = at + digits
  for (let x = n; k > at; x = Math.floor(x / 10)) out[--k] = ZERO + (x % 10)
  return at + digits
}

/** Copies b[from, to) to out at `at`; short runs by hand (a native copy costs more than a few bytes). */
function put(out: Buffer, at: number, b: Buffer, from: number, to: number): number {
  if (to - from > 24) return at + b.copy(out, at, from, to)
  for (let k = from; k < to; k++) out[at++] = b[k]!
  return at
}

function skipSpace(b: Buffer, i: number, n: number): number {
  while (i < n) {
    const c = b[i]
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break
    i++
  }
  return i
}

/** The column whose name is b[from, to), trying `hint` first (fields usually come in column order); -1 when none. */
function columnOf(names: Array<Buffer | null>, b: Buffer, from: number, to: number, hint: number): number {
  if (hint < names.length && sameBytes(names[hint], b, from, to)) return hint
  for (let j = 0; j < names.length; j++) if (j !== hint && sameBytes(names[j], b, from, to)) return j
  return -1
}

function sameBytes(name: Buffer | null | undefined, b: Buffer, from: number, to: number): boolean {
  if (!name || name.length !== to - from) return false
  for (let k = 0; k < name.length; k++) if (name[k] !== b[from + k]) return false
  return true
}

/** The end of the JSON number at i (RFC 8259 grammar), or -1 when it is not one. */
function numberEnd(b: Buffer, i: number, n: number): number {
  if (b[i] === MINUS) i++
  const first = b[i]
  if (first === ZERO) i++
  else if (first !== undefined && first > ZERO && first <= NINE) {
    while (i < n && b[i]! >= ZERO && b[i]! <= NINE) i++
  } else return -1
  if (b[i] === 0x2e) {
    i++
    const digits = i
    while (i < n && b[i]! >= ZERO && b[i]! <= NINE) i++
    if (i === digits) return -1
  }
  if (b[i] === 0x65 || b[i] === 0x45) {
    i++
    if (b[i] === 0x2b || b[i] === MINUS) i++
    const digits = i
    while (i < n && b[i]! >= ZERO && b[i]! <= NINE) i++
    if (i === digits) return -1
  }
  return i
}

/** True when the number's text is what the general path prints for it (JSON.parse, then numberText). */
function printsAsRead(b: Buffer, from: number, to: number): boolean {
  const negative = b[from] === MINUS
  const digits = to - from - (negative ? 1 : 0)
  let whole = digits <= EXACT_DIGITS
  for (let k = negative ? from + 1 : from; whole && k < to; k++) if (b[k]! < ZERO || b[k]! > NINE) whole = false
  // "-0" parses to -0, which prints as "0".
  if (whole) return !(negative && digits === 1 && b[to - 1] === ZERO)
  const text = b.toString('latin1', from, to)
  return numberText(Number(text)) === text
}
