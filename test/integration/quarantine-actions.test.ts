import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { RecoveryError } from '../../src/errors.js'
import { parseEnvelopeLine } from '../../src/files/envelope.js'
import { installOrderedHeaders } from '../../src/kafka/ordered-headers.js'
import { RangeReader } from '../../src/kafka/range-reader.js'
import type { KafkaGateway } from '../../src/kafka/kafka-gateway.js'
import type { KafkaRecord } from '../../src/kafka/kafka-record.js'
import { quarantineHeaders } from '../../src/quarantine/quarantine.js'
import { readAuditTrail } from '../../src/quarantine/audit-trail.js'
import { dropQuarantined, exportQuarantine, listQuarantine, openQuarantine, showQuarantined, type Actor } from '../../src/services/quarantine.js'
import { redriveQuarantined } from '../../src/services/quarantine-redrive.js'
import { retryQuarantined } from '../../src/services/quarantine-retry.js'
import { createTopic, testKafka, uniqueName, withAdmin, withGateway } from '../support/kafka.js'
import { withTimeout } from '../support/timeout.js'

installOrderedHeaders()

// Recent timestamps: the test broker's default retention (7 days) deletes older records, and dead letters keep their original timestamp.
const T = Date.now() - 3_600_000
const actor: Actor = { by: 'tester', host: 'ci' }
const dir = mkdtempSync(join(tmpdir(), 'recover-quarantine-'))
const int32 = (n: number) => {
  const b = Buffer.alloc(4)
  b.writeInt32BE(n)
  return b
}
const int64 = (n: bigint) => {
  const b = Buffer.alloc(8)
  b.writeBigInt64BE(n)
  return b
}

type Header = { key: string; value: Buffer | null }
interface Letter {
  partition: number
  key: string | null
  value: Buffer | string | null
  headers: Header[]
  timestampMs?: number
}

/** Produces dead letters with ordered (and repeated, binary) headers, as the dialects write them. */
async function produceLetters(topic: string, letters: Letter[]): Promise<void> {
  const { headersForMessage } = await import('../../src/kafka/ordered-headers.js')
  const producer = testKafka().producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  try {
    await producer.send({
      topic,
      acks: -1,
      messages: letters.map((l) => ({
        partition: l.partition,
        key: l.key,
        value: l.value,
        timestamp: String(l.timestampMs ?? T),
        headers: headersForMessage(l.headers) as Record<string, Buffer>,
      })),
    })
  } finally {
    await producer.disconnect()
  }
}

async function readAll(gateway: KafkaGateway, topic: string): Promise<KafkaRecord[]> {
  const reader = new RangeReader(gateway.kafka, gateway.settings, topic)
  try {
    const facts = await reader.partitionFacts(await gateway.partitionsOf(topic))
    const out: KafkaRecord[] = []
    for await (const chunks of reader.read(facts.map((f) => ({ partition: f.partition, start: f.logStart, end: f.stableEnd }))))
      for (const c of chunks) out.push(...c.records)
    return out
  } finally {
    await reader.close()
  }
}

const h = (key: string, value: string | Buffer) => ({ key, value: typeof value === 'string' ? Buffer.from(value) : value })

function recoverLetter(original: string, partition: number, offset: bigint, value: string, extra: Header[] = [], redriven?: number): Letter {
  const record: KafkaRecord = {
    topic: original,
    partition,
    offset,
    timestampMs: T,
    timestampType: 'create',
    key: Buffer.from(`k-${offset}`),
    value: Buffer.from(value),
    headers: [h('app-version', '1.6.0'), h('trace', `t-${offset}`), ...extra],
  }
  const error = Object.assign(new Error('Unexpected token'), { name: 'DecodeError' })
  const headers = quarantineHeaders({ record, stage: 'decode', error, kind: 'not-json', side: 'value' }, new Date(T + 1000))
  if (redriven !== undefined) headers.push(h('recover.redrive-count', String(redriven)))
  return { partition: 0, key: `k-${offset}`, value, headers }
}

