import { createHash } from 'node:crypto'

/** 64-bit content hashes of a record, for telling copies apart without keeping the bytes. */
export interface ContentHashes {
  /** Of the value bytes; null for a null value (a tombstone). */
  value: bigint | null
  /** Of the value (null marked) and every header in order (key, null marker, value): equal when the copies are byte-identical. */
  record: bigint
}

const NULL_MARK = Buffer.from([0])
const VALUE_MARK = Buffer.from([1])

/**
 * MD5, cut to 64 bits: not for security, only so that identical bytes give identical numbers.
 * Two different payloads collide with a chance of about n²/2^65 in a range of n records
 * (3e-8 for a million), which an audit can live with.
 */
export function contentHashes(value: Buffer | null, headers: ReadonlyArray<{ key: string; value: Buffer | null }>): ContentHashes {
  const h = createHash('md5')
  let valueHash: bigint | null = null
  if (value === null) h.update(NULL_MARK)
  else {
    h.update(VALUE_MARK)
    h.update(value)
    valueHash = h.copy().digest().readBigInt64LE(0)
  }
  const length = Buffer.alloc(4)
  for (const header of headers) {
    const key = Buffer.from(header.key, 'utf8')
    length.writeUInt32LE(key.length, 0)
    h.update(length)
    h.update(key)
    if (header.value === null) h.update(NULL_MARK)
    else {
      length.writeUInt32LE(header.value.length, 0)
      h.update(VALUE_MARK)
      h.update(length)
      h.update(header.value)
    }
  }
  return { value: valueHash, record: h.digest().readBigInt64LE(0) }
}
