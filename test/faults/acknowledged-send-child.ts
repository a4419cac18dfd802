import { createRequire } from 'node:module'
import { resolveConnection } from '../../src/config/resolve-connection.js'
import { createKafka } from '../../src/kafka/create-kafka.js'

/**
 * A producer that keeps sending: each send() has records for every partition of the topic
 * (so for every broker of the cluster), with ids counting up; it prints `ok FIRST LAST ANSWERS MS`
 * (partitions answered, time taken) for
 * every send Kafka acknowledged and `fail FIRST LAST` for every send that failed, until it gets
 * SIGTERM (or `seconds` have passed).
 * Run by the c7 fault scenario, which kills a leader meanwhile and then looks for every
 * acknowledged id. `kafkajs-first` loads kafkajs before recover could put its send in place:
 * kafkajs's own send, to show what the scenario catches.
 *
 * node acknowledged-send-child.js BROKERS TOPIC PARTITIONS SECONDS [recover|kafkajs-first]
 */
const [brokers, topic, partitionsArg, secondsArg, mode = 'recover'] = process.argv.slice(2)
if (mode === 'kafkajs-first') createRequire(import.meta.url)('kafkajs')
const partitions = Number(partitionsArg)
/** kafkajs's last log lines (errors and retries), printed when a send is slow or the child is told to stop. */
const recent: string[] = []
const kafka = createKafka(resolveConnection({ brokers }, { clusters: {}, defaults: {} }), {
  log: (line) => {
    if (line.level === 'debug') return
    recent.push(`${new Date().toISOString()} ${line.level} ${line.namespace} ${line.message}`)
    if (recent.length > 40) recent.shift()
  },
})
const connect = async () => {
  const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
  await p.connect()
  return p
}
let producer = await connect()
const PER_SEND = 30
const until = Date.now() + Number(secondsArg) * 1000
let stop = false
process.on('SIGTERM', () => {
  stop = true
  process.stderr.write(`SIGTERM after ${next} records; kafkajs said:\n${recent.join('\n')}\n`)
})
let next = 0
while (!stop && Date.now() < until) {
  const first = next
  const messages = Array.from({ length: PER_SEND }, (_, i) => ({ partition: (first + i) % partitions, value: JSON.stringify({ id: first + i }) }))
  next += PER_SEND
  try {
    const t0 = Date.now()
    const slow = setTimeout(() => process.stderr.write(`send of ${first}..${next - 1} still running after 5 s; kafkajs said:\n${recent.join('\n')}\n`), 5_000)
    const answers = await producer.send({ topic, acks: -1, messages }).finally(() => clearTimeout(slow))
    process.stdout.write(`ok ${first} ${next - 1} ${answers.length} ${Date.now() - t0}ms\n`)
  } catch (error) {
    process.stdout.write(`fail ${first} ${next - 1} ${String((error as Error).message).slice(0, 120)}\n`)
    // As recover's writers do after a failed write: a new producer (a new producer id). The
    // failed send's sequence numbers were taken back, and the next records under them would
    // be dropped by Kafka as duplicates of whatever of the failed send it had appended.
    await producer.disconnect().catch(() => undefined)
    await new Promise((resolve) => setTimeout(resolve, 200))
    producer = await connect().catch(() => producer)
  }
}
await producer.disconnect().catch(() => undefined)
// A producer whose connect failed while a broker was down can keep a socket open: the work is done.
process.exit(0)
