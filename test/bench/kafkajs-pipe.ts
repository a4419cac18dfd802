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
const records = Number(recordsText)
const partitions = Number(partitionsText)
const kafka = new Kafka({ brokers: brokers!.split(','), clientId: 'kafkajs-pipe', logLevel: logLevel.NOTHING })
const consumer = kafka.consumer({ groupId: `kafkajs-pipe-${randomBytes(4).toString('hex')}`, maxBytesPerPartition: 1 << 20, maxBytes: 8 << 20 })
const producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: () => ({ message }) => message.partition ?? 0 })
await Promise.all([consumer.connect(), producer.connect()])
await consumer.subscribe({ topic: source!, fromBeginning: true })
let piped = 0
let finish: () => void
const finished = new Promise<void>((resolve) => (finish = resolve))
await consumer.run({
  partitionsConsumedConcurrently: partitions,
  eachBatch: async ({ batch }) => {
    await producer.send({
      topic: destination!,
      acks: -1,
      messages: batch.messages.map((m) => ({ partition: batch.partition, key: m.key, value: m.value, headers: m.headers, timestamp: m.timestamp })),
    })
    piped += batch.messages.length
    if (piped >= records) finish()
  },
})
await finished
await Promise.all([consumer.disconnect(), producer.disconnect()])
process.stdout.write(`${piped}\n`)
process.exit(0)
