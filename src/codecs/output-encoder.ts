import { RecoveryError } from '../errors.js'
import type { Codec, CodecFormat } from './codec.js'
import { readConfluentHeader } from './confluent-framing.js'
import { EncodeError } from './decode-error.js'
import { createJsonSchemaOutputEncoder } from './json-schema-output-encoder.js'
import { createCodec, createProtobuf, type SchemaSources } from './create-codecs.js'
import type { ProtobufCodec } from './protobuf-codec.js'

/**
 * Encodes transformed values (or keys) back to bytes for the sink, in the format they were
 * read in. Confluent-framed Avro is written with the schema id the source record carried
 * (each record keeps its own writer schema), or with `outputSchemaId` for every record; after
 * `--reader-schema`, values have the reader's shape, so an output schema id is required.
 */
export interface OutputEncoder {
  readonly format: CodecFormat
  /** Loads the schemas encode() will need for these source payloads. */
  prepare(sourcePayloads: ReadonlyArray<Buffer | null>): Promise<void>
  /** value -> bytes (null stays null). Throws EncodeError for a value the format cannot hold. */
  encode(value: unknown, sourceBytes: Buffer | null): Buffer | null
}

export interface OutputEncoderOptions {
  format: CodecFormat
  /** The codec the side was decoded with (json, string, bytes and raw Avro encode with it). */
  codec: Codec
  sources: SchemaSources
  /** Confluent Avro: write every record with this schema id. */
  outputSchemaId?: number
  /** For messages: --key-format or --value-format. */
  side: 'key' | 'value'
}

export async function createOutputEncoder(options: OutputEncoderOptions): Promise<OutputEncoder> {
  const { format, codec, sources } = options
  if (format === 'json-schema') return createJsonSchemaOutputEncoder(options)
  if (format === 'protobuf') return protobufOutputEncoder(options)
  const confluent = format === 'avro' && sources.ids !== undefined
  if (format === 'json') {
    // JSON.stringify without a replacer is about twice as fast as the codec's bigint-aware one;
    // anything it cannot write as plain JSON (a bigint, a cycle, undefined) takes the codec's
    // path, which gives the same bytes or the same EncodeError.
    return {
      format,
      prepare: () => Promise.resolve(),
      encode(value) {
        if (value === null) return null
        let text: string | undefined
        try {
          text = JSON.stringify(value)
        } catch {
          text = undefined
        }
        return text === undefined ? codec.encode(value) : Buffer.from(text, 'utf8')
      },
    }
  }
  if (!confluent) {
    return { format, prepare: () => Promise.resolve(), encode: (value) => (value === null ? null : codec.encode(value)) }
  }
  if (options.outputSchemaId !== undefined) {
    const fixed = await createCodec({ format: 'avro', framing: 'confluent', encodeSchemaId: options.outputSchemaId }, sources)
    return { format, prepare: () => Promise.resolve(), encode: (value) => (value === null ? null : fixed.encode(value)) }
  }
  if (sources.reader) {
    throw new RecoveryError(
      'USAGE',
      `With --reader-schema, ${options.side}s are decoded into the reader's shape and must be written with its schema id: pass --output-schema-id N (the id of ${sources.reader.label}).`,
    )
  }
  const byId = new Map<number, Codec>()
  const unknown = new Map<number, string>()
  return {
    format,
    async prepare(payloads) {
      for (const bytes of payloads) {
        if (!bytes) continue
        const header = readConfluentHeader(bytes)
        if (!header.ok || byId.has(header.schemaId) || unknown.has(header.schemaId)) continue
        try {
          byId.set(header.schemaId, await createCodec({ format: 'avro', framing: 'confluent', encodeSchemaId: header.schemaId }, sources))
        } catch (error) {
          // A record naming a schema id nobody knows is that record's fault (it is quarantined
          // when decoding); it must not end the replay. An unreachable registry still does.
          if (!(error instanceof RecoveryError) || error.code !== 'USAGE') throw error
          unknown.set(header.schemaId, error.message)
        }
      }
    },
    encode(value, sourceBytes) {
      if (value === null) return null
      const header = sourceBytes ? readConfluentHeader(sourceBytes) : undefined
      const encoder = header?.ok ? byId.get(header.schemaId) : undefined
      if (!encoder && header?.ok && unknown.has(header.schemaId)) throw new EncodeError('avro-unknown-schema-id', unknown.get(header.schemaId)!)
      if (!encoder)
        throw new EncodeError(
          'avro-unknown-schema-id',
          `The ${options.side} has no source schema id to be written with (the source ${options.side} was null); pass --output-schema-id N.`,
        )
      return encoder.encode(value)
    },
  }
}

/**
 * Protobuf is written like Avro: with --output-schema-id, every record as that schema's message
 * (--message, else its first); else each record with the schema id and message indexes it was
 * read with; raw messages with the --message type.
 */
async function protobufOutputEncoder(options: OutputEncoderOptions): Promise<OutputEncoder> {
  const codec = options.codec as ProtobufCodec
  if (options.outputSchemaId !== undefined) {
    const fixed = await createProtobuf({ format: 'protobuf', framing: 'confluent', encodeSchemaId: options.outputSchemaId }, options.sources)
    return { format: 'protobuf', prepare: () => Promise.resolve(), encode: (value) => (value === null ? null : fixed.encode(value)) }
  }
  if (codec.framing === 'raw') return { format: 'protobuf', prepare: () => Promise.resolve(), encode: (value) => (value === null ? null : codec.encode(value)) }
  if (options.sources.proto) {
    throw new RecoveryError(
      'USAGE',
      `With --schema .proto files beside --registry, ${options.side}s are decoded into the reader's messages and must be written with its schema id: pass --output-schema-id N.`,
    )
  }
  return {
    format: 'protobuf',
    prepare: (payloads) => codec.prepare(payloads),
    encode(value, sourceBytes) {
      if (value === null) return null
      if (!sourceBytes)
        throw new EncodeError(
          'protobuf-unknown-schema-id',
          `The ${options.side} has no source schema id to be written with (the source ${options.side} was null); pass --output-schema-id N.`,
        )
      return codec.encodeLike(value, sourceBytes)
    },
  }
}
