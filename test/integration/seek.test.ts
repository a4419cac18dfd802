import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { planSeek, type SeekPlan, type SeekRequest } from '../../src/services/seek.js'
import { parseOffsetsCsv } from '../../src/core/offsets-csv.js'
import { createTopic, produce, uniqueName, withAdmin, withGateway } from '../support/kafka.js'
import { kafkaResetPlan } from '../support/seek-oracle.js'
import { withTimeout } from '../support/timeout.js'

const T0 = Date.UTC(2018, 2, 21, 0, 0, 0)
const HOUR = 3_600_000

function ours(plan: SeekPlan): Map<string, string> {
  return new Map(plan.rows.map((r) => [`${r.topic}-${r.partition}`, r.newOffset.toString()]))
}

/**
 * The scenario of the issue, on one 5-partition topic:
 * p0 increasing timestamps, p1 out-of-order producer timestamps, p2 nothing after T0,
 * p3 empty, p4 records but never committed by the group; p0's log start moved to 2.
 */
async function scenario(): Promise<{ topic: string; group: string }> {
  const topic = uniqueName('seek')
  const group = uniqueName('seek-group')
  await createTopic(topic, 5)
  const p0 = Array.from({ length: 10 }, (_, i) => ({ partition: 0, key: `a${i}`, value: `v${i}`, timestampMs: T0 - 5 * HOUR + i * HOUR }))
  const p1 = [1, -2, 3, -1, 2, 4].map((h, i) => ({ partition: 1, key: `b${i}`, value: `v${i}`, timestampMs: T0 + h * HOUR }))
  const p2 = Array.from({ length: 4 }, (_, i) => ({ partition: 2, key: `c${i}`, value: `v${i}`, timestampMs: T0 - (10 - i) * HOUR }))
  const p4 = Array.from({ length: 3 }, (_, i) => ({ partition: 4, key: `d${i}`, value: `v${i}`, timestampMs: T0 + i * HOUR }))
  await produce(topic, [...p0, ...p1, ...p2, ...p4])
  await withAdmin(async (admin) => {
    await admin.fetchTopicMetadata({ topics: [topic] })
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '2' }] })
  })
  await withGateway((g) =>
    g.commitGroupOffsets(group, [
      { topic, partition: 0, offset: 8n },
      { topic, partition: 1, offset: 1n },
      { topic, partition: 2, offset: 2n },
      { topic, partition: 3, offset: 0n },
    ]),
  )
  return { topic, group }
}

const plan = (request: SeekRequest) => withGateway((g) => planSeek(g, request))

test(
  'every mode plans exactly what kafka-consumer-groups.sh --reset-offsets computes',
  withTimeout(180_000, async () => {
    const { topic, group } = await scenario()
    const scope = { kind: 'topics' as const, topics: [{ topic }] }
    const committedOnly = { kind: 'topics' as const, topics: [{ topic, partitions: [0, 1, 2, 3] }] }

    const cases: Array<{ name: string; request: SeekRequest; kafka: string[] }> = [
      {
        name: 'to time',
        request: { groups: [group], scope, mode: { kind: 'to-time', instantMs: T0, display: '' } },
        kafka: ['--topic', topic, '--to-datetime', '2018-03-21T00:00:00.000Z'],
      },
      {
        name: 'to time between out-of-order records',
        request: { groups: [group], scope, mode: { kind: 'to-time', instantMs: T0 + 90 * 60_000, display: '' } },
        kafka: ['--topic', topic, '--to-datetime', '2018-03-21T01:30:00.000Z'],
      },
      { name: 'to earliest', request: { groups: [group], scope, mode: { kind: 'to-earliest' } }, kafka: ['--topic', topic, '--to-earliest'] },
      { name: 'to latest', request: { groups: [group], scope, mode: { kind: 'to-latest' } }, kafka: ['--topic', topic, '--to-latest'] },
      {
        name: 'to offset above the log end',
        request: { groups: [group], scope, mode: { kind: 'to-offset', offset: 100n } },
        kafka: ['--topic', topic, '--to-offset', '100'],
      },
      {
        name: 'to offset below the log start',
        request: { groups: [group], scope, mode: { kind: 'to-offset', offset: 1n } },
        kafka: ['--topic', topic, '--to-offset', '1'],
      },
      {
        name: 'shift back past the log start',
        request: { groups: [group], scope: committedOnly, mode: { kind: 'shift-by', delta: -7n } },
        kafka: ['--topic', `${topic}:0,1,2,3`, '--shift-by', '-7'],
      },
      {
        name: 'shift forward past the log end',
        request: { groups: [group], scope: committedOnly, mode: { kind: 'shift-by', delta: 3n } },
        kafka: ['--topic', `${topic}:0,1,2,3`, '--shift-by', '3'],
      },
      {
        name: 'all topics: exactly the committed partitions',
        request: { groups: [group], scope: { kind: 'all-topics' }, mode: { kind: 'to-earliest' } },
        kafka: ['--all-topics', '--to-earliest'],
      },
    ]
    for (const c of cases) {
      const expected = await kafkaResetPlan(group, c.kafka)
      const actual = ours(await plan(c.request))
      assert.equal(Object.fromEntries(actual), Object.fromEntries(expected), c.name)
    }

    const dir = mkdtempSync(join(tmpdir(), 'recover-seek-'))
    const file = join(dir, 'plan.csv')
    writeFileSync(file, `${topic},0,0\n${topic},1,4\n${topic},2,99\n`)
    const fromFile = await plan({
      groups: [group],
      scope: { kind: 'committed' },
      mode: { kind: 'from-file', file },
      fileLines: parseOffsetsCsv(`${topic},0,0\n${topic},1,4\n${topic},2,99\n`, file),
    })
    assert.equal(Object.fromEntries(ours(fromFile)), Object.fromEntries(await kafkaResetPlan(group, ['--from-file', file])), 'from file')
  }),
)

