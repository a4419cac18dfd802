import type { Schema, Type } from 'avsc'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { basename, dirname, join, relative, resolve, sep } from 'node:path'
import { parseAvroType } from './avro-types.js'
import { badSchema, readIdMapEntries } from './id-map-file.js'
import type { AvroSchemaRef, SchemaEntry, SchemaLookup } from './schema-lookup.js'

/**
 * Avro schemas from files (`--schema DIR|FILE`). A directory holds `.avsc` files (searched
 * recursively), each one schema; a named type may be used in one file and defined in another,
 * as in Avro's own tooling. Files may define the same name differently (orders-v1.avsc and
 * orders-v2.avsc both define Order): each file is its own schema, and a name used but not
 * defined in a file must be defined by exactly one schema among the others (or identically).
 * An `ids.json` beside them ({"1": "orders-v1.avsc"}) maps Confluent schema ids to files, so
 * Confluent-framed records decode without a registry.
 */
export interface SchemaFiles {
  /** What was given, absolute. */
  path: string
  /** Parsed schemas by path relative to the directory (the file name for a single file). */
  files: Map<string, AvroSchemaRef>
  /** From ids.json; undefined when there is none. */
  ids: SchemaLookup | undefined
  /** The schema when there is exactly one (a file, or a directory with one .avsc file). */
  single: AvroSchemaRef | undefined
  /** Parses another schema file (a reader schema) with the named types of these files available. */
  parseFile(path: string): AvroSchemaRef
}

const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string'])
const NAMED = new Set(['record', 'error', 'enum', 'fixed'])
export const ID_MAP_FILE = 'ids.json'

interface ScannedFile {
  rel: string
  abs: string
  json: Schema
  /** Full names this file defines. */
  defines: string[]
  /** Full names this file uses without defining them. */
  uses: string[]
}

interface Parsed {
  ref: AvroSchemaRef
  /** Every named type the file defines or imported, by full name. */
  names: Record<string, Type>
}

export function loadSchemaFiles(path: string): SchemaFiles {
  const abs = resolve(path)
  if (!existsSync(abs)) throw badSchema(`${path} does not exist; --schema takes a directory of .avsc files or one .avsc file.`, abs)
  const isDir = statSync(abs).isDirectory()
  const dir = isDir ? abs : dirname(abs)
  const scanned = isDir ? avscFilesUnder(abs).map((file) => scanFile(dir, file)) : [scanFile(dir, abs)]
  if (scanned.length === 0) throw badSchema(`${path} has no .avsc files.`, abs)

  const definedBy = new Map<string, ScannedFile[]>()
  for (const file of scanned) for (const name of file.defines) definedBy.set(name, [...(definedBy.get(name) ?? []), file])
  const parsed = new Map<string, Parsed>()

  const parse = (file: ScannedFile, stack: string[]): Parsed => {
    const done = parsed.get(file.rel)
    if (done) return done
    if (stack.includes(file.rel))
      throw badSchema(`The schema files ${[...stack, file.rel].join(' -> ')} use each other's types in a cycle; define the shared types in one file.`, file.abs)
    const names: Record<string, Type> = {}
    for (const name of file.uses) names[name] = importName(name, file, [...stack, file.rel])
    let type: Type
    try {
      type = parseAvroType(file.json, { registry: names })
    } catch (error) {
      throw badSchema(`${file.abs} is not a valid Avro schema: ${(error as Error).message}.`, file.abs, error)
    }
    const result = { ref: { type, label: file.rel }, names }
    parsed.set(file.rel, result)
    return result
  }

  const importName = (name: string, user: ScannedFile, stack: string[]): Type => {
    const providers = (definedBy.get(name) ?? []).filter((f) => f.rel !== user.rel)
    if (providers.length === 0) {
      const where = isDir ? `any .avsc file under ${dir}` : `${user.abs} (to use types from other files, pass their directory as --schema)`
      throw badSchema(`${user.abs} uses the type ${name}, which is not defined in ${where}.`, user.abs)
    }
    const types = providers.map((p) => parse(p, stack).names[name]!)
    const first = types[0]!
    const differing = providers.filter((_, i) => !types[i]!.equals(first))
    if (differing.length > 0) {
      throw badSchema(
        `${user.abs} uses the type ${name}, which ${providers.map((p) => p.rel).join(' and ')} define differently; move the one meant into its own file.`,
        user.abs,
      )
    }
    return first
  }

  const files = new Map<string, AvroSchemaRef>()
  for (const file of scanned) files.set(file.rel, parse(file, []).ref)

  const ids = isDir && existsSync(join(dir, ID_MAP_FILE)) ? readIdMap(dir, files) : undefined
  const single = files.size === 1 ? [...files.values()][0] : undefined

  const parseFile = (other: string): AvroSchemaRef => {
    const otherAbs = resolve(other)
    const rel = relative(dir, otherAbs)
    const known = files.get(rel)
    if (known) return known
    if (!existsSync(otherAbs)) throw badSchema(`The schema file ${other} does not exist.`, otherAbs)
    const file = scanFile(dirname(otherAbs), otherAbs)
    return parse({ ...file, rel: otherAbs }, []).ref
  }

  return { path: abs, files, ids, single, parseFile }
}

