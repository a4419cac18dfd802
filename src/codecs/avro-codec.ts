import type { Type } from 'avsc'
import { RecoveryError } from '../errors.js'
import type { Codec, CodecHeader, DecodeContext } from './codec.js'
import { CONFLUENT_HEADER_BYTES, frameConfluent, readConfluentHeader } from './confluent-framing.js'
import { DecodeError, EncodeError } from './decode-error.js'
import { IncompatibleSchemaError, resolveSchemas, type AvroResolver } from './avro-resolution.js'
import { wideVariant } from './avro-types.js'
import type { AvroSchemaRef, SchemaLookup } from './schema-lookup.js'
import { decodeStrictUtf8 } from './strict-utf8.js'
import { describeValue } from './string-codec.js'

export type AvroFraming = 'confluent' | 'raw'

/** The header that names a raw Avro record's writer schema, unless another is configured. */
export const DEFAULT_WRITER_HEADER = 'schema.version'

export interface AvroCodecOptions {
  /**
   * confluent: magic byte 0, a 4-byte schema id, the Avro body; the writer schema comes from
   * `ids`. raw: the Avro body alone, written with `writer`.
   */
  framing: AvroFraming
  ids?: SchemaLookup
  writer?: AvroSchemaRef
  /** Decode into this schema (schema evolution); default: each record in its writer's shape. */
  reader?: AvroSchemaRef
  /** What encode() writes: a schema, and for confluent framing the id to put in the header. */
  encodeWith?: { schema: AvroSchemaRef; schemaId?: number }
  /**
   * Raw framing only: the record header that names each record's writer schema. Its value is
   * a schema id (digits; looked up in `ids`) or a schema file of `files` ("orders-v1.avsc",
   * "orders-v1"). A record without the header is read with `writer` when there is one; else,
   * like a header naming nothing known, it fails as avro-unknown-schema-id.
   */
  writerHeader?: string
  /** Schema files a writer header may name, by path relative to the schema directory. */
  files?: ReadonlyMap<string, AvroSchemaRef>
}

/** How records of one writer schema decode; built on first use and kept. */
type Plan =
  | { ok: true; writer: AvroSchemaRef; type: Type; resolver: AvroResolver | undefined; wide?: { type: Type; resolver: AvroResolver | undefined } }
  | { ok: false; failure: (schemaId: number | undefined) => DecodeError }

/**
 * Avro, in the Confluent wire format or raw. Every failure is classified: avro-bad-magic,
 * avro-truncated, avro-unknown-schema-id, avro-invalid and schema-resolution are the record's
 * (DecodeError); a registry out of reach is the environment's (RecoveryError, from prepare()).
 */
