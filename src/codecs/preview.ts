import { RecoveryError } from '../errors.js'
import type { Codec, CodecFormat, DecodeContext } from './codec.js'
import { CONFLUENT_HEADER_BYTES, looksConfluentFramed } from './confluent-framing.js'
import { DecodeError, type RecordDecodeKind } from './decode-error.js'
import { decodeJson } from './json-codec.js'
import { decodeStrictUtf8 } from './strict-utf8.js'
import { decodeUtf8 } from './string-codec.js'

/**
 * How a key or value is shown (peek, quarantine show). `auto`: Confluent-framed Avro when an
 * Avro codec with schema ids is given and byte 0 is 0, else JSON, else UTF-8 text, else hex.
 */
export type PreviewFormat = 'auto' | CodecFormat

export interface Preview {
  /** What the bytes turned out to be. */
  format: 'json' | 'string' | 'bytes' | 'null' | 'avro' | 'json-schema' | 'protobuf'
  /** Parsed JSON, the text, the decoded Avro value, or a hex string for bytes. */
  value: unknown
  /** The Confluent schema id of an Avro, JSON Schema or Protobuf value. */
  schemaId?: number
  /** Set when the requested format could not read the bytes; the value is then shown as hex. */
  error?: string
  /** The failure's kind (not-json, invalid-utf8, avro-truncated, ...). */
  kind?: RecordDecodeKind
  /** Byte offset of the failure, where known. */
  position?: number
}

export interface Previewer {
  /** Loads what the payloads need (registry schemas); a registry out of reach throws a RecoveryError. */
  prepare(payloads: Iterable<Buffer | null>, contexts?: Iterable<DecodeContext | undefined>): Promise<void>
  /** `context`: the record's headers (raw Avro naming its writer schema in one). */
  preview(bytes: Buffer | null, context?: DecodeContext): Preview
}

/**
 * `avro` is the Avro codec for `avro` and for Avro detection in `auto` (only with Confluent
 * framing); for `json-schema` it is the JSON Schema codec, for `protobuf` the Protobuf codec.
 * `autoFallbacks` (auto with a registry: the JSON Schema and Protobuf codecs) read, in order, the
 * framed records whose registry schema is not Avro (Avro says schema-resolution for them).
 */
export function createPreviewer(format: PreviewFormat, avro?: Codec, autoFallbacks: readonly Codec[] = []): Previewer {
  if (format === 'avro' && !avro) throw new RecoveryError('USAGE', 'Showing Avro needs schemas: pass --schema DIR|FILE or --registry URL.')
  if (format === 'protobuf' && !avro) throw new RecoveryError('USAGE', 'Showing Protobuf needs schemas: pass --schema DIR|FILE (.proto) or --registry URL.')
  if (format === 'json-schema' && !avro)
    throw new RecoveryError('USAGE', 'Showing JSON Schema records needs a schema: pass --schema FILE.json or --registry URL.')
  const fallbacks = format === 'auto' ? autoFallbacks : []
  return {
    async prepare(payloads, contexts) {
      if (avro && (format === 'avro' || format === 'auto' || format === 'json-schema' || format === 'protobuf')) await avro.prepare(payloads, contexts)
      for (const fallback of fallbacks) await fallback.prepare(payloads, contexts)
    },
    preview: (bytes, context) => {
      const preview = previewWith(bytes, format, avro, context)
      if (fallbacks.length === 0 || bytes === null || preview.kind !== 'schema-resolution') return preview
      for (const fallback of fallbacks) {
        const other = fallback.format === 'protobuf' || fallback.format === 'json-schema' ? fallback.format : undefined
        if (!other) continue
        const shown = withSchemaId(
          bytes,
          attempt(bytes, other, (b) => fallback.decode(b)),
        )
        if (shown.kind === 'json-schema-invalid') return invalidJson(bytes, shown)
        if (shown.kind !== 'schema-resolution') return shown
      }
      return preview
    },
  }
}

