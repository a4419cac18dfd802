import { RecoveryError } from '../errors.js'
import type { Codec } from './codec.js'
import { CONFLUENT_HEADER_BYTES, CONFLUENT_MAGIC_BYTE, frameConfluent } from './confluent-framing.js'
import { createCodec, type SchemaSources } from './create-codecs.js'
import { EncodeError } from './decode-error.js'
import type { OutputEncoder } from './output-encoder.js'

/**
 * Re-encodes JSON Schema values for a Kafka sink, validating each before it is sent (a value
 * that breaks its schema fails as json-schema-invalid-value and is quarantined). With
 * `outputSchemaId`, every record is framed with that id and checked against its schema; else
 * each record keeps its source schema id (checked against that id's schema from the registry,
 * or against --schema without one), and plain JSON records stay plain, checked against --schema.
 */
export async function createJsonSchemaOutputEncoder(options: {
  codec: Codec
  sources: SchemaSources
  outputSchemaId?: number
  side: 'key' | 'value'
}): Promise<OutputEncoder> {
  const { codec, sources, side } = options
  if (options.outputSchemaId !== undefined) {
    const fixed = await createCodec({ format: 'json-schema', encodeSchemaId: options.outputSchemaId }, sources)
    return { format: 'json-schema', prepare: () => Promise.resolve(), encode: (value) => (value === null ? null : fixed.encode(value)) }
  }
  const byId = new Map<number, Codec | string>()
  const sourceId = (bytes: Buffer | null) =>
    bytes && bytes.length >= CONFLUENT_HEADER_BYTES && bytes[0] === CONFLUENT_MAGIC_BYTE ? bytes.readUInt32BE(1) : undefined
  return {
    format: 'json-schema',
    async prepare(payloads) {
      if (!sources.registry) return
      for (const bytes of payloads) {
        const id = sourceId(bytes)
        if (id === undefined || byId.has(id)) continue
        try {
          byId.set(id, await createCodec({ format: 'json-schema', encodeSchemaId: id }, { registry: sources.registry }))
        } catch (error) {
          // A record naming a schema id nobody knows is quarantined when decoding; it must not
          // end the replay. An unreachable registry still does.
          if (!(error instanceof RecoveryError) || error.code !== 'USAGE') throw error
          byId.set(id, error.message)
        }
      }
    },
    encode(value, sourceBytes) {
      if (value === null) return null
      const id = sourceId(sourceBytes)
      if (id === undefined) {
        if (sources.jsonSchema) return codec.encode(value)
        throw new EncodeError(
          'json-schema-unknown-schema-id',
          `The ${side} has no source schema id to be written with (the source ${side} was ${sourceBytes === null ? 'null' : 'not Confluent-framed'}); pass --output-schema-id N.`,
        )
      }
      if (!sources.registry) return frameConfluent(id, codec.encode(value))
      const encoder = byId.get(id)
      if (encoder === undefined)
        throw new RecoveryError('INTERNAL', `Schema id ${id} was not prepared before encoding; prepare() must see every source payload first.`)
      if (typeof encoder === 'string') throw new EncodeError('json-schema-unknown-schema-id', encoder)
      return encoder.encode(value)
    },
  }
}
