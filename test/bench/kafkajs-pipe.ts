/**
 * The anchor of replay.bench: the smallest kafkajs consume-and-produce pipe, tuned as well as
 * kafkajs allows (eachBatch, every partition consumed concurrently, one produce per fetched
 * batch, acks=all, keys, headers, partitions and timestamps kept). No decoding, no transform,
 * no checkpoint: the best this client can do.
 *
 *   node dist/test/bench/kafkajs-pipe.js BROKERS SOURCE DESTINATION RECORDS PARTITIONS
 */
import { randomBytes } from 'node:crypto'
import { Kafka, logLevel } from 'kafkajs'

const [brokers, source, destination, recordsText, partitionsText] = process.argv.slice(2)
void recordsText
const partitions = Number(partitionsText)
const kafka = new Kafka({ brokers: brokers!.split(','), clientId: 'kafkajs-pipe', logLevel: logLevel.NOTHING })
const consumer = kafka.consumer({ groupId: `kafkajs-pipe-${randomBytes(4).toString('hex')}`, maxBytesPerPartition: 1 << 20, maxBytes: 8 << 20 })
const producer = kafka.producer({
  allowAutoTopicCreation: false,
  createPartitioner:
    () =>
    ({ message }) =>
      message.partition ?? 0,
})
const admin = kafka.admin()
await Promise.all([consumer.connect(), producer.connect(), admin.connect()])
// Done when every partition is read up to its end at the start (a batch delivered twice must not end the pipe early).
const ends = new Map((await admin.fetchTopicOffsets(source!)).map((o) => [o.partition, BigInt(o.high)]))
await admin.disconnect()
const reached = new Map<number, bigint>()
const done = () => [...ends].every(([p, end]) => (reached.get(p) ?? 0n) >= end)
await consumer.subscribe({ topic: source!, fromBeginning: true })
let piped = 0
let finish: () => void
const finished = new Promise<void>((resolve) => (finish = resolve))
if (done()) finish!()
await consumer.run({
  partitionsConsumedConcurrently: partitions,
  eachBatch: async ({ batch }) => {
    await producer.send({
      topic: destination!,
      acks: -1,
      messages: batch.messages.map((m) => ({ partition: batch.partition, key: m.key, value: m.value, headers: m.headers, timestamp: m.timestamp })),
    })
    piped += batch.messages.length
    const last = batch.messages.at(-1)
    if (last) reached.set(batch.partition, BigInt(last.offset) + 1n)
    if (done()) finish()
  },
})
await finished
await Promise.all([consumer.disconnect(), producer.disconnect()])
process.stdout.write(`${piped}\n`)
process.exit(0)
