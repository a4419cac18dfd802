import { RecoveryError } from '../errors.js'
import { declaredFieldTypes } from './json-schema-columns.js'
import type { Codec } from './codec.js'
import { CONFLUENT_HEADER_BYTES, CONFLUENT_MAGIC_BYTE, frameConfluent } from './confluent-framing.js'
import { DecodeError, EncodeError } from './decode-error.js'
import { decodeJson, encodeJson } from './json-codec.js'
import type { JsonSchemaEntry, JsonSchemaLookup } from './json-schema-registry.js'
import { compileJsonSchema, type CompiledJsonSchema, type JsonSchemaDocument, UnusableJsonSchemaError } from './json-schema-validator.js'

export interface JsonSchemaCodecOptions {
  /** Confluent schema ids -> schemas (a Schema Registry): Confluent-framed records are validated against their writer's schema. */
  ids?: JsonSchemaLookup
  /**
   * The reader's schema (`--schema FILE`): validates every record instead of the writer's
   * schema id, plain JSON records too, and its `default`s fill properties older writers left out.
   */
  reader?: JsonSchemaDocument
  /** What encode() writes: Confluent-framed with this schema id (looked up in `ids`), else plain JSON checked against `reader`. */
  encodeWith?: { schemaId: number; entry: JsonSchemaEntry } | { document: JsonSchemaDocument }
}

/** A compiled schema, or why records naming its id cannot be read. */
type Plan = { ok: true; schema: CompiledJsonSchema } | { ok: false; kind: 'json-schema-unknown-schema-id' | 'schema-resolution'; reason: string }

/** Compiled once per registry answer (so once per schema id), shared by every codec of the run. */
const compiled = new WeakMap<JsonSchemaEntry, Plan>()

function planOf(entry: JsonSchemaEntry): Plan {
  let plan = compiled.get(entry)
  if (!plan) {
    if (!entry.ok) plan = entry
    else {
      try {
        plan = { ok: true, schema: compileJsonSchema(entry.document) }
      } catch (error) {
        if (!(error instanceof UnusableJsonSchemaError)) throw error
        plan = { ok: false, kind: 'schema-resolution', reason: error.message }
      }
    }
    compiled.set(entry, plan)
  }
  return plan
}

/**
 * JSON validated by a JSON Schema. Confluent-framed records (magic byte 0, 4-byte schema id,
 * JSON) are validated against their writer's schema from the registry, or against `reader`;
 * plain JSON records (JSON never starts with byte 0) need `reader`. Failures are classified:
 * json-schema-bad-magic, json-schema-truncated, json-schema-unknown-schema-id,
 * json-schema-not-json, json-schema-invalid (with the failing path and rule), schema-resolution.
 */
export function createJsonSchemaCodec(options: JsonSchemaCodecOptions): Codec {
  const { ids } = options
  if (!ids && !options.reader) throw new RecoveryError('USAGE', 'JSON Schema needs a schema: pass --schema FILE.json or --registry URL.')
  let reader: CompiledJsonSchema | undefined
  if (options.reader) {
    try {
      reader = compileJsonSchema(options.reader, { fillDefaults: true })
    } catch (error) {
      if (!(error instanceof UnusableJsonSchemaError)) throw error
      throw new RecoveryError('BAD_SCHEMA', `${error.message}.`, { cause: error, details: { path: options.reader.label } })
    }
  }
  const writer = encoderOf(options.encodeWith)
  /** The schema ids of the payloads prepared so far (their schemas declare the columns). */
  const seen = new Set<number>()

  const validatorFor = (schemaId: number): CompiledJsonSchema => {
    if (reader) return reader
    const entry = ids!.cached(schemaId)
    if (entry === undefined)
      throw new RecoveryError('INTERNAL', `Schema id ${schemaId} was not loaded before decoding; codec.prepare() must see every payload first.`)
    const plan = planOf(entry)
    if (plan.ok) return plan.schema
    throw new DecodeError(plan.kind, `Cannot decode: ${plan.reason}.`, { schemaId, position: plan.kind === 'json-schema-unknown-schema-id' ? 1 : undefined })
  }

  return {
    format: 'json-schema',

    async prepare(payloads) {
      if (reader || !ids) return
      const missing = new Set<number>()
      for (const bytes of payloads) {
        if (!bytes || bytes.length < CONFLUENT_HEADER_BYTES || bytes[0] !== CONFLUENT_MAGIC_BYTE) continue
        const id = bytes.readUInt32BE(1)
        if (seen.has(id)) continue
        seen.add(id)
        if (ids.cached(id) === undefined) missing.add(id)
      }
      for (const id of missing) await ids.load(id)
    },

    declaredFields() {
      if (options.reader) return declaredFieldTypes([options.reader])
      const documents: JsonSchemaDocument[] = []
      for (const id of seen) {
        const entry = ids?.cached(id)
        if (entry?.ok) documents.push(entry.document)
      }
      return documents.length > 0 ? declaredFieldTypes(documents) : undefined
    },

    decode(bytes: Buffer): unknown {
      if (bytes.length > 0 && bytes[0] === CONFLUENT_MAGIC_BYTE) {
        if (bytes.length < CONFLUENT_HEADER_BYTES)
          throw new DecodeError(
            'json-schema-truncated',
            `Truncated JSON Schema record: ${bytes.length} bytes, shorter than the 5-byte Confluent header (magic byte and schema id).`,
            { position: bytes.length },
          )
        const schemaId = bytes.readUInt32BE(1)
        const schema = validatorFor(schemaId)
        return validated(schema, parseBody(bytes, CONFLUENT_HEADER_BYTES, schemaId), schemaId)
      }
      if (!reader) throw badMagic(bytes)
      return validated(reader, parseBody(bytes, 0, undefined), undefined)
    },

    encode(value: unknown): Buffer {
      if (!writer) throw new RecoveryError('USAGE', 'This JSON Schema codec has no schema to write with; pass --output-schema-id N or --schema FILE.json.')
      return writer(value)
    },
  }
}

