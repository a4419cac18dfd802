/**
 * The codec layer: bytes <-> values for keys and values, one codec per side. A codec never
 * swallows a failure: a record that cannot be decoded throws a DecodeError (the record's
 * fault: quarantine it), while a failure of what decoding depends on (a Schema Registry out of
 * reach) throws a RecoveryError (the environment's fault: stop, exit 5, quarantine nothing).
 */

export const CODEC_FORMATS = ['json', 'string', 'bytes', 'avro', 'json-schema', 'protobuf'] as const
export type CodecFormat = (typeof CODEC_FORMATS)[number]

/** One record header, as Kafka stores it (bytes or null) or as text. */
export interface CodecHeader {
  key: string
  value: Buffer | string | null
}

/**
 * What a codec may need besides the payload: the record's headers (raw Avro whose writer
 * schema is named by a header). Optional everywhere: codecs that need nothing ignore it.
 */
export interface DecodeContext {
  /** All headers in order; with repeated keys, the last one counts. */
  headers?: readonly CodecHeader[]
}

export interface Codec {
  readonly format: CodecFormat
  /**
   * Loads what `decode` needs for these payloads (Schema Registry schemas by id, once per id).
   * Formats that need nothing resolve at once. Throws a RecoveryError when the registry is out
   * of reach; never a DecodeError (bad records fail in `decode`). `contexts`, when given, are
   * the same records' headers (schema ids named by a writer-schema header are loaded too).
   */
  prepare(payloads: Iterable<Buffer | null>, contexts?: Iterable<DecodeContext | undefined>): Promise<void>
  /** bytes -> value. Throws DecodeError for a record that cannot be decoded. */
  decode(bytes: Buffer, context?: DecodeContext): unknown
  /** value -> bytes, for writing. Throws EncodeError for a value the format cannot hold. */
  encode(value: unknown): Buffer
  /**
   * Formats whose schemas type the values' fields (JSON Schema): the column type each top-level
   * field declares, in the schemas of the payloads prepared so far (or the reader's schema), for
   * a table made from the values (--create-table). Absent or undefined: the values decide.
   */
  declaredFields?(): ReadonlyMap<string, DeclaredType> | undefined
}

/** A column type a schema declares for a field (see value-columns.ts's LogicalType). */
export type DeclaredType = 'text' | 'bigint' | 'double' | 'boolean' | 'timestamp' | 'json'

/** Key and value codecs of one topic: they are chosen separately (`--key-format`, `--value-format`). */
export interface RecordCodecs {
  key: Codec
  value: Codec
}
