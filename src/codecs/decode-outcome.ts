import type { Codec } from './codec.js'
import { DecodeError } from './decode-error.js'

/** A decoded payload, or the record's own decode failure. Environment failures are thrown, never returned. */
export type DecodeOutcome = { ok: true; value: unknown } | { ok: false; failure: DecodeError }

/** Decodes one payload (null stays null: a tombstone or a record without a key is not a failure). */
export function tryDecode(codec: Codec, bytes: Buffer | null): DecodeOutcome {
  if (bytes === null) return { ok: true, value: null }
  try {
    return { ok: true, value: codec.decode(bytes) }
  } catch (error) {
    if (error instanceof DecodeError) return { ok: false, failure: error }
    throw error
  }
}

/** prepare() then tryDecode() for each payload: the batch path of replay and quarantine. */
export async function decodeBatch(codec: Codec, payloads: ReadonlyArray<Buffer | null>): Promise<DecodeOutcome[]> {
  await codec.prepare(payloads)
  return payloads.map((bytes) => tryDecode(codec, bytes))
}
