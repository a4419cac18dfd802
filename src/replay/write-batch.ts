import type { ClusterIdentity } from '../core/cluster-identity.js'
import { countsToJson, type PartitionCounts } from '../core/replay-counts.js'
import type { TransformRunner } from '../plugin-host/run-transform.js'
import type { QuarantineStage } from '../quarantine/quarantine.js'
import type { CommittedProgress, SinkState } from '../sinks/sink.js'
import { recordedCluster } from './checkpoint.js'
import type { PreparedBatch } from './prepare-batch.js'
import type { ReplayEvent } from './replay-events.js'
import type { Outputs } from './stages.js'

/** What the batches so far did: per partition, and how many records each stage quarantined. */
export interface Tally {
  counts: Map<number, PartitionCounts>
  byStage: Record<QuarantineStage, number>
}

/**
 * Writes a prepared batch to the sink and its rejects to the quarantine, and counts it (in
 * memory, until the next commit). Without outputs (a dry run) it only counts.
 */
export async function writeBatch(
  prepared: PreparedBatch,
  outputs: Outputs | undefined,
  transform: TransformRunner | undefined,
  tally: Tally,
  onEvent?: (event: ReplayEvent) => void,
): Promise<void> {
  const { inputs, outcome, quarantine, outputs: records, outputOwner, sinkWrite } = prepared
  const { counts, byStage } = tally
  if (outputs) {
    const rejected = sinkWrite ? await outputs.sink.writePrepared!(sinkWrite) : records.length > 0 ? await outputs.sink.write(records) : []
    const transformInfo = transform ? { name: transform.name, version: transform.version } : undefined
    for (const rej of rejected) {
      const owner = outputOwner[rej.index]!
      if (outcome[owner] === 'quarantined') continue
      outcome[owner] = 'quarantined'
      quarantine.push({ stage: 'sink', error: rej.error, record: inputs[owner]!, transform: transformInfo })
    }
    // The quarantine is acknowledged, and the sink durable, before the checkpoint moves.
    await outputs.quarantine.write(quarantine)
  }

  // Records come in runs of one partition: look its counts up once per run.
  let partition = -1
  let c: PartitionCounts | undefined
  for (let i = 0; i < inputs.length; i++) {
    const r = inputs[i]!
    if (r.partition !== partition) {
      partition = r.partition
      c = counts.get(partition)!
    }
    c!.read++
    c!.bytes += (r.key?.length ?? 0) + (r.value?.length ?? 0)
    const o = outcome[i]!
    if (o === 'written') c!.written++
    else if (o === 'dropped') c!.dropped++
    else c!.quarantined++
  }
  if (outputs) {
    for (const owner of outputOwner) {
      if (outcome[owner] === 'written') counts.get(inputs[owner]!.partition)!.outputs++
    }
  }
  const stages: Record<QuarantineStage, number> = { decode: 0, transform: 0, sink: 0 }
  for (const e of quarantine) stages[e.stage]++
  for (const stage of ['decode', 'transform', 'sink'] as const) {
    byStage[stage] += stages[stage]
    if (stages[stage] > 0) onEvent?.({ type: 'quarantined', stage, count: stages[stage] })
  }
  for (const [partition, next] of prepared.positions) {
    const c = counts.get(partition)
    if (c && next > c.next) c.next = next
  }
}

/**
 * The quarantine made durable first, then the sink: a transactional sink commits the batches
 * since its last commit together with the progress they bring (positions and counts after
 * them), so the counts are in memory only until that commit succeeds, and a failure here ends
 * the replay (or the outage retry) before the checkpoint file moves.
 */
export async function makeDurable(
  outputs: Outputs,
  counts: Map<number, PartitionCounts>,
  batches: number,
  cluster: ClusterIdentity,
): Promise<{ sink: SinkState; quarantine: SinkState }> {
  const quarantineState = await outputs.quarantine.checkpoint()
  const progress: CommittedProgress | undefined = outputs.sink.transactional
    ? { partitions: [...counts.values()].map(countsToJson), quarantineState, batches, cluster: recordedCluster(cluster) }
    : undefined
  return { sink: await outputs.sink.checkpoint(progress), quarantine: quarantineState }
}
