import type { Codec } from './codec.js'
import { EncodeError } from './decode-error.js'
import { describeValue } from './string-codec.js'

/** Raw bytes, untouched both ways: every payload decodes. */
export function createBytesCodec(): Codec {
  return {
    format: 'bytes',
    prepare: () => Promise.resolve(),
    decode: (bytes: Buffer): Buffer => bytes,
    encode(value: unknown): Buffer {
      if (Buffer.isBuffer(value)) return value
      if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength)
      throw new EncodeError('not-bytes', `Expected bytes (a Buffer or Uint8Array) to write, got ${describeValue(value)}.`)
    },
  }
}
