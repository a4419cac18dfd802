import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { FOLLOW_END } from '../../src/core/follow.js'
import type { PartitionRange } from '../../src/core/replay-range.js'
import type { KafkaRecord } from '../../src/kafka/kafka-record.js'
import { runPipeline } from '../../src/replay/pipeline.js'
import type { RecordSource, SourceChunk, SourcePlan } from '../../src/replay/record-source.js'
import type { ReplayEvent, ReplaySummary } from '../../src/replay/replay-events.js'
import type { ReplayRequest } from '../../src/replay/replay-request.js'
import { openStages } from '../../src/replay/stages.js'
import { MEMORY_CLUSTER, MemoryQuarantine, MemorySink, memoryRecords, type MemoryStore } from '../support/memory-pipeline.js'
import type { SinkRecord } from '../../src/sinks/sink.js'
import { withTimeout } from '../support/timeout.js'

/**
 * replay --follow in-process: a source that follows its log (bursts of records, an empty read
 * when the log has nothing more, then waiting until the replay is stopped), through the real
 * pipeline into the memory sink. No broker: the e2e test (test/e2e/replay-follow.test.ts) does
 * the same against Kafka.
 */
const dir = mkdtempSync(join(tmpdir(), 'recover-follow-pipeline-'))

class FollowingSource implements RecordSource {
  readonly follows = true
  readonly topic = 'orders'
  private readonly ends = new Map<number, bigint>()

  constructor(private readonly bursts: KafkaRecord[][]) {}

  async plan(): Promise<SourcePlan> {
    return { ranges: [{ partition: 0, start: 0n, end: FOLLOW_END }], warnings: [] }
  }

  async *read(ranges: readonly PartitionRange[], signal: AbortSignal): AsyncIterable<readonly SourceChunk[]> {
    const from = ranges[0]!.start
    for (const burst of this.bursts) {
      const records = burst.filter((r) => r.offset >= from)
      if (records.length > 0) {
        this.ends.set(0, records.at(-1)!.offset + 1n)
        yield [{ partition: 0, records, nextOffset: records.at(-1)!.offset + 1n }]
      }
      // The log has nothing more for now: an empty read.
      yield []
      if (signal.aborted) return
    }
    // Caught up with everything there is: wait, as a long poll would, until stopped.
    while (!signal.aborted) {
      await new Promise((resolve) => setTimeout(resolve, 5))
      yield []
    }
  }

  logEnds(): ReadonlyMap<number, bigint> {
    return this.ends
  }

  async probe(): Promise<void> {}
  async close(): Promise<void> {}
}

async function follow(
  bursts: KafkaRecord[][],
  sink: MemorySink,
  checkpoint: string,
  stopWhen: (written: number) => boolean,
): Promise<{ summary: ReplaySummary; events: ReplayEvent[] }> {
  const request: ReplayRequest = { topic: 'orders', valueFormat: 'json', checkpoint, batchSize: 10, follow: true }
  const controller = new AbortController()
  const events: ReplayEvent[] = []
  const stages = await openStages(request, { dryRun: false, signal: controller.signal })
  const summary = await runPipeline(
    request,
    { source: new FollowingSource(bursts), cluster: MEMORY_CLUSTER, stages, openOutputs: async () => ({ sink, quarantine: new MemoryQuarantine() }) },
    {
      signal: controller.signal,
      onEvent: (e) => {
        events.push(e)
        if (e.type === 'batch' && stopWhen(e.totals.written)) controller.abort()
      },
    },
  )
  return { summary, events }
}

const json = (i: number) => JSON.stringify({ n: i })
const numbers = (store: MemoryStore<SinkRecord>) => store.items.map((r) => Number(JSON.parse(String(r.value)).n))

test(
  'records that fill no batch are written once the log is idle; the lag comes with each batch; a stop checkpoints, and the same follow continues from there without loss or duplicates',
  withTimeout(30_000, async () => {
    const all = memoryRecords('orders', 20, json)
    const store: MemoryStore<SinkRecord> = { items: [] }
    const checkpoint = join(dir, 'follow.json')

    // 13 records with a batch size of 10, then 4 more: both tails are written while idle.
    const first = await follow([all.slice(0, 13), all.slice(13, 17)], new MemorySink(store), checkpoint, (n) => n >= 17)
    assert.equal(numbers(store), [...Array(17).keys()])
    assert.ok(first.summary.interrupted && !first.summary.finished && first.summary.reconciled)
    assert.is(first.summary.partitions[0]!.next, 17n)
    const batches = first.events.filter((e) => e.type === 'batch')
    assert.equal(
      batches.map((b) => b.type === 'batch' && b.records),
      [10, 3, 4],
    )
    const lastLag = batches.at(-1)!.type === 'batch' ? (batches.at(-1) as { lag?: { behind: bigint; lastWrittenMs?: number } }).lag : undefined
    assert.is(lastLag?.behind, 0n)
    assert.is(lastLag?.lastWrittenMs, all[16]!.timestampMs)

    // The same follow again (no --resume): it continues from the checkpoint.
    const second = await follow([all], new MemorySink(store), checkpoint, (n) => n >= 20)
    assert.ok(second.summary.resumed)
    assert.equal(numbers(store), [...Array(20).keys()])
    assert.is(second.summary.totals.read, 20)
  }),
)

test.run()