/** A quarantine with every dialect: recover (3, one redriven 3 times), Spring, Streams, Karafka, unknown (binary value). */
async function mixedQuarantine(original: string): Promise<string> {
  const q = uniqueName('q-mixed')
  await createTopic(q, 1)
  await produceLetters(q, [
    recoverLetter(original, 0, 10n, '{bad'),
    recoverLetter(original, 1, 11n, '{worse', [h('trace', 'repeated')]),
    recoverLetter(original, 1, 12n, '{again', [], 3),
    {
      partition: 0,
      key: 'k-s',
      value: '{"amount":-1}',
      headers: [
        h('kafka_dlt-original-topic', original),
        h('kafka_dlt-original-partition', int32(1)),
        h('kafka_dlt-original-offset', int64(13n)),
        h('kafka_dlt-exception-fqcn', 'org.springframework.kafka.listener.ListenerExecutionFailedException'),
        h('kafka_dlt-exception-message', 'amount must be positive'),
        h('b3', 'span'),
      ],
    },
    {
      partition: 0,
      key: 'k-st',
      value: 'x',
      headers: [
        h('__streams.errors.exception', 'org.apache.kafka.common.errors.SerializationException'),
        h('__streams.errors.message', 'Size of data'),
        h('__streams.errors.topic', original),
        h('__streams.errors.partition', '0'),
        h('__streams.errors.offset', '14'),
      ],
    },
    {
      partition: 0,
      key: 'k-ka',
      value: 'y',
      headers: [h('source_topic', original), h('source_partition', '0'), h('source_offset', '15'), h('source_attempts', '3')],
    },
    { partition: 0, key: null, value: Buffer.from([0x00, 0xff, 0x10, 0x80]), headers: [] },
  ])
  return q
}

test(
  'list groups every dialect by error class and stage; show decodes headers and dumps a binary value',
  withTimeout(60_000, async () => {
    const original = uniqueName('orders')
    await createTopic(original, 2)
    const q = await mixedQuarantine(original)
    await withGateway(async (gateway) => {
      const ctx = openQuarantine({ kind: 'kafka', topic: q }, gateway)
      const l = await listQuarantine(ctx, { filter: {}, records: 100 })
      assert.is(l.scanned, 7)
      assert.equal(l.dialects, { recover: 3, spring: 1, streams: 1, karafka: 1, unknown: 1 })
      assert.equal(
        l.groups.map((g) => [g.errorClass, g.stage, g.count]),
        [
          ['DecodeError', 'decode', 3],
          ['(unknown)', '(unknown)', 2],
          ['org.apache.kafka.common.errors.SerializationException', '(unknown)', 1],
          ['org.springframework.kafka.listener.ListenerExecutionFailedException', '(unknown)', 1],
        ],
      )
      assert.equal(l.groups[0]!.topics, [original])
      assert.is(l.states.open, 7)
      const byTopic = await listQuarantine(ctx, { filter: { error: 'serialization' } })
      assert.is(byTopic.matched, 1)
      const shown = await showQuarantined(ctx, '0@6')
      assert.is(shown.dialect, 'unknown')
      assert.equal(shown.value, { format: 'bytes', value: '00ff1080' })
      const spring = await showQuarantined(ctx, '0@3')
      assert.equal(spring.original, { topic: original, partition: 1, offset: 13n })
      assert.equal(spring.value, { format: 'json', value: { amount: -1 } })
      assert.equal(
        spring.headers.filter((x) => !x.context).map((x) => x.key),
        ['b3'],
      )
      try {
        await showQuarantined(ctx, '0@99')
        assert.unreachable()
      } catch (error) {
        assert.is((error as RecoveryError).code, 'QUARANTINE_RECORD_NOT_FOUND')
      }
    })
  }),
)

