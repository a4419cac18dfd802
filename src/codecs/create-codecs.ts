import { RecoveryError } from '../errors.js'
import { createAvroCodec, type AvroFraming } from './avro-codec.js'
import { createBytesCodec } from './bytes-codec.js'
import type { Codec, CodecFormat, RecordCodecs } from './codec.js'
import { createJsonCodec } from './json-codec.js'
import { createJsonSchemaCodec } from './json-schema-codec.js'
import { loadJsonSchemaFile, looksLikeJsonSchemaFile } from './json-schema-files.js'
import { registryJsonSchemas } from './json-schema-registry.js'
import type { JsonSchemaDocument } from './json-schema-validator.js'
import { createProtobufCodec, pickMessage, type ProtobufCodec } from './protobuf-codec.js'
import { protobufIdLookup, protobufRegistryLookup } from './protobuf-registry.js'
import { isProtoSchemaPath, loadProtoFiles, loadProtoIds, type ProtoIdLookup, type ProtoSchema } from './protobuf-schema.js'
import { loadSchemaFile, loadSchemaFiles, type SchemaFiles } from './schema-files.js'
import { chainLookups, type AvroSchemaRef, type SchemaLookup } from './schema-lookup.js'
import { SchemaRegistryClient, type RegistryOptions } from './schema-registry.js'
import { createStringCodec } from './string-codec.js'

/** Where Avro schemas come from (`--schema`, `--registry`, `--reader-schema`). */
export interface SchemaSourceOptions {
  /** A directory of .avsc files (with an optional ids.json), or one .avsc file. */
  schema?: string
  /** A Confluent Schema Registry base URL; may carry user:password@. */
  registry?: string
  /** "user:password" for the registry (RECOVER_REGISTRY_AUTH), instead of credentials in the URL. */
  registryUserInfo?: string
  /** Timeouts and retries of registry requests. */
  registryOptions?: Omit<RegistryOptions, 'url' | 'userInfo'>
  /** Decode every record into this schema (schema evolution). */
  readerSchema?: string
  /**
   * Raw Avro: the writer schema of records that do not name theirs in a header, when --schema
   * is a directory of several files (with one .avsc file as --schema, that file is the writer).
   */
  writerSchema?: string
  /** Protobuf: the message the records are (--message), by full or simple name. */
  message?: string
  /** Protobuf keys: the message the keys are (--key-message); keys never take --message. */
  keyMessage?: string
  /** JSON Schema keys: the keys' JSON Schema file (--key-schema FILE.json); keys never take --schema's JSON Schema. */
  keySchema?: string
}

/** Schema sources opened once and shared by the key and value codecs (one registry cache). */
export interface SchemaSources {
  files?: SchemaFiles
  registry?: SchemaRegistryClient
  /** Confluent schema ids: ids.json first, then the registry. */
  ids?: SchemaLookup
  reader?: AvroSchemaRef
  /** Raw Avro's default writer schema: `writerSchema`, else the only schema file. */
  writer?: AvroSchemaRef
  /** `--schema FILE.json`: a JSON Schema (the reader's schema of json-schema records), instead of Avro files. */
  jsonSchema?: JsonSchemaDocument
  /** `.proto` files from --schema (instead of `files`, when it names Protobuf sources). */
  proto?: ProtoSchema
  /** `--schema DIR/ids.json` beside .proto files: Confluent schema ids of Protobuf records, without a registry. */
  protoIds?: ProtoIdLookup
  /** --message. */
  message?: string
  /** --key-message: what `message` is for keys (see keySources). */
  keyMessage?: string
  /** --key-schema FILE.json: what `jsonSchema` is for keys (see keySources). */
  keyJsonSchema?: JsonSchemaDocument
  /** Set by keySources: messages name the key flags. */
  forKeys?: true
}

