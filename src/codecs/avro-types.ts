import avro from 'avsc'
import type { Schema, Type } from 'avsc'

/**
 * How we build avsc types. Two things differ from avsc's defaults, both for bytes nobody
 * vetted (a recovery tool reads exactly the records that broke something):
 *
 * - Bounded reads. avsc trusts the item count of an array or map block: a corrupt count of
 *   2^40 makes it loop (and allocate) that many times, past the end of the buffer. Our
 *   arrays and maps stop as soon as the buffer is exhausted, and refuse counts that claim
 *   more items than there are bytes left (beyond MAX_ITEMS_WITHOUT_BYTES, for zero-width
 *   items such as nulls).
 * - Longs beyond 2^53. avsc's default long throws "potential precision loss"; rather than
 *   lose or reject data, a second, "wide" variant of the same schema reads such longs as
 *   bigint (and safe ones still as numbers). The fast variant stays the default because
 *   avsc's own long is much faster, and the wide one is only built when a record needs it.
 */

/** Zero-width items (null, empty records) can legitimately outnumber the bytes left; up to this many. */
export const MAX_ITEMS_WITHOUT_BYTES = 1_000_000

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER)
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)
const INT64_MIN = -(1n << 63n)
const INT64_MAX = (1n << 63n) - 1n

/** A long read as a number when it is safe, else as a bigint; writes both. */
const wideLong: Type = avro.types.LongType.__with({
  fromBuffer(buf: Buffer): number | bigint {
    const n = buf.readBigInt64LE(0)
    return n >= MIN_SAFE && n <= MAX_SAFE ? Number(n) : n
  },
  toBuffer(n: number | bigint): Buffer {
    const buf = Buffer.alloc(8)
    buf.writeBigInt64LE(BigInt(n), 0)
    return buf
  },
  fromJSON(json: unknown): number | bigint {
    if (typeof json === 'number') return json
    return BigInt(json as string)
  },
  toJSON(n: number | bigint): number | string {
    return typeof n === 'bigint' ? n.toString() : n
  },
  isValid(n: unknown): boolean {
    if (typeof n === 'number') return Number.isSafeInteger(n)
    return typeof n === 'bigint' && n >= INT64_MIN && n <= INT64_MAX
  },
  compare(a: number | bigint, b: number | bigint): number {
    return a < b ? -1 : a > b ? 1 : 0
  },
})

export interface ParseOptions {
  /**
   * Named types by full name: those defined elsewhere (other files, registry references) going
   * in, plus those this schema defines coming out (the object is filled in).
   */
  registry?: Record<string, Type>
  /** Read longs beyond 2^53 as bigint instead of failing. */
  wide?: boolean
}

/** Parses a schema into a bounded avsc type. Throws avsc's own Error for an invalid schema. */
export function parseAvroType(schema: Schema, options: ParseOptions = {}): Type {
  return avro.Type.forSchema(schema, {
    registry: options.registry ?? {},
    typeHook: options.wide ? wideHook : boundedHook,
  })
}

const wideVariants = new WeakMap<Type, Type>()

/** The same schema, reading longs beyond 2^53 as bigint (built once per type). */
export function wideVariant(type: Type): Type {
  let wide = wideVariants.get(type)
  if (!wide) {
    wide = parseAvroType(type.schema({ exportAttrs: true }) as Schema, { wide: true })
    wideVariants.set(type, wide)
  }
  return wide
}

/** avsc calls this for every (sub)schema before building it: arrays and maps get our bounded readers. */
function boundedHook(schema: Schema, opts: object): Type | undefined {
  if (!schema || typeof schema !== 'object' || Array.isArray(schema)) return undefined
  const type = (schema as { type?: unknown }).type
  if (type === 'array') return new BoundedArrayType(schema, opts)
  if (type === 'map') return new BoundedMapType(schema, opts)
  return undefined
}

function wideHook(schema: Schema, opts: object): Type | undefined {
  if (schema === 'long') return wideLong
  if (schema && typeof schema === 'object' && !Array.isArray(schema) && (schema as { type?: unknown }).type === 'long') return wideLong
  return boundedHook(schema, opts)
}

/** avsc's reading internals, which we replace per instance on arrays and maps. */
interface Tap {
  buf: Buffer
  pos: number
  readLong(): number
  skipLong(): void
  readString(): string
  skipString(): void
}
interface Reader {
  _read(tap: Tap): unknown
  _skip(tap: Tap): void
}
interface ArrayLike extends Reader {
  itemsType: Reader
}
interface MapLike extends Reader {
  valuesType: Reader
}

type AvscTypeClass = new (schema: Schema, opts: object) => Type
const { ArrayType, MapType } = avro.types as unknown as { ArrayType: AvscTypeClass; MapType: AvscTypeClass }

/** avsc's array with reads that stop at the end of the buffer (avsc freezes instances, so this is a subclass). */
class BoundedArrayType extends ArrayType {}
class BoundedMapType extends MapType {}
Object.assign(BoundedArrayType.prototype, { _read: boundedArrayRead, _skip: boundedArraySkip })
Object.assign(BoundedMapType.prototype, { _read: boundedMapRead, _skip: boundedMapSkip })

/** Reads a block count; -1 when it cannot be honoured (the tap is then invalidated: "truncated"). */
function blockCount(tap: Tap): number {
  let n = tap.readLong()
  if (n < 0) {
    n = -n
    tap.skipLong() // the block's size in bytes
  }
  if (n > tap.buf.length - tap.pos && n > MAX_ITEMS_WITHOUT_BYTES) {
    tap.pos = tap.buf.length + 1
    return -1
  }
  return n
}

function exhausted(tap: Tap): boolean {
  return tap.pos > tap.buf.length
}

function boundedArrayRead(this: ArrayLike, tap: Tap): unknown[] {
  const items = this.itemsType
  let val: unknown[] | undefined
  let i = 0
  for (let n = blockCount(tap); n > 0; n = blockCount(tap)) {
    val ??= new Array<unknown>(n)
    while (n--) {
      val[i++] = items._read(tap)
      if (exhausted(tap)) return val
    }
  }
  return val ?? []
}

function boundedArraySkip(this: ArrayLike, tap: Tap): void {
  const items = this.itemsType
  for (let n = blockCount(tap); n > 0; n = blockCount(tap)) {
    while (n--) {
      items._skip(tap)
      if (exhausted(tap)) return
    }
  }
}

function boundedMapRead(this: MapLike, tap: Tap): Record<string, unknown> {
  const values = this.valuesType
  const val: Record<string, unknown> = {}
  for (let n = blockCount(tap); n > 0; n = blockCount(tap)) {
    while (n--) {
      const key = tap.readString()
      const value = values._read(tap)
      // A map key may be anything, "__proto__" included: keep it as data, never as a prototype.
      if (key === '__proto__') Object.defineProperty(val, key, { value, enumerable: true, writable: true, configurable: true })
      else val[key] = value
      if (exhausted(tap)) return val
    }
  }
  return val
}

function boundedMapSkip(this: MapLike, tap: Tap): void {
  const values = this.valuesType
  for (let n = blockCount(tap); n > 0; n = blockCount(tap)) {
    while (n--) {
      tap.skipString()
      values._skip(tap)
      if (exhausted(tap)) return
    }
  }
}