export function createAvroCodec(options: AvroCodecOptions): Codec {
  const { framing, ids, reader } = options
  if (framing === 'confluent' && !ids)
    throw new RecoveryError(
      'USAGE',
      'Confluent-framed Avro needs schema ids: give a schema directory with ids.json (--schema) or a Schema Registry (--registry).',
    )
  const { writerHeader } = options
  if (framing === 'raw' && !options.writer && writerHeader === undefined)
    throw new RecoveryError('USAGE', 'Raw Avro (no Confluent header) needs its writer schema: pass one .avsc file as --schema, or name it in a record header.')
  if (framing === 'raw' && writerHeader !== undefined && !options.writer && !ids && !options.files?.size) {
    throw new RecoveryError(
      'USAGE',
      `Raw Avro with the writer schema named by the ${writerHeader} header needs schemas to name: pass --schema DIR (with ids.json for schema ids) or --registry URL.`,
    )
  }

  const plans = new Map<number, Plan>()
  let rawPlan: Plan | undefined

  const planFor = (writer: AvroSchemaRef): Plan => {
    if (!reader) return { ok: true, writer, type: writer.type, resolver: undefined }
    try {
      return { ok: true, writer, type: reader.type, resolver: resolveSchemas(reader.type, writer.type) }
    } catch (error) {
      if (!(error instanceof IncompatibleSchemaError)) throw error
      const message = `Cannot read data written with ${writer.label} as the reader schema ${reader.label}: ${error.message}.`
      return { ok: false, failure: (schemaId) => new DecodeError('schema-resolution', message, { schemaId, field: error.field || undefined }, error) }
    }
  }

  if (framing === 'raw' && reader && writerHeader === undefined) {
    // One writer schema for every record: an incompatible reader is known before reading any.
    rawPlan = planFor(options.writer!)
    if (!rawPlan.ok) {
      const failure = rawPlan.failure(undefined)
      throw new RecoveryError('INCOMPATIBLE_SCHEMAS', failure.message, {
        details: { field: failure.field, writer: options.writer!.label, reader: reader.label },
      })
    }
  }

  const confluentPlan = (bytes: Buffer): { plan: Plan; schemaId: number } => {
    const header = readConfluentHeader(bytes)
    if (!header.ok) throw header.error
    const schemaId = header.schemaId
    let plan = plans.get(schemaId)
    if (!plan) {
      const entry = ids!.cached(schemaId)
      if (entry === undefined)
        throw new RecoveryError('INTERNAL', `Schema id ${schemaId} was not loaded before decoding; codec.prepare() must see every payload first.`)
      if (entry.ok) plan = planFor(entry.schema)
      else {
        const message = `Cannot decode: ${entry.reason}.`
        const kind = entry.kind
        plan = { ok: false, failure: (id) => new DecodeError(kind, message, { schemaId: id, position: kind === 'avro-unknown-schema-id' ? 1 : undefined }) }
      }
      plans.set(schemaId, plan)
    }
    return { plan, schemaId }
  }

  /** Writer plans by header value (raw framing with a writer header), failures included. */
  const headerPlans = new Map<string, { plan: Plan; schemaId: number | undefined }>()

  const headerPlan = (headers: readonly CodecHeader[] | undefined): { plan: Plan; schemaId: number | undefined } => {
    const header = lastHeader(headers, writerHeader!)
    if (header === undefined) {
      if (options.writer) return { plan: (rawPlan ??= planFor(options.writer)), schemaId: undefined }
      throw new DecodeError(
        'avro-unknown-schema-id',
        `Cannot decode raw Avro: the record has no ${writerHeader} header naming its writer schema, and there is no single writer schema to fall back on (one .avsc file as --schema).`,
      )
    }
    const name = header.value === null ? undefined : typeof header.value === 'string' ? header.value : decodeStrictUtf8(header.value)
    if (name === undefined) {
      const what = header.value === null ? 'null' : `not UTF-8 text (0x${(header.value as Buffer).subarray(0, 16).toString('hex')})`
      throw new DecodeError('avro-unknown-schema-id', `Cannot decode raw Avro: its ${writerHeader} header is ${what}, not a schema id or schema file name.`)
    }
    let found = headerPlans.get(name)
    if (found) return found
    const schemaId = schemaIdOf(name)
    if (schemaId !== undefined && ids) {
      const entry = ids.cached(schemaId)
      if (entry === undefined)
        throw new RecoveryError(
          'INTERNAL',
          `Schema id ${schemaId} (from the ${writerHeader} header) was not loaded before decoding; codec.prepare() must see every record's headers first.`,
        )
      if (entry.ok) found = { plan: planFor(entry.schema), schemaId }
      else {
        const message = `Cannot decode: the ${writerHeader} header names schema id ${schemaId}, and ${entry.reason}.`
        const kind = entry.kind
        found = { plan: { ok: false, failure: (id) => new DecodeError(kind, message, { schemaId: id }) }, schemaId }
      }
    } else {
      const file = schemaFileNamed(options.files, name)
      if (file) found = { plan: planFor(file), schemaId: undefined }
      else {
        const known = options.files?.size
          ? `; the schema files are ${[...options.files.keys()].slice(0, 5).join(', ')}${options.files.size > 5 ? ', …' : ''}`
          : ''
        const where = schemaId !== undefined ? 'there is no ids.json or Schema Registry to look schema ids up in' : `it is not a schema file${known}`
        const message = `Cannot decode raw Avro: its ${writerHeader} header names ${JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name)}, and ${where}.`
        found = { plan: { ok: false, failure: (id) => new DecodeError('avro-unknown-schema-id', message, { schemaId: id }) }, schemaId }
      }
    }
    if (headerPlans.size < MAX_HEADER_PLANS) headerPlans.set(name, found)
    return found
  }

  return {
    format: 'avro',

    async prepare(payloads: Iterable<Buffer | null>, contexts?: Iterable<DecodeContext | undefined>): Promise<void> {
      if (framing === 'raw') {
        if (writerHeader === undefined || !ids || !contexts) return
        const missing = new Set<number>()
        for (const context of contexts) {
          const value = lastHeader(context?.headers, writerHeader)?.value
          const id = value === undefined || value === null ? undefined : schemaIdOf(typeof value === 'string' ? value : (decodeStrictUtf8(value) ?? ''))
          if (id !== undefined && ids.cached(id) === undefined) missing.add(id)
        }
        for (const id of missing) await ids.load(id)
        return
      }
      const missing = new Set<number>()
      for (const bytes of payloads) {
        if (!bytes || bytes.length < CONFLUENT_HEADER_BYTES || bytes[0] !== 0) continue
        const id = bytes.readUInt32BE(1)
        if (!plans.has(id) && ids!.cached(id) === undefined) missing.add(id)
      }
      for (const id of missing) await ids!.load(id)
    },

    decode(bytes: Buffer, context?: DecodeContext): unknown {
      if (framing === 'raw') {
        if (writerHeader === undefined) return decodeBody(rawPlan ?? (rawPlan = planFor(options.writer!)), bytes, 0, undefined)
        const { plan, schemaId } = headerPlan(context?.headers)
        return decodeBody(plan, bytes, 0, schemaId)
      }
      const { plan, schemaId } = confluentPlan(bytes)
      return decodeBody(plan, bytes, CONFLUENT_HEADER_BYTES, schemaId)
    },

    encode(value: unknown): Buffer {
      const target = options.encodeWith
      if (!target) throw new RecoveryError('USAGE', 'This Avro codec has no schema to write with; give a schema id (registry or ids.json) or one .avsc file.')
      const body = encodeAvro(target.schema, value)
      if (framing === 'raw') return body
      if (target.schemaId === undefined) throw new RecoveryError('USAGE', 'Writing Confluent-framed Avro needs the schema id to put in the header.')
      return frameConfluent(target.schemaId, body)
    },
  }
}

