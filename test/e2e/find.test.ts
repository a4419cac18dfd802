import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { parseEnvelopeLine } from '../../src/files/envelope.js'
import { runCli } from '../support/cli.js'
import { commitOffsets, createTopic, produce, readCommitted, uniqueName } from '../support/kafka.js'
import { withTimeout } from '../support/timeout.js'

const T0 = Date.UTC(2018, 2, 21, 0, 0, 0)
const MINUTE = 60_000

/**
 * The incident: on each partition, version 1.6.0 wrote a known run of offsets between records
 * of 1.5.9 (before) and 1.6.1 (the fix, after). Partition 2 never saw 1.6.0.
 * Partition p, offset i: header app-version, key ord-p-i, JSON value with status and customer.
 */
const BAD: Record<number, [number, number]> = { 0: [5, 14], 1: [12, 19] } // inclusive offsets written by 1.6.0
const PER_PARTITION = 30

function versionAt(partition: number, offset: number): string {
  const bad = BAD[partition]
  if (!bad) return '1.5.9'
  return offset < bad[0] ? '1.5.9' : offset <= bad[1] ? '1.6.0' : '1.6.1'
}

async function seedIncident(topic: string): Promise<void> {
  await createTopic(topic, 3)
  const records = [0, 1, 2].flatMap((partition) =>
    Array.from({ length: PER_PARTITION }, (_, i) => ({
      partition,
      key: `ord-${partition}-${i}`,
      value: JSON.stringify({ status: versionAt(partition, i) === '1.6.0' ? 'FAILED' : 'PAID', amount: i * 10, customer: { id: `c-${i % 4}` } }),
      timestampMs: T0 + (partition * 100 + i) * MINUTE,
      headers: { 'app-version': versionAt(partition, i) },
    })),
  )
  await produce(topic, records)
}

const iso = (partition: number, offset: number) => new Date(T0 + (partition * 100 + offset) * MINUTE).toISOString()

let topic: string
let dir: string

test.before(async () => {
  topic = uniqueName('find')
  dir = mkdtempSync(join(tmpdir(), 'recover-find-'))
  await seedIncident(topic)
})

test(
  'find: per partition the first and last record of the bad release, with their times, and the counts',
  withTimeout(60_000, async () => {
    const run = await runCli(['find', '--topic', topic, '--where', 'header app-version = 1.6.0', '--json'])
    assert.is(run.exitCode, 0, run.stderr)
    const parts = run.json.partitions
    assert.equal(
      parts.map((p: any) => [p.partition, p.matches, p.first?.offset ?? null, p.last?.offset ?? null, p.first?.timestamp ?? null]),
      [
        [0, 10, '5', '14', iso(0, 5)],
        [1, 8, '12', '19', iso(1, 12)],
        [2, 0, null, null, null],
      ],
    )
    assert.equal(run.json.totals, { scanned: 90, matches: 18, partitionsMatched: 2, partitions: 3, undecodable: 0 })
    assert.is(run.json.valueFormat, null)

    const human = await runCli(['find', '--topic', topic, '--where', 'header app-version = 1.6.0', '--tz', 'Asia/Seoul'])
    assert.is(human.exitCode, 0, human.stderr)
    // Times are zoned: 2018-03-21T00:05Z is 09:05 in Seoul.
    assert.match(human.stdout, /5 2018-03-21T09:05:00\.000\+09:00/)
    assert.match(human.stdout, /18 matching records in 2 of 3 partitions; 90 records read/)
    assert.match(human.stdout, /--partitions 0,1 --from offset:0=5,1=12 --to offset:0=15,1=20/)
  }),
)

test(
  'find: predicates on keys, decoded value fields, timestamps and their combinations',
  withTimeout(90_000, async () => {
    const find = async (where: string, extra: string[] = []) => {
      const run = await runCli(['find', '--topic', topic, '--where', where, '--json', ...extra])
      assert.is(run.exitCode, 0, `${where}: ${run.stderr}`)
      return run.json
    }
    const key = await find('key matches /^ord-1-1[0-9]$/')
    assert.equal(
      key.partitions.map((p: any) => [p.matches, p.first?.offset ?? null, p.last?.offset ?? null]),
      [
        [0, null, null],
        [10, '10', '19'],
        [0, null, null],
      ],
    )

    // A nested value field and a number, decoded as JSON only because a value field is read.
    const value = await find('value.status = FAILED and value.amount >= 100 and value.customer.id = c-2')
    assert.is(value.valueFormat, 'json')
    // p0: offsets 10..14 FAILED with amount >= 100, customer c-(i%4)=c-2 → 10, 14; p1: 12..19 → 14, 18.
    assert.equal(
      value.partitions.map((p: any) => [p.matches, p.first?.offset ?? null, p.last?.offset ?? null]),
      [
        [2, '10', '14'],
        [2, '14', '18'],
        [0, null, null],
      ],
    )

    // Times in the predicate are read with --tz: 09:20 in Seoul is 00:20 UTC, partition 0 offset 20.
    const time = await find('timestamp >= "2018-03-21 09:20" and timestamp < 2018-03-21T00:25Z and not header app-version = 1.5.9', ['--tz', 'Asia/Seoul'])
    assert.equal(
      time.partitions.map((p: any) => [p.matches, p.first?.offset ?? null, p.last?.offset ?? null]),
      [
        [5, '20', '24'],
        [0, null, null],
        [0, null, null],
      ],
    )

    // --partitions and --from/--to narrow the scan; the counts say what was read.
    const narrowed = await find('header app-version = 1.6.0 or value contains "1.6.1"', ['--partitions', '0', '--from', 'offset:10', '--to', 'offset:25'])
    assert.equal(
      narrowed.partitions.map((p: any) => [p.partition, p.scanned, p.matches, p.first?.offset, p.last?.offset]),
      [[0, 15, 5, '10', '14']],
    )
  }),
)

