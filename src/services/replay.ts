import { createHash } from 'node:crypto'
import type { AnyLocation, FileLocation } from '../core/location.js'
import type { HeaderRules } from '../core/header-rules.js'
import { checkRangeOrder, type RangeBound } from '../core/replay-range.js'
import { FileRecordSource, scanEnvelopeFile } from '../replay/file-source.js'
import { RecoveryError } from '../errors.js'
import { checkFollowCombination } from '../core/follow.js'
import { KafkaFollowSource } from '../replay/kafka-follow-source.js'
import { KafkaRangeSource } from '../replay/kafka-range-source.js'
import { buildOutputs, parseOutputLocations, requireSink, sinkRetention, sinkRunsPluginCode, type OutputLocations } from '../replay/open-outputs.js'
import { runPipeline, type ReplayParts } from '../replay/pipeline.js'
import { withProcessExitGuard } from '../replay/plugin-exit.js'
import { pluginExitFailure } from '../plugin-host/run-transform.js'
import type { RecordSource } from '../replay/record-source.js'
import type { ReplaySummary } from '../replay/replay-events.js'
import type { ReplayDeps, ReplayRequest } from '../replay/replay-request.js'
import { openStages, pluginContext } from '../replay/stages.js'
import { jsonSafeSummary } from '../replay/summary.js'

export type { ReplayDeps, ReplayRequest } from '../replay/replay-request.js'
export type { DrySample, ReplayEvent, ReplaySummary } from '../replay/replay-events.js'
export type { PartitionCounts, ReplayTotals } from '../core/replay-counts.js'
export { totalsOf } from '../core/replay-counts.js'
export { replayRecords, type RecordsReplayRequest, type RecordsReplayResult } from '../replay/replay-records.js'

/** The --sink and --quarantine of a replay, parsed; none for a dry run. */
export type ReplayOutputsUri = Partial<OutputLocations>

/**
 * Replays a bounded range of a topic through an optional transform into a sink: the Kafka
 * range source, read without joining a group, through the pipeline (src/replay/pipeline.ts):
 * decode → transform → encode → write a batch at a time, failures to the quarantine, a
 * checkpoint after every durable batch, `resume` from it.
 */
export async function replay(request: ReplayRequest, deps: ReplayDeps): Promise<ReplaySummary> {
  if (request.source) return replayFile(request, request.source, deps)
  // Everything that can be wrong with the command line fails before any broker round trip.
  if (request.follow) checkFollowCombination(request)
  const outputs = parseOutputs(request)
  const bounds = {
    from: decodeMatch(request.from ?? { kind: 'earliest' }, request),
    to: decodeMatch(request.to ?? { kind: 'latest' }, request),
  } satisfies Record<string, RangeBound>
  if (!request.resume) checkRangeOrder(bounds.from, bounds.to)
  return replayFrom(request, outputs, deps, async () => {
    const all = await deps.gateway.partitionsOf(request.topic)
    const partitions = checkPartitions(request.topic, request.partitions, all)
    const source = request.follow
      ? new KafkaFollowSource(
          deps.gateway,
          request.topic,
          partitions,
          bounds.from,
          request.fetch,
          request.partitions
            ? undefined
            : (added) => {
                const list = added.map((r) => `${r.partition} from offset ${r.start}`).join(', ')
                deps.onEvent?.({
                  type: 'warning',
                  message: `${request.topic} has new partitions, followed from their log start: ${list}.`,
                })
              },
        )
      : new KafkaRangeSource(deps.gateway, request.topic, partitions, bounds, request.fetch)
    return { source, partitionCount: all.length }
  })
}

/** first-match / last-match bounds read value fields as the replay decodes values (JSON when it keeps them as bytes). */
function decodeMatch(bound: RangeBound, request: ReplayRequest): RangeBound {
  if (bound.kind !== 'match') return bound
  const valueFormat = request.valueFormat === 'bytes' ? undefined : request.valueFormat
  return { ...bound, decode: { valueFormat, schemas: request.schemas } }
}

/**
 * Replays a file of the lossless envelope (replay --source file:X.jsonl): read through once to
 * check every line and plan each partition's range, then streamed through the same pipeline,
 * into any sink. The records' topic is the replay's topic (its default quarantine, the
 * checkpoint); writing them back into that topic is what a restore is, so it is not refused.
 */
