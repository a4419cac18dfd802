import type { Codec, CodecFormat, DeclaredType } from '../codecs/codec.js'
import { createCodec, keySources, openSchemaSources, type SchemaSourceOptions } from '../codecs/create-codecs.js'
import { createOutputEncoder, type OutputEncoder } from '../codecs/output-encoder.js'
import type { PluginContext } from '../plugin-api.js'
import { loadTransformPlugin } from '../plugin-host/load-plugin.js'
import { TransformRunner } from '../plugin-host/run-transform.js'
import type { Quarantine } from '../quarantine/quarantine.js'
import type { Sink } from '../sinks/sink.js'
import type { HeaderRules } from '../core/header-rules.js'
import { headerStage, type HeaderStage } from './header-rules.js'

/** The middle of the pipeline: decode, transform, and encode again for the sink. */
export interface Stages {
  codecs: { key: Codec; value: Codec }
  formats: { key: CodecFormat; value: CodecFormat }
  transform?: TransformRunner
  /** The transform plugin as summaries and checkpoints name it. */
  transformInfo: { name: string; version: string; file: string } | null
  /** After a transform, values are encoded again; without one the bytes go out as they came in. Absent for a dry run. */
  encoders?: { key: OutputEncoder; value: OutputEncoder }
  /**
   * Keys and values are bytes and nothing transforms them: every record goes to the sink as it
   * was read, its buffers untouched (prepare-batch.ts forwards it without decoding it).
   */
  passThrough: boolean
  /** --drop-header, --keep-header, --set-header and provenance, applied to every output before the sink (absent: headers as read). */
  headers?: HeaderStage
  /** The column types the value schema declares (JSON Schema), for a table the sink creates; absent when a transform runs. */
  declaredColumns?: () => ReadonlyMap<string, DeclaredType> | undefined
}

/** The end of the pipeline: where records go, and where the ones that fail go. */
export interface Outputs {
  sink: Sink
  quarantine: Quarantine
}

export interface StagesRequest {
  keyFormat?: CodecFormat
  valueFormat?: CodecFormat
  schemas?: SchemaSourceOptions
  /** Confluent Avro: write values with this schema id instead of each record's own. */
  outputSchemaId?: number
  transform?: { path: string; timeoutMs: number }
  /** What to do with every written record's headers (src/core/header-rules.ts). */
  headerRules?: HeaderRules
}

export interface StagesOptions {
  /** Nothing is written (a dry run): no encoders. */
  dryRun?: boolean
  signal: AbortSignal
  log?: (line: string) => void
  /** Where the transform publishes its running call (a stuck-transform watcher reads it). */
  transformActivity?: SharedArrayBuffer
}

/** What a plugin gets: the replay's abort signal, a logger that names it, and its own name and version. */
export function pluginContext(signal: AbortSignal, log: ((line: string) => void) | undefined): (name: string, version: string) => PluginContext {
  return (name, version) => ({ signal, log: (m) => log?.(`[${name}] ${m}`), plugin: { name, version } })
}

/** Codecs, the transform plugin (loaded: its code runs from here on) and the encoders. */
export async function openStages(request: StagesRequest, options: StagesOptions): Promise<Stages> {
  const sources = openSchemaSources(request.schemas ?? {})
  const formats = { key: request.keyFormat ?? 'bytes', value: request.valueFormat ?? 'bytes' }
  const forKeys = keySources(sources)
  const codecs = { key: await createCodec({ format: formats.key }, forKeys), value: await createCodec({ format: formats.value }, sources) }
  const loaded = request.transform ? await loadTransformPlugin(request.transform.path) : undefined
  const context = pluginContext(options.signal, options.log)
  const transform =
    loaded && request.transform
      ? new TransformRunner(loaded.plugin, context(loaded.plugin.name, loaded.plugin.version), request.transform.timeoutMs, options.transformActivity)
      : undefined
  const encoders =
    options.dryRun || !transform
      ? undefined
      : {
          key: await createOutputEncoder({ format: formats.key, codec: codecs.key, sources: forKeys, side: 'key' }),
          value: await createOutputEncoder({ format: formats.value, codec: codecs.value, sources, outputSchemaId: request.outputSchemaId, side: 'value' }),
        }
  const transformInfo = loaded ? { name: loaded.plugin.name, version: loaded.plugin.version, file: loaded.file } : null
  const passThrough = !transform && formats.key === 'bytes' && formats.value === 'bytes'
  // The value schema's field types describe the values only while no transform reshapes them.
  const declaredColumns = !transform && codecs.value.declaredFields ? () => codecs.value.declaredFields?.() : undefined
  return { codecs, formats, transform, transformInfo, encoders, passThrough, headers: headerStage(request.headerRules), declaredColumns }
}
