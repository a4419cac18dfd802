import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { CompressionTypes } from 'kafkajs'
import { KafkaGateway } from '../../src/kafka/kafka-gateway.js'
import { resolveConnection } from '../../src/config/resolve-connection.js'
import type { KafkaRecord } from '../../src/kafka/kafka-record.js'
import { createTopic, testBrokers, testKafka, uniqueName } from '../support/kafka.js'
import { withTimeout } from '../support/timeout.js'

const require = createRequire(import.meta.url)
const kafkajs = require('kafkajs') as typeof import('kafkajs')

/**
 * Records compressed by an independent client (kcat, on librdkafka) in each of Kafka's four
 * codecs, read back through our PartitionFetcher. kafkajs decodes only GZIP by itself; the
 * other three work only if registerCompressionCodecs() did its job.
 */
const CODECS = [
  { kcat: 'gzip', type: kafkajs.CompressionTypes.GZIP },
  { kcat: 'snappy', type: kafkajs.CompressionTypes.Snappy },
  { kcat: 'lz4', type: kafkajs.CompressionTypes.LZ4 },
  { kcat: 'zstd', type: kafkajs.CompressionTypes.ZSTD },
] as const

const RECORDS = 500

function run(command: string, args: string[], input = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }))
    child.stdin.end(input)
  })
}

/** Records that compress well (so librdkafka keeps them compressed), each one different. */
function sampleLines(codec: string): Array<{ key: string; value: string }> {
  return Array.from({ length: RECORDS }, (_, i) => ({
    key: `order-${String(i).padStart(5, '0')}`,
    value: JSON.stringify({ order_id: i, codec, note: 'the same words again and again '.repeat(4), total: i * 7 }),
  }))
}

async function kcatProduce(topic: string, codec: string, lines: Array<{ key: string; value: string }>): Promise<void> {
  const input = `${lines.map((l) => `${l.key}\t${l.value}`).join('\n')}\n`
  const out = await run(
    'kcat',
    ['-P', '-b', testBrokers(), '-t', topic, '-p', '0', '-z', codec, '-K', '\t', '-X', 'linger.ms=50', '-X', 'batch.num.messages=200'],
    input,
  )
  assert.is(out.code, 0, `kcat -P -z ${codec} failed: ${out.stderr}`)
}

async function readAll(gateway: KafkaGateway, topic: string): Promise<KafkaRecord[]> {
  const logEnd = (await gateway.logOffsets(topic, [0]))[0]!.logEnd
  const fetcher = gateway.fetcher('read_committed')
  const out: KafkaRecord[] = []
  for (let next = 0n; next < logEnd; ) {
    const { records, nextOffset } = await fetcher.fetch(topic, 0, next, { maxWaitMs: 100 })
    out.push(...records)
    assert.ok(nextOffset > next, `the fetcher did not move past offset ${next}`)
    next = nextOffset
  }
  return out
}

function openGateway(): Promise<KafkaGateway> {
  return KafkaGateway.open(resolveConnection({ brokers: testBrokers() }, { clusters: {}, defaults: {} }))
}

for (const { kcat, type } of CODECS) {
  test(
    `records kcat produced with -z ${kcat} are read back byte for byte`,
    withTimeout(60_000, async () => {
      const topic = uniqueName(`compression-${kcat}`)
      await createTopic(topic)
      const lines = sampleLines(kcat)
      await kcatProduce(topic, kcat, lines)
      const gateway = await openGateway()
      try {
        const records = await readAll(gateway, topic)
        assert.is(records.length, RECORDS)
        records.forEach((r, i) => {
          assert.is(r.offset.toString(), String(i))
          assert.is(r.key?.toString('utf8'), lines[i]!.key)
          assert.is(r.value?.toString('utf8'), lines[i]!.value)
        })

        // Proof that the batches really are compressed with this codec: without it, reading fails.
        const codecs = kafkajs.CompressionCodecs as unknown as Record<number, () => unknown>
        const registered = codecs[type]!
        codecs[type] = () => {
          throw new Error(`codec ${kcat} withdrawn by the test`)
        }
        try {
          let failure: unknown
          await gateway
            .fetcher('read_committed')
            .fetch(topic, 0, 0n, { maxWaitMs: 100 })
            .catch((error: unknown) => (failure = error))
          assert.ok(failure, `reading ${kcat} batches worked without the ${kcat} codec: they were not compressed`)
          assert.match(String((failure as Error).message), new RegExp(`withdrawn|${kcat}`, 'i'))
        } finally {
          codecs[type] = registered
        }
      } finally {
        await gateway.close()
      }
    }),
  )
}

for (const { codec, type } of [
  { codec: 'snappy', type: kafkajs.CompressionTypes.Snappy },
  { codec: 'lz4', type: kafkajs.CompressionTypes.LZ4 },
] as const) {
  test(
    `batches we compress with ${codec} are accepted by the broker and read by kcat`,
    withTimeout(60_000, async () => {
      const topic = uniqueName(`compression-out-${codec}`)
      await createTopic(topic)
      // Opening a gateway registers the codecs for the producer below too (one kafkajs module).
      const gateway = await openGateway()
      const producer = testKafka().producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 })
      await producer.connect()
      try {
        const lines = sampleLines(codec).slice(0, 100)
        await producer.send({
          topic,
          acks: -1,
          compression: type as CompressionTypes,
          messages: lines.map((l) => ({ partition: 0, key: l.key, value: l.value })),
        })
        const out = await run('kcat', ['-C', '-b', testBrokers(), '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%k\t%s\n'])
        assert.is(out.code, 0, out.stderr)
        assert.equal(
          out.stdout.trimEnd().split('\n'),
          lines.map((l) => `${l.key}\t${l.value}`),
        )
        assert.equal(
          (await readAll(gateway, topic)).map((r) => r.value?.toString()),
          lines.map((l) => l.value),
        )
      } finally {
        await producer.disconnect()
        await gateway.close()
      }
    }),
  )
}

test(
  'writing ZSTD is refused with an error that names the codec',
  withTimeout(30_000, async () => {
    const topic = uniqueName('compression-out-zstd')
    await createTopic(topic)
    const gateway = await openGateway()
    const producer = testKafka().producer({ allowAutoTopicCreation: false, retry: { retries: 0 } })
    await producer.connect()
    try {
      let failure: unknown
      await producer
        .send({ topic, compression: kafkajs.CompressionTypes.ZSTD, messages: [{ partition: 0, value: 'x' }] })
        .catch((error: unknown) => (failure = error))
      assert.ok(failure)
      assert.match(String((failure as Error).message), /ZSTD/)
    } finally {
      await producer.disconnect()
      await gateway.close()
    }
  }),
)

test.run()