async function replayFile(request: ReplayRequest, location: FileLocation, deps: ReplayDeps): Promise<ReplaySummary> {
  if (request.from !== undefined || request.to !== undefined)
    throw new RecoveryError('USAGE', '--from and --to bound a topic; a --source file is replayed whole (use --partitions to take some partitions).')
  if (request.dryRun === undefined) requireSink(request.sink)
  const scan = await scanEnvelopeFile(location, { partitions: request.partitions })
  const fileRequest: ReplayRequest = {
    ...request,
    topic: scan.topic,
    checkpointName: `${scan.topic}-file-${createHash('sha256').update(scan.path).digest('hex').slice(0, 8)}`,
  }
  const outputs = parseOutputs(fileRequest)
  // Where the records come from, in the start line, the summary and --json.
  const source = `file:${scan.path}`
  const onEvent = deps.onEvent
  const labelled: ReplayDeps = {
    ...deps,
    onEvent:
      onEvent &&
      ((event) => onEvent(event.type === 'start' ? { ...event, source } : event.type === 'done' ? { ...event, summary: { ...event.summary, source } } : event)),
  }
  const summary = await replayFrom(
    fileRequest,
    outputs,
    labelled,
    async () => ({ source: new FileRecordSource(location, scan), partitionCount: scan.partitionCount }),
    null,
  )
  return { ...summary, source }
}

/**
 * One partition of a --scale-out replay: the pipeline over the range its group share claimed
 * (planned once, by the partition's first owner), with outputs already checked as shareable.
 */
export function replayShare(
  request: ReplayRequest,
  outputs: ReplayOutputsUri,
  source: RecordSource,
  partitionCount: number,
  deps: ReplayDeps,
): Promise<ReplaySummary> {
  return replayFrom(request, outputs, deps, async () => ({ source, partitionCount }))
}

/** The partitions asked for (default: all of the topic's), each one the topic has (PARTITION_NOT_FOUND otherwise). */
export function checkPartitions(topic: string, requested: number[] | undefined, all: number[]): number[] {
  const unknown = (requested ?? []).filter((p) => !all.includes(p))
  if (unknown.length > 0) {
    throw new RecoveryError('PARTITION_NOT_FOUND', `Topic "${topic}" has no partition ${unknown.join(', ')}; it has partitions ${all.join(', ')}.`, {
      details: { topic, partitions: all },
    })
  }
  return requested ?? all
}

/** --sink and --quarantine, parsed and checked; none for a dry run. */
export function parseOutputs(request: ReplayRequest): ReplayOutputsUri {
  if (request.dryRun) return {}
  return parseOutputLocations(request)
}

/** The stages, the source and the outputs assembled into a pipeline, with process.exit guarded from the first plugin import on. */
function replayFrom(
  request: ReplayRequest,
  uris: ReplayOutputsUri,
  deps: ReplayDeps,
  openSource: () => Promise<{ source: RecordSource; partitionCount: number }>,
  /** The sink refused because the replay reads it (default: the topic); null: none (a file source). */
  readsFrom?: { display: string; why: string } | null,
): Promise<ReplaySummary> {
  const { gateway } = deps
  const signal = deps.signal ?? new AbortController().signal
  return withProcessExitGuard(request.transform !== undefined || sinkRunsPluginCode(request.sink), async (exitGuard) => {
    const stages = await openStages(
      { ...request, headerRules: headerRulesFor(request.headerRules, uris.sink) },
      { dryRun: request.dryRun !== undefined, signal, log: deps.log, transformActivity: deps.transformActivity },
    )
    const { source, partitionCount } = await openSource()
    const { sink, quarantine } = uris
    const parts: ReplayParts = {
      source,
      cluster: gateway.cluster,
      stages,
      openOutputs:
        sink && quarantine
          ? () =>
              buildOutputs(
                { sink, quarantine },
                gateway,
                partitionCount,
                { ...request, declaredColumns: stages.declaredColumns },
                stages.formats,
                pluginContext(signal, deps.log),
                readsFrom === null
                  ? undefined
                  : (readsFrom ?? {
                      display: `kafka:${request.topic}`,
                      why: 'is the topic being replayed; write to another topic (replaying into the source would never end)',
                    }),
              )
          : undefined,
      retention: request.newTimestamps ? undefined : (outputs) => sinkRetention(outputs.sink),
      exitGuard,
    }
    const summary = await runPipeline(request, parts, { ...deps, signal })
    // A plugin that caught the error its process.exit threw, or exited while being closed.
    if (exitGuard?.attempt)
      throw pluginExitFailure('A plugin', exitGuard.attempt, 'and caught the error it threw, or while it was being closed', {
        summary: jsonSafeSummary(summary),
      })
    return summary
  })
}

/**
 * The provenance header goes only to Kafka sinks: the JSONL envelope and the database sinks
 * keep the source position in fields of their own (and an export must read back byte for byte).
 */
function headerRulesFor(rules: HeaderRules | undefined, sink: AnyLocation | undefined): HeaderRules | undefined {
  if (!rules?.provenance || sink?.kind === 'kafka') return rules
  return { ...rules, provenance: false }
}