test(
  'redrive returns exactly the selected records to their original topic and partition with original headers; the loop guard parks; the audit trail lists it; a second redrive skips them',
  withTimeout(90_000, async () => {
    const original = uniqueName('orders')
    await createTopic(original, 2)
    const q = await mixedQuarantine(original)
    await withGateway(async (gateway) => {
      const ctx = openQuarantine({ kind: 'kafka', topic: q }, gateway)
      const plan = await redriveQuarantined(ctx, { filter: { error: 'DecodeError' }, samePartition: true, execute: false }, actor)
      assert.is(plan.result.toRedrive, 2)
      assert.is(plan.result.toPark, 1)
      assert.equal(plan.result.targets, [
        { topic: original, partition: 0, records: 1 },
        { topic: original, partition: 1, records: 1 },
      ])
      assert.equal(await readAll(gateway, original), [], 'a plan writes nothing')

      const { result } = await redriveQuarantined(
        ctx,
        { filter: { error: 'DecodeError' }, samePartition: true, canary: 1, execute: true, only: plan.selected },
        actor,
      )
      assert.is(result.redriven, 2)
      assert.is(result.parked, 1)
      assert.equal(result.canary, { records: 1, ok: true })
      const back = (await readAll(gateway, original)).sort((a, b) => a.partition - b.partition)
      assert.equal(
        back.map((r) => [r.partition, r.key?.toString(), r.value?.toString(), r.timestampMs]),
        [
          [0, 'k-10', '{bad', T],
          [1, 'k-11', '{worse', T],
        ],
      )
      assert.equal(
        back[1]!.headers.map((x) => [x.key, x.value?.toString()]),
        [
          ['app-version', '1.6.0'],
          ['trace', 't-11'],
          ['trace', 'repeated'],
          ['recover.redrive-count', '1'],
        ],
      )
      const parked = await readAll(gateway, `${q}.parked`)
      assert.is(parked.length, 1)
      assert.is(parked[0]!.key?.toString(), 'k-12')
      assert.ok(parked[0]!.headers.some((x) => x.key === 'recover.parked-reason'))
      assert.ok(
        parked[0]!.headers.some((x) => x.key === 'recover.error.class'),
        'parked records keep their failure headers',
      )
      const retention = await withAdmin(
        async (admin) =>
          (
            await admin.describeConfigs({ resources: [{ type: 2, name: `${q}.parked`, configNames: ['retention.ms'] }], includeSynonyms: false })
          ).resources[0]!.configEntries.find((e) => e.configName === 'retention.ms')?.configValue,
      )
      assert.is(retention, '-1', 'the parking topic keeps old records')

      const trail = await readAuditTrail(ctx.uri, gateway)
      assert.is(trail.actions.length, 1)
      assert.equal([trail.actions[0]!.action, trail.actions[0]!.by, trail.actions[0]!.records, trail.actions[0]!.ok], ['redrive', 'tester', 3, true])
      assert.equal([...trail.states.values()].map((s) => [s.id, s.outcome, s.target]).sort(), [
        ['0@0', 'redriven', `${original}-0`],
        ['0@1', 'redriven', `${original}-1`],
        ['0@2', 'parked', `kafka:${q}.parked`],
      ])

      const again = await redriveQuarantined(ctx, { filter: { error: 'DecodeError' }, execute: true }, actor)
      assert.is(again.result.skipped.handled, 3)
      assert.is(again.result.redriven, 0)
      assert.is((await readAll(gateway, original)).length, 2, 'not redriven twice by accident')
      const forced = await redriveQuarantined(ctx, { filter: { ids: ['0@0'] }, samePartition: true, again: true, execute: true }, actor)
      assert.is(forced.result.redriven, 1)

      const listing = await listQuarantine(ctx, { filter: {} })
      assert.is(listing.actions.length, 2)
      assert.is(listing.states.redriven, 2)
      assert.is(listing.states.parked, 1)
    })
  }),
)

