import type { Type } from 'avsc'

/** A parsed Avro schema and where it came from ("orders-v1.avsc", "registry id 7"). */
export interface AvroSchemaRef {
  type: Type
  label: string
}

/** What a schema id resolves to: a schema, or why the record that names it cannot be decoded. */
export type SchemaEntry = { ok: true; schema: AvroSchemaRef } | { ok: false; kind: 'avro-unknown-schema-id' | 'schema-resolution'; reason: string }

/** Confluent schema ids -> schemas: ids.json beside .avsc files, a Schema Registry, or both. */
export interface SchemaLookup {
  /** Where ids are looked up, for messages (a registry URL without its credentials). */
  readonly label: string
  /** The answer without I/O, or undefined when it has not been loaded yet. */
  cached(id: number): SchemaEntry | undefined
  /** Loads an id once; later calls and cached() answer from memory. Environment failures throw RecoveryError. */
  load(id: number): Promise<SchemaEntry>
}

/** Looks ids up in `first` and, for ids it does not know, in `second`. */
export function chainLookups(first: SchemaLookup, second: SchemaLookup): SchemaLookup {
  return {
    label: `${first.label}, then ${second.label}`,
    cached(id) {
      const a = first.cached(id)
      if (a === undefined || a.ok) return a
      return second.cached(id)
    },
    async load(id) {
      const a = await first.load(id)
      return a.ok ? a : second.load(id)
    },
  }
}
