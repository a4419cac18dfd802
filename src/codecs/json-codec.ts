import { randomBytes } from 'node:crypto'
import type { Codec } from './codec.js'
import { DecodeError, EncodeError } from './decode-error.js'
import { describeValue, decodeUtf8 } from './string-codec.js'

/** JSON in UTF-8. Bytes that are not UTF-8 fail as `invalid-utf8`, text that is not JSON as `not-json`. */
export function createJsonCodec(): Codec {
  return { format: 'json', prepare: () => Promise.resolve(), decode: decodeJson, encode: encodeJson }
}

export function decodeJson(bytes: Buffer): unknown {
  const text = decodeUtf8(bytes)
  try {
    return JSON.parse(text)
  } catch (error) {
    const reason = (error as Error).message
    const position = jsonErrorPosition(reason, text, bytes.length)
    throw new DecodeError(
      'not-json',
      `The bytes are not JSON: ${reason.replace(/[.]$/, '')}${position === undefined ? '' : ` (byte ${position} of ${bytes.length})`}.`,
      { position },
      error,
    )
  }
}

/** V8 names a character index ("at position 97") or the end of input; we report byte offsets. */
function jsonErrorPosition(reason: string, text: string, length: number): number | undefined {
  const at = /at position (\d+)/.exec(reason)
  if (at) return Buffer.byteLength(text.slice(0, Number(at[1])), 'utf8')
  if (/end of JSON input/i.test(reason)) return length
  return undefined
}

// bigints (Avro longs beyond 2^53) are written as JSON numbers with all their digits: JSON
// numbers have no size limit, and turning them into strings or doubles would change the data.
const BIGINT_MARK = `\u0000bigint:${randomBytes(6).toString('hex')}:`
const BIGINT_MARKED = new RegExp(`"\\\\u0000bigint:${BIGINT_MARK.slice(8, -1)}:(-?\\d+)"`, 'g')

export function encodeJson(value: unknown): Buffer {
  let text: string | undefined
  let sawBigInt = false
  try {
    text = JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v !== 'bigint') return v
      sawBigInt = true
      return `${BIGINT_MARK}${v.toString()}`
    })
  } catch (error) {
    throw new EncodeError('not-serializable', `The value cannot be written as JSON: ${(error as Error).message}.`, undefined, error)
  }
  if (text === undefined) throw new EncodeError('not-serializable', `The value cannot be written as JSON: ${describeValue(value)} has no JSON form.`)
  return Buffer.from(sawBigInt ? text.replace(BIGINT_MARKED, '$1') : text, 'utf8')
}
