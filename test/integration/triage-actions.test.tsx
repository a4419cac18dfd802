import { readFileSync, writeFileSync } from 'node:fs'
import { render } from 'ink-testing-library'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { headersForMessage, installOrderedHeaders } from '../../src/kafka/ordered-headers.js'
import type { KafkaGateway } from '../../src/kafka/kafka-gateway.js'
import type { KafkaRecord } from '../../src/kafka/kafka-record.js'
import { RangeReader } from '../../src/kafka/range-reader.js'
import { quarantineHeaders } from '../../src/quarantine/quarantine.js'
import { openQuarantine } from '../../src/services/quarantine.js'
import { TriageController } from '../../src/triage/triage-controller.js'
import { TriageApp } from '../../src/ui/triage/TriageApp.js'
import { createTopic, testBrokersB, testKafka, uniqueName, withGateway } from '../support/kafka.js'
import { withTimeout } from '../support/timeout.js'

installOrderedHeaders()
// Recent timestamps: the test broker's default retention (7 days) deletes older records, and dead letters keep their original timestamp.
const T = Date.now() - 3_600_000

async function readTopic(gateway: KafkaGateway, name: string): Promise<KafkaRecord[]> {
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
}

test(
  'triage on a Kafka quarantine: e edits the value in the editor and retries it into the sink; r retries the open records of the group after y (they fail again); R redrives them after y; l lists groups and lag',
  withTimeout(90_000, async () => {
    const original = uniqueName('orders')
    const q = `${original}.quarantine`
    const sink = uniqueName('orders-fixed')
    await createTopic(original, 2)
    await createTopic(q, 1)
    const producer = testKafka().producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    await producer.send({
      topic: q,
      acks: -1,
      messages: [1, 2, 3].map((offset) => {
        const record: KafkaRecord = {
          topic: original,
          partition: offset % 2,
          offset: BigInt(offset),
          timestampMs: T,
          timestampType: 'create',
          key: Buffer.from(`ord-${offset}`),
          value: Buffer.from(`{bad ${offset}`),
          headers: [{ key: 'trace', value: Buffer.from(`t${offset}`) }],
        }
        return {
          partition: 0,
          key: record.key,
          value: record.value,
          timestamp: String(T),
          headers: headersForMessage(
            quarantineHeaders({ record, stage: 'decode', error: Object.assign(new Error('not json'), { name: 'DecodeError' }) }, new Date(T)),
          ) as Record<string, Buffer>,
        }
      }),
    })
    await producer.disconnect()

    await withGateway(async (gateway) => {
      const ctx = openQuarantine({ kind: 'kafka', topic: q }, gateway)
      let edited = ''
      const controller = new TriageController(
        {
          ctx,
          actor: { by: 'tester', host: 'ci' },
          retry: { sink: `kafka:${sink}`, valueFormat: 'json' },
          redrive: { samePartition: true },
          runEditor: (path) => {
            edited = readFileSync(path, 'utf8')
            writeFileSync(path, '{"fixed":1}')
          },
        },
        20,
      )
      await controller.load()
      const ui = render(<TriageApp controller={controller} width={120} />)
      const frame = () => ui.lastFrame() ?? ''

      await controller.handleKey('j')
      await controller.handleKey('e')
      assert.is(edited, '{bad 1', 'the editor got the stored value')
      assert.match(frame(), 'Retried 1: 0 failed again')
      assert.match(frame(), '1 written')
      assert.equal(
        (await readTopic(gateway, sink)).map((r) => [r.partition, r.key?.toString(), r.value?.toString()]),
        [[1, 'ord-1', '{"fixed":1}']],
      )

      await controller.handleKey('k')
      await controller.handleKey('r')
      assert.match(frame(), `Retry 2 record(s) into kafka:${sink} on cluster ${gateway.clusterId}? [y/N]`)
      await controller.handleKey('y')
      // ord-1 was fixed by the edit: the group's retry takes only its two open records.
      assert.match(frame(), 'Retried 2: 2 failed again')
      assert.match(frame(), '0 written')

      await controller.handleKey('R')
      assert.match(frame(), `Redrive 2 record(s) to ${original}`)
      await controller.handleKey('y')
      assert.match(frame(), 'Redriven 2, parked 0')
      assert.equal((await readTopic(gateway, original)).map((r) => r.key?.toString()).sort(), ['ord-2', 'ord-3'])

      await controller.handleKey('l')
      assert.match(frame(), 'Consumer groups and lag')
      ui.unmount()
    })
  }),
)

test(
  'triage connected to cluster B refuses to redrive or retry dead letters quarantined on cluster A, and writes nothing to B',
  withTimeout(90_000, async () => {
    const brokersB = testBrokersB()
    const original = uniqueName('orders')
    const q = `${original}.quarantine`
    const sink = uniqueName('orders-fixed')
    // The same names on both clusters; the dead letters say they were read from A.
    for (const brokers of [undefined, brokersB]) await createTopic(original, 2, brokers)
    await createTopic(q, 1, brokersB)
    const clusterA = await withGateway(async (gateway) => gateway.cluster)
    const producer = testKafka(brokersB).producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    await producer.send({
      topic: q,
      acks: -1,
      messages: [1, 2].map((offset) => {
        const record: KafkaRecord = {
          topic: original,
          partition: offset % 2,
          offset: BigInt(offset),
          timestampMs: T,
          timestampType: 'create',
          key: Buffer.from(`ord-${offset}`),
          value: Buffer.from(`{bad ${offset}`),
          headers: [],
        }
        return {
          partition: 0,
          key: record.key,
          value: record.value,
          timestamp: String(T),
          headers: headersForMessage(
            quarantineHeaders({ record, stage: 'decode', error: Object.assign(new Error('not json'), { name: 'DecodeError' }) }, new Date(T), clusterA),
          ) as Record<string, Buffer>,
        }
      }),
    })
    await producer.disconnect()

    await withGateway(async (gateway) => {
      const controller = new TriageController(
        {
          ctx: openQuarantine({ kind: 'kafka', topic: q }, gateway),
          actor: { by: 'tester', host: 'ci' },
          retry: { sink: `kafka:${sink}` },
          redrive: { samePartition: true },
        },
        20,
      )
      await controller.load()
      const ui = render(<TriageApp controller={controller} width={160} />)
      const frame = () => (ui.lastFrame() ?? '').replace(/\s+/g, ' ')
      await controller.handleKey('R')
      assert.match(frame(), `was recorded on cluster ${clusterA.id}`)
      await controller.handleKey('r')
      await controller.handleKey('y')
      assert.match(frame(), `was recorded on cluster ${clusterA.id}`)
      assert.equal(await readTopic(gateway, original), [], 'nothing redriven into B')
      assert.not.ok((await gateway.listTopics()).includes(sink), 'no retry sink created on B')
      ui.unmount()
    }, brokersB)
  }),
)

test.run()
