/**
 * The codec layer: bytes <-> values for keys and values, one codec per side. A codec never
 * swallows a failure: a record that cannot be decoded throws a DecodeError (the record's
 * fault: quarantine it), while a failure of what decoding depends on (a Schema Registry out of
 * reach) throws a RecoveryError (the environment's fault: stop, exit 5, quarantine nothing).
 */

export const CODEC_FORMATS = ['json', 'string', 'bytes', 'avro'] as const
export type CodecFormat = (typeof CODEC_FORMATS)[number]

export interface Codec {
  readonly format: CodecFormat
  /**
   * Loads what `decode` needs for these payloads (Schema Registry schemas by id, once per id).
   * Formats that need nothing resolve at once. Throws a RecoveryError when the registry is out
   * of reach; never a DecodeError (bad records fail in `decode`).
   */
  prepare(payloads: Iterable<Buffer | null>): Promise<void>
  /** bytes -> value. Throws DecodeError for a record that cannot be decoded. */
  decode(bytes: Buffer): unknown
  /** value -> bytes, for writing. Throws EncodeError for a value the format cannot hold. */
  encode(value: unknown): Buffer
}

/** Key and value codecs of one topic: they are chosen separately (`--key-format`, `--value-format`). */
export interface RecordCodecs {
  key: Codec
  value: Codec
}
