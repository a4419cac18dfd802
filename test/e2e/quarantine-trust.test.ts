import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { headersForMessage, installOrderedHeaders } from '../../src/kafka/ordered-headers.js'
import type { KafkaRecord } from '../../src/kafka/kafka-record.js'
import { runCli, type CliRun } from '../support/cli.js'
import { createTopic, produce, readTopic, testBrokersB, testKafka, uniqueName, withAdmin } from '../support/kafka.js'
import { withTimeout } from '../support/timeout.js'

installOrderedHeaders()

// Recent timestamps: the test broker's default retention (7 days) deletes older records, and dead letters keep their original timestamp.
const T = Date.now() - 3_600_000
const dir = mkdtempSync(join(tmpdir(), 'recover-e2e-quarantine-trust-'))

const header = (r: KafkaRecord, key: string) => r.headers.find((h) => h.key === key)?.value?.toString()
const ok = (run: CliRun) => assert.is(run.exitCode, 0, `${run.stdout}\n${run.stderr}`)

/** A topic of 2 partitions: 6 JSON orders and 4 poison pills (not JSON). */
async function ordersWithPills(): Promise<string> {
  const topic = uniqueName('orders')
  await createTopic(topic, 2)
  await produce(topic, [
    ...Array.from({ length: 6 }, (_, i) => ({ partition: i % 2, key: `ok-${i}`, value: `{"order":${i}}`, timestampMs: T + i })),
    ...Array.from({ length: 4 }, (_, i) => ({
      partition: i % 2,
      key: `pill-${i}`,
      value: `{pill ${i}`,
      timestampMs: T + 10 + i,
      headers: { trace: `t-${i}` },
    })),
  ])
  return topic
}

function replayArgs(topic: string, extra: string[] = []): string[] {
  return [
    'replay',
    '--topic',
    topic,
    '--value-format',
    'json',
    '--sink',
    `file:${join(dir, `${uniqueName('out')}.jsonl`)}`,
    '--checkpoint',
    join(dir, `${uniqueName('cp')}.json`),
    ...extra,
  ]
}

const reconciles = (totals: { read: number; written: number; dropped: number; quarantined: number }) =>
  totals.read === totals.written + totals.dropped + totals.quarantined

test(
  'the same replay run twice quarantines each poison pill once: the second run counts them as already quarantined, and both summaries reconcile; a dropped entry is quarantined anew',
  withTimeout(120_000, async () => {
    const topic = await ordersWithPills()
    const first = await runCli([...replayArgs(topic), '--json'])
    ok(first)
    assert.equal([first.json.totals.read, first.json.totals.quarantined, first.json.alreadyQuarantined], [10, 4, 0])
    const second = await runCli([...replayArgs(topic), '--json'])
    ok(second)
    const held = await readTopic(`${topic}.quarantine`)
    assert.equal(held.map((r) => r.key?.toString()).sort(), ['pill-0', 'pill-1', 'pill-2', 'pill-3'], 'each pill once')
    assert.equal([second.json.totals.read, second.json.totals.written, second.json.totals.quarantined, second.json.alreadyQuarantined], [10, 6, 4, 4])
    assert.ok(reconciles(first.json.totals) && reconciles(second.json.totals) && second.json.reconciled)

    const text = await runCli(replayArgs(topic))
    ok(text)
    assert.match(text.stdout, 'quarantined 4 (4 of them already in the quarantine, not written again)')

    // A dropped (handled) entry no longer counts: the pill is quarantined again, once.
    const list = await runCli(['quarantine', 'list', '--dlq', `kafka:${topic}.quarantine`, '--records', '10', '--json'])
    const pill0 = list.json.records.find((r: { key: string }) => r.key === 'pill-0').id
    ok(await runCli(['quarantine', 'drop', '--dlq', `kafka:${topic}.quarantine`, '--id', pill0, '--reason', 'test', '--execute', '--yes', '--json']))
    const afterDrop = await runCli([...replayArgs(topic), '--json'])
    ok(afterDrop)
    assert.equal([afterDrop.json.totals.quarantined, afterDrop.json.alreadyQuarantined], [4, 3])
    assert.is((await readTopic(`${topic}.quarantine`)).length, 5)
    assert.ok(
      held.every((r) => header(r, 'recover.source.cluster-id')),
      'entries record the cluster they were read from',
    )
  }),
)

