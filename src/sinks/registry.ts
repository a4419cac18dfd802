import {
  parseLocationAs,
  type AnyLocation,
  type DuckDbLocation,
  type FileFormat,
  type FileLocation,
  type KafkaLocation,
  type LocationRole,
  type PluginLocation,
  type PostgresLocation,
} from '../core/location.js'
import { RecoveryError } from '../errors.js'
import { parseS3Location } from '../s3/s3-location.js'
import type { KafkaGateway } from '../kafka/kafka-gateway.js'
import type { PluginContext } from '../plugin-api.js'
import type { S3Location } from '../s3/s3-location.js'
import type { FileSinkFormats } from './file-sinks.js'
import { OPENSEARCH_SCHEMES, parseOpenSearchLocation, type OpenSearchLocation } from '../core/opensearch-location.js'
import type { Sink } from './sink.js'
import type { LogicalType } from './value-columns.js'

/**
 * What a kind of sink can do, declared once: the replay, --scale-out and the docs read these
 * instead of guessing from a URI or a class. "opt-in" means with --exactly-once.
 */
export interface SinkCapabilities {
  /** Each batch is committed in one transaction with the replay's progress (which open() hands back). */
  transactional: 'always' | 'opt-in' | 'never'
  /** Every record is stored once even after a crash and --resume. */
  exactlyOnce: 'always' | 'opt-in' | 'never'
  /** Several --scale-out processes can write it at the same time. */
  shareable: boolean
  /** Writes are upserts on a key: a record written twice is stored once. */
  keyedUpsert: boolean
  /** On --resume, what the interrupted run wrote after the checkpoint is cut off (so nothing is there twice). */
  truncatedOnResume: boolean
  /** It runs the user's code, whose process.exit must not end recover. */
  runsPluginCode: boolean
}

/** Everything a sink may need to open; each kind takes what it uses. */
export interface SinkOpenContext {
  gateway: KafkaGateway
  /** Partitions of a topic the sink creates: the source topic's count. */
  partitions: number
  /** The key and value formats, for the decoded form a JSONL envelope keeps. */
  formats: FileSinkFormats
  newTimestamps?: boolean
  /** Kafka sink: 'key' places every keyed record by its key (default 'auto'). */
  partitioning?: 'auto' | 'key'
  exactlyOnce?: boolean
  createTable?: boolean
  /** Database sinks creating a table: the column types the values' schema declares (JSON Schema). */
  declaredColumns?: () => ReadonlyMap<string, LogicalType> | undefined
  /** Sink plugins: the deadline of each hook. */
  sinkTimeoutMs?: number
  /** Database sinks: how long to wait for a server that went away. */
  reconnectMs?: number
  /** The context a sink plugin gets (its log lines, the abort signal). */
  pluginContext: (name: string, version: string) => PluginContext
  /** Where the records are read from: a sink there is refused, with `why`. */
  readsFrom?: { display: string; why: string }
}

/**
 * One kind of sink: the scheme (and, for files, the formats) its locations have, what it can
 * do, and how it opens. Adding a sink is a class under src/sinks/ and one entry here (or a
 * registerSink call, as test/integration/registered-sink.test.ts does); the replay never
 * names a concrete sink.
 */
export interface SinkKind<L extends AnyLocation = any> {
  /** Its name in messages and docs/locations.md: kafka, jsonl, csv, parquet, postgres, duckdb, plugin. */
  name: string
  scheme: string
  /** file: the formats this kind writes (by extension). */
  formats?: readonly FileFormat[]
  /** How people type it, for help and errors: kafka:TOPIC. */
  form: string
  /** A scheme the grammar (src/core/location.ts) does not know: how its text parses (throw LocationSyntaxError). */
  parse?: (text: string) => L
  /** Other schemes whose text `parse` takes as this kind (opensearchs, elasticsearch…). */
  aliases?: readonly string[]
  /** What this kind needs beyond the grammar (PostgreSQL: &key=), as the reason it is refused. */
  refuse?: (location: L) => string | undefined
  capabilities: SinkCapabilities
  /** Builds the sink (no I/O: open() does that); imports its class lazily, so commands start fast. */
  create(location: L, context: SinkOpenContext): Promise<Sink>
}

const APPEND_FILE: SinkCapabilities = {
  transactional: 'never',
  exactlyOnce: 'always',
  shareable: false,
  keyedUpsert: false,
  truncatedOnResume: true,
  runsPluginCode: false,
}

