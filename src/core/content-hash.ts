/** 64-bit content hashes of a record, for telling copies apart without keeping the bytes. */
export interface ContentHashes {
  /** Of the value bytes; null for a null value (a tombstone). */
  value: bigint | null
  /** Of the value (null marked) and every header in order (key, value, nulls marked): equal when the copies are byte-identical. */
  record: bigint
}

const SEED_A = 0x9747b28c
const SEED_B = 0x5bd1e995
const NULL_MARK = 0x6e756c6c
const EMPTY = Buffer.alloc(0)

/**
 * Two MurmurHash3 (x86, 32-bit) passes with different seeds make a 64-bit hash: not for
 * security, only so that identical bytes give identical numbers, at a fraction of the cost of
 * a cryptographic hash (which took most of the scan time). Each piece (value, header key
 * as UTF-8, header value) is hashed with the previous piece's hash as its seed, and MurmurHash3 mixes
 * in the length, so the boundaries between pieces count. For inputs nobody crafted, two
 * different payloads collide with a chance of about n²/2^65 in a range of n records.
 */
export function contentHashes(value: Buffer | null, headers: ReadonlyArray<{ key: string; value: Buffer | null }>): ContentHashes {
  let a: number
  let b: number
  let valueHash: bigint | null = null
  if (value === null) {
    a = murmur3(EMPTY, SEED_A ^ NULL_MARK)
    b = murmur3(EMPTY, SEED_B ^ NULL_MARK)
  } else {
    a = murmur3(value, SEED_A)
    b = murmur3(value, SEED_B)
    valueHash = combine(a, b)
  }
  for (const header of headers) {
    const key = Buffer.from(header.key, 'utf8')
    a = murmur3(key, a)
    b = murmur3(key, b)
    if (header.value === null) {
      a = murmur3(EMPTY, a ^ NULL_MARK)
      b = murmur3(EMPTY, b ^ NULL_MARK)
    } else {
      a = murmur3(header.value, a)
      b = murmur3(header.value, b)
    }
  }
  return { value: valueHash, record: combine(a, b) }
}

/**
 * The same hashes, of a record that is still in the bytes it arrived in: the value at
 * [valueStart, valueStart + valueLength) (valueStart -1: null), header i's key and value at
 * headerRanges[4i..4i+3] = key start, key length, value start (-1: null), value length.
 */
export function contentHashesInPlace(bytes: Uint8Array, valueStart: number, valueLength: number, headerRanges: Int32Array, headerCount: number): ContentHashes {
  let a: number
  let b: number
  let valueHash: bigint | null = null
  if (valueStart < 0) {
    a = murmur3(EMPTY, SEED_A ^ NULL_MARK)
    b = murmur3(EMPTY, SEED_B ^ NULL_MARK)
  } else {
    a = murmur3(bytes, SEED_A, valueStart, valueLength)
    b = murmur3(bytes, SEED_B, valueStart, valueLength)
    valueHash = combine(a, b)
  }
  for (let i = 0; i < headerCount; i++) {
    const at = 4 * i
    a = murmur3(bytes, a, headerRanges[at]!, headerRanges[at + 1]!)
    b = murmur3(bytes, b, headerRanges[at]!, headerRanges[at + 1]!)
    if (headerRanges[at + 2]! < 0) {
      a = murmur3(EMPTY, a ^ NULL_MARK)
      b = murmur3(EMPTY, b ^ NULL_MARK)
    } else {
      a = murmur3(bytes, a, headerRanges[at + 2]!, headerRanges[at + 3]!)
      b = murmur3(bytes, b, headerRanges[at + 2]!, headerRanges[at + 3]!)
    }
  }
  return { value: valueHash, record: combine(a, b) }
}

function combine(a: number, b: number): bigint {
  return BigInt.asIntN(64, (BigInt(a >>> 0) << 32n) | BigInt(b >>> 0))
}

/** MurmurHash3 x86_32 of bytes (of bytes[start, start + length) when given). */
export function murmur3(bytes: Uint8Array, seed: number, start = 0, length = bytes.length - start): number {
  let h = seed | 0
  const n = length
  const blocks = start + (n & ~3)
  let i = start
  for (; i < blocks; i += 4) {
    h = mixBlock(h, bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24))
  }
  const tail = n & 3
  if (tail > 0) {
    let k = bytes[i]!
    if (tail > 1) k ^= bytes[i + 1]! << 8
    if (tail > 2) k ^= bytes[i + 2]! << 16
    h ^= scramble(k)
  }
  return finish(h, n)
}

function scramble(k: number): number {
  k = Math.imul(k, 0xcc9e2d51)
  k = (k << 15) | (k >>> 17)
  return Math.imul(k, 0x1b873593)
}

function mixBlock(h: number, k: number): number {
  h ^= scramble(k)
  h = (h << 13) | (h >>> 19)
  return (Math.imul(h, 5) + 0xe6546b64) | 0
}

function finish(h: number, length: number): number {
  h ^= length
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}