/** Copies records to a topic of another cluster as they are (what MirrorMaker does to a quarantine topic). */
async function copyTo(brokers: string, topic: string, records: KafkaRecord[]): Promise<void> {
  const producer = testKafka(brokers).producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  try {
    await producer.send({
      topic,
      acks: -1,
      messages: records.map((r) => ({
        partition: r.partition,
        key: r.key,
        value: r.value,
        timestamp: String(r.timestampMs),
        headers: headersForMessage(r.headers) as Record<string, Buffer>,
      })),
    })
  } finally {
    await producer.disconnect()
  }
}

async function quarantinedTopic(): Promise<{ topic: string; quarantine: string; ids: Map<string, string> }> {
  const topic = await ordersWithPills()
  ok(await runCli([...replayArgs(topic), '--json']))
  const list = await runCli(['quarantine', 'list', '--dlq', `kafka:${topic}.quarantine`, '--records', '10', '--json'])
  ok(list)
  return { topic, quarantine: `${topic}.quarantine`, ids: new Map(list.json.records.map((r: { key: string; id: string }) => [r.key, r.id])) }
}

test(
  'redrive --again of the same dead letter counts toward --max-redrives: three redrives, then the dry run and the fourth park it; the topic holds exactly three copies',
  withTimeout(120_000, async () => {
    const { topic, quarantine, ids } = await quarantinedTopic()
    const id = ids.get('pill-1')!
    const redrive = (extra: string[]) =>
      runCli(['quarantine', 'redrive', '--dlq', `kafka:${quarantine}`, '--id', id, '--again', '--same-partition', '--max-redrives', '3', ...extra])
    for (let n = 1; n <= 3; n++) {
      const run = await redrive(['--execute', '--yes', '--json'])
      ok(run)
      assert.equal([run.json.redriven, run.json.parked], [1, 0], `redrive ${n}`)
    }
    const copies = (await readTopic(topic)).filter((r) => r.key?.toString() === 'pill-1' && header(r, 'recover.redrive-count') !== undefined)
    assert.equal(
      copies.map((r) => header(r, 'recover.redrive-count')),
      ['1', '2', '3'],
    )

    const plan = await redrive([])
    ok(plan)
    assert.match(plan.stdout, '0 to their original topics, 1 to parking')
    assert.match(plan.stdout, 'redriven from this quarantine before')
    const fourth = await redrive(['--execute', '--yes', '--json'])
    ok(fourth)
    assert.equal([fourth.json.redriven, fourth.json.parked, fourth.json.redrivenBefore], [0, 1, 1])
    assert.is((await readTopic(topic)).filter((r) => r.key?.toString() === 'pill-1').length, 4, 'the original and three copies, no fourth')
    const parked = await readTopic(`${quarantine}.parked`)
    assert.equal(
      parked.map((r) => [r.key?.toString(), header(r, 'recover.parked-reason')]),
      [['pill-1', 'redriven 3 times (--max-redrives 3)']],
    )
    const fifth = await redrive(['--execute', '--yes', '--json'])
    assert.equal([fifth.exitCode, fifth.json.redriven, fifth.json.parked, fifth.json.skipped.handled], [0, 0, 0, 1], 'parked once, not again')
    assert.is((await readTopic(`${quarantine}.parked`)).length, 1)
  }),
)

