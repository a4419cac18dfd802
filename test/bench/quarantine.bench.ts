/**
 * `quarantine list` over 100,000 dead letters (recover's own format: ~1.5 KB of context
 * headers each, stack included) against the raw read of the same topic by the range reader
 * (the anchor: what any consume costs), and the triage TUI's first paint with 100,000
 * records once they are read.
 *
 *   node dist/test/bench/quarantine.bench.js [records=100000]
 */
import { render } from 'ink-testing-library'
import { createElement } from 'react'
import { headersForMessage, installOrderedHeaders } from '../../src/kafka/ordered-headers.js'
import type { KafkaRecord } from '../../src/kafka/kafka-record.js'
import { RangeReader } from '../../src/kafka/range-reader.js'
import { quarantineHeaders } from '../../src/quarantine/quarantine.js'
import { listQuarantine, loadSummaries, openQuarantine } from '../../src/services/quarantine.js'
import { TriageController } from '../../src/triage/triage-controller.js'
import { TriageApp } from '../../src/ui/triage/TriageApp.js'
import { createTopic, testKafka, uniqueName, withGateway } from '../support/kafka.js'

installOrderedHeaders()
const total = Number(process.argv[2] ?? 100_000)
// Recent timestamps: the test broker's default retention (7 days) deletes older records, and dead letters keep their original timestamp.
const T = Date.now() - 3_600_000
const topic = uniqueName('bench-quarantine')
const PARTITIONS = 3
await createTopic(topic, PARTITIONS)

const seeding = performance.now()
const producer = testKafka().producer({ allowAutoTopicCreation: false })
await producer.connect()
const errors = ['DecodeError', 'TypeError', 'EncodeError', 'RangeError']
for (let start = 0; start < total; start += 500) {
  const messages = []
  for (let i = start; i < Math.min(total, start + 500); i++) {
    const record: KafkaRecord = {
      topic: 'orders',
      partition: i % 6,
      offset: BigInt(i),
      timestampMs: T + i,
      timestampType: 'create',
      key: Buffer.from(`ord-${i}`),
      value: Buffer.from(`{"order_id":"ord-${i}","amount_cents":${i},"currency":"EUR",`),
      headers: [{ key: 'trace', value: Buffer.from(`t-${i}`) }],
    }
    const name = errors[i % errors.length]!
    const error = Object.assign(new Error(`${name}: record ${i} failed`), { name })
    messages.push({
      partition: i % PARTITIONS,
      key: record.key,
      value: record.value,
      timestamp: String(record.timestampMs),
      headers: headersForMessage(quarantineHeaders({ record, stage: 'decode', error, kind: 'not-json' }, new Date(T + i))) as Record<string, Buffer>,
    })
  }
  await producer.send({ topic, acks: -1, messages })
}
await producer.disconnect()
console.log(`seeded ${total} dead letters in ${((performance.now() - seeding) / 1000).toFixed(1)} s`)

await withGateway(async (gateway) => {
  const memory = () => `${Math.round(process.memoryUsage().rss / 1e6)} MB RSS`
  // Anchor: the same records through the range reader, nothing else.
  let started = performance.now()
  let raw = 0
  const reader = new RangeReader(gateway.kafka, gateway.settings, topic)
  const facts = await reader.partitionFacts(await gateway.partitionsOf(topic))
  for await (const chunks of reader.read(facts.map((f) => ({ partition: f.partition, start: f.logStart, end: f.stableEnd }))))
    for (const c of chunks) raw += c.records.length
  await reader.close()
  const rawMs = performance.now() - started
  console.log(`raw read (anchor)     ${raw} records in ${(rawMs / 1000).toFixed(2)} s = ${Math.round(raw / (rawMs / 1000))} records/s`)

  const ctx = openQuarantine({ kind: 'kafka', topic }, gateway)
  started = performance.now()
  const listing = await listQuarantine(ctx, { filter: {} })
  const listMs = performance.now() - started
  console.log(
    `quarantine list       ${listing.scanned} records, ${listing.groups.length} groups in ${(listMs / 1000).toFixed(2)} s = ${Math.round(listing.scanned / (listMs / 1000))} records/s (${(listMs / rawMs).toFixed(2)}x the raw read), ${memory()}`,
  )

  started = performance.now()
  const filtered = await listQuarantine(ctx, { filter: { error: 'TypeError', key: 'ord-5' } })
  console.log(`list --error --key    ${filtered.matched} of ${filtered.scanned} in ${((performance.now() - started) / 1000).toFixed(2)} s`)

  // TUI: read the summaries, then time from "data read" to the first painted frame.
  const controller = new TriageController({ ctx, actor: { by: 'bench', host: 'bench' } }, 40)
  started = performance.now()
  const { summaries } = await loadSummaries(ctx)
  const readMs = performance.now() - started
  controller.dispatch({ type: 'loaded', summaries, states: new Map() })
  const paintStarted = performance.now()
  const ui = render(createElement(TriageApp, { controller, width: 160 }))
  const frame = ui.lastFrame() ?? ''
  const paintMs = performance.now() - paintStarted
  if (!frame.includes(`${total} of ${total} records`)) throw new Error(`first frame does not show the records:\n${frame}`)
  // A key press over 100,000 records: move a page, then filter (the filter rebuilds the groups).
  const pages: number[] = []
  for (let i = 0; i < 21; i++) {
    const keyStarted = performance.now()
    await controller.handleKey('', { pageDown: true })
    // Let React commit the frame: the time is key to painted frame.
    await new Promise((resolve) => setImmediate(resolve))
    pages.push(performance.now() - keyStarted)
  }
  const pageMs = [...pages].sort((a, b) => a - b)[10]!
  const keyStarted = performance.now()
  controller.dispatch({ type: 'apply-filter', filter: 'ord-4242' })
  const filterMs = performance.now() - keyStarted
  ui.unmount()
  console.log(
    `triage: read ${summaries.length} summaries in ${(readMs / 1000).toFixed(2)} s, first paint ${paintMs.toFixed(0)} ms after the data was read; page down ${pageMs.toFixed(1)} ms (median of 21), filter ${filterMs.toFixed(0)} ms; ${memory()}`,
  )
})
process.exit(0)
