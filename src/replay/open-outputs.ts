import { RecoveryError } from '../errors.js'
import type { AnyLocation } from '../core/location.js'
import type { CodecFormat, DeclaredType } from '../codecs/codec.js'
import type { KafkaGateway } from '../kafka/kafka-gateway.js'
import type { PluginContext } from '../plugin-api.js'
import {
  createQuarantine,
  defaultQuarantineFor,
  quarantineIsShareable,
  toQuarantineLocation,
  type QuarantineLocation,
} from '../quarantine/quarantine-location.js'
import { checkSinkOptions, createSink, sinkCommitsProgress, sinkForms, sinkKindOf, toSinkLocation, type SinkOpenContext } from '../sinks/registry.js'
import type { Sink } from '../sinks/sink.js'
import type { Outputs } from './stages.js'

export { sinkRunsPluginCode } from '../sinks/registry.js'

/**
 * Where a replay's records and rejects go: the sink and the quarantine their locations name,
 * built through the registries (src/sinks/registry.ts, src/quarantine/quarantine-location.ts),
 * which declare what each kind can do. No concrete sink is named here.
 */

/** What building a sink needs from the replay's request. */
export interface SinkOptions {
  newTimestamps?: boolean
  /** Kafka sink: 'key' places every keyed record by its key (default 'auto': keep partitions when the topic has enough). */
  partitioning?: 'auto' | 'key'
  exactlyOnce?: boolean
  sinkTimeoutMs?: number
  createTable?: boolean
  sinkReconnectMs?: number
  /** Database sinks creating a table: the column types the values' schema declares (Stages.declaredColumns). */
  declaredColumns?: () => ReadonlyMap<string, DeclaredType> | undefined
}

/** The parsed outputs of a replay. */
export interface OutputLocations {
  sink: AnyLocation
  quarantine: QuarantineLocation
}

export function requireSink(sink: AnyLocation | string | undefined): AnyLocation | string {
  if (sink === undefined) throw new RecoveryError('USAGE', `replay needs --sink (${sinkForms()}), or --dry-run to write nothing.`)
  return sink
}

/** --sink and --quarantine of a replay (default quarantine: kafka:<topic>.quarantine), parsed and checked against --exactly-once. */
export function parseOutputLocations(request: {
  topic: string
  sink?: AnyLocation | string
  quarantine?: QuarantineLocation | string
  exactlyOnce?: boolean
}): OutputLocations {
  const sink = toSinkLocation(requireSink(request.sink))
  checkSinkOptions(sink, request)
  const quarantine = request.quarantine === undefined ? defaultQuarantineFor(request.topic) : toQuarantineLocation(request.quarantine)
  return { sink, quarantine }
}

/** The sink and the quarantine of a replay, built (opened by the pipeline) for a topic of `partitions` partitions. */
export async function buildOutputs(
  locations: OutputLocations,
  gateway: KafkaGateway,
  partitions: number,
  request: SinkOptions,
  formats: { key: CodecFormat; value: CodecFormat },
  ctx: (name: string, version: string) => PluginContext,
  readsFrom: SinkOpenContext['readsFrom'],
): Promise<Outputs> {
  const sink = await createSink(locations.sink, {
    gateway,
    partitions,
    formats,
    newTimestamps: request.newTimestamps,
    partitioning: request.partitioning,
    exactlyOnce: request.exactlyOnce,
    createTable: request.createTable,
    declaredColumns: request.declaredColumns,
    sinkTimeoutMs: request.sinkTimeoutMs,
    reconnectMs: request.sinkReconnectMs,
    pluginContext: ctx,
    readsFrom,
  })
  return { sink, quarantine: await createQuarantine(locations.quarantine, { gateway, partitions }) }
}

/** Records replayed with their original timestamps into a sink with time retention (a Kafka topic) are deleted soon after. */
export function sinkRetention(sink: Sink): Promise<{ cutoffMs: number; warning: string } | undefined> {
  return sink.retention?.() ?? Promise.resolve(undefined)
}

/** --scale-out: a sink and a quarantine that several processes can write at once; returns the parsed sink. */
export function checkShareableOutputs(request: { topic: string; sink?: AnyLocation | string; quarantine?: QuarantineLocation | string }): AnyLocation {
  const shareable = sinkForms((c) => c.shareable)
  if (!request.sink) throw new RecoveryError('USAGE', `replay --scale-out needs --sink ${shareable}.`)
  const sink = toSinkLocation(request.sink)
  if (!sinkKindOf(sink).capabilities.shareable)
    throw new RecoveryError('USAGE', `--scale-out needs a sink that several processes can write at once (${shareable}); ${sink.display} is not one.`)
  const quarantine = request.quarantine === undefined ? defaultQuarantineFor(request.topic) : toQuarantineLocation(request.quarantine)
  if (!quarantineIsShareable(quarantine))
    throw new RecoveryError('USAGE', `--scale-out needs a Kafka quarantine (kafka:TOPIC) that several processes can share; ${quarantine.display} is a file.`)
  return sink
}

/**
 * --scale-out: whether a partition's counts carry on from the progress the sink committed
 * (every owner's work: a sink that commits the progress with each batch), rather than counting
 * each run from zero.
 */
export function sinkKeepsCounts(sink: AnyLocation, exactlyOnce: boolean | undefined): boolean {
  return sinkCommitsProgress(sink, { exactlyOnce })
}
