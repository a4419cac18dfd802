/**
 * The message-index array of Confluent-framed Protobuf: after the magic byte and the schema id,
 * which message of the schema file the body is, as a path of indexes (the file's top-level
 * messages in declaration order, then nested messages). Written as zigzag varints: the count,
 * then each index; the common case, [0] (the first message), is the single byte 0.
 */

export type MessageIndexesRead = { ok: true; indexes: number[]; end: number } | { ok: false; truncated: boolean; reason: string; position: number }

/** Message paths deeper than this are not real schemas: refuse them rather than allocate. */
export const MAX_MESSAGE_INDEXES = 64

export function readMessageIndexes(bytes: Uint8Array, start: number): MessageIndexesRead {
  const count = readZigzag(bytes, start)
  if (!count.ok) return { ok: false, truncated: count.truncated, reason: `the message-index count ${count.reason}`, position: start }
  if (count.value === 0) return { ok: true, indexes: [0], end: count.end }
  if (count.value < 0 || count.value > MAX_MESSAGE_INDEXES)
    return { ok: false, truncated: false, reason: `the message-index count is ${count.value} (0 to ${MAX_MESSAGE_INDEXES} are possible)`, position: start }
  const indexes: number[] = []
  let at = count.end
  for (let i = 0; i < count.value; i++) {
    const index = readZigzag(bytes, at)
    if (!index.ok) return { ok: false, truncated: index.truncated, reason: `message index ${i + 1} of ${count.value} ${index.reason}`, position: at }
    if (index.value < 0) return { ok: false, truncated: false, reason: `message index ${i + 1} is negative (${index.value})`, position: at }
    indexes.push(index.value)
    at = index.end
  }
  return { ok: true, indexes, end: at }
}

/** [0] as the single byte 0, as Confluent's serializers write it; any other path in full. */
export function writeMessageIndexes(indexes: readonly number[]): Buffer {
  if (indexes.length === 1 && indexes[0] === 0) return Buffer.from([0])
  const bytes: number[] = []
  writeZigzag(bytes, indexes.length)
  for (const index of indexes) writeZigzag(bytes, index)
  return Buffer.from(bytes)
}

type ZigzagRead = { ok: true; value: number; end: number } | { ok: false; truncated: boolean; reason: string }

/** A zigzag varint that fits in 32 bits (Confluent writes indexes as int32). */
function readZigzag(bytes: Uint8Array, start: number): ZigzagRead {
  let raw = 0
  let shift = 0
  for (let at = start; at < bytes.length; at++) {
    const byte = bytes[at]!
    if (shift === 28 && byte > 0x0f) return { ok: false, truncated: false, reason: 'is a varint longer than 32 bits' }
    raw += (byte & 0x7f) * 2 ** shift
    if ((byte & 0x80) === 0) return { ok: true, value: raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2, end: at + 1 }
    shift += 7
  }
  return { ok: false, truncated: true, reason: 'is cut off by the end of the payload' }
}

function writeZigzag(out: number[], value: number): void {
  let raw = value >= 0 ? value * 2 : -value * 2 - 1
  while (raw >= 0x80) {
    out.push((raw % 0x80) | 0x80)
    raw = Math.floor(raw / 0x80)
  }
  out.push(raw)
}
