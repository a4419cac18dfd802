import protobuf from 'protobufjs'
import { RecoveryError } from '../errors.js'
import type { Codec } from './codec.js'
import { CONFLUENT_HEADER_BYTES, CONFLUENT_MAGIC_BYTE } from './confluent-framing.js'
import { DecodeError, EncodeError, type EncodeKind } from './decode-error.js'
import { messageFromJson, messageToJson, WrongWireTypeError } from './protobuf-json.js'
import { readMessageIndexes, writeMessageIndexes } from './protobuf-message-indexes.js'
import type { ProtoSchemaLookup } from './protobuf-registry.js'
import type { ProtoSchema } from './protobuf-schema.js'

export type ProtobufFraming = 'confluent' | 'raw'

export interface ProtobufCodecOptions {
  /**
   * confluent: magic byte 0, a 4-byte schema id, the message-index array, the message; the
   * writer's schema comes from `registry`. raw: the message alone, of `message` in `files`.
   */
  framing: ProtobufFraming
  registry?: ProtoSchemaLookup
  /**
   * `.proto` files (--schema). Raw framing: where `message` is found. Confluent framing: the
   * reader's schema: each record is decoded with the message of the same full name here (or
   * `message`), so data written with an older schema reads in the reader's shape.
   */
  files?: ProtoSchema
  /** --message: a full (shop.Order) or simple (Order) message name. */
  message?: string
  /** What encode() writes: a message type, and for Confluent framing the schema id and message indexes. */
  encodeWith?: { type: protobuf.Type; schemaId?: number; indexes?: number[] }
}

export interface ProtobufCodec extends Codec {
  readonly framing: ProtobufFraming
  /** value -> bytes framed like `sourceBytes` (its schema id and message), for writing records back as they were read. */
  encodeLike(value: unknown, sourceBytes: Buffer): Buffer
}

type Plan = { ok: true; type: protobuf.Type; writer: protobuf.Type } | { ok: false; failure: () => DecodeError }

/**
 * Protobuf with protobufjs, rendered in the canonical JSON mapping (see protobuf-json.ts).
 * Every failure is classified: protobuf-bad-magic, protobuf-truncated,
 * protobuf-unknown-schema-id, protobuf-unknown-message-index, protobuf-wrong-wire-type,
 * protobuf-invalid and schema-resolution are the record's (DecodeError); a registry out of reach
 * is the environment's (RecoveryError, from prepare()).
 */
