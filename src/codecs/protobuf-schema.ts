import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { basename, dirname, join, posix, relative, resolve, sep } from 'node:path'
import protobuf from 'protobufjs'
import { badSchema, readIdMapEntries } from './id-map-file.js'

/**
 * A Protobuf schema: `.proto` sources parsed by protobufjs into one Root (imports resolved
 * among the given sources; Google's well-known types built in), with the main file's messages
 * in declaration order, which is what Confluent's message indexes count.
 */
export interface ProtoSchema {
  /** "orders.proto", "registry id 7". */
  readonly label: string
  readonly root: protobuf.Root
  /** The main file's top-level messages in declaration order (message index [0], [1], …). */
  readonly messages: readonly protobuf.Type[]
  /** The message a message-index path names (top-level index, then nested indexes), if any. */
  byIndexes(indexes: readonly number[]): protobuf.Type | undefined
  /** The message-index path of a message of the main file, if it is one. */
  indexesOf(type: protobuf.Type): number[] | undefined
  /** A message by full name (shop.Order) or, when only one message has it, by simple name. */
  find(name: string): protobuf.Type | undefined
  /** Every message type, by full name without the leading dot. */
  allMessageNames(): string[]
}

/** A schema that cannot be parsed or whose imports are missing; the caller says whose fault that is. */
export class ProtoSchemaError extends Error {}

const PARSE_OPTIONS: protobuf.IParseOptions = { keepCase: true }

/**
 * Parses `main` (a key of `sources`) with the files it imports, transitively. `sources` maps
 * import paths ("shop/money.proto") to text; `google/protobuf/*.proto` come built in when
 * absent. `mains` adds further files parsed into the same root (a schema directory).
 */
export function buildProtoSchema(label: string, main: string, sources: ReadonlyMap<string, string>, mains: readonly string[] = []): ProtoSchema {
  const root = new protobuf.Root()
  const parsed = new Set<string>()
  const load = (name: string, importer: string | undefined): void => {
    const key = sources.has(name) ? name : importer ? siblingOf(importer, name, sources) : undefined
    const found = key ?? name
    if (parsed.has(found)) return
    parsed.add(found)
    const text = key === undefined ? undefined : sources.get(key)
    if (text === undefined) {
      const builtIn = protobuf.common.get(name)
      if (builtIn) {
        root.addJSON(builtIn.nested as Record<string, protobuf.AnyNestedObject>)
        return
      }
      throw new ProtoSchemaError(`${importer ?? label} imports ${name}, which is not among the schema files`)
    }
    let result: protobuf.IParserResult
    try {
      result = protobuf.parse(text, root, PARSE_OPTIONS)
    } catch (error) {
      throw new ProtoSchemaError(`${found} is not a valid .proto file: ${(error as Error).message}`)
    }
    for (const imported of [...(result.imports ?? []), ...(result.weakImports ?? [])]) load(imported, found)
  }
  for (const name of [main, ...mains]) load(name, undefined)
  try {
    root.resolveAll()
  } catch (error) {
    throw new ProtoSchemaError(`${label} does not resolve: ${(error as Error).message}`)
  }
  const messages = topLevelMessages(root, sources.get(main) ?? '')
  const byPath = new Map<string, protobuf.Type | undefined>()
  return {
    label,
    root,
    messages,
    byIndexes(indexes) {
      const key = indexes.join(',')
      if (byPath.has(key)) return byPath.get(key)
      let type: protobuf.Type | undefined = messages[indexes[0]!]
      for (let i = 1; i < indexes.length && type; i++) type = nestedMessages(type)[indexes[i]!]
      if (byPath.size < 1_000) byPath.set(key, type)
      return type
    },
    indexesOf(type) {
      const path: number[] = []
      let current: protobuf.ReflectionObject | null = type
      while (current && current.parent instanceof protobuf.Type) {
        path.unshift(nestedMessages(current.parent).indexOf(current as protobuf.Type))
        current = current.parent
      }
      const top = messages.indexOf(current as protobuf.Type)
      if (top < 0 || path.includes(-1)) return undefined
      return [top, ...path]
    },
    find(name) {
      return findMessage(root, name)
    },
    allMessageNames() {
      return allTypes(root).map((t) => t.fullName.slice(1))
    },
  }
}

/** `.proto` files from `--schema DIR|FILE`: a file and what it imports, or every file under a directory. */
export function loadProtoFiles(path: string): ProtoSchema {
  const abs = resolve(path)
  if (!existsSync(abs)) throw badSchema(`${path} does not exist; --schema takes a directory of .proto files or one .proto file.`, abs)
  const isDir = statSync(abs).isDirectory()
  const dir = isDir ? abs : dirname(abs)
  const sources = new Map<string, string>()
  for (const file of protoFilesUnder(dir)) sources.set(relative(dir, file).split(sep).join('/'), readFileSync(file, 'utf8'))
  if (sources.size === 0) throw badSchema(`${path} has no .proto files.`, abs)
  const names = [...sources.keys()]
  const main = isDir ? names[0]! : basename(abs)
  try {
    return buildProtoSchema(isDir ? basename(abs) : main, main, sources, isDir ? names.slice(1) : [])
  } catch (error) {
    if (!(error instanceof ProtoSchemaError)) throw error
    const hint =
      isDir && /duplicate name/.test(error.message) ? '; two files define the same message (two versions?): pass the one file to read with as --schema' : ''
    throw badSchema(`The Protobuf schema ${path} cannot be used: ${error.message}${hint}.`, abs, error)
  }
}

