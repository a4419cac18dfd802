import { RecoveryError } from '../errors.js'
import type { CodecFormat } from '../codecs/codec.js'
import type { KafkaGateway } from '../kafka/kafka-gateway.js'
import type { PluginContext } from '../plugin-api.js'
import { loadSinkPlugin } from '../plugin-host/load-plugin.js'
import { FileQuarantine, KafkaQuarantine, type Quarantine } from '../quarantine/quarantine.js'
import { CsvSink, JsonlSink } from '../sinks/file-sinks.js'
import { KafkaSink } from '../sinks/kafka-sink.js'
import { PluginSink } from '../sinks/plugin-sink.js'
import { DuckDbSink } from '../sinks/duckdb-sink.js'
import { PostgresSink } from '../sinks/postgres-sink.js'
import { parseSinkUri, type Sink, type SinkState, type SinkUri } from '../sinks/sink.js'
import { retentionCutoff } from '../core/retention.js'
import type { Outputs } from './stages.js'

/**
 * Where a replay's records and rejects go: building the sink and the quarantine from their
 * URIs, and what each kind of sink can do. The one place that names concrete sinks.
 */

/** What building a sink needs from the replay's request. */
export interface SinkOptions {
  /** The topic being replayed (a Kafka sink may not be it). */
  topic: string
  newTimestamps?: boolean
  exactlyOnce?: boolean
  sinkTimeoutMs?: number
  createTable?: boolean
  sinkReconnectMs?: number
}

export function requireSink(sink: string | undefined): string {
  if (sink === undefined) throw new RecoveryError('USAGE', 'replay needs --sink (kafka:TOPIC, postgres://…?table=T&key=K, duckdb:FILE?table=T, file:PATH.jsonl|.csv|.parquet or plugin:PATH#TARGET), or --dry-run to write nothing.')
  return sink
}

/** The quarantine of a replay without --quarantine. */
export function defaultQuarantineUri(topic: string): string {
  return `kafka:${topic}.quarantine`
}

/** Whether the sink runs plugin code (process.exit must then be guarded from its import on). */
export function sinkRunsPluginCode(sink: string | undefined): boolean {
  return /^plugin:/.test(sink ?? '')
}

/** --exactly-once needs a sink that commits a batch with the replay's progress. */
export function checkExactlyOnce(sinkUri: SinkUri | undefined, exactlyOnce: boolean | undefined): void {
  if (exactlyOnce && sinkUri?.kind === 'plugin') {
    throw new RecoveryError('USAGE', '--exactly-once needs a sink that can commit a batch with the replay\'s progress (kafka:, postgres://, duckdb:, files); a plugin sink cannot: leave out --exactly-once.')
  }
}

/** A retry must not write into the quarantine it reads from. */
export function checkRetrySink(sinkUri: SinkUri, readFrom: string): void {
  if (sinkUri.kind === 'kafka' && `kafka:${sinkUri.topic}` === readFrom) throw new RecoveryError('BAD_SINK_URI', `--sink kafka:${sinkUri.topic} is the quarantine being retried from; write to the original topic or another one.`)
}

export async function buildSink(
  uri: ReturnType<typeof parseSinkUri>,
  gateway: KafkaGateway,
  partitions: number,
  request: SinkOptions,
  formats: { key: CodecFormat; value: CodecFormat },
  ctx: (name: string, version: string) => PluginContext,
): Promise<Sink> {
  switch (uri.kind) {
    case 'kafka':
      if (uri.topic === request.topic) throw new RecoveryError('BAD_SINK_URI', `--sink kafka:${uri.topic} is the topic being replayed; write to another topic (replaying into the source would never end).`)
      return new KafkaSink(gateway, uri.topic, { createPartitions: partitions, newTimestamps: request.newTimestamps, exactlyOnce: request.exactlyOnce })
    case 'jsonl':
      return new JsonlSink(uri.path, formats)
    case 'csv':
      return new CsvSink(uri.path)
    case 'plugin': {
      const { plugin, file } = await loadSinkPlugin(uri.path)
      return new PluginSink(plugin, uri.target, ctx(plugin.name, plugin.version), file, request.sinkTimeoutMs)
    }
    case 'postgres':
      return new PostgresSink(uri, { createTable: request.createTable ?? false, reconnectMs: request.sinkReconnectMs })
    case 'duckdb':
      return DuckDbSink.duckdb(uri.path, uri.table, { createTable: request.createTable })
    case 'parquet':
      return DuckDbSink.parquet(uri.path)
  }
}