const BUILT_IN: SinkKind[] = [
  {
    name: 'kafka',
    scheme: 'kafka',
    form: 'kafka:TOPIC',
    capabilities: { transactional: 'opt-in', exactlyOnce: 'opt-in', shareable: true, keyedUpsert: false, truncatedOnResume: false, runsPluginCode: false },
    async create(location: KafkaLocation, c) {
      const { KafkaSink } = await import('./kafka-sink.js')
      return new KafkaSink(c.gateway, location.topic, {
        createPartitions: c.partitions,
        newTimestamps: c.newTimestamps,
        exactlyOnce: c.exactlyOnce,
        partitioning: c.partitioning,
      })
    },
  },
  {
    name: 'postgres',
    scheme: 'postgres',
    form: 'postgres://USER@HOST:PORT/DB?table=T&key=COL[,COL]',
    refuse: (location: PostgresLocation) =>
      location.key.length === 0 ? 'it needs &key=COLUMN[,COLUMN] (the upsert key: value fields or source_topic, source_partition, source_offset)' : undefined,
    capabilities: { transactional: 'always', exactlyOnce: 'always', shareable: true, keyedUpsert: true, truncatedOnResume: false, runsPluginCode: false },
    async create(location: PostgresLocation, c) {
      const { PostgresSink } = await import('./postgres-sink.js')
      return new PostgresSink(location, { createTable: c.createTable ?? false, reconnectMs: c.reconnectMs, declaredColumns: c.declaredColumns })
    },
  },
  {
    name: 'duckdb',
    scheme: 'duckdb',
    form: 'duckdb:FILE?table=T (or duckdb:FILE#T)',
    capabilities: { transactional: 'always', exactlyOnce: 'always', shareable: false, keyedUpsert: false, truncatedOnResume: false, runsPluginCode: false },
    async create(location: DuckDbLocation, c) {
      const { DuckDbSink } = await import('./duckdb-sink.js')
      return DuckDbSink.duckdb(location.path, location.table, { createTable: c.createTable })
    },
  },
  {
    name: 'jsonl',
    scheme: 'file',
    formats: ['jsonl'],
    form: 'file:PATH.jsonl',
    capabilities: APPEND_FILE,
    async create(location: FileLocation, c) {
      const { JsonlSink } = await import('./file-sinks.js')
      return new JsonlSink(location.path, c.formats)
    },
  },
  {
    name: 'csv',
    scheme: 'file',
    formats: ['csv'],
    form: 'file:PATH.csv',
    capabilities: APPEND_FILE,
    async create(location: FileLocation) {
      const { CsvSink } = await import('./file-sinks.js')
      return new CsvSink(location.path)
    },
  },
  {
    name: 'parquet',
    scheme: 'file',
    formats: ['parquet'],
    form: 'file:PATH.parquet',
    capabilities: { transactional: 'always', exactlyOnce: 'always', shareable: false, keyedUpsert: false, truncatedOnResume: false, runsPluginCode: false },
    async create(location: FileLocation) {
      const { DuckDbSink } = await import('./duckdb-sink.js')
      return DuckDbSink.parquet(location.path)
    },
  },
  {
    name: 'opensearch',
    scheme: 'opensearch',
    aliases: OPENSEARCH_SCHEMES,
    form: 'opensearch://HOST:9200/INDEX (or elasticsearch://)',
    parse: parseOpenSearchLocation,
    capabilities: { transactional: 'always', exactlyOnce: 'always', shareable: false, keyedUpsert: true, truncatedOnResume: false, runsPluginCode: false },
    async create(location: OpenSearchLocation, c) {
      const { OpenSearchSink } = await import('./opensearch-sink.js')
      return new OpenSearchSink(location, { reconnectMs: c.reconnectMs })
    },
  },
  {
    name: 's3',
    scheme: 's3',
    form: 's3://BUCKET/PREFIX[?format=jsonl|csv]',
    parse: parseS3Location,
    capabilities: { transactional: 'always', exactlyOnce: 'always', shareable: false, keyedUpsert: false, truncatedOnResume: false, runsPluginCode: false },
    async create(location: S3Location, c) {
      const { S3Sink } = await import('./s3-sink.js')
      return new S3Sink(location, c.formats, { reconnectMs: c.reconnectMs })
    },
  },
  {
    name: 'plugin',
    scheme: 'plugin',
    form: 'plugin:PATH.ts#TARGET',
    capabilities: { transactional: 'never', exactlyOnce: 'never', shareable: false, keyedUpsert: false, truncatedOnResume: false, runsPluginCode: true },
    async create(location: PluginLocation, c) {
      const { loadSinkPlugin } = await import('../plugin-host/load-plugin.js')
      const { PluginSink } = await import('./plugin-sink.js')
      const { plugin, file } = await loadSinkPlugin(location.path)
      return new PluginSink(plugin, location.target, c.pluginContext(plugin.name, plugin.version), file, c.sinkTimeoutMs)
    },
  },
]

const kinds: SinkKind[] = [...BUILT_IN]

/** The sink kinds, in the order help and errors list them. */
export function sinkKinds(): readonly SinkKind[] {
  return kinds
}

