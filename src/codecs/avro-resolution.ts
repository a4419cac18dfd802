import avro from 'avsc'
import type { Type } from 'avsc'

/** avsc's resolver object: opaque, passed back to Type.decode. */
export type AvroResolver = ReturnType<Type['createResolver']>

/** The writer schema cannot be read as the reader schema; `field` says where (a path, "" for the top). */
export class IncompatibleSchemaError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
    readonly reader: Type,
    readonly writer: Type,
  ) {
    super(`${field === '' ? 'The top-level type' : `Field "${field}"`} ${reason}`)
    this.name = 'IncompatibleSchemaError'
  }
}

/**
 * How to read data written with `writer` as `reader` (Avro schema resolution: defaults fill
 * new fields, aliases map renamed ones, int/long/float widen). undefined when no resolution
 * is needed (same canonical form). Throws IncompatibleSchemaError naming the first field
 * that cannot be resolved.
 */
export function resolveSchemas(reader: Type, writer: Type): AvroResolver | undefined {
  if (reader === writer || reader.equals(writer)) return undefined
  try {
    return reader.createResolver(writer)
  } catch (error) {
    const found = locateIncompatibility(reader, writer, '', new Set())
    throw new IncompatibleSchemaError(found?.field ?? '', found?.reason ?? `cannot be read: ${(error as Error).message}`, reader, writer)
  }
}

interface Found {
  field: string
  reason: string
}

function canResolve(reader: Type, writer: Type): boolean {
  try {
    reader.createResolver(writer)
    return true
  } catch {
    return false
  }
}

function underlying(type: Type): Type {
  let t = type
  while (avro.Type.isType(t, 'logical')) t = (t as unknown as { underlyingType: Type }).underlyingType
  return t
}

interface FieldLike {
  name: string
  aliases: string[]
  type: Type
  defaultValue(): unknown
}

/** Walks both schemas to the deepest place where avsc's resolution fails, and says why. */
function locateIncompatibility(readerType: Type, writerType: Type, path: string, seen: Set<string>): Found | undefined {
  const reader = underlying(readerType)
  const writer = underlying(writerType)
  const visit = `${path}|${describe(reader)}|${describe(writer)}`
  if (seen.has(visit)) return undefined
  seen.add(visit)

  if (avro.Type.isType(writer, 'union') && !avro.Type.isType(reader, 'union')) {
    for (const branch of (writer as unknown as { types: Type[] }).types) {
      if (!canResolve(reader, branch))
        return (
          locateIncompatibility(reader, branch, path, seen) ?? {
            field: path,
            reason: `cannot read the writer's union branch ${describe(branch)} as ${describe(reader)}`,
          }
        )
    }
  }
  if (avro.Type.isType(reader, 'union')) {
    const branches = avro.Type.isType(writer, 'union') ? (writer as unknown as { types: Type[] }).types : [writer]
    for (const branch of branches) {
      if (!canResolve(reader, branch))
        return { field: path, reason: `has the writer's ${describe(branch)}, which matches no branch of the reader's union ${describe(reader)}` }
    }
    return undefined
  }
  if (avro.Type.isType(reader, 'record', 'error') && avro.Type.isType(writer, 'record', 'error')) {
    const r = reader as unknown as { name: string; aliases: string[]; fields: FieldLike[] }
    const w = writer as unknown as { name: string; fields: FieldLike[] }
    if (r.name !== w.name && !r.aliases.includes(w.name)) {
      return { field: path, reason: `is the writer's record ${w.name}, which is neither the reader's ${r.name} nor one of its aliases` }
    }
    for (const field of r.fields) {
      const names = [field.name, ...field.aliases]
      const matches = w.fields.filter((f) => names.includes(f.name))
      const fieldPath = path === '' ? field.name : `${path}.${field.name}`
      if (matches.length > 1)
        return { field: fieldPath, reason: `matches several writer fields through its aliases (${matches.map((m) => m.name).join(', ')})` }
      const match = matches[0]
      if (!match) {
        if (field.defaultValue() === undefined)
          return {
            field: fieldPath,
            reason: `is in the reader schema ${r.name} without a default, and the writer schema ${w.name} does not have it (nor any of its aliases)`,
          }
        continue
      }
      if (!canResolve(field.type, match.type)) {
        return (
          locateIncompatibility(field.type, match.type, fieldPath, seen) ?? {
            field: fieldPath,
            reason: `cannot read the writer's ${describe(match.type)} as ${describe(field.type)}`,
          }
        )
      }
    }
    return undefined
  }
  if (avro.Type.isType(reader, 'array') && avro.Type.isType(writer, 'array')) {
    const items = (t: Type) => (t as unknown as { itemsType: Type }).itemsType
    return locateIncompatibility(items(reader), items(writer), `${path}[]`, seen)
  }
  if (avro.Type.isType(reader, 'map') && avro.Type.isType(writer, 'map')) {
    const values = (t: Type) => (t as unknown as { valuesType: Type }).valuesType
    return locateIncompatibility(values(reader), values(writer), `${path}{}`, seen)
  }
  if (avro.Type.isType(reader, 'enum') && avro.Type.isType(writer, 'enum')) {
    const rs = (reader as unknown as { symbols: string[] }).symbols
    const missing = (writer as unknown as { symbols: string[] }).symbols.filter((s) => !rs.includes(s))
    if (missing.length > 0)
      return {
        field: path,
        reason: `has writer enum symbols ${missing.join(', ')} that the reader's ${describe(reader)} lacks, and the reader enum has no default`,
      }
  }
  if (canResolve(reader, writer)) return undefined
  return { field: path, reason: `cannot read the writer's ${describe(writer)} as ${describe(reader)}` }
}

/** "long", "record com.example.Order", "array", ... */
export function describe(type: Type): string {
  const t = underlying(type)
  const name = (t as unknown as { name?: string }).name
  const typeName = avro.Type.isType(t, 'union') ? 'union' : t.typeName
  return name ? `${typeName} ${name}` : typeName
}
