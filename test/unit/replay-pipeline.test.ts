import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { RecoveryError } from '../../src/errors.js'
import type { KafkaRecord } from '../../src/kafka/kafka-record.js'
import { runPipeline } from '../../src/replay/pipeline.js'
import { withProcessExitGuard } from '../../src/replay/plugin-exit.js'
import type { ReplayEvent, ReplaySummary } from '../../src/replay/replay-events.js'
import type { ReplayRequest } from '../../src/replay/replay-request.js'
import { openStages } from '../../src/replay/stages.js'
import {
  indexOf,
  MEMORY_CLUSTER,
  MemoryQuarantine,
  MemorySink,
  MemorySource,
  memoryRecords,
  type MemoryOutage,
  type MemoryStore,
} from '../support/memory-pipeline.js'
import type { QuarantineEntry } from '../../src/quarantine/quarantine.js'
import type { SinkRecord } from '../../src/sinks/sink.js'
import { withTimeout } from '../support/timeout.js'

/**
 * The replay pipeline in-process: an in-memory source, sink and quarantine around the real
 * stages (codecs, the plugin host), checkpoint files in a temporary folder. No broker.
 */
const dir = mkdtempSync(join(tmpdir(), 'recover-pipeline-'))
let files = 0

function plugin(body: string): string {
  const path = join(dir, `plugin-${files++}.mjs`)
  writeFileSync(path, `import { defineTransform } from 'recover/plugin-api'\nexport default defineTransform(${body})\n`)
  return path
}

interface Run {
  records: KafkaRecord[]
  request?: Partial<ReplayRequest>
  sink?: MemorySink
  quarantine?: MemoryQuarantine
  outage?: MemoryOutage
  signal?: AbortSignal
  onEvent?: (e: ReplayEvent) => void
}

/** One replay of `records` through the pipeline, into the memory sink and quarantine. */
async function replayInMemory(
  run: Run,
): Promise<{ summary: ReplaySummary; sink: MemoryStore<SinkRecord>; quarantine: MemoryStore<QuarantineEntry>; events: ReplayEvent[]; source: MemorySource }> {
  const request: ReplayRequest = { topic: 'orders', valueFormat: 'json', checkpoint: join(dir, `checkpoint-${files++}.json`), batchSize: 10, ...run.request }
  const source = new MemorySource('orders', run.records, { outage: run.outage })
  const sink = run.sink ?? new MemorySink()
  const quarantine = run.quarantine ?? new MemoryQuarantine()
  const events: ReplayEvent[] = []
  const summary = await withProcessExitGuard(request.transform !== undefined, async (exitGuard) => {
    const signal = run.signal ?? new AbortController().signal
    const stages = await openStages(request, { dryRun: request.dryRun !== undefined, signal })
    return runPipeline(
      request,
      { source, cluster: MEMORY_CLUSTER, stages, openOutputs: request.dryRun ? undefined : async () => ({ sink, quarantine }), exitGuard },
      {
        signal,
        onEvent: (e) => {
          events.push(e)
          run.onEvent?.(e)
        },
      },
    )
  })
  return { summary, sink: sink.store, quarantine: quarantine.store, events, source }
}

async function failure(work: Promise<unknown>): Promise<RecoveryError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  )
  assert.instance(error, RecoveryError)
  return error as RecoveryError
}

const json = (i: number) => JSON.stringify({ n: i, kind: 'ok' })

