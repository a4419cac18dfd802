/**
 * The plugin API of `recover`: the only module a transform or sink plugin imports.
 *
 * A plugin is a module (`.ts`, `.mts`, `.js`, `.mjs`) whose default export is made with
 * {@link defineTransform} or {@link defineSink}. TypeScript plugins load without a build step.
 *
 * ```ts
 * import { defineTransform, headerText } from 'recover/plugin-api' // in this repository: '../src/plugin-api.js'
 *
 * export default defineTransform({
 *   name: 'fix-amounts',
 *   version: '1.0.0',
 *   transform(record) {
 *     if (headerText(record, 'app-version') !== '1.6.0') return record
 *     return { ...record, value: { ...record.value, amount_cents: record.value.amount_cents / 100 } }
 *   },
 * })
 * ```
 *
 * The host wraps every call: a throw (or a promise that rejects, or one that does not settle
 * within `--transform-timeout`) sends the input record to quarantine with the plugin's name
 * and version, and the replay goes on. Returning `undefined` is treated as a mistake (a
 * forgotten `return`) and quarantined too: to drop a record, return `null`.
 */

/** One Kafka record header: a key, and bytes or null. Order and repeated keys are kept. */
export interface RecordHeader {
  key: string
  value: Buffer | null
}

/** Where a record was read: the source topic, partition and offset. */
export interface Provenance {
  topic: string
  partition: number
  /** Offsets are bigint: they can exceed 2^53. */
  offset: bigint
}

/** A decoded record as a transform receives it. */
export interface ReplayRecord<V = any, K = any> {
  /** Decoded by `--key-format` (null for a record without a key). */
  key: K
  /** Decoded by `--value-format` (null for a tombstone). */
  value: V
  /** All headers in order, duplicates and null values included. */
  headers: RecordHeader[]
  /** Epoch milliseconds. */
  timestamp: number
  timestampType: 'create' | 'log-append'
  /** Provenance: never changes, whatever the transform returns. */
  readonly source: Provenance
}

/**
 * What a transform returns for one output record. Fields left out are taken from the input
 * record. Header values may be strings (written as UTF-8).
 */
export interface OutputRecord<V = any, K = any> {
  key?: K
  value: V
  headers?: Array<{ key: string; value: Buffer | string | null }>
  timestamp?: number
}

/** A record, several records, or null to drop it (counted as dropped in the summary). */
export type TransformResult = OutputRecord | OutputRecord[] | null

export interface PluginContext {
  /** Aborted when the replay stops (Ctrl-C, a fatal error). Long async work should watch it. */
  readonly signal: AbortSignal
  /** A line on stderr, prefixed with the plugin name; under `replay --json`, a `log` record of its NDJSON progress. */
  log(message: string): void
  /** This plugin's name and version, as declared. */
  readonly plugin: { name: string; version: string }
}

export interface TransformDefinition<V = any, K = any> {
  /** Shown in summaries and written into quarantine headers (`recover.transform.name`). */
  name: string
  /** Written into quarantine headers (`recover.transform.version`). */
  version: string
  /** Called once per record, in offset order within each partition. May be async. */
  transform(record: ReplayRecord<V, K>, ctx: PluginContext): TransformResult | Promise<TransformResult>
  /** Optional: called once before the first record. */
  setup?(ctx: PluginContext): void | Promise<void>
}

/** A record as a sink receives it: encoded bytes (what a Kafka sink writes) and the decoded values. */
export interface SinkRecord {
  key: Buffer | null
  value: Buffer | null
  /** The decoded key and value, where the format has a decoded form. */
  decodedKey: unknown
  decodedValue: unknown
  headers: RecordHeader[]
  timestamp: number
  timestampType: 'create' | 'log-append'
  readonly source: Provenance
}

/** A record the sink would not take: it goes to quarantine (stage `sink`) with this error. */
export interface SinkRejection {
  /** Index in the batch passed to write(). */
  index: number
  error: Error
}

export interface SinkWriteResult {
  rejected?: SinkRejection[]
}

export interface SinkDefinition {
  name: string
  version: string
  /** Called once before the first batch. `target` is the part of the sink URI after `plugin:path#`. */
  open?(ctx: PluginContext & { target: string }): void | Promise<void>
  /**
   * Writes a batch. When the promise resolves, the batch must be durable (or rejected records
   * named): the replay then checkpoints past it. A throw stops the replay (exit 5) without
   * checkpointing the batch, so `--resume` writes it again.
   */
  write(records: SinkRecord[], ctx: PluginContext): undefined | SinkWriteResult | Promise<undefined | SinkWriteResult>
  close?(ctx: PluginContext): void | Promise<void>
}

const TRANSFORM_BRAND = Symbol.for('recover.plugin.transform')
const SINK_BRAND = Symbol.for('recover.plugin.sink')

export type DefinedTransform<V = any, K = any> = Readonly<TransformDefinition<V, K>> & { readonly [TRANSFORM_BRAND]: true }
export type DefinedSink = Readonly<SinkDefinition> & { readonly [SINK_BRAND]: true }

/** Declares a transform plugin; make it the module's default export. */
export function defineTransform<V = any, K = any>(definition: TransformDefinition<V, K>): DefinedTransform<V, K> {
  checkCommon(definition, 'defineTransform')
  if (typeof definition.transform !== 'function') throw new TypeError(`defineTransform(${definition.name}): transform must be a function.`)
  return Object.freeze({ ...definition, [TRANSFORM_BRAND]: true as const })
}

/** Declares a sink plugin; make it the module's default export. */
export function defineSink(definition: SinkDefinition): DefinedSink {
  checkCommon(definition, 'defineSink')
  if (typeof definition.write !== 'function') throw new TypeError(`defineSink(${definition.name}): write must be a function.`)
  return Object.freeze({ ...definition, [SINK_BRAND]: true as const })
}

export function isDefinedTransform(value: unknown): value is DefinedTransform {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[TRANSFORM_BRAND] === true
}

export function isDefinedSink(value: unknown): value is DefinedSink {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[SINK_BRAND] === true
}

function checkCommon(definition: { name?: unknown; version?: unknown }, fn: string): void {
  if (typeof definition?.name !== 'string' || definition.name.trim() === '') throw new TypeError(`${fn}: name must be a non-empty string.`)
  if (typeof definition.version !== 'string' || definition.version.trim() === '')
    throw new TypeError(`${fn}(${definition.name}): version must be a non-empty string.`)
}

/** The first header with this key, as UTF-8 text; undefined when absent, null when its value is null. */
export function headerText(record: { headers: readonly RecordHeader[] }, key: string): string | null | undefined {
  const h = record.headers.find((x) => x.key === key)
  if (!h) return undefined
  return h.value === null ? null : h.value.toString('utf8')
}

/** The headers with every `key` replaced by one header with this value (appended when absent). */
export function setHeader(headers: readonly RecordHeader[], key: string, value: string | Buffer | null): RecordHeader[] {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value
  const out: RecordHeader[] = []
  let placed = false
  for (const h of headers) {
    if (h.key !== key) out.push(h)
    else if (!placed) {
      out.push({ key, value: bytes })
      placed = true
    }
  }
  if (!placed) out.push({ key, value: bytes })
  return out
}
