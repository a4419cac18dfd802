import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { parseEnvelopeLine } from '../../src/files/envelope.js'
import type { KafkaRecord } from '../../src/kafka/kafka-record.js'
import { headersForMessage, installOrderedHeaders } from '../../src/kafka/ordered-headers.js'
import { PartitionFetcher } from '../../src/kafka/partition-fetcher.js'
import { QUARANTINE_HEADERS } from '../../src/quarantine/header-names.js'
import { replay, type ReplayRequest } from '../../src/services/replay.js'
import { createTopic, testBrokers, testKafka, uniqueName, withAdmin, withGateway } from '../support/kafka.js'
import { withTimeout } from '../support/timeout.js'

installOrderedHeaders()

/**
 * `--value-format bytes` (and key bytes) without a transform: records are forwarded as they
 * were read, not decoded and encoded again. Both topics are read back with kafkajs's own
 * decoding (not with the reader the replay uses), and compared field by field.
 */
const dir = mkdtempSync(join(tmpdir(), 'recover-pass-through-'))
const T0 = Date.UTC(2018, 2, 21)

const run = (request: ReplayRequest) => withGateway((gateway) => replay(request, { gateway }))

interface Seen {
  key: string | null
  value: string | null
  headers: Array<[string, string | null]>
  timestampMs: number
}

const hex = (b: Buffer | null) => (b === null ? null : b.toString('hex'))
const seen = (r: KafkaRecord): Seen => ({
  key: hex(r.key),
  value: hex(r.value),
  headers: r.headers.map((h) => [h.key, hex(h.value)]),
  timestampMs: r.timestampMs,
})

/** Every committed record of each partition, in offset order, as kafkajs decodes them. */
async function kafkajsRead(topic: string, partitions: number): Promise<Seen[][]> {
  const fetcher = new PartitionFetcher(testKafka(), { isolation: 'read_committed' })
  try {
    const out: Seen[][] = []
    for (let p = 0; p < partitions; p++) {
      const records: Seen[] = []
      for (let next = 0n; ; ) {
        const { records: got, nextOffset, highWatermark } = await fetcher.fetch(topic, p, next, { maxWaitMs: 50 })
        records.push(...got.map(seen))
        if (nextOffset >= highWatermark || nextOffset === next) break
        next = nextOffset
      }
      out.push(records)
    }
    return out
  } finally {
    await fetcher.close()
  }
}

function kcat(topic: string, partition: number, lines: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const args = ['-P', '-b', testBrokers(), '-t', topic, '-p', String(partition), '-z', 'gzip', '-K', '\t', '-H', 'via=kcat', '-X', 'linger.ms=50']
    const child = spawn('kcat', args, { stdio: ['pipe', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    child.on('error', reject)
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`kcat: ${stderr}`))))
    child.stdin.end(`${lines.join('\n')}\n`)
  })
}