test(
  'redrive and retry connected to cluster B of dead letters quarantined on cluster A refuse with exit 4 and write nothing to B; on A the same redrive goes ahead and names the cluster',
  withTimeout(120_000, async () => {
    const brokersB = testBrokersB()
    const { topic, quarantine } = await quarantinedTopic()
    const held = await readTopic(quarantine)
    // Cluster B has the same topic names (a mirror, a staging copy): the quarantine mirrored there says where its records came from.
    await createTopic(topic, 2, brokersB)
    await createTopic(quarantine, 1, brokersB)
    await copyTo(
      brokersB,
      quarantine,
      held.map((r) => ({ ...r, partition: 0 })),
    )
    const onB = ['--dlq', `kafka:${quarantine}`, '--brokers', brokersB]

    const redrive = await runCli(['quarantine', 'redrive', ...onB, '--all', '--execute', '--yes', '--json'])
    assert.is(redrive.exitCode, 4, `${redrive.stdout}\n${redrive.stderr}`)
    assert.is(redrive.json.error.code, 'CLUSTER_MISMATCH')
    assert.match(redrive.json.error.message, 'nothing was changed')
    const dryRun = await runCli(['quarantine', 'redrive', ...onB, '--all'])
    assert.is(dryRun.exitCode, 4, 'the plan refuses too')
    assert.match(dryRun.stderr, 'was recorded on cluster')
    const sink = uniqueName('orders-fixed')
    const retry = await runCli(['quarantine', 'retry', ...onB, '--all', '--sink', `kafka:${sink}`, '--execute', '--yes', '--json'])
    assert.equal([retry.exitCode, retry.json?.error?.code], [4, 'CLUSTER_MISMATCH'], `${retry.stdout}\n${retry.stderr}`)
    assert.equal(await readTopic(topic, brokersB), [], 'nothing redriven into B')
    assert.equal((await readTopic(quarantine, brokersB)).length, held.length, 'nothing quarantined again on B')
    const topicsOnB = await withAdmin((admin) => admin.listTopics(), brokersB)
    assert.not.ok(
      topicsOnB.includes(sink) || topicsOnB.includes(`${quarantine}.parked`) || topicsOnB.includes(`${quarantine}.recover-audit`),
      'no sink, parking or audit topic created on B',
    )

    const onA = await runCli(['quarantine', 'redrive', '--dlq', `kafka:${quarantine}`, '--all', '--execute', '--yes'])
    ok(onA)
    assert.match(onA.stdout, /into cluster \S+ \(127\.0\.0\.1:\d+/)
    assert.match(onA.stdout, 'Done: 4 redriven')
  }),
)

test(
  'a Kafka Connect dead letter (no recorded cluster) is still redriven; the plan says its cluster is unknown',
  withTimeout(60_000, async () => {
    const original = uniqueName('payments')
    const dlq = uniqueName('dlq-payments')
    await createTopic(original, 1)
    await createTopic(dlq, 1)
    const h = (key: string, value: string) => ({ key, value: Buffer.from(value) })
    await copyTo(process.env.RECOVER_TEST_BROKERS!, dlq, [
      {
        topic: dlq,
        partition: 0,
        offset: 0n,
        timestampMs: T,
        timestampType: 'create',
        key: Buffer.from('p-1'),
        value: Buffer.from('{broken'),
        headers: [
          h('trace', 't-1'),
          h('__connect.errors.topic', original),
          h('__connect.errors.partition', '0'),
          h('__connect.errors.offset', '7'),
          h('__connect.errors.exception.class.name', 'org.apache.kafka.connect.errors.DataException'),
          h('__connect.errors.stage', 'VALUE_CONVERTER'),
        ],
      },
    ])
    const plan = await runCli(['quarantine', 'redrive', '--dlq', `kafka:${dlq}`, '--all'])
    ok(plan)
    assert.match(plan.stdout, '1 record(s) do not say which cluster they were read from')
    const done = await runCli(['quarantine', 'redrive', '--dlq', `kafka:${dlq}`, '--all', '--execute', '--yes', '--json'])
    ok(done)
    assert.equal([done.json.redriven, done.json.unknownCluster], [1, 1])
    assert.equal(
      (await readTopic(original)).map((r) => [r.key?.toString(), header(r, 'recover.redrive-count')]),
      [['p-1', '1']],
    )
  }),
)

test.run()