function encoderOf(target: JsonSchemaCodecOptions['encodeWith']): ((value: unknown) => Buffer) | undefined {
  if (!target) return undefined
  if ('document' in target) {
    const schema = compileJsonSchema(target.document)
    return (value) => encodeJson(checkedForWriting(schema, value))
  }
  const plan = planOf(target.entry)
  if (!plan.ok) throw new RecoveryError('USAGE', `Cannot write with schema id ${target.schemaId}: ${plan.reason}.`)
  return (value) => frameConfluent(target.schemaId, encodeJson(checkedForWriting(plan.schema, value)))
}

function checkedForWriting(schema: CompiledJsonSchema, value: unknown): unknown {
  const violation = schema.check(value)
  if (violation) throw new EncodeError('json-schema-invalid-value', `The value does not match ${schema.label}: ${violation.message}.`, violation.path)
  return value
}

function parseBody(bytes: Buffer, start: number, schemaId: number | undefined): unknown {
  try {
    return decodeJson(start === 0 ? bytes : bytes.subarray(start))
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error
    // decodeJson says not-json or invalid-utf8, at a position in the body: both are this kind here.
    const position = error.position === undefined ? undefined : error.position + start
    const where = start === 0 ? '' : ` after the ${start}-byte Confluent header`
    // Positions count from the start of the payload, header included.
    const reason = error.message
      .replace(/^The bytes are not JSON: /, '')
      .replace(/ \(byte \d+ of \d+\)/, '')
      .replace(/[.]$/, '')
    const at = position === undefined ? '' : ` (byte ${position} of ${bytes.length})`
    throw new DecodeError('json-schema-not-json', `The JSON Schema record's body${where} is not JSON: ${reason}${at}.`, { position, schemaId }, error)
  }
}

function validated(schema: CompiledJsonSchema, value: unknown, schemaId: number | undefined): unknown {
  const violation = schema.check(value)
  if (!violation) return value
  throw new DecodeError('json-schema-invalid', `The record does not match ${schema.label}: ${violation.message}.`, {
    schemaId,
    field: violation.path,
    rule: violation.rule,
  })
}

function badMagic(bytes: Buffer): DecodeError {
  if (bytes.length === 0)
    return new DecodeError('json-schema-truncated', 'Empty JSON Schema record: 0 bytes, no Confluent header (magic byte and schema id).', { position: 0 })
  const first = bytes.subarray(0, 8).toString('latin1').trimStart()[0]
  const hint = first === '{' || first === '[' ? ' (it looks like plain JSON: pass its schema as --schema FILE.json to validate it)' : ''
  return new DecodeError(
    'json-schema-bad-magic',
    `Not Confluent-framed JSON Schema: byte 0 is 0x${bytes[0]!.toString(16).padStart(2, '0')}, not the magic byte 0${hint}.`,
    { position: 0 },
  )
}