test('each failing record is quarantined at the stage it failed (decode, transform, sink), drops are counted, and read = written + dropped + quarantined per partition', async () => {
  // Of every 10 records: 1 is not JSON, 1 the transform throws on, 1 the sink refuses, 1 the transform drops.
  const kind = (i: number) => ['ok', 'not-json', 'throw', 'reject', 'drop'][i % 10] ?? 'ok'
  const records = memoryRecords('orders', 100, (i) => (kind(i) === 'not-json' ? `plain text ${i}` : JSON.stringify({ n: i, kind: kind(i) })), 3)
  const transform = plugin(`{ name: 'router', version: '1.2.0', transform(r) {
    if (r.value.kind === 'throw') throw new Error('cannot fix ' + r.value.n)
    return r.value.kind === 'drop' ? null : r
  } }`)
  const sink = new MemorySink(undefined, { reject: (r) => ((r.decodedValue as { kind: string }).kind === 'reject' ? 'the sink refuses it' : undefined) })
  const { summary, sink: written, quarantine } = await replayInMemory({ records, sink, request: { transform: { path: transform, timeoutMs: 5_000 } } })

  const byKind = (k: string) => records.filter((_, i) => kind(i) === k).map(indexOf)
  assert.equal(summary.quarantinedByStage, { decode: 10, transform: 10, sink: 10 })
  const quarantined = (stage: string) =>
    quarantine.items
      .filter((e) => e.stage === stage)
      .map((e) => indexOf(e.record))
      .sort((a, b) => a - b)
  assert.equal(quarantined('decode'), byKind('not-json'))
  assert.equal(quarantined('transform'), byKind('throw'))
  assert.equal(quarantined('sink'), byKind('reject'))
  assert.ok(
    quarantine.items.every((e) => e.stage === 'decode' || e.transform?.name === 'router'),
    'entries name the transform',
  )
  assert.equal(
    written.items.map((r) => indexOf(r)).sort((a, b) => a - b),
    byKind('ok'),
  )
  assert.equal([summary.totals.read, summary.totals.written, summary.totals.dropped, summary.totals.quarantined], [100, 60, 10, 30])
  assert.ok(summary.reconciled && summary.finished)
  for (const p of summary.partitions) assert.is(p.read, p.written + p.dropped + p.quarantined, `partition ${p.partition}`)
  assert.equal(
    summary.partitions.map((p) => p.read),
    [34, 33, 33],
  )
})

test('a run that stops between a write and its checkpoint is resumed from the checkpoint: the sink is cut back, and holds every record once', async () => {
  const records = memoryRecords('orders', 95, json, 2)
  const checkpoint = join(dir, 'resume.json')
  const store: MemoryStore<SinkRecord> = { items: [] }
  const quarantineStore: MemoryStore<QuarantineEntry> = { items: [] }
  // The 4th write lands in the sink, then fails before its checkpoint: 40 records held, 30 checkpointed.
  const crashed = await failure(
    replayInMemory({ records, request: { checkpoint }, sink: new MemorySink(store, { failOnWrite: 4 }), quarantine: new MemoryQuarantine(quarantineStore) }),
  )
  assert.is(crashed.code, 'SINK_FAILED')
  assert.is(crashed.details.checkpoint, checkpoint, 'the error says which checkpoint continues it')
  assert.is(store.items.length, 40)
  const saved = JSON.parse(readFileSync(checkpoint, 'utf8')) as {
    finished: boolean
    partitions: Array<{ next: string; read: number }>
    sinkState: { count: number }
  }
  assert.is(saved.sinkState.count, 30)
  assert.is(
    saved.partitions.reduce((n, p) => n + p.read, 0),
    30,
  )

  const { summary } = await replayInMemory({
    records,
    request: { checkpoint, resume: true },
    sink: new MemorySink(store),
    quarantine: new MemoryQuarantine(quarantineStore),
  })
  assert.ok(summary.resumed && summary.finished && summary.reconciled)
  assert.is(summary.resumes, 1)
  assert.is(summary.readThisRun, 65)
  assert.equal([summary.totals.read, summary.totals.written], [95, 95])
  assert.equal(
    store.items.map((r) => indexOf(r)).sort((a, b) => a - b),
    records.map(indexOf),
    'every record once, none twice',
  )
})

test('Ctrl-C ends after the batch in flight, checkpointed; a fresh run then refuses the unfinished checkpoint (CHECKPOINT_EXISTS)', async () => {
  const records = memoryRecords('orders', 60, json)
  const checkpoint = join(dir, 'interrupted.json')
  const controller = new AbortController()
  const { summary, sink } = await replayInMemory({
    records,
    request: { checkpoint },
    signal: controller.signal,
    onEvent: (e) => e.type === 'batch' && controller.abort(),
  })
  assert.ok(summary.interrupted && !summary.finished && summary.reconciled)
  assert.is(sink.items.length, summary.totals.written)
  assert.ok(summary.totals.read < 60)
  const refused = await failure(replayInMemory({ records, request: { checkpoint } }))
  assert.is(refused.code, 'CHECKPOINT_EXISTS')
})

