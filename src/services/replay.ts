import { checkRangeOrder, type RangeBound } from '../core/replay-range.js'
import { RecoveryError } from '../errors.js'
import { checkFollowCombination } from '../core/follow.js'
import { KafkaFollowSource } from '../replay/kafka-follow-source.js'
import { KafkaRangeSource } from '../replay/kafka-range-source.js'
import { buildOutputs, parseOutputLocations, sinkRetention, sinkRunsPluginCode, type OutputLocations } from '../replay/open-outputs.js'
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
  // Everything that can be wrong with the command line fails before any broker round trip.
  if (request.follow) checkFollowCombination(request)
  const outputs = parseOutputs(request)
  const bounds = { from: request.from ?? { kind: 'earliest' }, to: request.to ?? { kind: 'latest' } } satisfies Record<string, RangeBound>
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
): Promise<ReplaySummary> {
  const { gateway } = deps
  const signal = deps.signal ?? new AbortController().signal
  return withProcessExitGuard(request.transform !== undefined || sinkRunsPluginCode(request.sink), async (exitGuard) => {
    const stages = await openStages(request, { dryRun: request.dryRun !== undefined, signal, log: deps.log, transformActivity: deps.transformActivity })
    const { source, partitionCount } = await openSource()
    const { sink, quarantine } = uris
    const parts: ReplayParts = {
      source,
      cluster: gateway.cluster,
      stages,
      openOutputs:
        sink && quarantine
          ? () =>
              buildOutputs({ sink, quarantine }, gateway, partitionCount, request, stages.formats, pluginContext(signal, deps.log), {
                display: `kafka:${request.topic}`,
                why: 'is the topic being replayed; write to another topic (replaying into the source would never end)',
              })
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
