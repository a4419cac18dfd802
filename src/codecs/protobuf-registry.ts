import { loadOnce } from './load-once.js'
import type { SchemaRegistryClient } from './schema-registry.js'
import { buildProtoSchema, ProtoSchemaError, type ProtoIdLookup, type ProtoSchema } from './protobuf-schema.js'

/** What a schema id resolves to for Protobuf: a schema, or why the records naming it cannot be decoded. */
export type ProtoSchemaEntry = { ok: true; schema: ProtoSchema } | { ok: false; kind: 'protobuf-unknown-schema-id' | 'schema-resolution'; reason: string }

export interface ProtoSchemaLookup {
  readonly label: string
  /** The answer without I/O, or undefined when the id has not been loaded yet. */
  cached(id: number): ProtoSchemaEntry | undefined
  /** Loads an id once. Environment failures (registry out of reach) throw RecoveryError. */
  load(id: number): Promise<ProtoSchemaEntry>
}

interface RegistrySchemaBody {
  schema?: unknown
  schemaType?: unknown
  references?: unknown
}

interface Reference {
  name: string
  subject: string
  version: number | string
}

const MAX_REFERENCE_DEPTH = 32
const lookups = new WeakMap<SchemaRegistryClient, ProtoSchemaLookup>()

/**
 * Protobuf schemas from a Confluent Schema Registry: `GET /schemas/ids/{id}` (schemaType
 * PROTOBUF), and each schema reference (an import, by the file name it is imported as)
 * through `GET /subjects/{subject}/versions/{version}`, recursively. One per registry client,
 * so the key and value codecs share what they fetched.
 */
export function protobufRegistryLookup(client: SchemaRegistryClient): ProtoSchemaLookup {
  let lookup = lookups.get(client)
  if (!lookup) {
    lookup = createLookup(client)
    lookups.set(client, lookup)
  }
  return lookup
}

function createLookup(client: SchemaRegistryClient): ProtoSchemaLookup {
  const subjects = new Map<string, Promise<RegistrySchemaBody>>()

  const subject = (ref: Reference, id: number): Promise<RegistrySchemaBody> => {
    const key = `${ref.subject}/${ref.version}`
    let pending = subjects.get(key)
    if (!pending) {
      const path = `/subjects/${encodeURIComponent(ref.subject)}/versions/${encodeURIComponent(String(ref.version))}`
      pending = client.get(path, { schemaId: id }).then(({ status, body }) => {
        if (status === 404)
          throw new ProtoSchemaError(`it imports ${ref.name} (subject ${ref.subject} version ${ref.version}), which the registry does not have`)
        if (status !== 200 || typeof (body as RegistrySchemaBody)?.schema !== 'string') throw client.unexpected(path, status, body, id)
        return body as RegistrySchemaBody
      })
      pending.catch(() => subjects.delete(key))
      subjects.set(key, pending)
    }
    return pending
  }

  const collect = async (references: unknown, id: number, sources: Map<string, string>, depth: number): Promise<void> => {
    if (!Array.isArray(references) || references.length === 0) return
    if (depth > MAX_REFERENCE_DEPTH) throw new ProtoSchemaError(`schema references nest deeper than ${MAX_REFERENCE_DEPTH}`)
    for (const ref of references as Reference[]) {
      if (typeof ref?.name !== 'string' || typeof ref.subject !== 'string' || ref.version === undefined)
        throw new ProtoSchemaError(`a schema reference is malformed: ${JSON.stringify(ref)}`)
      if (sources.has(ref.name)) continue
      const body = await subject(ref, id)
      sources.set(ref.name, body.schema as string)
      await collect(body.references, id, sources, depth + 1)
    }
  }

  const fetchEntry = async (id: number): Promise<ProtoSchemaEntry> => {
    const path = `/schemas/ids/${id}`
    const { status, body } = await client.get(path, { schemaId: id })
    if (status === 404 && (body as { error_code?: unknown })?.error_code === 40403)
      return { ok: false, kind: 'protobuf-unknown-schema-id', reason: `the ${client.label} has no schema with id ${id}` }
    if (status !== 200) throw client.unexpected(path, status, body, id)
    const schema = body as RegistrySchemaBody
    const schemaType = typeof schema.schemaType === 'string' ? schema.schemaType : 'AVRO'
    if (schemaType !== 'PROTOBUF')
      return { ok: false, kind: 'schema-resolution', reason: `schema id ${id} in the ${client.label} is ${schemaType}, not Protobuf` }
    if (typeof schema.schema !== 'string') throw client.unexpected(path, status, body, id)
    const main = `registry-id-${id}.proto`
    const sources = new Map<string, string>([[main, schema.schema]])
    try {
      await collect(schema.references, id, sources, 0)
      return { ok: true, schema: buildProtoSchema(`registry id ${id}`, main, sources) }
    } catch (error) {
      if (!(error instanceof ProtoSchemaError)) throw error
      return { ok: false, kind: 'schema-resolution', reason: `schema id ${id} in the ${client.label} cannot be used: ${error.message}` }
    }
  }

  const cache = loadOnce(fetchEntry)
  return { label: client.label, cached: cache.cached, load: cache.load }
}

/**
 * Schema ids from `--schema DIR/ids.json` first, then the registry (when there is one); with
 * ids.json alone, an id it lacks is `protobuf-unknown-schema-id`.
 */
export function protobufIdLookup(ids: ProtoIdLookup, registry: ProtoSchemaLookup | undefined): ProtoSchemaLookup {
  return {
    label: registry ? `${ids.label}, then ${registry.label}` : ids.label,
    cached: (id) => (ids.has(id) || !registry ? ids.entry(id) : registry.cached(id)),
    load: (id) => (ids.has(id) || !registry ? Promise.resolve(ids.entry(id)) : registry.load(id)),
  }
}
