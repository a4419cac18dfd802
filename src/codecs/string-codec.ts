import type { Codec } from './codec.js'
import { DecodeError, EncodeError } from './decode-error.js'
import { decodeStrictUtf8, firstInvalidUtf8 } from './strict-utf8.js'

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** UTF-8 text. Invalid sequences are a decode failure (`invalid-utf8`), never U+FFFD. */
export function createStringCodec(): Codec {
  return {
    format: 'string',
    prepare: () => Promise.resolve(),
    decode: decodeUtf8,
    encode(value: unknown): Buffer {
      if (typeof value !== 'string') throw new EncodeError('not-text', `Expected text to write as UTF-8, got ${describeValue(value)}.`)
      if (LONE_SURROGATE.test(value))
        throw new EncodeError('not-text', 'The text has a lone surrogate, which UTF-8 cannot hold; it would be written as U+FFFD.')
      return Buffer.from(value, 'utf8')
    },
  }
}

/** Strict UTF-8 decoding with the position of the first bad byte in the failure. */
export function decodeUtf8(bytes: Buffer): string {
  const text = decodeStrictUtf8(bytes)
  if (text !== undefined) return text
  const position = firstInvalidUtf8(bytes)
  const at = Math.max(position, 0)
  const shown = bytes.subarray(at, at + 4).toString('hex')
  throw new DecodeError(
    'invalid-utf8',
    `The bytes are invalid UTF-8: byte 0x${shown.slice(0, 2)} at position ${at} (${shown} from there) does not start or continue a UTF-8 sequence.`,
    { position: at },
  )
}

export function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (Buffer.isBuffer(value)) return `a Buffer of ${value.length} bytes`
  if (Array.isArray(value)) return 'an array'
  return `a ${typeof value}`
}