test(
  'the plan explains where Kafka semantics decided',
  withTimeout(60_000, async () => {
    const { topic, group } = await scenario()
    const p = await plan({ groups: [group], scope: { kind: 'topics', topics: [{ topic }] }, mode: { kind: 'to-time', instantMs: T0, display: '' } })
    const row = (partition: number) => p.rows.find((r) => r.partition === partition)!
    assert.equal(row(2).notes, ['no-record-at-or-after-time'])
    assert.is(row(2).newRecordTime, null)
    assert.ok(row(3).notes.includes('no-record-at-or-after-time'))
    assert.ok(row(4).notes.includes('never-committed'))
    assert.is(row(4).delta, null)
    assert.is(row(0).newOffset.toString(), '5')
    assert.is(row(0).newRecordTime, new Date(T0).toISOString())
    assert.is(row(0).delta?.toString(), '-3')
    assert.is(p.totals.replayed.toString(), '4', 'p0 replays 3, p1 (first record after T0 is its offset 0) replays 1')
    assert.is(p.totals.neverCommitted, 1)
    const clamp = await plan({ groups: [group], scope: { kind: 'topics', topics: [{ topic, partitions: [0] }] }, mode: { kind: 'to-offset', offset: 1n } })
    assert.equal(clamp.rows[0]!.notes, ['clamped-to-log-start'])
  }),
)

test(
  'shifting a partition the group never committed is refused, as by Kafka, naming it',
  withTimeout(60_000, async () => {
    const { topic, group } = await scenario()
    try {
      await plan({ groups: [group], scope: { kind: 'topics', topics: [{ topic }] }, mode: { kind: 'shift-by', delta: 1n } })
      assert.unreachable()
    } catch (error) {
      assert.is((error as { code?: string }).code, 'USAGE')
      assert.match((error as Error).message, new RegExp(`${topic}-4`))
    }
  }),
)

test(
  'by-duration plans what Kafka computes for the same duration',
  withTimeout(60_000, async () => {
    const topic = uniqueName('seek-recent')
    const group = uniqueName('seek-recent-group')
    await createTopic(topic, 2)
    const now = Date.now()
    // Records on whole hours back from now; the instant now-5h30m sits half an hour from any of them.
    await produce(
      topic,
      Array.from({ length: 10 }, (_, i) => ({ partition: i % 2, key: `k${i}`, value: 'v', timestampMs: now - (10 - i) * HOUR })),
    )
    await withGateway((g) =>
      g.commitGroupOffsets(group, [
        { topic, partition: 0, offset: 5n },
        { topic, partition: 1, offset: 5n },
      ]),
    )
    const ms = 5.5 * HOUR
    const p = await plan({
      groups: [group],
      scope: { kind: 'topics', topics: [{ topic }] },
      mode: { kind: 'by-duration', durationMs: ms, instantMs: Date.now() - ms, display: '' },
    })
    const expected = await kafkaResetPlan(group, ['--topic', topic, '--by-duration', 'PT5H30M'])
    assert.equal(Object.fromEntries(ours(p)), Object.fromEntries(expected))
  }),
)

test.run()