export function openSchemaSources(options: SchemaSourceOptions): SchemaSources {
  const schemaIsJson = options.schema !== undefined && looksLikeJsonSchemaFile(options.schema)
  // JSON Schema's reader schema: --schema FILE.json, or --reader-schema FILE.json as for Avro.
  const readerIsJson = options.readerSchema !== undefined && looksLikeJsonSchemaFile(options.readerSchema)
  const jsonSchema = readerIsJson ? loadJsonSchemaFile(options.readerSchema!) : schemaIsJson ? loadJsonSchemaFile(options.schema!) : undefined
  const proto = options.schema !== undefined && !schemaIsJson && isProtoSchemaPath(options.schema) ? loadProtoFiles(options.schema) : undefined
  const protoIds = proto ? loadProtoIds(options.schema!) : undefined
  const files = options.schema === undefined || schemaIsJson || proto ? undefined : loadSchemaFiles(options.schema)
  const registry =
    options.registry === undefined
      ? undefined
      : new SchemaRegistryClient({ url: options.registry, userInfo: options.registryUserInfo, ...options.registryOptions })
  const ids = files?.ids && registry ? chainLookups(files.ids, registry) : (files?.ids ?? registry)
  if (options.keySchema !== undefined && !looksLikeJsonSchemaFile(options.keySchema))
    throw new RecoveryError(
      'USAGE',
      `--key-schema takes the keys' JSON Schema file (.json), and ${options.keySchema} is not one; Protobuf keys take --key-message NAME from the --schema .proto files.`,
    )
  const keyJsonSchema = options.keySchema === undefined ? undefined : loadJsonSchemaFile(options.keySchema)
  let reader: AvroSchemaRef | undefined
  if (options.readerSchema !== undefined && !readerIsJson) reader = files ? files.parseFile(options.readerSchema) : loadSchemaFile(options.readerSchema)
  let writer = files?.single
  if (options.writerSchema !== undefined) writer = files ? files.parseFile(options.writerSchema) : loadSchemaFile(options.writerSchema)
  return {
    files,
    registry,
    ids,
    reader,
    writer,
    ...(jsonSchema ? { jsonSchema } : {}),
    ...(proto ? { proto } : {}),
    ...(protoIds ? { protoIds } : {}),
    ...(options.message === undefined ? {} : { message: options.message }),
    ...(options.keyMessage === undefined ? {} : { keyMessage: options.keyMessage }),
    ...(keyJsonSchema ? { keyJsonSchema } : {}),
  }
}

/**
 * The sources a key codec reads: the same files and registry, but the keys' own Protobuf message
 * (--key-message, not --message) and JSON Schema (--key-schema, not --schema FILE.json). A
 * Confluent-framed key names its own schema id, so with a registry neither is needed.
 */
export function keySources(sources: SchemaSources): SchemaSources {
  const { message: _message, jsonSchema: _jsonSchema, keyMessage, keyJsonSchema, ...shared } = sources
  return {
    ...shared,
    ...(keyMessage === undefined ? {} : { message: keyMessage }),
    ...(keyJsonSchema ? { jsonSchema: keyJsonSchema } : {}),
    forKeys: true,
  }
}

export interface CodecRequest {
  format: CodecFormat
  /** Avro and Protobuf. Default: confluent when schema ids can be looked up (ids.json or a registry), else raw. */
  framing?: AvroFraming
  /** Avro, Protobuf and JSON Schema: the Confluent schema id that encode() writes (its schema is looked up). */
  encodeSchemaId?: number
  /**
   * Avro only: raw records name their writer schema in this header (DEFAULT_WRITER_HEADER is
   * `schema.version`): a schema id (ids.json or the registry) or a schema file name. Records
   * without it are read with the writer schema (`writerSchema`, or the only schema file).
   * Implies raw framing unless `framing` says otherwise.
   */
  writerHeader?: string
}

/** A codec for one side (key or value). Loads the encode schema id, if any, so encode() is synchronous. */
export async function createCodec(request: CodecRequest, sources: SchemaSources = {}): Promise<Codec> {
  switch (request.format) {
    case 'json':
      return createJsonCodec()
    case 'string':
      return createStringCodec()
    case 'bytes':
      return createBytesCodec()
    case 'avro':
      return createAvro(request, sources)
    case 'json-schema':
      return createJsonSchema(request, sources)
    case 'protobuf':
      return createProtobuf(request, sources)
  }
}

/**
 * Protobuf: Confluent-framed with --registry (--schema then gives the reader's .proto files),
 * else raw messages of --message in the --schema .proto files.
 */
export async function createProtobuf(request: CodecRequest, sources: SchemaSources): Promise<ProtobufCodec> {
  const fromRegistry = sources.registry ? protobufRegistryLookup(sources.registry) : undefined
  const registry = sources.protoIds ? protobufIdLookup(sources.protoIds, fromRegistry) : fromRegistry
  const files = sources.proto
  if (!registry && !files) {
    const got = sources.files ? ` (${sources.files.path} holds .avsc files, not .proto)` : ''
    throw new RecoveryError('USAGE', `Protobuf needs schemas${got}: pass --schema DIR|FILE (.proto files, with --message NAME) or --registry URL.`)
  }
  const framing = request.framing ?? (registry ? 'confluent' : 'raw')
  const message = sources.message
  if (framing === 'raw') {
    if (!files) throw new RecoveryError('USAGE', 'Protobuf without Confluent framing needs its .proto files: pass --schema DIR|FILE and --message NAME.')
    return createProtobufCodec({ framing, files, message, encodeWith: { type: pickMessage(files, message, sources.forKeys ? '--key-message' : '--message') } })
  }
  let encodeWith: { type: import('protobufjs').Type; schemaId: number; indexes: number[] } | undefined
  if (request.encodeSchemaId !== undefined) {
    const entry = await registry!.load(request.encodeSchemaId)
    if (!entry.ok) throw new RecoveryError('USAGE', `Cannot write with schema id ${request.encodeSchemaId}: ${entry.reason}.`)
    const type = pickMessage(entry.schema, message ?? (entry.schema.messages.length > 1 ? entry.schema.messages[0]!.fullName.slice(1) : undefined))
    const indexes = entry.schema.indexesOf(type)
    if (!indexes)
      throw new RecoveryError(
        'USAGE',
        `Cannot write ${type.fullName.slice(1)} with schema id ${request.encodeSchemaId}: it is not a message of that schema's own file; pass --message with one that is.`,
      )
    encodeWith = { type, schemaId: request.encodeSchemaId, indexes }
  }
  return createProtobufCodec({ framing, registry, files, message, encodeWith })
}