test(
  'an outage the translator marked retriable is waited out: the outputs reopen from the checkpoint and every record is written once',
  withTimeout(20_000, async () => {
    const records = memoryRecords('orders', 80, json, 2)
    const down = new RecoveryError('BROKER_UNREACHABLE', 'Could not reach Kafka at memory:0 while reading orders; check that the brokers are up.', {
      retriable: true,
      summary: 'Could not reach Kafka at memory:0 while reading orders',
    })
    const { summary, sink, events, source } = await replayInMemory({
      records,
      request: { brokerWaitMs: 10_000 },
      outage: { partition: 1, offset: 25n, error: down, probeFailures: 1 },
    })
    assert.ok(summary.finished && summary.reconciled)
    assert.is(summary.outages, 1)
    const waiting = events.find((e) => e.type === 'waiting')
    assert.ok(
      waiting && waiting.type === 'waiting' && waiting.reason === down.summary && waiting.giveUpAtMs !== null,
      "it says it waits, with the outage's summary and until when",
    )
    assert.ok(events.some((e) => e.type === 'reconnected'))
    assert.ok(source.probes >= 2, 'it asked the source again until it answered')
    assert.equal(
      sink.items.map((r) => indexOf(r)).sort((a, b) => a - b),
      records.map(indexOf),
      'every record once',
    )
  }),
)

test(
  'a refusal that reconnecting does not cure (too few in-sync replicas) is one outage with one deadline: it completes when the refusals stop, and stops past --broker-wait',
  withTimeout(20_000, async () => {
    const records = memoryRecords('orders', 60, json, 2)
    const refused = new RecoveryError('SINK_FAILED', 'Kafka answered NOT_ENOUGH_REPLICAS while writing to sink topic orders.out.', { retriable: true })
    // Writes 3 to 7 are refused, each after the outputs reopened: one outage, waited out.
    const { summary, sink, events } = await replayInMemory({
      records,
      request: { brokerWaitMs: 10_000 },
      sink: new MemorySink(undefined, { refuse: { from: 3, until: 8, error: refused } }),
    })
    assert.ok(summary.finished && summary.reconciled)
    assert.is(summary.outages, 1, 'five refusals in a row are one outage')
    assert.is(events.filter((e) => e.type === 'waiting').length, 1)
    assert.is(events.filter((e) => e.type === 'reconnected').length, 1, 'it is over once a batch is written again')
    assert.ok(summary.outageWaitedMs >= 0 && summary.longestOutageMs === summary.outageWaitedMs)
    assert.equal(
      sink.items.map((r) => indexOf(r)).sort((a, b) => a - b),
      records.map(indexOf),
      'every record once',
    )
    // Refused for good: it stops once --broker-wait has passed, instead of reopening forever.
    const checkpoint = join(dir, 'refused-for-good.json')
    const stopped = await failure(
      replayInMemory({ records, request: { checkpoint, brokerWaitMs: 300 }, sink: new MemorySink(undefined, { refuse: { from: 2, error: refused } }) }),
    )
    assert.is(stopped.code, 'SINK_FAILED')
    assert.match(stopped.message, /NOT_ENOUGH_REPLICAS.*Kafka still refused after --broker-wait/)
    assert.is(stopped.details.checkpoint, checkpoint, 'the checkpoint to resume from')
  }),
)

test(
  'records of the run before an outage that turn up only after the reopen (a timed-out write committed late) are counted as re-sent, once',
  withTimeout(20_000, async () => {
    const records = memoryRecords('orders', 60, json, 2)
    const refused = new RecoveryError('SINK_FAILED', 'Kafka answered NOT_ENOUGH_REPLICAS while writing.', { retriable: true })
    const { summary, events } = await replayInMemory({
      records,
      request: { brokerWaitMs: 10_000 },
      sink: new MemorySink(undefined, { refuse: { from: 3, until: 6, error: refused }, lateAfterReopen: 10 }),
    })
    assert.ok(summary.finished && summary.reconciled)
    assert.is(summary.resent, 10, 'counted once, not once per reopen')
    const reconnected = events.find((e) => e.type === 'reconnected')
    assert.ok(reconnected && reconnected.type === 'reconnected' && reconnected.resent === 10)
  }),
)

