/**
 * Kafka's zigzag varints (record fields) and varlongs (timestamp deltas), sized and written
 * straight into a buffer: no intermediate arrays or Long objects.
 */

/** Bytes of the zigzag varint of a 32-bit integer. */
export function sizeOfVarInt(value: number): number {
  let z = ((value << 1) ^ (value >> 31)) >>> 0
  let size = 1
  while (z >= 0x80) {
    z >>>= 7
    size++
  }
  return size
}

/** Writes the zigzag varint of a 32-bit integer at `offset`; returns the offset after it. */
export function writeVarInt(buffer: Uint8Array, offset: number, value: number): number {
  let z = ((value << 1) ^ (value >> 31)) >>> 0
  while (z >= 0x80) {
    buffer[offset++] = (z & 0x7f) | 0x80
    z >>>= 7
  }
  buffer[offset++] = z
  return offset
}

const TWO_POW_31 = 2 ** 31
/** Beyond this the zigzag form of a number is no longer exact as a double: such varlongs go through BigInt. */
const EXACT_LIMIT = 2 ** 52

/** Bytes of the zigzag varlong of an integer (a timestamp delta). */
export function sizeOfVarLong(value: number): number {
  if (value > -TWO_POW_31 && value < TWO_POW_31) return sizeOfVarInt(value)
  if (value > -EXACT_LIMIT && value < EXACT_LIMIT) {
    let z = value >= 0 ? value * 2 : -value * 2 - 1
    let size = 1
    while (z >= 0x80) {
      z = Math.floor(z / 0x80)
      size++
    }
    return size
  }
  let z = zigzag64(value)
  let size = 1
  while (z >= 0x80n) {
    z >>= 7n
    size++
  }
  return size
}

/** Writes the zigzag varlong of an integer at `offset`; returns the offset after it. */
export function writeVarLong(buffer: Uint8Array, offset: number, value: number): number {
  if (value > -TWO_POW_31 && value < TWO_POW_31) return writeVarInt(buffer, offset, value)
  if (value > -EXACT_LIMIT && value < EXACT_LIMIT) {
    let z = value >= 0 ? value * 2 : -value * 2 - 1
    while (z >= 0x80) {
      buffer[offset++] = (z % 0x80) | 0x80
      z = Math.floor(z / 0x80)
    }
    buffer[offset++] = z
    return offset
  }
  let z = zigzag64(value)
  while (z >= 0x80n) {
    buffer[offset++] = Number(z & 0x7fn) | 0x80
    z >>= 7n
  }
  buffer[offset++] = Number(z)
  return offset
}

function zigzag64(value: number): bigint {
  const v = BigInt.asIntN(64, BigInt(value))
  return BigInt.asUintN(64, (v << 1n) ^ (v >> 63n))
}