export async function createRecordCodecs(key: CodecRequest, value: CodecRequest, sources: SchemaSources = {}): Promise<RecordCodecs> {
  return { key: await createCodec(key, keySources(sources)), value: await createCodec(value, sources) }
}

async function createAvro(request: CodecRequest, sources: SchemaSources): Promise<Codec> {
  const framing = request.framing ?? (sources.ids && request.writerHeader === undefined ? 'confluent' : 'raw')
  if (!sources.files && !sources.ids && !sources.writer) {
    if (sources.jsonSchema)
      throw new RecoveryError(
        'USAGE',
        `Avro needs .avsc schemas, and ${sources.jsonSchema.label} is read as a JSON Schema (.json); pass --schema DIR|FILE.avsc, or --value-format json-schema.`,
      )
    throw new RecoveryError('USAGE', 'Avro needs schemas: pass --schema DIR|FILE (.avsc files, with ids.json for Confluent-framed records) or --registry URL.')
  }
  if (framing === 'confluent') {
    if (!sources.ids) {
      throw new RecoveryError(
        'USAGE',
        `Confluent-framed Avro needs schema ids, and ${sources.files!.path} has no ids.json; add one ({"1": "file.avsc"}) or pass --registry URL.`,
      )
    }
    let encodeWith: { schema: AvroSchemaRef; schemaId: number } | undefined
    if (request.encodeSchemaId !== undefined) {
      const entry = await sources.ids.load(request.encodeSchemaId)
      if (!entry.ok) throw new RecoveryError('USAGE', `Cannot write with schema id ${request.encodeSchemaId}: ${entry.reason}.`)
      encodeWith = { schema: entry.schema, schemaId: request.encodeSchemaId }
    }
    return createAvroCodec({ framing, ids: sources.ids, reader: sources.reader, encodeWith })
  }
  const writer = sources.writer
  if (request.writerHeader !== undefined) {
    if (request.writerHeader === '')
      throw new RecoveryError('USAGE', "The writer-schema header name is empty; give the header that names each record's writer schema, e.g. schema.version.")
    return createAvroCodec({
      framing,
      ids: sources.ids,
      files: sources.files?.files,
      writer,
      writerHeader: request.writerHeader,
      reader: sources.reader,
      encodeWith: writer ? { schema: sources.reader ?? writer } : undefined,
    })
  }
  if (!writer) {
    const count = sources.files?.files.size ?? 0
    throw new RecoveryError(
      'USAGE',
      `Raw Avro (no Confluent header) needs exactly one writer schema, and ${sources.files?.path ?? 'no --schema'} has ${count}; pass the one .avsc file as --schema, or name each record's writer schema in a header.`,
    )
  }
  return createAvroCodec({ framing, writer, reader: sources.reader, encodeWith: { schema: sources.reader ?? writer } })
}

async function createJsonSchema(request: CodecRequest, sources: SchemaSources): Promise<Codec> {
  if (!sources.jsonSchema && !sources.registry) {
    throw new RecoveryError(
      'USAGE',
      sources.files
        ? `JSON Schema needs a .json schema file, and ${sources.files.path} is Avro; pass --schema FILE.json or --registry URL.`
        : sources.forKeys
          ? 'JSON Schema keys need a schema: pass --key-schema FILE.json (plain or Confluent-framed JSON) or --registry URL (Confluent-framed JSON).'
          : 'JSON Schema needs a schema: pass --schema FILE.json (plain or Confluent-framed JSON) or --registry URL (Confluent-framed JSON).',
    )
  }
  const ids = sources.registry ? registryJsonSchemas(sources.registry) : undefined
  let encodeWith: Parameters<typeof createJsonSchemaCodec>[0]['encodeWith']
  if (request.encodeSchemaId !== undefined) {
    if (!ids)
      throw new RecoveryError('USAGE', `Writing JSON Schema with schema id ${request.encodeSchemaId} needs the registry that has it: pass --registry URL.`)
    encodeWith = { schemaId: request.encodeSchemaId, entry: await ids.load(request.encodeSchemaId) }
  } else if (sources.jsonSchema) encodeWith = { document: sources.jsonSchema }
  return createJsonSchemaCodec({ ids, reader: sources.jsonSchema, encodeWith })
}
