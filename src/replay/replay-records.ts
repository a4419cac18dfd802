import { randomUUID } from 'node:crypto'
import type { CodecFormat } from '../codecs/codec.js'
import type { SchemaSourceOptions } from '../codecs/create-codecs.js'
import { freshCounts, totalsOf, type PartitionCounts, type RecordCounts } from '../core/replay-counts.js'
import type { KafkaRecord } from '../kafka/kafka-record.js'
import type { QuarantineStage } from '../quarantine/quarantine.js'
import { recordsScope } from '../quarantine/quarantined-sources.js'
import type { AnyLocation } from '../core/location.js'
import { toQuarantineLocation, type QuarantineLocation } from '../quarantine/quarantine-location.js'
import { toSinkLocation } from '../sinks/registry.js'
import { buildOutputs, sinkRunsPluginCode } from './open-outputs.js'
import { withProcessExitGuard } from './plugin-exit.js'
import { prepareBatch } from './prepare-batch.js'
import type { ReplayDeps } from './replay-request.js'
import { openStages, pluginContext, type Outputs } from './stages.js'
import { makeDurable, writeBatch } from './write-batch.js'

/** A replay of records already in hand (retried dead letters), not of a topic range. */
export interface RecordsReplayRequest {
  /** Where the records were read from: a Kafka sink may not be this topic. */
  readFrom: string
  /** Partition count the sink topic and quarantine topic are created with when missing. */
  partitions: number
  keyFormat?: CodecFormat
  valueFormat?: CodecFormat
  schemas?: SchemaSourceOptions
  outputSchemaId?: number
  transform?: { path: string; timeoutMs: number }
  sink: AnyLocation | string
  quarantine: QuarantineLocation | string
  newTimestamps?: boolean
  batchSize?: number
}

export interface RecordsReplayResult {
  sink: string
  quarantine: string
  transform: { name: string; version: string; file: string } | null
  /** One outcome per input record, in input order. */
  outcomes: Array<'written' | 'dropped' | 'quarantined'>
  totals: Omit<RecordCounts, 'bytes'>
  quarantinedByStage: Record<QuarantineStage, number>
  /** Of the quarantined records, those the quarantine already held: counted, not written again. */
  alreadyQuarantined: number
}

const DEFAULT_BATCH = 5_000

/**
 * The replay pipeline (decode → transform → encode → sink, failures to the quarantine) over
 * records given by the caller: what `quarantine retry` and the triage TUI's retry and edit use.
 * No checkpoint: a retry is small and is recorded in the quarantine's audit trail instead.
 * As in replay, a plugin's process.exit fails the retry (BAD_PLUGIN) instead of ending recover.
 */
export function replayRecords(records: readonly KafkaRecord[], request: RecordsReplayRequest, deps: Omit<ReplayDeps, 'now'>): Promise<RecordsReplayResult> {
  return withProcessExitGuard(request.transform !== undefined || sinkRunsPluginCode(request.sink), () => retryRecords(records, request, deps))
}

async function retryRecords(records: readonly KafkaRecord[], request: RecordsReplayRequest, deps: Omit<ReplayDeps, 'now'>): Promise<RecordsReplayResult> {
  const { gateway } = deps
  const signal = deps.signal ?? new AbortController().signal
  const sinkUri = toSinkLocation(request.sink)
  const quarantineUri = toQuarantineLocation(request.quarantine)
  const stages = await openStages(request, { signal, log: deps.log })
  const counts = new Map<number, PartitionCounts>()
  for (const r of records) if (!counts.has(r.partition)) counts.set(r.partition, freshCounts({ partition: r.partition, start: 0n, end: 0n }))
  const tally = { counts, byStage: { decode: 0, transform: 0, sink: 0 } }
  const outcomes: RecordsReplayResult['outcomes'] = []
  let outputs: Outputs | undefined
  try {
    outputs = await buildOutputs(
      { sink: sinkUri, quarantine: quarantineUri },
      gateway,
      request.partitions,
      { newTimestamps: request.newTimestamps },
      stages.formats,
      pluginContext(signal, deps.log),
      { display: request.readFrom, why: 'is the quarantine being retried from; write to the original topic or another one' },
    )
    await outputs.sink.open(undefined, { runId: randomUUID(), topic: request.readFrom })
    await outputs.quarantine.open(undefined, recordsScope(records))
    await stages.transform?.setup()
    const size = Math.max(1, request.batchSize ?? DEFAULT_BATCH)
    for (let i = 0, batches = 1; i < records.length; i += size, batches++) {
      const inputs = records.slice(i, i + size)
      const prepared = await prepareBatch({ inputs, bytes: 0, positions: new Map() }, stages, undefined)
      await writeBatch(prepared, outputs, stages.transform, tally, deps.onEvent)
      await makeDurable(outputs, counts, batches, gateway.cluster)
      outcomes.push(...prepared.outcome)
    }
  } finally {
    await outputs?.sink.close().catch(() => undefined)
    await outputs?.quarantine.close().catch(() => undefined)
  }
  const t = totalsOf(counts.values())
  return {
    sink: outputs.sink.uri,
    quarantine: outputs.quarantine.uri,
    transform: stages.transformInfo,
    outcomes,
    totals: { read: t.read, written: t.written, dropped: t.dropped, quarantined: t.quarantined, outputs: t.outputs },
    quarantinedByStage: tally.byStage,
    alreadyQuarantined: outputs.quarantine.alreadyQuarantined,
  }
}