/** Adds a kind of sink (a scheme of its own, or file formats no kind writes yet); returns how to remove it again. */
export function registerSink<L extends AnyLocation>(kind: SinkKind<L>): () => void {
  const clash = kinds.find(
    (k) => k.scheme === kind.scheme && (k.formats === undefined || kind.formats === undefined || k.formats.some((f) => kind.formats!.includes(f))),
  )
  if (clash) throw new Error(`a sink kind for ${kind.form} is registered already (${clash.name})`)
  kinds.push(kind)
  return () => {
    const at = kinds.indexOf(kind)
    if (at >= 0) kinds.splice(at, 1)
  }
}

function findKind(location: AnyLocation): SinkKind | undefined {
  const file = location.kind === 'file' ? (location as FileLocation) : undefined
  if (file?.compression) return undefined
  return kinds.find((k) => k.scheme === location.kind && (file === undefined || (k.formats ?? []).includes(file.format)))
}

/** The kind of a location the sink role took (parseSinkLocation); an internal error otherwise. */
export function sinkKindOf(location: AnyLocation): SinkKind {
  const kind = findKind(location)
  if (!kind) throw new Error(`no sink kind for ${location.display}`)
  return kind
}

/** The forms of the sinks that have a capability, for messages: "kafka:TOPIC or postgres://…". */
export function sinkForms(having: (c: SinkCapabilities) => boolean = () => true): string {
  const forms = kinds.filter((k) => having(k.capabilities)).map((k) => k.form)
  return forms.length <= 1 ? (forms[0] ?? '') : `${forms.slice(0, -1).join(', ')} or ${forms.at(-1)}`
}

function fileExtensions(): string {
  const formats = kinds.flatMap((k) => (k.scheme === 'file' ? (k.formats ?? []) : []))
  return formats.map((f) => `.${f}`).join(', ')
}

const SINK_ROLE: LocationRole<AnyLocation> = {
  code: 'BAD_SINK_URI',
  get forms() {
    return sinkForms()
  },
  get fileRule() {
    return `a sink file must end in ${fileExtensions()}`
  },
  accept(location) {
    const kind = findKind(location)
    if (!kind) {
      const file = location.kind === 'file' ? (location as FileLocation) : undefined
      if (file?.compression) return { refused: 'a sink writes uncompressed files' }
      return { refused: file ? `a sink file must end in ${fileExtensions()}, not .${file.format}` : `no sink writes to ${location.kind}:` }
    }
    const why = kind.refuse?.(location)
    return why === undefined ? location : { refused: why }
  },
  parseOther(scheme, text) {
    return kinds.find((k) => (k.scheme === scheme || k.aliases?.includes(scheme)) && k.parse)?.parse?.(text)
  },
}

/** A location where replayed records can go (--sink of replay, quarantine retry and triage); BAD_SINK_URI otherwise. */
export function parseSinkLocation(text: string, flag = '--sink'): AnyLocation {
  return parseLocationAs(text, flag, SINK_ROLE)
}

/** A sink given as a parsed location (the command's flag) or as text (library callers): parsed once, here. */
export function toSinkLocation(sink: AnyLocation | string, flag = '--sink'): AnyLocation {
  return typeof sink === 'string' ? parseSinkLocation(sink, flag) : sink
}

/** Whether replaying into this sink runs plugin code (without failing on a text that is no sink: the replay reports that). */
export function sinkRunsPluginCode(sink: AnyLocation | string | undefined): boolean {
  if (sink === undefined) return false
  try {
    return sinkKindOf(toSinkLocation(sink)).capabilities.runsPluginCode
  } catch {
    return false
  }
}

/** Whether each batch commits with the replay's progress: the sink then holds the truth about where the replay is. */
export function sinkCommitsProgress(location: AnyLocation, options: { exactlyOnce?: boolean }): boolean {
  const t = sinkKindOf(location).capabilities.transactional
  return t === 'always' || (t === 'opt-in' && options.exactlyOnce === true)
}

/** --exactly-once with a sink that cannot keep it: refused with the command line, before Kafka is asked anything. */
export function checkSinkOptions(location: AnyLocation, options: { exactlyOnce?: boolean }): void {
  if (options.exactlyOnce && sinkKindOf(location).capabilities.exactlyOnce === 'never') {
    throw new RecoveryError(
      'USAGE',
      `--exactly-once needs a sink that can commit a batch with the replay's progress (${sinkForms((c) => c.exactlyOnce !== 'never')}); ${location.display} cannot: leave out --exactly-once.`,
    )
  }
}

/**
 * Builds the sink a location names (open() is the caller's, with the checkpoint's state).
 * Refuses a sink that is where the records are read from (a replay into its own source never ends).
 */
export async function createSink(location: AnyLocation, context: SinkOpenContext): Promise<Sink> {
  const kind = sinkKindOf(location)
  if (context.readsFrom && location.display === context.readsFrom.display) {
    throw new RecoveryError('BAD_SINK_URI', `--sink ${location.display} ${context.readsFrom.why}.`, { details: { flag: '--sink', uri: location.display } })
  }
  return kind.create(location, context)
}