test(
  'a redrive records each batch in the audit trail as it goes: stopped after two batches, the trail marks those records and the action unfinished, and the next redrive sends only the rest',
  withTimeout(90_000, async () => {
    const original = uniqueName('orders')
    await createTopic(original, 1)
    const q = uniqueName('q-batches')
    await createTopic(q, 1)
    await produceLetters(
      q,
      Array.from({ length: 10 }, (_, i) => recoverLetter(original, 0, BigInt(100 + i), `{bad ${i}`)),
    )
    await withGateway(async (gateway) => {
      const ctx = openQuarantine({ kind: 'kafka', topic: q }, gateway)
      const stop = new Error('stopped after two batches')
      let batches = 0
      let trailAfterTwo: Awaited<ReturnType<typeof readAuditTrail>> | undefined
      const first = await redriveQuarantined(ctx, { filter: {}, all: true, samePartition: true, batchSize: 3, execute: true }, actor, {
        onProgress: async () => {
          if (++batches < 2) return
          // What a kill -9 at this moment would leave behind.
          trailAfterTwo = await readAuditTrail(ctx.uri, gateway)
          throw stop
        },
      }).catch((error: unknown) => error)
      assert.is(first, stop)
      assert.ok(trailAfterTwo)
      assert.equal(
        [...trailAfterTwo.states.values()].map((st) => [st.id, st.outcome]),
        [0, 1, 2, 3, 4, 5].map((o) => [`0@${o}`, 'redriven']),
      )
      assert.equal(
        trailAfterTwo.actions.map((a) => [a.records, a.unfinished, a.ok]),
        [[6, true, false]],
      )
      const stopped = await readAuditTrail(ctx.uri, gateway)
      assert.equal(
        stopped.actions.map((a) => [a.records, a.unfinished, a.ok]),
        [[6, undefined, false]],
        'the stop itself is recorded as a failed action',
      )

      const rest = await redriveQuarantined(ctx, { filter: {}, all: true, samePartition: true, batchSize: 3, execute: true }, actor)
      assert.is(rest.result.skipped.handled, 6)
      assert.is(rest.result.redriven, 4)
      const back = await readAll(gateway, original)
      assert.equal(back.map((r) => r.key?.toString()).sort(), Array.from({ length: 10 }, (_, i) => `k-${100 + i}`).sort(), 'every record redriven once')
      const trail = await readAuditTrail(ctx.uri, gateway)
      assert.equal(
        trail.actions.map((a) => [a.records, a.unfinished, a.ok]),
        [
          [6, undefined, false],
          [4, undefined, true],
        ],
      )
    })
  }),
)

test(
  'redrive by key partitions like Kafka; unknown-dialect records and missing topics are skipped, never guessed',
  withTimeout(60_000, async () => {
    const original = uniqueName('orders')
    await createTopic(original, 2)
    const q = await mixedQuarantine(original)
    const { partitionForKey } = await import('../../src/core/key-partitioner.js')
    await withGateway(async (gateway) => {
      const ctx = openQuarantine({ kind: 'kafka', topic: q }, gateway)
      const { result } = await redriveQuarantined(ctx, { filter: {}, all: true, execute: true }, actor)
      assert.is(result.skipped.noOriginalTopic, 1)
      assert.is(result.redriven, 5)
      for (const r of await readAll(gateway, original)) assert.is(r.partition, partitionForKey(r.key!, 2))
      const gone = await mixedQuarantine(uniqueName('deleted-topic'))
      const missing = await redriveQuarantined(openQuarantine({ kind: 'kafka', topic: gone }, gateway), { filter: {}, all: true, execute: false }, actor)
      assert.is(missing.result.skipped.missingTopic, 5)
    })
  }),
)

test(
  'drop needs a reason and a selection, is recorded with it, and redrive leaves dropped records alone',
  withTimeout(60_000, async () => {
    const original = uniqueName('orders')
    await createTopic(original, 2)
    const q = await mixedQuarantine(original)
    await withGateway(async (gateway) => {
      const ctx = openQuarantine({ kind: 'kafka', topic: q }, gateway)
      for (const bad of [
        { filter: {}, reason: 'x' },
        { filter: { key: 'k-s' }, reason: ' ' },
      ]) {
        try {
          await dropQuarantined(ctx, bad, actor)
          assert.unreachable()
        } catch (error) {
          assert.instance(error, RecoveryError)
        }
      }
      const dry = await dropQuarantined(ctx, { filter: { key: 'k-s' }, reason: 'test order', dryRun: true }, actor)
      assert.is(dry.dropped, 1)
      assert.is((await readAuditTrail(ctx.uri, gateway)).actions.length, 0)
      const done = await dropQuarantined(ctx, { filter: { key: 'k-s' }, reason: 'test order' }, actor)
      assert.is(done.dropped, 1)
      const trail = await readAuditTrail(ctx.uri, gateway)
      assert.equal([trail.actions[0]!.action, trail.actions[0]!.reason], ['drop', 'test order'])
      assert.equal(trail.states.get('0@3')?.outcome, 'dropped')
      const r = await redriveQuarantined(ctx, { filter: { topic: original }, execute: false }, actor)
      assert.is(r.result.skipped.handled, 1)
    })
  }),
)

