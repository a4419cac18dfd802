import { loadOnce } from './load-once.js'
import { RecoveryError } from '../errors.js'
import type { JsonSchemaDocument } from './json-schema-validator.js'
import type { SchemaRegistryClient } from './schema-registry.js'

/** What a schema id resolves to for JSON Schema: the document, or why records naming it cannot be read. */
export type JsonSchemaEntry =
  | { ok: true; document: JsonSchemaDocument }
  | { ok: false; kind: 'json-schema-unknown-schema-id' | 'schema-resolution'; reason: string }

/** Confluent schema ids -> JSON Schema documents (with their references), each id fetched once. */
export interface JsonSchemaLookup {
  readonly label: string
  cached(id: number): JsonSchemaEntry | undefined
  /** Environment failures (registry out of reach) throw RecoveryError and are not cached. */
  load(id: number): Promise<JsonSchemaEntry>
}

const MAX_REFERENCE_DEPTH = 32
const lookups = new WeakMap<SchemaRegistryClient, JsonSchemaLookup>()

interface RegistryBody {
  schema?: unknown
  schemaType?: unknown
  references?: unknown
}

/** The JSON Schema view of a registry client, shared by the key and value codecs of one run. */
export function registryJsonSchemas(client: SchemaRegistryClient): JsonSchemaLookup {
  let lookup = lookups.get(client)
  if (!lookup) {
    lookup = createLookup(client)
    lookups.set(client, lookup)
  }
  return lookup
}

function createLookup(client: SchemaRegistryClient): JsonSchemaLookup {
  const fetchEntry = async (id: number): Promise<JsonSchemaEntry> => {
    const path = `/schemas/ids/${id}`
    const { status, body } = await client.get(path, { schemaId: id })
    if (status === 404 && (body as { error_code?: unknown } | undefined)?.error_code === 40403)
      return { ok: false, kind: 'json-schema-unknown-schema-id', reason: `the ${client.label} has no schema with id ${id}` }
    const answer = body as RegistryBody | undefined
    if (status !== 200 || typeof answer?.schema !== 'string') throw unexpected(client, path, status, body, id)
    const schemaType = typeof answer.schemaType === 'string' ? answer.schemaType : 'AVRO'
    if (schemaType !== 'JSON')
      return { ok: false, kind: 'schema-resolution', reason: `schema id ${id} in the ${client.label} is ${schemaType}, not JSON Schema` }
    try {
      const references = new Map<string, unknown>()
      await collectReferences(client, answer.references, id, 0, references)
      return { ok: true, document: { schema: JSON.parse(answer.schema), label: `registry id ${id}`, references } }
    } catch (error) {
      if (error instanceof RecoveryError) throw error
      return { ok: false, kind: 'schema-resolution', reason: `schema id ${id} in the ${client.label} cannot be used: ${(error as Error).message}` }
    }
  }

  const cache = loadOnce(fetchEntry)
  return { label: client.label, cached: cache.cached, load: cache.load }
}

/** Confluent schema references: each `{name, subject, version}` is a schema `$ref`s may name by `name`. */
async function collectReferences(client: SchemaRegistryClient, references: unknown, id: number, depth: number, into: Map<string, unknown>): Promise<void> {
  if (!Array.isArray(references) || references.length === 0) return
  if (depth > MAX_REFERENCE_DEPTH) throw new Error(`schema references nest deeper than ${MAX_REFERENCE_DEPTH}`)
  for (const ref of references as Array<{ name?: unknown; subject?: unknown; version?: unknown }>) {
    if (typeof ref?.name !== 'string' || typeof ref.subject !== 'string' || ref.version === undefined)
      throw new Error(`a schema reference is malformed: ${JSON.stringify(ref)}`)
    if (into.has(ref.name)) continue
    const path = `/subjects/${encodeURIComponent(ref.subject)}/versions/${encodeURIComponent(String(ref.version))}`
    const { status, body } = await client.get(path, { schemaId: id })
    if (status === 404) throw new Error(`it references ${ref.name} (subject ${ref.subject} version ${ref.version}), which the registry does not have`)
    const answer = body as RegistryBody | undefined
    if (status !== 200 || typeof answer?.schema !== 'string') throw unexpected(client, path, status, body, id)
    into.set(ref.name, JSON.parse(answer.schema))
    await collectReferences(client, answer.references, id, depth + 1, into)
  }
}

function unexpected(client: SchemaRegistryClient, path: string, status: number, body: unknown, id: number): RecoveryError {
  const shown = typeof body === 'string' ? body : JSON.stringify(body ?? '')
  return new RecoveryError(
    'REGISTRY_ERROR',
    `${client.label} answered HTTP ${status} to ${path} with ${shown.slice(0, 120) || 'an empty body'}, not a Confluent Schema Registry answer; check that --registry points at the registry itself.`,
    { details: { registry: client.label, status, schemaId: id, stage: 'decode' } },
  )
}