/**
 * `DIR/ids.json` beside `.proto` files ({"1": "orders.proto"}): Confluent schema ids mapped to
 * files of DIR, each id's schema being that file (its top-level messages are what the message
 * indexes count) with what it imports from DIR; so framed records decode without a registry, as
 * Avro's ids.json does. undefined when `path` is not a directory or has no ids.json.
 */
export function loadProtoIds(path: string): ProtoIdLookup | undefined {
  const dir = resolve(path)
  const file = join(dir, 'ids.json')
  if (!existsSync(dir) || !statSync(dir).isDirectory() || !existsSync(file)) return undefined
  const entries = readIdMapEntries(file, '.proto', '{"1": "orders.proto"}')
  const sources = new Map<string, string>()
  for (const f of protoFilesUnder(dir)) sources.set(relative(dir, f).split(sep).join('/'), readFileSync(f, 'utf8'))
  const byId = new Map<number, ProtoSchema>()
  for (const { id, key, file: name } of entries) {
    const main = typeof name === 'string' ? posix.normalize(name.split(sep).join('/')) : undefined
    if (main === undefined || !sources.has(main))
      throw badSchema(`${file} maps schema id ${key} to ${JSON.stringify(name)}, which is not a .proto file in ${dir}.`, file)
    try {
      byId.set(id, buildProtoSchema(`${main} (id ${id} in ids.json)`, main, sources))
    } catch (error) {
      if (!(error instanceof ProtoSchemaError)) throw error
      throw badSchema(`The Protobuf schema ${main} (id ${id} in ${file}) cannot be used: ${error.message}.`, file, error)
    }
  }
  return {
    label: file,
    has: (id) => byId.has(id),
    entry: (id) => {
      const schema = byId.get(id)
      return schema ? { ok: true, schema } : { ok: false, kind: 'protobuf-unknown-schema-id', reason: `schema id ${id} is not in ${file}` }
    },
  }
}

/** Schema ids from an ids.json (see loadProtoIds): answered without I/O. */
export interface ProtoIdLookup {
  readonly label: string
  has(id: number): boolean
  entry(id: number): { ok: true; schema: ProtoSchema } | { ok: false; kind: 'protobuf-unknown-schema-id'; reason: string }
}

/** True when `--schema` names Protobuf sources: a .proto file, or a directory with .proto files and no .avsc files. */
export function isProtoSchemaPath(path: string): boolean {
  const abs = resolve(path)
  if (!existsSync(abs)) return path.endsWith('.proto')
  if (!statSync(abs).isDirectory()) return abs.endsWith('.proto')
  const files = filesUnder(abs, 0)
  return files.some((f) => f.endsWith('.proto')) && !files.some((f) => f.endsWith('.avsc'))
}

function topLevelMessages(root: protobuf.Root, mainText: string): protobuf.Type[] {
  // Parsed again alone: the shared root mixes the main file's declarations with its imports'.
  const alone = new protobuf.Root()
  const result = protobuf.parse(mainText, alone, PARSE_OPTIONS)
  const scope = result.package ? alone.lookup(result.package) : alone
  if (!(scope instanceof protobuf.Namespace)) return []
  return scope.nestedArray.filter((o): o is protobuf.Type => o instanceof protobuf.Type).map((t) => root.lookupType(t.fullName))
}

function nestedMessages(type: protobuf.Type): protobuf.Type[] {
  return type.nestedArray.filter((o): o is protobuf.Type => o instanceof protobuf.Type)
}

function allTypes(ns: protobuf.NamespaceBase): protobuf.Type[] {
  const out: protobuf.Type[] = []
  for (const o of ns.nestedArray) {
    if (o instanceof protobuf.Type) out.push(o)
    if (o instanceof protobuf.Namespace || o instanceof protobuf.Type) out.push(...allTypes(o))
  }
  return out
}

function findMessage(root: protobuf.Root, name: string): protobuf.Type | undefined {
  const wanted = name.replace(/^\./, '')
  const exact = allTypes(root).filter((t) => t.fullName === `.${wanted}`)
  if (exact.length === 1) return exact[0]
  const bySimple = allTypes(root).filter((t) => t.name === wanted && !t.fullName.startsWith('.google.protobuf.'))
  return bySimple.length === 1 ? bySimple[0] : undefined
}

/** An import written relative to the importing file's directory. */
function siblingOf(importer: string, name: string, sources: ReadonlyMap<string, string>): string | undefined {
  const candidate = posix.normalize(posix.join(posix.dirname(importer), name))
  return sources.has(candidate) ? candidate : undefined
}

function protoFilesUnder(dir: string): string[] {
  return filesUnder(dir, 0)
    .filter((f) => f.endsWith('.proto'))
    .sort()
}

function filesUnder(dir: string, depth: number): string[] {
  if (depth > 16) return []
  const out: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue
    const full = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...filesUnder(full, depth + 1))
    else if (entry.isFile()) out.push(full)
  }
  return out
}