export function buildQuarantine(uri: ReturnType<typeof parseSinkUri>, gateway: KafkaGateway, partitions: number): Quarantine {
  if (uri.kind === 'kafka') return new KafkaQuarantine(gateway, uri.topic, partitions)
  if (uri.kind === 'jsonl') return new FileQuarantine(uri.path, gateway.cluster)
  throw new RecoveryError('BAD_SINK_URI', `--quarantine must be kafka:TOPIC or file:PATH.jsonl.`)
}

/** The sink and the quarantine of a replay, built (opened by the pipeline) for a topic of `partitions` partitions. */
export async function buildOutputs(
  uris: { sink: SinkUri; quarantine: SinkUri },
  gateway: KafkaGateway,
  partitions: number,
  request: SinkOptions,
  formats: { key: CodecFormat; value: CodecFormat },
  ctx: (name: string, version: string) => PluginContext,
): Promise<Outputs> {
  return { sink: await buildSink(uris.sink, gateway, partitions, request, formats, ctx), quarantine: buildQuarantine(uris.quarantine, gateway, partitions) }
}

/** Records replayed with their original timestamps into a Kafka topic, older than its retention, are deleted soon after. */
export async function sinkRetention(gateway: KafkaGateway, sink: Sink): Promise<{ topic: string; cutoffMs: number; retentionMs: number } | undefined> {
  const topic = kafkaSinkTopic(sink)
  if (topic === undefined) return undefined
  const configs = await gateway.topicConfigs(topic, ['retention.ms', 'cleanup.policy', 'message.timestamp.type']).catch(() => new Map<string, string>())
  const cutoff = retentionCutoff(configs, Date.now())
  return cutoff && { topic, ...cutoff }
}

/** The Kafka topic a sink writes to, when it is a Kafka sink (its retention may delete old records). */
export function kafkaSinkTopic(sink: Sink | undefined): string | undefined {
  return sink instanceof KafkaSink ? sink.topic : undefined
}

/** Whether a sink writes to Kafka exactly once (a transactional producer). */
export function isExactlyOnceSink(sink: Sink): boolean {
  return sink.transactional === true && sink.uri.startsWith('kafka:')
}

/** Whether the sink state a checkpoint kept is an exactly-once Kafka sink's. */
export function wasExactlyOnceSink(sinkState: SinkState): boolean {
  return typeof sinkState.transactionalId === 'string'
}

const SHAREABLE = new Set(['kafka', 'postgres'])

/** --scale-out: a sink and a quarantine that several processes can write at once; returns the parsed sink. */
export function checkShareableOutputs(request: { topic: string; sink?: string; quarantine?: string }): SinkUri {
  if (!request.sink) throw new RecoveryError('USAGE', 'replay --scale-out needs --sink kafka:TOPIC or postgres://…')
  const sink = parseSinkUri(request.sink, '--sink')
  if (!SHAREABLE.has(sink.kind)) throw new RecoveryError('USAGE', `--scale-out needs a sink that several processes can write at once (kafka:TOPIC or postgres://…); ${request.sink} is not one.`)
  const quarantine = parseSinkUri(request.quarantine ?? defaultQuarantineUri(request.topic), '--quarantine')
  if (quarantine.kind !== 'kafka') throw new RecoveryError('USAGE', `--scale-out needs a Kafka quarantine (kafka:TOPIC) that several processes can share; ${request.quarantine} is a file.`)
  return sink
}

/**
 * --scale-out: whether a partition's counts carry on from the progress the sink committed
 * (every owner's work: a transactional sink), rather than counting each run from zero.
 */
export function sinkKeepsCounts(sink: SinkUri, exactlyOnce: boolean | undefined): boolean {
  return sink.kind === 'postgres' || exactlyOnce === true
}
