import { RecoveryError } from '../errors.js'
import { isTopicName } from './topic-scope.js'

/**
 * One grammar for every flag that names where records come from or go to (--sink,
 * --quarantine, --dlq, --parking, --output, audit compare --sink): the same text is the same
 * location in every command. Commands differ only in which locations they take (a quarantine
 * must be lossless, audit compare cannot read a plugin), which the role parsers decide
 * (src/sinks/registry.ts, src/quarantine/quarantine-location.ts, src/core/audit-sink.ts).
 * docs/locations.md is the table people read.
 */
export type Location = KafkaLocation | FileLocation | PostgresLocation | DuckDbLocation | PluginLocation

/** What every location has, including those of schemes a sink registers (src/sinks/registry.ts). */
export interface AnyLocation {
  /** The scheme: kafka, file, postgres, duckdb, plugin, or a registered one. */
  readonly kind: string
  /** The location as messages show it: canonical spelling, password replaced by ***. */
  readonly display: string
}

/** `kafka:TOPIC` (or `kafka://TOPIC`). */
export interface KafkaLocation extends AnyLocation {
  readonly kind: 'kafka'
  readonly topic: string
}

/** jsonl is recover's lossless envelope (also .ndjson); json, tsv and compressed files are read by audit compare only. */
export type FileFormat = 'jsonl' | 'json' | 'csv' | 'tsv' | 'parquet'

/** `file:PATH.EXT`, `file:///abs/PATH.EXT`, or a bare `PATH.EXT`: the extension says the format. */
export interface FileLocation extends AnyLocation {
  readonly kind: 'file'
  readonly path: string
  readonly format: FileFormat
  readonly compression?: 'gz' | 'zst'
}

/** `postgres://USER@HOST:PORT/DB?table=T[&key=COL,COL][&layout=jsonb]` (or `postgresql://`). */
export interface PostgresLocation extends AnyLocation {
  readonly kind: 'postgres'
  /** The connection string without our own parameters (table, key, layout). */
  readonly connection: string
  readonly table: string
  /** The upsert key of a replay sink: value fields or provenance columns (empty when not given). */
  readonly key: string[]
  /** fields: a column per value field (default); jsonb: the whole value in one `value` JSONB column. */
  readonly layout: 'fields' | 'jsonb'
}

/** `duckdb:FILE?table=T` or `duckdb:FILE#T`. */
export interface DuckDbLocation extends AnyLocation {
  readonly kind: 'duckdb'
  readonly path: string
  readonly table: string
}

/** `plugin:PATH[#TARGET]`: a sink plugin and the target it is given. */
export interface PluginLocation extends AnyLocation {
  readonly kind: 'plugin'
  readonly path: string
  readonly target: string
}

/** Why a text is not a location; the role parsers turn it into their RecoveryError. */
export class LocationSyntaxError extends Error {
  constructor(
    readonly why: string,
    /** The text is a file whose extension no format has: the role names the extensions it takes. */
    readonly unknownExtension = false,
  ) {
    super(why)
    this.name = 'LocationSyntaxError'
  }
}

/** A scheme is two characters or more, so that C:\out.jsonl is a path. */
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]+):(.*)$/s
const FILE_EXTENSION = /\.(jsonl|ndjson|json|csv|tsv|parquet)(?:\.(gz|zst))?$/i
/** A table name, optionally schema-qualified: the only names we splice into SQL (quoted). */
const SQL_NAME = /^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/
const COLUMN_NAME = /^[A-Za-z_][A-Za-z0-9_$]*$/

/** How a location given parsed or as text is shown. */
export function locationText(location: AnyLocation | string): string {
  return typeof location === 'string' ? location : location.display
}

/** The scheme of a location text, lower-cased ('' for a bare path or no scheme at all). */
export function schemeOf(text: string): string {
  return SCHEME.exec(text.trim())?.[1]?.toLowerCase() ?? ''
}