/** Header values remembered per codec; past this many distinct ones, plans are rebuilt each time. */
const MAX_HEADER_PLANS = 10_000

function lastHeader(headers: readonly CodecHeader[] | undefined, key: string): CodecHeader | undefined {
  if (!headers) return undefined
  for (let i = headers.length - 1; i >= 0; i--) if (headers[i]!.key === key) return headers[i]
  return undefined
}

/** A schema id written as digits (Confluent ids fit in 31 bits), else undefined. */
function schemaIdOf(text: string): number | undefined {
  const trimmed = text.trim()
  if (!/^\d{1,10}$/.test(trimmed)) return undefined
  const id = Number(trimmed)
  return id <= 0x7fffffff ? id : undefined
}

/** The schema file a header names: its path, or its path or file name without `.avsc`. */
function schemaFileNamed(files: ReadonlyMap<string, AvroSchemaRef> | undefined, name: string): AvroSchemaRef | undefined {
  if (!files) return undefined
  const wanted = name.trim()
  const exact = files.get(wanted) ?? files.get(`${wanted}.avsc`)
  if (exact) return exact
  const byBase = [...files].filter(([path]) => {
    const base = path.slice(path.lastIndexOf('/') + 1)
    return base === wanted || base === `${wanted}.avsc`
  })
  return byBase.length === 1 ? byBase[0]![1] : undefined
}

function decodeBody(plan: Plan, bytes: Buffer, start: number, schemaId: number | undefined): unknown {
  if (!plan.ok) throw plan.failure(schemaId)
  let result: { value: unknown; offset: number }
  try {
    result = plan.type.decode(bytes, start, plan.resolver)
  } catch (error) {
    if ((error as Error).message !== 'potential precision loss') throw invalid(plan, bytes, schemaId, error)
    // A long beyond 2^53: read the record again with bigint longs rather than lose digits.
    try {
      plan.wide ??= wideOf(plan)
      result = plan.wide.type.decode(bytes, start, plan.wide.resolver)
    } catch (wideError) {
      throw invalid(plan, bytes, schemaId, wideError)
    }
  }
  if (result.offset < 0) {
    const body = bytes.length - start
    throw new DecodeError(
      'avro-truncated',
      `Truncated Avro: the ${body}-byte body ends before a whole ${plan.writer.label} value was read (payload ends at byte ${bytes.length}).`,
      { position: bytes.length, schemaId },
    )
  }
  if (result.offset < bytes.length) {
    throw new DecodeError(
      'avro-invalid',
      `Not valid ${plan.writer.label} Avro: ${bytes.length - result.offset} bytes are left over after the value ends at byte ${result.offset}; the writer schema is probably not the one that wrote it.`,
      { position: result.offset, schemaId },
    )
  }
  return result.value
}

function wideOf(plan: Extract<Plan, { ok: true }>): { type: Type; resolver: AvroResolver | undefined } {
  if (!plan.resolver) return { type: wideVariant(plan.type), resolver: undefined }
  const type = wideVariant(plan.type)
  return { type, resolver: type.createResolver(wideVariant(plan.writer.type)) }
}

function invalid(plan: Extract<Plan, { ok: true }>, bytes: Buffer, schemaId: number | undefined, error: unknown): DecodeError {
  const reason = error instanceof RangeError ? `${(error as Error).message} (nesting too deep or a length out of range)` : (error as Error).message
  return new DecodeError('avro-invalid', `Not valid ${plan.writer.label} Avro (${bytes.length} bytes): ${reason}.`, { schemaId }, error)
}

function encodeAvro(schema: AvroSchemaRef, value: unknown): Buffer {
  if (schema.type.isValid(value)) return schema.type.toBuffer(value)
  // avsc's default long refuses bigint; the wide variant takes longs beyond 2^53 as bigint.
  const wide = wideVariant(schema.type)
  const problems: string[] = []
  const valid = wide.isValid(value, {
    errorHook: (path: string[], any: unknown, type: Type) => {
      if (problems.length === 0) problems.push(`${path.length > 0 ? path.join('.') : '(the value)'}: ${describeValue(any)} is not a valid ${type.typeName}`)
    },
  })
  if (!valid) {
    const first = problems[0] ?? '(the value): invalid'
    throw new EncodeError('avro-invalid-value', `The value does not fit ${schema.label}: ${first}.`, first.slice(0, first.indexOf(':')))
  }
  return wide.toBuffer(value)
}
