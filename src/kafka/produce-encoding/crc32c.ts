/**
 * CRC32C (Castagnoli), as Kafka checks it over a record batch, slice-by-8: eight table lookups
 * per eight bytes instead of one per byte (kafkajs's loop), the difference between a few
 * percent and a fifth of the produce path's time.
 */
const POLYNOMIAL = 0x82f63b78
const TABLES = buildTables()

function buildTables(): Int32Array {
  const t = new Int32Array(8 * 256)
  for (let i = 0; i < 256; i++) {
    let c = i
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLYNOMIAL : c >>> 1
    t[i] = c
  }
  for (let i = 0; i < 256; i++) {
    for (let slice = 1; slice < 8; slice++) {
      const previous = t[(slice - 1) * 256 + i]!
      t[slice * 256 + i] = (previous >>> 8) ^ t[previous & 0xff]!
    }
  }
  return t
}

/** The CRC32C of `bytes[start, end)`, as an unsigned 32-bit number. */
export function crc32c(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const t = TABLES
  let c = -1
  let i = start
  for (const last = end - 8; i <= last; i += 8) {
    c ^= bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24)
    const high = bytes[i + 4]! | (bytes[i + 5]! << 8) | (bytes[i + 6]! << 16) | (bytes[i + 7]! << 24)
    c =
      t[1792 + (c & 0xff)]! ^
      t[1536 + ((c >>> 8) & 0xff)]! ^
      t[1280 + ((c >>> 16) & 0xff)]! ^
      t[1024 + (c >>> 24)]! ^
      t[768 + (high & 0xff)]! ^
      t[512 + ((high >>> 8) & 0xff)]! ^
      t[256 + ((high >>> 16) & 0xff)]! ^
      t[high >>> 24]!
  }
  for (; i < end; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8)
  return ~c >>> 0
}