test(
  'find: a predicate that cannot be read is BAD_PREDICATE (exit 2) with the column, before any broker round trip',
  withTimeout(30_000, async () => {
    const run = await runCli(['find', '--topic', topic, '--where', 'header app-version 1.6.0', '--json'], { env: { RECOVER_BROKERS: '127.0.0.1:1' } })
    assert.is(run.exitCode, 2, run.stderr)
    assert.is(run.json.error.code, 'BAD_PREDICATE')
    assert.match(run.json.error.message, /column 20/)
  }),
)

test(
  'seek --to first-match: plans each partition at its first match, leaves a partition without one alone, and --execute commits exactly that',
  withTimeout(90_000, async () => {
    const group = uniqueName('find-seek')
    await commitOffsets(group, topic, [
      { partition: 0, offset: 30 },
      { partition: 1, offset: 30 },
      { partition: 2, offset: 30 },
    ])
    const args = ['seek', '--group', group, '--topic', topic, '--to', 'first-match:header app-version = 1.6.0', '--journal', join(dir, 'journal')]
    const plan = await runCli([...args, '--json'])
    assert.is(plan.exitCode, 0, plan.stderr)
    assert.equal(
      plan.json.plan.rows.map((r: any) => [r.partition, r.newOffset]),
      [
        [0, '5'],
        [1, '12'],
      ],
    )
    assert.ok(
      plan.json.plan.warnings.some((w: string) => w.includes(`${topic}-2`) && /left where it is/.test(w)),
      JSON.stringify(plan.json.plan.warnings),
    )
    assert.equal(await readCommitted(group), { [`${topic}-0`]: '30', [`${topic}-1`]: '30', [`${topic}-2`]: '30' })

    const applied = await runCli([...args, '--execute', '--yes', '--json'])
    assert.is(applied.exitCode, 0, applied.stderr)
    assert.equal(await readCommitted(group), { [`${topic}-0`]: '5', [`${topic}-1`]: '12', [`${topic}-2`]: '30' })

    // last-match goes just past the last match: the group resumes after the bad release.
    const after = await runCli(['seek', '--group', group, '--topic', topic, '--to', 'last-match:header app-version = 1.6.0', '--json'])
    assert.equal(
      after.json.plan.rows.map((r: any) => [r.partition, r.newOffset]),
      [
        [0, '15'],
        [1, '20'],
      ],
    )

    const none = await runCli(['seek', '--group', group, '--topic', topic, '--to', 'first-match:header app-version = 9.9.9', '--json'])
    assert.is(none.exitCode, 2, none.stderr)
    assert.is(none.json.error.code, 'NO_MATCH')
    assert.equal(await readCommitted(group), { [`${topic}-0`]: '5', [`${topic}-1`]: '12', [`${topic}-2`]: '30' })
  }),
)

test(
  'replay --from first-match: --to last-match: writes exactly the matching window to a file',
  withTimeout(90_000, async () => {
    const out = join(dir, 'window.jsonl')
    const run = await runCli(
      [
        'replay',
        '--topic',
        topic,
        '--from',
        'first-match:header app-version = 1.6.0',
        '--to',
        'last-match:value.status = FAILED',
        '--sink',
        `file:${out}`,
        '--json',
      ],
      { cwd: dir, timeoutMs: 90_000 },
    )
    assert.is(run.exitCode, 0, run.stderr)
    const lines = readFileSync(out, 'utf8').split('\n').filter(Boolean).map(parseEnvelopeLine)
    const expected = [...Array.from({ length: 10 }, (_, i) => `0@${5 + i}`), ...Array.from({ length: 8 }, (_, i) => `1@${12 + i}`)]
    assert.equal(lines.map((r) => `${r.partition}@${r.offset}`).sort(), expected.sort())
    assert.ok(
      run.json.warnings.some((w: string) => /partition 2 has no matching record and replays nothing/.test(w)),
      JSON.stringify(run.json.warnings),
    )

    const none = await runCli(['replay', '--topic', topic, '--from', 'first-match:key = nobody', '--dry-run', '--json'], { cwd: dir })
    assert.is(none.exitCode, 2, none.stderr)
    assert.is(none.json.error.code, 'NO_MATCH')
  }),
)

test.run()