test(
  'bytes without a transform: keys, values, headers and timestamps arrive byte for byte in their partitions (compressed and transactional sources too), and counts and checkpoint add up',
  withTimeout(90_000, async () => {
    const topic = uniqueName('pass-src')
    await createTopic(topic, 3)
    const kafka = testKafka()
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    try {
      await producer.send({
        topic,
        messages: Array.from({ length: 60 }, (_, i) => ({
          partition: i % 3,
          key: i % 7 === 0 ? null : i % 7 === 1 ? Buffer.from([0xff, 0x00, i]) : `key-${i}`,
          value: i % 11 === 0 ? null : i % 11 === 1 ? Buffer.alloc(0) : i % 11 === 2 ? Buffer.from([0xc3, 0x28, i]) : `välue ${i}`,
          timestamp: String(T0 + i * 1000),
          headers: headersForMessage([
            { key: 'a', value: Buffer.from('1') },
            { key: 'n', value: null },
            { key: 'a', value: Buffer.from(String(i)) },
            { key: 'ключ', value: Buffer.alloc(0) },
          ]) as never,
        })),
      })
    } finally {
      await producer.disconnect()
    }
    await kcat(
      topic,
      1,
      Array.from({ length: 40 }, (_, i) => `kcat-${i}\t${'compressible '.repeat(5)}${i}`),
    )
    const tx = kafka.producer({ transactionalId: uniqueName('pass-tx'), idempotent: true, maxInFlightRequests: 1 })
    await tx.connect()
    try {
      for (const [values, commit] of [
        [['t1', 't2'], true],
        [['aborted1', 'aborted2'], false],
        [['t3'], true],
      ] as const) {
        const t = await tx.transaction()
        await t.send({ topic, messages: values.map((v) => ({ partition: 2, key: v, value: v, timestamp: String(T0) })) })
        await (commit ? t.commit() : t.abort())
      }
    } finally {
      await tx.disconnect()
    }

    const sink = uniqueName('pass-dst')
    const checkpoint = join(dir, `${sink}.json`)
    const summary = await run({ topic, sink: `kafka:${sink}`, quarantine: `file:${join(dir, `${sink}.q.jsonl`)}`, checkpoint, batchSize: 25 })
    const source = await kafkajsRead(topic, 3)
    const written = await kafkajsRead(sink, 3)
    const total = source.flat().length
    assert.is(total, 103)
    assert.ok(!source[2]!.some((r) => r.key === hex(Buffer.from('aborted1'))), 'aborted records are not in the source as read_committed reads it')
    assert.equal(written, source, 'each partition holds the same records in the same order')
    assert.ok(summary.finished && summary.reconciled)
    assert.equal([summary.totals.read, summary.totals.written, summary.totals.quarantined, summary.totals.dropped], [total, total, 0, 0])
    const saved = JSON.parse(readFileSync(checkpoint, 'utf8')) as { finished: boolean; partitions: Array<{ next: string; end: string; read: number }> }
    assert.ok(saved.finished)
    assert.ok(saved.partitions.every((p) => p.next === p.end))
    assert.equal(
      saved.partitions.map((p) => p.read),
      source.map((p) => p.length),
    )
  }),
)

test(
  'bytes without a transform: a record the sink topic refuses as too large is quarantined whole, the others are written',
  withTimeout(60_000, async () => {
    // The source takes a record of 1.2 MB; the sink topic keeps Kafka's default limit of 1 MiB.
    const topic = uniqueName('pass-large-src')
    await withAdmin((admin) =>
      admin.createTopics({ topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: '3000000' }] }], waitForLeaders: true }),
    )
    const sink = uniqueName('pass-large-dst')
    await createTopic(sink, 1)
    const big = Buffer.alloc(1_200_000, 7)
    const producer = testKafka().producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    try {
      await producer.send({
        topic,
        messages: Array.from({ length: 12 }, (_, i) => ({
          partition: 0,
          key: `k${i}`,
          value: i === 5 ? big : `v${i}`,
          headers: { h: `${i}` },
          timestamp: String(T0 + i),
        })),
      })
    } finally {
      await producer.disconnect()
    }
    const quarantine = join(dir, `${sink}.q.jsonl`)
    const summary = await run({ topic, sink: `kafka:${sink}`, quarantine: `file:${quarantine}`, checkpoint: join(dir, `${sink}.json`) })
    assert.ok(summary.finished && summary.reconciled)
    assert.equal([summary.totals.read, summary.totals.written, summary.totals.quarantined], [12, 11, 1])
    const [written] = await kafkajsRead(sink, 1)
    const [source] = await kafkajsRead(topic, 1)
    assert.equal(written, [...source!.slice(0, 5), ...source!.slice(6)])
    const entries = readFileSync(quarantine, 'utf8').trim().split('\n').map(parseEnvelopeLine)
    assert.is(entries.length, 1)
    const entry = entries[0]!
    assert.is(entry.headers.find((h) => h.key === QUARANTINE_HEADERS.stage)?.value?.toString(), 'sink')
    assert.is(entry.headers.find((h) => h.key === QUARANTINE_HEADERS.offset)?.value?.toString(), '5')
    assert.ok(entry.value?.equals(big), 'the refused record, byte for byte')
    assert.equal(entry.headers[0], { key: 'h', value: Buffer.from('5') })
  }),
)

test.run()