/** Decodes for display without schemas: auto tries JSON, then UTF-8 text, then falls back to hex. */
export function previewBytes(bytes: Buffer | null, format: Exclude<PreviewFormat, 'avro' | 'json-schema' | 'protobuf'> = 'auto'): Preview {
  return previewWith(bytes, format, undefined)
}

function previewWith(bytes: Buffer | null, format: PreviewFormat, avro: Codec | undefined, context?: DecodeContext): Preview {
  if (bytes === null) return { format: 'null', value: null }
  switch (format) {
    case 'bytes':
      return { format: 'bytes', value: bytes.toString('hex') }
    case 'string':
      return attempt(bytes, 'string', decodeUtf8)
    case 'json':
      return attempt(bytes, 'json', decodeJson)
    case 'avro':
      return avroPreview(bytes, avro!, context)
    case 'json-schema':
      return withSchemaId(
        bytes,
        attempt(bytes, 'json-schema', (b) => avro!.decode(b)),
      )
    case 'protobuf': {
      const preview = attempt(bytes, 'protobuf', (b) => avro!.decode(b))
      const framed = (avro as { framing?: string }).framing === 'confluent' && looksConfluentFramed(bytes)
      return preview.format === 'protobuf' && framed ? { ...preview, schemaId: bytes.readUInt32BE(1) } : preview
    }
    case 'auto':
      return autoPreview(bytes, avro, context)
  }
}

function autoPreview(bytes: Buffer, avro: Codec | undefined, context?: DecodeContext): Preview {
  if (avro && looksConfluentFramed(bytes)) return avroPreview(bytes, avro, context)
  const text = decodeStrictUtf8(bytes)
  if (text === undefined) return { format: 'bytes', value: bytes.toString('hex') }
  const start = text.trimStart()[0]
  if (start !== '{' && start !== '[') {
    // Numbers, true/false/null are JSON too; anything else is text.
    try {
      return { format: 'json', value: JSON.parse(text) }
    } catch {
      return { format: 'string', value: text }
    }
  }
  // It means to be JSON: when it is not, say so, and still show the text.
  try {
    return { format: 'json', value: decodeJson(bytes) }
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error
    return { format: 'string', value: text, ...failureOf(error) }
  }
}

function avroPreview(bytes: Buffer, avro: Codec, context?: DecodeContext): Preview {
  const schemaId = looksConfluentFramed(bytes) ? bytes.readUInt32BE(1) : undefined
  const preview = attempt(bytes, 'avro', (b) => (context === undefined ? avro.decode(b) : avro.decode(b, context)))
  return schemaId === undefined || preview.format !== 'avro' ? preview : { ...preview, schemaId }
}

/** Auto: a framed JSON record that breaks its JSON Schema is still JSON; shown as such, with why it is invalid. */
function invalidJson(bytes: Buffer, failed: Preview): Preview {
  try {
    return { ...failed, format: 'json', value: decodeJson(bytes.subarray(CONFLUENT_HEADER_BYTES)) }
  } catch {
    return failed
  }
}

function withSchemaId(bytes: Buffer, preview: Preview): Preview {
  return preview.format === 'bytes' || !looksConfluentFramed(bytes) ? preview : { ...preview, schemaId: bytes.readUInt32BE(1) }
}

function attempt(bytes: Buffer, format: 'json' | 'string' | 'avro' | 'json-schema' | 'protobuf', decode: (bytes: Buffer) => unknown): Preview {
  try {
    return { format, value: decode(bytes) }
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error
    return { format: 'bytes', value: bytes.toString('hex'), ...failureOf(error) }
  }
}

function failureOf(error: DecodeError): Pick<Preview, 'error' | 'kind' | 'position' | 'schemaId'> {
  const out: Pick<Preview, 'error' | 'kind' | 'position' | 'schemaId'> = { error: error.message, kind: error.kind }
  if (error.position !== undefined) out.position = error.position
  if (error.schemaId !== undefined) out.schemaId = error.schemaId
  return out
}