/** Parses a location of a built-in scheme; throws LocationSyntaxError saying what is wrong. */
export function parseLocation(input: string): Location {
  const text = input.trim()
  const match = SCHEME.exec(text)
  if (!match) {
    if (text !== '' && FILE_EXTENSION.test(text)) return fileLocation(text)
    throw new LocationSyntaxError(text === '' ? 'it is empty' : 'it has no scheme')
  }
  const scheme = match[1]!.toLowerCase()
  const rest = match[2]!
  switch (scheme) {
    case 'kafka':
      return kafkaLocation(rest.replace(/^\/\//, ''))
    case 'file': {
      const path = rest.replace(/^\/\/(?=\/)/, '')
      if (path === '') throw new LocationSyntaxError('the file path is empty')
      return fileLocation(path)
    }
    case 'postgres':
    case 'postgresql':
      return postgresLocation(text)
    case 'duckdb':
      return duckDbLocation(rest)
    case 'plugin': {
      const hash = rest.indexOf('#')
      const path = hash < 0 ? rest : rest.slice(0, hash)
      const target = hash < 0 ? '' : rest.slice(hash + 1)
      if (path === '') throw new LocationSyntaxError('the plugin path is empty')
      return { kind: 'plugin', path, target, display: `plugin:${path}${target ? `#${target}` : ''}` }
    }
    default:
      throw new LocationSyntaxError(`"${scheme}:" is not a supported scheme`)
  }
}

/** `kafka:TOPIC`, validated: what a default such as `kafka:<topic>.quarantine` is built with. */
export function kafkaLocation(topic: string): KafkaLocation {
  if (!isTopicName(topic)) throw new LocationSyntaxError(`"${topic}" is not a Kafka topic name`)
  return { kind: 'kafka', topic, display: `kafka:${topic}` }
}

function fileLocation(path: string): FileLocation {
  const m = FILE_EXTENSION.exec(path)
  if (!m) throw new LocationSyntaxError('the file has no extension recover knows', true)
  const ext = m[1]!.toLowerCase()
  const format: FileFormat = ext === 'ndjson' ? 'jsonl' : (ext as FileFormat)
  const compression = m[2]?.toLowerCase() as FileLocation['compression']
  return { kind: 'file', path, format, ...(compression ? { compression } : {}), display: `file:${path}` }
}

function postgresLocation(text: string): PostgresLocation {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new LocationSyntaxError('it is not a URL')
  }
  const table = url.searchParams.get('table')
  const key = (url.searchParams.get('key') ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean)
  const layout = url.searchParams.get('layout') ?? 'fields'
  if (!table || !SQL_NAME.test(table)) throw new LocationSyntaxError('it needs ?table=NAME (letters, digits, _ and an optional schema.)')
  const badKey = key.find((k) => !COLUMN_NAME.test(k))
  if (badKey !== undefined) throw new LocationSyntaxError(`"${badKey}" is not a plain column name`)
  if (layout !== 'fields' && layout !== 'jsonb') throw new LocationSyntaxError(`layout must be fields or jsonb, not "${layout}"`)
  for (const p of ['table', 'key', 'layout']) url.searchParams.delete(p)
  const connection = url.toString()
  // The same spelling a replay's checkpoint was keyed by: the default checkpoint path hashes it.
  const display = `${redactUrl(connection.replace(/\?$/, ''))}${connection.includes('?') ? '&' : '?'}table=${table}${key.length > 0 ? `&key=${key.join(',')}` : ''}${layout === 'jsonb' ? '&layout=jsonb' : ''}`
  return { kind: 'postgres', connection, table, key, layout, display }
}

function duckDbLocation(rest: string): DuckDbLocation {
  const hash = rest.indexOf('#')
  const query = rest.indexOf('?')
  let path: string
  let table: string | null
  if (hash >= 0) {
    path = rest.slice(0, hash)
    table = rest.slice(hash + 1)
  } else {
    path = query < 0 ? rest : rest.slice(0, query)
    table = new URLSearchParams(query < 0 ? '' : rest.slice(query + 1)).get('table')
  }
  if (path === '') throw new LocationSyntaxError('the database file is empty')
  if (!table || !SQL_NAME.test(table)) throw new LocationSyntaxError('it needs ?table=NAME or #NAME (letters, digits, _ and an optional schema.)')
  return { kind: 'duckdb', path, table, display: `duckdb:${path}?table=${table}` }
}

/**
 * What one flag takes: a subset of the grammar, and the code its refusals carry (BAD_SINK_URI
 * for where replayed records go and what audit compare reads, BAD_QUARANTINE_URI for where dead
 * letters are kept, BAD_SOURCE for where a replay reads).
 */
export interface LocationRole<T> {
  code: 'BAD_SINK_URI' | 'BAD_QUARANTINE_URI' | 'BAD_SOURCE'
  /** The forms this role takes, as the error message lists them. */
  forms: string
  /** Why a file of an unknown extension is refused: the extensions this role takes. */
  fileRule: string
  /** The location as this role takes it, or why not (a sentence fragment). */
  accept(location: AnyLocation): T | { refused: string }
  /** Schemes the grammar does not know (a registered sink's): its location, or undefined. */
  parseOther?(scheme: string, text: string): AnyLocation | undefined
}

/**
 * Parses `text` as `flag` takes it: the grammar, then the role's check. Every refusal has one
 * shape: "--flag TEXT: why; use FORMS." with the flag and the text (password replaced) in details.
 */
export function parseLocationAs<T>(text: string, flag: string, role: LocationRole<T>): T {
  const shown = redactUrl(text.trim())
  const refuse = (why: string) => new RecoveryError(role.code, `${flag} ${shown}: ${why}; use ${role.forms}.`, { details: { flag, uri: shown } })
  let location: AnyLocation
  try {
    location = role.parseOther?.(schemeOf(text), text.trim()) ?? parseLocation(text)
  } catch (error) {
    if (!(error instanceof LocationSyntaxError)) throw error
    throw refuse(error.unknownExtension ? role.fileRule : error.why)
  }
  const taken = role.accept(location)
  if (typeof taken === 'object' && taken !== null && 'refused' in taken) throw refuse((taken as { refused: string }).refused)
  return taken as T
}

/** A URL with its password replaced, for messages and history. */
export function redactUrl(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, '$1:***@').replace(/([?&]api_key=)[^&#]*/gi, '$1***')
}

/** Where a replay reads (--source): a topic, or a file of recover's lossless envelope (plain or .gz). */
export type ReplaySourceLocation = KafkaLocation | (FileLocation & { format: 'jsonl' })

const REPLAY_SOURCE_ROLE: LocationRole<ReplaySourceLocation> = {
  code: 'BAD_SOURCE',
  forms: "file:PATH.jsonl (recover's lossless envelope, as replay --sink file:X.jsonl and quarantine export write it; .jsonl.gz too) or kafka:TOPIC",
  fileRule: 'a replay reads only .jsonl (or .ndjson) files of the envelope',
  accept(location) {
    if (location.kind === 'kafka') return location as KafkaLocation
    if (location.kind !== 'file') return { refused: `a replay cannot read ${location.kind}: locations` }
    const file = location as FileLocation
    if (file.format === 'json')
      return {
        refused:
          "a replay reads JSON Lines (one envelope per line), not a JSON document: convert an array with jq -c '.[]' FILE > FILE.jsonl, or rename a file that already has one envelope per line to .jsonl",
      }
    if (file.format !== 'jsonl')
      return {
        refused: `${file.format.toUpperCase()} keeps no headers, timestamps or exact bytes, so a replay cannot read it back; export losslessly with replay --sink file:X.jsonl and replay that`,
      }
    if (file.compression === 'zst') return { refused: 'zstd files are not read here; decompress it first (zstd -d FILE)' }
    return file as ReplaySourceLocation
  },
}

/** `replay --source`: parsed and checked (BAD_SOURCE, exit 2, before connecting). */
export function parseReplaySource(text: string, flag = '--source'): ReplaySourceLocation {
  return parseLocationAs(text, flag, REPLAY_SOURCE_ROLE)
}
