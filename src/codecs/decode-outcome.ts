import type { Codec, DecodeContext } from './codec.js'
import { DecodeError } from './decode-error.js'

/** A decoded payload, or the record's own decode failure. Environment failures are thrown, never returned. */
export type DecodeOutcome = { ok: true; value: unknown } | { ok: false; failure: DecodeError }

/** Decodes one payload (null stays null: a tombstone or a record without a key is not a failure). */
export function tryDecode(codec: Codec, bytes: Buffer | null, context?: DecodeContext): DecodeOutcome {
  if (bytes === null) return { ok: true, value: null }
  try {
    return { ok: true, value: context === undefined ? codec.decode(bytes) : codec.decode(bytes, context) }
  } catch (error) {
    if (error instanceof DecodeError) return { ok: false, failure: error }
    throw error
  }
}

/**
 * prepare() then tryDecode() for each payload: the batch path of replay and quarantine.
 * `contexts[i]` (the headers of record i), when given, is passed along with payload i.
 */
export async function decodeBatch(
  codec: Codec,
  payloads: ReadonlyArray<Buffer | null>,
  contexts?: ReadonlyArray<DecodeContext | undefined>,
): Promise<DecodeOutcome[]> {
  await (contexts === undefined ? codec.prepare(payloads) : codec.prepare(payloads, contexts))
  return payloads.map((bytes, i) => tryDecode(codec, bytes, contexts?.[i]))
}