test(
  'export is lossless (read back as a file quarantine, same view), and retry runs the replay pipeline: bad JSON fails again, the edited value is written',
  withTimeout(90_000, async () => {
    const original = uniqueName('orders')
    await createTopic(original, 2)
    const q = await mixedQuarantine(original)
    await withGateway(async (gateway) => {
      const ctx = openQuarantine({ kind: 'kafka', topic: q }, gateway)
      const path = join(dir, `${uniqueName('export')}.jsonl`)
      const exported = await exportQuarantine(ctx, {}, path)
      assert.is(exported.exported, 7)
      const fromKafka = await listQuarantine(ctx, { filter: {}, records: 10 })
      const fileCtx = openQuarantine({ kind: 'file', path }, undefined)
      const fromFile = await listQuarantine(fileCtx, { filter: {}, records: 10 })
      assert.equal(fromFile.groups, fromKafka.groups)
      assert.equal(
        fromFile.records!.map((r) => r.id),
        fromKafka.records!.map((r) => r.id),
        'file positions are line indexes, here the same as the offsets',
      )
      const line = parseEnvelopeLine(readFileSync(path, 'utf8').split('\n')[6]!)
      assert.equal(line.value, Buffer.from([0x00, 0xff, 0x10, 0x80]))
      try {
        await exportQuarantine(ctx, {}, path)
        assert.unreachable()
      } catch (error) {
        assert.is((error as RecoveryError).code, 'SINK_FAILED')
      }

      const sink = uniqueName('orders-fixed')
      const retried = await retryQuarantined(
        ctx,
        { filter: { error: 'DecodeError' }, sink: `kafka:${sink}`, valueFormat: 'json', valueOverrides: new Map([['0@1', Buffer.from('{"fixed":true}')]]) },
        actor,
      )
      assert.equal(
        retried.records.map((r) => [r.id, r.outcome]),
        [
          ['0@0', 'quarantined'],
          ['0@1', 'written'],
          ['0@2', 'quarantined'],
        ],
      )
      const written = await readAll(gateway, sink)
      assert.equal(
        written.map((r) => [r.partition, r.key?.toString(), r.value?.toString()]),
        [[1, 'k-11', '{"fixed":true}']],
      )
      assert.equal(
        written[0]!.headers.map((x) => x.key),
        ['app-version', 'trace', 'trace'],
      )
      const after = await listQuarantine(ctx, { filter: {} })
      assert.is(after.scanned, 7, 'the two that failed again are already in the quarantine: not quarantined twice')
      assert.is(retried.alreadyQuarantined, 2)
      assert.is(after.states.retried, 1)
      assert.is(after.states.failed, 2)
    })
  }),
)

test(
  'bad input: an empty quarantine lists nothing; a file with a line that is not an envelope is counted, not fatal',
  withTimeout(30_000, async () => {
    const q = uniqueName('q-empty')
    await createTopic(q, 3)
    await withGateway(async (gateway) => {
      const l = await listQuarantine(openQuarantine({ kind: 'kafka', topic: q }, gateway), { filter: {} })
      assert.equal([l.scanned, l.groups], [0, []])
    })
    const { writeFileSync } = await import('node:fs')
    const { envelopeLine } = await import('../../src/files/envelope.js')
    const path = join(dir, `${uniqueName('torn')}.jsonl`)
    writeFileSync(
      path,
      `${envelopeLine({ topic: 'o', partition: 0, offset: 1n, timestampMs: T, timestampType: 'create', key: null, value: Buffer.from('v'), headers: [] })}{"not":"an envelope"}\n`,
    )
    const l = await listQuarantine(openQuarantine({ kind: 'file', path }, undefined), { filter: {} })
    assert.is(l.scanned, 1)
    assert.is(l.unreadable.count, 1)
    assert.is(l.unreadable.first[0]!.line, 2)
  }),
)

test.run()
