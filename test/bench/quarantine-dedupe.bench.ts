/**
 * What "the quarantine knows a record by its source coordinates" costs: a replay that
 * quarantines its first record reads what the quarantine already holds once (one scan of the
 * quarantine and its audit trail). Measured over 50,000 dead letters of recover's own format
 * (~1.5 KB of context headers each, stack included), against the raw read of the same topic
 * (the anchor), for a replay whose range covers every entry and for one that covers 100.
 * Also the extra scan a redrive now makes before writing (its plan checks every record's cluster).
 *
 *   node dist/test/bench/quarantine-dedupe.bench.js [records=50000]
 */
import { headersForMessage, installOrderedHeaders } from '../../src/kafka/ordered-headers.js'
import type { KafkaRecord } from '../../src/kafka/kafka-record.js'
import { RangeReader } from '../../src/kafka/range-reader.js'
import { readAuditTrail } from '../../src/quarantine/audit-trail.js'
import { KafkaQuarantine, quarantineHeaders } from '../../src/quarantine/quarantine.js'
import { KafkaQuarantineSource } from '../../src/quarantine/quarantine-source.js'
import { loadKnownSources, rangeScope } from '../../src/quarantine/quarantined-sources.js'
import { openQuarantine } from '../../src/services/quarantine.js'
import { redriveQuarantined } from '../../src/services/quarantine-redrive.js'
import { createTopic, testKafka, uniqueName, withGateway } from '../support/kafka.js'

installOrderedHeaders()
const total = Number(process.argv[2] ?? 50_000)
// Recent timestamps: the test broker's default retention (7 days) deletes older records, and dead letters keep their original timestamp.
const T = Date.now() - 3_600_000
const source = uniqueName('bench-orders')
const topic = `${source}.quarantine`
const PARTITIONS = 3
await createTopic(topic, PARTITIONS)
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`
const memory = () => `${Math.round(process.memoryUsage().rss / 1e6)} MB RSS`

await withGateway(async (gateway) => {
  const seeding = performance.now()
  const producer = testKafka().producer({ allowAutoTopicCreation: false })
  await producer.connect()
  const original = (i: number): KafkaRecord => ({
    topic: source,
    partition: i % PARTITIONS,
    offset: BigInt(Math.floor(i / PARTITIONS)),
    timestampMs: T + i,
    timestampType: 'create',
    key: Buffer.from(`ord-${i}`),
    value: Buffer.from(`{"order_id":"ord-${i}","amount_cents":${i},"currency":"EUR",`),
    headers: [{ key: 'trace', value: Buffer.from(`t-${i}`) }],
  })
  for (let start = 0; start < total; start += 500) {
    const messages = []
    for (let i = start; i < Math.min(total, start + 500); i++) {
      const record = original(i)
      const error = Object.assign(new Error(`record ${i} is not JSON`), { name: 'DecodeError' })
      messages.push({
        partition: record.partition,
        key: record.key,
        value: record.value,
        timestamp: String(record.timestampMs),
        headers: headersForMessage(quarantineHeaders({ record, stage: 'decode', error, kind: 'not-json' }, new Date(T + i), gateway.cluster)) as Record<
          string,
          Buffer
        >,
      })
    }
    await producer.send({ topic, acks: -1, messages })
  }
  await producer.disconnect()
  console.log(`seeded ${total} dead letters in ${seconds(performance.now() - seeding)}`)

  let started = performance.now()
  let raw = 0
  const reader = new RangeReader(gateway.kafka, gateway.settings, topic)
  const facts = await reader.partitionFacts(await gateway.partitionsOf(topic))
  for await (const chunks of reader.read(facts.map((f) => ({ partition: f.partition, start: f.logStart, end: f.stableEnd }))))
    for (const c of chunks) raw += c.records.length
  await reader.close()
  const rawMs = performance.now() - started
  console.log(`raw read (anchor)           ${raw} records in ${seconds(rawMs)}`)

  const perPartition = Math.ceil(total / PARTITIONS)
  for (const [label, ranges] of [
    ['range covering all entries', Array.from({ length: PARTITIONS }, (_, p) => ({ partition: p, start: 0n, end: BigInt(perPartition) }))],
    ['range covering 100 entries', [{ partition: 0, start: 0n, end: 100n }]],
  ] as const) {
    started = performance.now()
    const trail = await readAuditTrail({ kind: 'kafka', topic }, gateway)
    const known = await loadKnownSources(new KafkaQuarantineSource(gateway, topic), trail, {
      scope: rangeScope(source, ranges),
      clusterId: gateway.clusterId,
      unrecordedIsThisCluster: true,
    })
    const ms = performance.now() - started
    console.log(`known sources, ${label}: ${known.size} in ${seconds(ms)} (${(ms / rawMs).toFixed(2)}x the raw read), ${memory()}`)
  }

  // The replay's path: the first quarantined record of a run pays the lookup; it is already there.
  const quarantine = new KafkaQuarantine(gateway, topic, PARTITIONS)
  await quarantine.open(
    undefined,
    rangeScope(
      source,
      Array.from({ length: PARTITIONS }, (_, p) => ({ partition: p, start: 0n, end: BigInt(perPartition) })),
    ),
  )
  started = performance.now()
  await quarantine.write([{ record: original(7), stage: 'decode', error: new Error('not JSON') }])
  const firstMs = performance.now() - started
  started = performance.now()
  await quarantine.write([{ record: original(8), stage: 'decode', error: new Error('not JSON') }])
  console.log(
    `replay's first quarantined record: ${seconds(firstMs)} (the lookup), the next: ${(performance.now() - started).toFixed(1)} ms; already quarantined: ${quarantine.alreadyQuarantined}`,
  )
  await quarantine.close()

  // The redrive plan that now runs before every executed redrive: a scan of the quarantine.
  started = performance.now()
  await redriveQuarantined(openQuarantine({ kind: 'kafka', topic }, gateway), { filter: { ids: ['0@0'] }, execute: false }, { by: 'bench', host: 'bench' })
  console.log(`redrive plan (--id 0@0):    ${seconds(performance.now() - started)}`)
})
process.exit(0)