test('an error not marked retriable is not waited for, whatever its message says; with --broker-wait 0 an outage stops at once with its checkpoint', async () => {
  const records = memoryRecords('orders', 40, json)
  const worded = new RecoveryError('SINK_FAILED', 'Could not reach Kafka at memory:0 (a message that reads like an outage)')
  const notWaited = await failure(
    replayInMemory({ records, request: { brokerWaitMs: 10_000 }, outage: { partition: 0, offset: 15n, error: worded, probeFailures: 0 } }),
  )
  assert.is(notWaited, worded)
  const down = new RecoveryError('BROKER_UNREACHABLE', 'Could not reach Kafka.', { retriable: true })
  const checkpoint = join(dir, 'no-wait.json')
  const stopped = await failure(
    replayInMemory({ records, request: { checkpoint, brokerWaitMs: 0 }, outage: { partition: 0, offset: 15n, error: down, probeFailures: 0 } }),
  )
  assert.is(stopped, down)
  assert.is(stopped.details.checkpoint, checkpoint)
})

test('values that are not what --value-format says stop the replay (FAILURE_RATE_EXCEEDED, exit 3) before most of them reach the quarantine', async () => {
  const records = memoryRecords('orders', 200, (i) => `plain text ${i}`)
  const checkpoint = join(dir, 'failure-rate.json')
  const error = await failure(replayInMemory({ records, request: { checkpoint, maxFailureRate: { maxPercent: 50, firstRecords: 1_000 } } }))
  assert.is(error.code, 'FAILURE_RATE_EXCEEDED')
  assert.is(error.exitCode, 3)
  assert.match(error.message, '--value-format')
  const summary = error.details.summary as { stopped: { code: string }; totals: { quarantined: number; read: number }; reconciled: boolean }
  assert.is(summary.stopped.code, 'FAILURE_RATE_EXCEEDED')
  assert.ok(summary.reconciled)
  // Certain once more than 100 of the 200 failed: the batch that would pass that never reaches the quarantine.
  assert.ok(summary.totals.quarantined <= 100, `${summary.totals.quarantined} quarantined`)
  assert.is(error.details.checkpoint, checkpoint)

  const off = await replayInMemory({ records, request: { maxFailureRate: { maxPercent: 0, firstRecords: 1_000 } } })
  assert.is(off.summary.totals.quarantined, 200, 'maxPercent 0 never stops')
})

test('a transform that calls process.exit stops the replay with BAD_PLUGIN (exit 2) and a summary; recover lives on, and process.exit is its own again', async () => {
  const exit = process.exit
  const records = memoryRecords('orders', 50, json)
  const transform = plugin(`{ name: 'exits', version: '0.0.1', transform(r) { if (r.value.n === 23) process.exit(0); return r } }`)
  const checkpoint = join(dir, 'exits.json')
  const store: MemoryStore<SinkRecord> = { items: [] }
  const error = await failure(
    replayInMemory({ records, sink: new MemorySink(store), request: { checkpoint, transform: { path: transform, timeoutMs: 5_000 } } }),
  )
  assert.is(error.code, 'BAD_PLUGIN')
  assert.is(error.exitCode, 2)
  assert.match(error.message, 'exits@0.0.1 called process.exit(0)')
  const summary = error.details.summary as { totals: { read: number; written: number }; reconciled: boolean }
  assert.ok(summary.reconciled)
  // The batch holding record 23 was never written; the ones before it are, and checkpointed.
  assert.is(summary.totals.written, 20)
  assert.is(store.items.length, 20)
  assert.ok(existsSync(checkpoint))
  assert.is(process.exit, exit)
})

/** Records the pass-through must keep as they are: binary and null keys, tombstones, empty values, null and repeated headers, log-append time. */
function oddRecords(count: number): KafkaRecord[] {
  return memoryRecords('orders', count, json, 3).map((r, i) => ({
    ...r,
    key: i % 7 === 0 ? null : i % 7 === 1 ? Buffer.from([0xff, 0x00, i & 0xff]) : r.key,
    value: i % 11 === 0 ? null : i % 11 === 1 ? Buffer.alloc(0) : i % 11 === 2 ? Buffer.from([0xc3, 0x28, i & 0xff]) : r.value,
    timestampType: i % 5 === 0 ? 'log-append' : 'create',
    timestampMs: i % 13 === 0 ? -1 : r.timestampMs,
    headers: [...r.headers, { key: 'n', value: null }, { key: 'i', value: Buffer.from('again') }, { key: 'é', value: Buffer.alloc(0) }],
  }))
}

