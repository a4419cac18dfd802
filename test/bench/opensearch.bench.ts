/**
 * The OpenSearch sink against its anchor, measured on the same machine, server and documents
 * in the same run (goal from issue 20: >= 0.8x):
 *   the sink (the official client, bulk requests of at most 1000 documents / 5 MB, ids from
 *   the keys, the progress written to recover-progress at most once a second and after the
 *   last batch, as the replay commits)
 *   vs a minimal bulk-API script: the same documents as NDJSON with the same ids, POSTed with
 *   fetch to /_bulk in requests of 1000, one after another, nothing else.
 * Input: N JSON orders (about 200 bytes, keys o-0 … o-N-1), in memory. Each contender writes a
 * fresh index (1 shard, no replica), timed from the first request to the last answer; rounds
 * alternate the order, and the medians are compared. Every index is counted afterwards: each
 * must hold the N documents. OpenSearch 2.19 (the test support's, from Maven Central) runs on
 * this machine with a 512 MB heap, so the absolute figures are those of a small server; the
 * ratio is what the bench is for.
 *
 *   node dist/test/bench/opensearch.bench.js [--records 50000] [--rounds 3] [--warmup 1]
 */
import { cpus, loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import type { OpenSearchLocation } from '../../src/core/opensearch-location.js'
import { CommitPacer, DEFAULT_COMMIT_INTERVAL_MS } from '../../src/core/commit-pacer.js'
import { OpenSearchSink } from '../../src/sinks/opensearch-sink.js'
import { parseSinkLocation } from '../../src/sinks/registry.js'
import type { CommittedProgress, SinkRecord } from '../../src/sinks/sink.js'
import { documentCount, osRequest, startOpenSearch, type OpenSearchServer } from '../support/opensearch.js'

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '50000' },
    rounds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
  },
})
const N = Number(values.records)
const ROUNDS = Math.max(1, Number(values.rounds))
/** Rounds run first and not counted: the server's JIT warms up over the first hundred thousand documents, which favoured whoever came later. */
const WARMUP = Math.max(0, Number(values.warmup))
const BATCH = 5_000
const ANCHOR_DOCS = 1_000
const stamp = Date.now().toString(36)

const STATUSES = ['created', 'paid', 'shipped', 'delivered', 'refunded']
const records: SinkRecord[] = Array.from({ length: N }, (_, i) => {
  const order = {
    order_id: `o-${i}`,
    customer: `c-${(i * 7919) % 50_000}`,
    amount_cents: (i * 104_729) % 100_000,
    currency: 'EUR',
    status: STATUSES[i % STATUSES.length],
    created_at: 1_700_000_000_000 + i * 1000,
    channel: i % 3 === 0 ? 'web' : 'app',
  }
  return {
    key: Buffer.from(order.order_id),
    value: null,
    decodedKey: order.order_id,
    decodedValue: order,
    headers: [],
    timestamp: order.created_at,
    timestampType: 'create' as const,
    source: { topic: 'orders', partition: i % 6, offset: BigInt(Math.floor(i / 6)) },
  }
})

async function freshIndex(server: OpenSearchServer, name: string): Promise<string> {
  const index = `bench-${name}-${stamp}-${Math.random().toString(36).slice(2, 8)}`
  await osRequest(server, 'PUT', `/${index}`, { settings: { number_of_shards: 1, number_of_replicas: 0 } })
  return index
}

/** The sink as the replay drives it: batches of 5000, the progress at most once a second and after the last batch. */
async function sinkRun(server: OpenSearchServer, index: string): Promise<number> {
  const sink = new OpenSearchSink(parseSinkLocation(`opensearch://127.0.0.1:${server.port}/${index}`) as OpenSearchLocation)
  const progress = (batches: number): CommittedProgress => ({ partitions: [], quarantineState: {}, batches })
  const started = Date.now()
  await sink.open(undefined, { runId: `bench-${stamp}-${Math.random()}`, topic: 'orders' })
  const pacer = new CommitPacer(DEFAULT_COMMIT_INTERVAL_MS)
  let batches = 0
  for (let i = 0; i < records.length; i += BATCH) {
    const rejected = await sink.write(records.slice(i, i + BATCH))
    if (rejected.length > 0) throw new Error(`the sink refused ${rejected.length} documents: ${rejected[0]!.error.message}`)
    batches++
    if (pacer.written()) {
      await sink.checkpoint(progress(batches))
      pacer.committed()
    }
  }
  if (pacer.uncommitted) await sink.checkpoint(progress(batches))
  await sink.close()
  return Date.now() - started
}

/** The anchor: the same documents and ids as NDJSON, POSTed to /_bulk with fetch, 1000 at a time. */
async function bulkScript(server: OpenSearchServer, index: string): Promise<number> {
  const started = Date.now()
  for (let i = 0; i < records.length; i += ANCHOR_DOCS) {
    let body = ''
    for (const r of records.slice(i, i + ANCHOR_DOCS)) {
      body += `{"index":{"_index":"${index}","_id":${JSON.stringify(r.decodedKey)}}}\n${JSON.stringify(r.decodedValue)}\n`
    }
    const res = await fetch(`${server.url}/_bulk`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body })
    const answer = (await res.json()) as { errors: boolean }
    if (!res.ok || answer.errors) throw new Error(`the bulk script's request failed: HTTP ${res.status}`)
  }
  return Date.now() - started
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const rate = (ms: number) => Math.round(N / (ms / 1000))

const server = await startOpenSearch()
try {
  console.log(
    `OpenSearch ${server.version} (512 MB heap) ready in ${(server.startMs / 1000).toFixed(1)} s; ${N} orders, ${WARMUP} warm-up + ${ROUNDS} rounds, order alternating; machine load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`,
  )
  const times = { sink: [] as number[], script: [] as number[] }
  for (let round = -WARMUP; round < ROUNDS; round++) {
    const order = (round + WARMUP) % 2 === 0 ? (['script', 'sink'] as const) : (['sink', 'script'] as const)
    for (const who of order) {
      const index = await freshIndex(server, who)
      const ms = who === 'sink' ? await sinkRun(server, index) : await bulkScript(server, index)
      const count = await documentCount(server, index)
      if (count !== N) throw new Error(`${who} left ${count} documents in ${index}, not ${N}`)
      if (round >= 0) times[who].push(ms)
      console.log(
        `  ${round < 0 ? 'warm-up' : `round ${round + 1}`} ${who.padEnd(6)} ${(ms / 1000).toFixed(2)} s  ${rate(ms).toLocaleString('en-US')} docs/s  (${count} documents)`,
      )
      await osRequest(server, 'DELETE', `/${index}`)
    }
  }
  const sink = median(times.sink)
  const script = median(times.script)
  console.log('')
  console.log(`opensearch sink (official client)  ${rate(sink).toLocaleString('en-US')} docs/s  median ${(sink / 1000).toFixed(2)} s`)
  console.log(`minimal bulk-API script (fetch)    ${rate(script).toLocaleString('en-US')} docs/s  median ${(script / 1000).toFixed(2)} s`)
  const ratio = script / sink
  console.log(`ratio sink / script: ${ratio.toFixed(2)}x (goal >= 0.8x) ${ratio >= 0.8 ? 'met' : 'NOT met'}`)
} finally {
  await server.stop()
}