export function createProtobufCodec(options: ProtobufCodecOptions): ProtobufCodec {
  const { framing, registry, files, message } = options
  if (framing === 'confluent' && !registry)
    throw new RecoveryError('USAGE', 'Confluent-framed Protobuf needs a Schema Registry to look schema ids up in: pass --registry URL.')
  let rawType: protobuf.Type | undefined
  if (framing === 'raw') {
    if (!files) throw new RecoveryError('USAGE', 'Protobuf without Confluent framing needs its .proto files: pass --schema DIR|FILE and --message NAME.')
    rawType = pickMessage(files, message)
  }
  const plans = new Map<string, Plan>()

  const readerFor = (writer: protobuf.Type, schemaId: number): Plan => {
    if (!files) return { ok: true, type: writer, writer }
    const name = message ?? writer.fullName.slice(1)
    const type = files.find(name)
    if (type) return { ok: true, type, writer }
    const text = `Cannot read data written as ${writer.fullName.slice(1)} (registry id ${schemaId}) with the reader schema ${files.label}: it has no message ${name}.`
    return { ok: false, failure: () => new DecodeError('schema-resolution', text, { schemaId }) }
  }

  /** The plan for a framed payload, and where its message starts. */
  const framedPlan = (bytes: Buffer): { plan: Plan; schemaId: number; start: number; indexes: number[] } => {
    if (bytes.length > 0 && bytes[0] !== CONFLUENT_MAGIC_BYTE)
      throw new DecodeError(
        'protobuf-bad-magic',
        `Not Confluent-framed Protobuf: byte 0 is 0x${bytes[0]!.toString(16).padStart(2, '0')}, not the magic byte 0.`,
        { position: 0 },
      )
    if (bytes.length < CONFLUENT_HEADER_BYTES)
      throw new DecodeError(
        'protobuf-truncated',
        `Truncated Protobuf: ${bytes.length} bytes, shorter than the 5-byte Confluent header (magic byte and schema id).`,
        {
          position: bytes.length,
        },
      )
    const schemaId = bytes.readUInt32BE(1)
    const entry = registry!.cached(schemaId)
    if (entry === undefined)
      throw new RecoveryError('INTERNAL', `Schema id ${schemaId} was not loaded before decoding; codec.prepare() must see every payload first.`)
    if (!entry.ok)
      throw new DecodeError(entry.kind, `Cannot decode: ${entry.reason}.`, { schemaId, position: entry.kind === 'protobuf-unknown-schema-id' ? 1 : undefined })
    const read = readMessageIndexes(bytes, CONFLUENT_HEADER_BYTES)
    if (!read.ok)
      throw new DecodeError(
        read.truncated ? 'protobuf-truncated' : 'protobuf-unknown-message-index',
        `${read.truncated ? 'Truncated' : 'Malformed'} Protobuf message-index array: ${read.reason}.`,
        { schemaId, position: read.position },
      )
    const key = `${schemaId}:${read.indexes.join(',')}`
    let plan = plans.get(key)
    if (!plan) {
      const writer = entry.schema.byIndexes(read.indexes)
      if (writer) plan = readerFor(writer, schemaId)
      else {
        const names = entry.schema.messages.map((t) => t.name)
        const text = `The message indexes [${read.indexes.join(', ')}] name no message of ${entry.schema.label}, whose top-level messages are ${names.length ? names.slice(0, 8).join(', ') : 'none'}${names.length > 8 ? ', …' : ''}; the record was written with another schema.`
        plan = { ok: false, failure: () => new DecodeError('protobuf-unknown-message-index', text, { schemaId, position: CONFLUENT_HEADER_BYTES }) }
      }
      if (plans.size < 10_000) plans.set(key, plan)
    }
    return { plan, schemaId, start: read.end, indexes: read.indexes }
  }

  const encodeWith = (type: protobuf.Type, value: unknown): Uint8Array => {
    try {
      return type.encode(messageFromJson(type, value)).finish()
    } catch (error) {
      const reason = (error as Error).message
      throw new EncodeError('protobuf-invalid-value', `The value does not fit the Protobuf message ${type.fullName.slice(1)}: ${reason}.`, undefined, error)
    }
  }

  return {
    format: 'protobuf',
    framing,

    async prepare(payloads) {
      if (framing === 'raw') return
      const missing = new Set<number>()
      for (const bytes of payloads) {
        if (!bytes || bytes.length < CONFLUENT_HEADER_BYTES || bytes[0] !== CONFLUENT_MAGIC_BYTE) continue
        const id = bytes.readUInt32BE(1)
        if (registry!.cached(id) === undefined) missing.add(id)
      }
      for (const id of missing) await registry!.load(id)
    },

    decode(bytes) {
      if (framing === 'raw') return decodeMessage(rawType!, rawType!, bytes, 0, undefined)
      const { plan, schemaId, start } = framedPlan(bytes)
      if (!plan.ok) throw plan.failure()
      return decodeMessage(plan.type, plan.writer, bytes, start, schemaId)
    },

    encode(value) {
      const target = options.encodeWith
      if (!target)
        throw new RecoveryError(
          'USAGE',
          'This Protobuf codec has no message to write with; give --output-schema-id N (with --registry) or --schema FILE --message NAME.',
        )
      const body = encodeWith(target.type, value)
      if (framing === 'raw') return Buffer.from(body)
      if (target.schemaId === undefined || !target.indexes)
        throw new RecoveryError('USAGE', 'Writing Confluent-framed Protobuf needs the schema id to put in the header.')
      return frame(target.schemaId, target.indexes, body)
    },

    encodeLike(value, sourceBytes) {
      if (framing === 'raw') return Buffer.from(encodeWith(rawType!, value))
      const { plan, schemaId, indexes } = framedPlan(sourceBytes)
      if (!plan.ok) {
        // The plan's own failure (indexes naming no message, a reader without the message), not relabelled.
        const failure = plan.failure()
        throw new EncodeError(failure.kind as EncodeKind, failure.message)
      }
      return frame(schemaId, indexes, encodeWith(plan.writer, value))
    },
  }
}