test('bytes in, bytes out, no transform: each record reaches the sink with the very buffers it was read with, its headers, timestamp and nulls as they were; counts and the checkpoint are right', async () => {
  const records = oddRecords(95)
  const checkpoint = join(dir, 'pass-through.json')
  const { summary, sink } = await replayInMemory({ records, request: { valueFormat: 'bytes', checkpoint } })
  assert.ok(summary.finished && summary.reconciled)
  assert.equal([summary.totals.read, summary.totals.written, summary.totals.quarantined, summary.totals.dropped], [95, 95, 0, 0])
  assert.is(
    summary.totals.bytes,
    records.reduce((n, r) => n + (r.key?.length ?? 0) + (r.value?.length ?? 0), 0),
  )
  const byIndex = new Map(sink.items.map((o) => [indexOf(o), o]))
  assert.is(byIndex.size, 95)
  for (const [i, r] of records.entries()) {
    const o = byIndex.get(indexOf(r))!
    assert.ok(o.key === r.key && o.value === r.value, `record ${i}: the same buffers (or nulls), not copies`)
    assert.ok(o.decodedKey === r.key && o.decodedValue === r.value, `record ${i}: bytes decode to themselves`)
    assert.is(o.headers, r.headers)
    assert.equal([o.timestamp, o.timestampType], [r.timestampMs, r.timestampType])
    assert.equal(o.source, { topic: 'orders', partition: r.partition, offset: r.offset })
  }
  const saved = JSON.parse(readFileSync(checkpoint, 'utf8')) as {
    finished: boolean
    partitions: Array<{ partition: number; next: string; end: string; read: number }>
  }
  assert.ok(saved.finished)
  assert.equal(
    saved.partitions.map((p) => [p.partition, p.next, p.read]),
    [
      [0, '32', 32],
      [1, '32', 32],
      [2, '31', 31],
    ],
  )
})

test('bytes in, bytes out: what the sink refuses is quarantined with its record, and a crash between a write and its checkpoint resumes with every record once', async () => {
  const records = oddRecords(95)
  const checkpoint = join(dir, 'pass-through-resume.json')
  const store: MemoryStore<SinkRecord> = { items: [] }
  const quarantineStore: MemoryStore<QuarantineEntry> = { items: [] }
  const reject = (r: SinkRecord) => (indexOf(r) % 10 === 3 ? 'too large' : undefined)
  const crashed = await failure(
    replayInMemory({
      records,
      request: { valueFormat: 'bytes', checkpoint },
      sink: new MemorySink(store, { reject, failOnWrite: 4 }),
      quarantine: new MemoryQuarantine(quarantineStore),
    }),
  )
  assert.is(crashed.code, 'SINK_FAILED')
  const { summary } = await replayInMemory({
    records,
    request: { valueFormat: 'bytes', checkpoint, resume: true },
    sink: new MemorySink(store, { reject }),
    quarantine: new MemoryQuarantine(quarantineStore),
  })
  assert.ok(summary.resumed && summary.finished && summary.reconciled)
  assert.equal([summary.totals.read, summary.totals.written, summary.totals.quarantined], [95, 85, 10])
  assert.equal(
    store.items.map((r) => indexOf(r)).sort((a, b) => a - b),
    records.map(indexOf).filter((i) => i % 10 !== 3),
    'every record the sink took, once',
  )
  assert.equal(
    quarantineStore.items.map((e) => [e.stage, indexOf(e.record)]).sort((a, b) => Number(a[1]) - Number(b[1])),
    records
      .map(indexOf)
      .filter((i) => i % 10 === 3)
      .map((i) => ['sink', i]),
  )
  for (const e of quarantineStore.items) assert.ok(records.includes(e.record as KafkaRecord), 'the record as it was read')
})

test('a dry run reads a sample, writes nothing, keeps no checkpoint', async () => {
  const records = memoryRecords('orders', 30, (i) => (i === 2 ? 'not json' : json(i)))
  const { summary } = await replayInMemory({ records, request: { dryRun: { limit: 5 } } })
  assert.ok(summary.dryRun && !summary.finished)
  assert.is(summary.sample?.length, 5)
  assert.equal(
    summary.sample?.map((s) => s.outcome),
    ['written', 'written', 'quarantined', 'written', 'written'],
  )
  assert.is(summary.checkpoint, null)
})

test.run()
