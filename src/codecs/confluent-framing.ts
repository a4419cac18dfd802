import { DecodeError } from './decode-error.js'

/** The Confluent wire format: magic byte 0, a 4-byte big-endian schema id, then the body. */
export const CONFLUENT_MAGIC_BYTE = 0
export const CONFLUENT_HEADER_BYTES = 5

export type ConfluentHeader = { ok: true; schemaId: number } | { ok: false; error: DecodeError }

export function readConfluentHeader(bytes: Buffer): ConfluentHeader {
  if (bytes.length > 0 && bytes[0] !== CONFLUENT_MAGIC_BYTE) {
    return {
      ok: false,
      error: new DecodeError(
        'avro-bad-magic',
        `Not Confluent-framed Avro: byte 0 is 0x${bytes[0]!.toString(16).padStart(2, '0')}, not the magic byte 0${lookalike(bytes)}.`,
        { position: 0 },
      ),
    }
  }
  if (bytes.length < CONFLUENT_HEADER_BYTES) {
    return {
      ok: false,
      error: new DecodeError('avro-truncated', `Truncated Avro: ${bytes.length} bytes, shorter than the 5-byte Confluent header (magic byte and schema id).`, {
        position: bytes.length,
      }),
    }
  }
  return { ok: true, schemaId: bytes.readUInt32BE(1) }
}

/** True when the payload starts like Confluent-framed data (used by auto-detection). */
export function looksConfluentFramed(bytes: Buffer): boolean {
  return bytes.length >= CONFLUENT_HEADER_BYTES && bytes[0] === CONFLUENT_MAGIC_BYTE
}

export function frameConfluent(schemaId: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(CONFLUENT_HEADER_BYTES + body.length)
  out[0] = CONFLUENT_MAGIC_BYTE
  out.writeUInt32BE(schemaId, 1)
  body.copy(out, CONFLUENT_HEADER_BYTES)
  return out
}

/** A hint for the operator: what the bytes look like instead. */
function lookalike(bytes: Buffer): string {
  const head = bytes.subarray(0, 8)
  const printable = head.every((b) => (b >= 0x20 && b < 0x7f) || b === 0x09 || b === 0x0a || b === 0x0d)
  if (!printable) return ''
  const first = head.toString('latin1').trimStart()[0]
  return first === '{' || first === '[' ? ' (it looks like JSON)' : ' (it looks like text)'
}