/** The message `--message` names in `schema`; without one, the only message of the main file. */
export function pickMessage(schema: ProtoSchema, message: string | undefined, flag = '--message'): protobuf.Type {
  if (message !== undefined) {
    const type = schema.find(message)
    if (type) return type
    const names = schema.allMessageNames().filter((n) => !n.startsWith('google.protobuf.'))
    throw new RecoveryError(
      'USAGE',
      `${schema.label} has no message ${message} (or more than one by that name); its messages are ${names.slice(0, 10).join(', ')}${names.length > 10 ? ', …' : ''}: pass ${flag} with one of them.`,
    )
  }
  if (schema.messages.length === 1) return schema.messages[0]!
  const names = schema.messages.map((t) => t.fullName.slice(1))
  throw new RecoveryError(
    'USAGE',
    `${schema.label} defines ${names.length} messages (${names.slice(0, 10).join(', ')}); pass ${flag} NAME to say which one the ${flag === '--message' ? 'records' : 'keys'} are.`,
  )
}

function frame(schemaId: number, indexes: readonly number[], body: Uint8Array): Buffer {
  const header = Buffer.allocUnsafe(CONFLUENT_HEADER_BYTES)
  header[0] = CONFLUENT_MAGIC_BYTE
  header.writeUInt32BE(schemaId, 1)
  return Buffer.concat([header, writeMessageIndexes(indexes), body])
}

function decodeMessage(type: protobuf.Type, writer: protobuf.Type, bytes: Buffer, start: number, schemaId: number | undefined): unknown {
  const reader = protobuf.Reader.create(start === 0 ? bytes : bytes.subarray(start))
  reader.discardUnknown = false
  let message: protobuf.Message
  try {
    message = type.decode(reader)
  } catch (error) {
    throw classify(error, type, bytes, start + reader.pos, schemaId)
  }
  try {
    return messageToJson(type, message)
  } catch (error) {
    const name = type.fullName.slice(1)
    if (error instanceof WrongWireTypeError) {
      const other = writer === type ? '' : ` (written as ${writer.fullName.slice(1)})`
      throw new DecodeError(
        'protobuf-wrong-wire-type',
        `Not a ${name} Protobuf message${other}: ${error.message}; the writer used another schema.`,
        { schemaId, field: error.field },
        error,
      )
    }
    throw new DecodeError('protobuf-invalid', `Not a valid ${name} Protobuf message (${bytes.length} bytes): ${(error as Error).message}.`, { schemaId }, error)
  }
}

function classify(error: unknown, type: protobuf.Type, bytes: Buffer, position: number, schemaId: number | undefined): DecodeError {
  const reason = (error as Error)?.message ?? String(error)
  const name = type.fullName.slice(1)
  if (error instanceof RangeError && /index out of range/.test(reason))
    return new DecodeError(
      'protobuf-truncated',
      `Truncated Protobuf: the ${bytes.length}-byte payload ends inside a ${name} field or nested message (${reason}).`,
      { position: bytes.length, schemaId },
      error,
    )
  const why = /max depth/.test(reason) ? `${reason} (messages nested deeper than ${protobuf.Reader.recursionLimit})` : reason
  return new DecodeError('protobuf-invalid', `Not a valid ${name} Protobuf message (${bytes.length} bytes): ${why}.`, { position, schemaId }, error)
}