/** A standalone schema file (a reader schema without --schema). */
export function loadSchemaFile(path: string): AvroSchemaRef {
  const files = loadSchemaFiles(path)
  if (statSync(resolve(path)).isDirectory()) throw badSchema(`${path} is a directory; a reader schema is one .avsc file.`, resolve(path))
  return files.single!
}

function avscFilesUnder(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.')) continue
    const path = join(dir, name)
    if (statSync(path).isDirectory()) out.push(...avscFilesUnder(path))
    else if (name.endsWith('.avsc')) out.push(path)
  }
  return out
}

function scanFile(dir: string, abs: string): ScannedFile {
  let text: string
  try {
    text = readFileSync(abs, 'utf8')
  } catch (error) {
    throw badSchema(`Could not read the schema file ${abs}: ${(error as Error).message}.`, abs, error)
  }
  let json: Schema
  try {
    json = JSON.parse(text) as Schema
  } catch (error) {
    throw badSchema(`${abs} is not JSON: ${(error as Error).message}.`, abs, error)
  }
  const defines: string[] = []
  const used: string[] = []
  collectNames(json, '', defines, used)
  const uses = [...new Set(used)].filter((name) => !defines.includes(name))
  return { rel: relative(dir, abs).split(sep).join('/') || basename(abs), abs, json, defines, uses }
}

/** Full names defined and used by a schema, qualified as avsc (and the Avro spec) do. */
function collectNames(schema: unknown, namespace: string, defines: string[], uses: string[]): void {
  if (typeof schema === 'string') {
    if (!PRIMITIVES.has(schema)) uses.push(qualify(schema, namespace))
    return
  }
  if (Array.isArray(schema)) {
    for (const branch of schema) collectNames(branch, namespace, defines, uses)
    return
  }
  if (!schema || typeof schema !== 'object') return
  const s = schema as { type?: unknown; name?: unknown; namespace?: unknown; fields?: unknown; items?: unknown; values?: unknown }
  if (typeof s.type === 'string' && NAMED.has(s.type) && typeof s.name === 'string') {
    const full = qualify(s.name, typeof s.namespace === 'string' ? s.namespace : namespace)
    defines.push(full)
    const inner = full.includes('.') ? full.slice(0, full.lastIndexOf('.')) : ''
    if (Array.isArray(s.fields)) for (const field of s.fields as Array<{ type?: unknown }>) collectNames(field?.type, inner, defines, uses)
    return
  }
  if (s.type === 'array') {
    collectNames(s.items, namespace, defines, uses)
    return
  }
  if (s.type === 'map') {
    collectNames(s.values, namespace, defines, uses)
    return
  }
  if (typeof s.type === 'string') {
    if (!PRIMITIVES.has(s.type)) uses.push(qualify(s.type, namespace))
    return
  }
  collectNames(s.type, namespace, defines, uses)
}

function qualify(name: string, namespace: string): string {
  return name.includes('.') || namespace === '' ? name : `${namespace}.${name}`
}

function readIdMap(dir: string, files: Map<string, AvroSchemaRef>): SchemaLookup {
  const path = join(dir, ID_MAP_FILE)
  const byId = new Map<number, AvroSchemaRef>()
  for (const { id, key, file } of readIdMapEntries(path, '.avsc', '{"1": "orders-v1.avsc"}')) {
    const ref = typeof file === 'string' ? files.get(relative(dir, resolve(dir, file)).split(sep).join('/')) : undefined
    if (!ref) throw badSchema(`${path} maps schema id ${key} to ${JSON.stringify(file)}, which is not an .avsc file in ${dir}.`, path)
    byId.set(id, { type: ref.type, label: `${ref.label} (id ${id} in ${ID_MAP_FILE})` })
  }
  const label = `${path}`
  return {
    label,
    cached: (id: number): SchemaEntry => {
      const ref = byId.get(id)
      return ref ? { ok: true, schema: ref } : { ok: false, kind: 'avro-unknown-schema-id', reason: `schema id ${id} is not in ${path}` }
    },
    load(id: number): Promise<SchemaEntry> {
      return Promise.resolve(this.cached(id)!)
    },
  }
}
