import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { installOrderedHeaders } from '../../src/kafka/ordered-headers.js'
import { RangeReader } from '../../src/kafka/range-reader.js'
import type { KafkaRecord } from '../../src/kafka/kafka-record.js'
import { runCli } from '../support/cli.js'
import { startFileSinkWorker, type ConnectWorker } from '../support/connect-worker.js'
import { createTopic, produce, testBrokers, uniqueName, withGateway } from '../support/kafka.js'
import { waitFor, withTimeout } from '../support/timeout.js'

installOrderedHeaders()

// Recent timestamps: the test broker's default retention (7 days) deletes older records, and dead letters keep their original timestamp.
const T = Date.now() - 3_600_000

async function readTopic(name: string): Promise<KafkaRecord[]> {
  return withGateway(async (gateway) => {
    if (!(await gateway.listTopics()).includes(name)) return []
    const reader = new RangeReader(gateway.kafka, gateway.settings, name)
    try {
      const facts = await reader.partitionFacts(await gateway.partitionsOf(name))
      const out: KafkaRecord[] = []
      for await (const chunks of reader.read(facts.map((f) => ({ partition: f.partition, start: f.logStart, end: f.stableEnd }))))
        for (const c of chunks) out.push(...c.records)
      return out
    } finally {
      await reader.close()
    }
  })
}

let worker: ConnectWorker | undefined
const input = uniqueName('connect-in')
const dlq = uniqueName('connect-dlq')

test.after(async () => {
  await worker?.stop()
})

test(
  "a real Kafka Connect DLQ (FileStreamSink, JsonConverter, errors.tolerance=all): list and show read Connect's headers; redrive returns the records, Connect fails them again, and the loop guard parks them",
  withTimeout(240_000, async () => {
    await createTopic(input, 2)
    await produce(input, [
      { partition: 0, key: 'a', value: '{"ok":1}', timestampMs: T, headers: { trace: 't-a' } },
      { partition: 0, key: 'b', value: '{broken json', timestampMs: T + 1, headers: { trace: 't-b' } },
      { partition: 1, key: 'c', value: 'not json at all', timestampMs: T + 2, headers: { trace: 't-c' } },
      { partition: 1, key: 'd', value: '{"ok":2}', timestampMs: T + 3 },
    ])
    worker = startFileSinkWorker({ brokers: testBrokers(), topic: input, dlq, name: uniqueName('file-sink') })
    const dlqCount = async (n: number) => ((await readTopic(dlq)).length >= n ? true : undefined)
    await waitFor(`Connect to dead-letter 2 records to ${dlq}\n${worker.log()}`, () => dlqCount(2), 120_000, 500)

    const list = await runCli(['quarantine', 'list', '--dlq', `kafka:${dlq}`, '--records', '10', '--json'])
    assert.is(list.exitCode, 0, list.stderr)
    assert.equal(list.json.dialects, { connect: 2 })
    assert.equal(
      list.json.groups.map((g: { errorClass: string; stage: string; count: number; topics: string[] }) => [g.errorClass, g.stage, g.count, g.topics]),
      [['org.apache.kafka.connect.errors.DataException', 'VALUE_CONVERTER', 2, [input]]],
    )
    const c = list.json.records.find((r: { key: string }) => r.key === 'c')
    assert.equal(c.original, { topic: input, partition: 1, offset: '0' })
    const shown = await runCli(['quarantine', 'show', c.id, '--dlq', `kafka:${dlq}`, '--json'])
    assert.is(shown.exitCode, 0, shown.stderr)
    assert.is(shown.json.dialect, 'connect')
    assert.is(shown.json.extra.executingClass, 'org.apache.kafka.connect.json.JsonConverter')
    assert.match(shown.json.message, 'Converting byte[] to Kafka Connect data failed')
    assert.match(shown.json.stack, 'JsonConverter.toConnectData')
    assert.equal(shown.json.value, { format: 'string', value: 'not json at all' })

    // The cause is not fixed: Connect dead-letters the redriven records again, now with redrive-count 1.
    const redrive = await runCli([
      'quarantine',
      'redrive',
      '--dlq',
      `kafka:${dlq}`,
      '--all',
      '--same-partition',
      '--max-redrives',
      '1',
      '--execute',
      '--yes',
      '--json',
    ])
    assert.is(redrive.exitCode, 0, redrive.stderr)
    assert.equal([redrive.json.redriven, redrive.json.parked], [2, 0])
    const back = (await readTopic(input)).filter((r) => r.headers.some((h) => h.key === 'recover.redrive-count'))
    assert.equal(
      back.map((r) => [r.partition, r.key?.toString(), r.value?.toString(), r.headers.map((h) => `${h.key}=${h.value?.toString()}`).join(',')]).sort(),
      [
        [0, 'b', '{broken json', 'trace=t-b,recover.redrive-count=1'],
        [1, 'c', 'not json at all', 'trace=t-c,recover.redrive-count=1'],
      ],
    )
    await waitFor(`Connect to dead-letter the redriven records\n${worker.log()}`, () => dlqCount(4), 120_000, 500)

    const second = await runCli([
      'quarantine',
      'redrive',
      '--dlq',
      `kafka:${dlq}`,
      '--all',
      '--same-partition',
      '--max-redrives',
      '1',
      '--execute',
      '--yes',
      '--json',
    ])
    assert.is(second.exitCode, 0, second.stderr)
    assert.equal([second.json.redriven, second.json.parked, second.json.skipped.handled], [0, 2, 2])
    const parked = await readTopic(`${dlq}.parked`)
    assert.equal(parked.map((r) => r.key?.toString()).sort(), ['b', 'c'])
    assert.ok(
      parked.every((r) => r.headers.some((h) => h.key === '__connect.errors.exception.class.name')),
      "parked records keep Connect's headers",
    )

    const after = await runCli(['quarantine', 'list', '--dlq', `kafka:${dlq}`, '--json'])
    assert.equal(
      after.json.actions.map((a: { action: string; result: Record<string, number> }) => [a.action, a.result]),
      [
        ['redrive', { redriven: 2, parked: 0, refused: 0 }],
        ['redrive', { redriven: 0, parked: 2, refused: 0 }],
      ],
    )
    assert.equal(after.json.states, { open: 0, redriven: 2, parked: 2, dropped: 0, retried: 0, failed: 0 })
  }),
)

test.run()
