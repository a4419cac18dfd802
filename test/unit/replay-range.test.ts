import { test } from 'uvu'
import * as assert from 'uvu/assert'
import {
  checkBoundPartitions,
  checkRangeOrder,
  emptyRangeError,
  parsePartitionList,
  parseRangeBound,
  planReplayRanges,
  rangeClampWarnings,
  type PartitionFacts,
} from '../../src/core/replay-range.js'
import { RecoveryError } from '../../src/errors.js'

const facts: PartitionFacts[] = [
  { partition: 0, logStart: 0n, stableEnd: 100n, fromTimeOffset: 40n, toTimeOffset: 60n },
  { partition: 1, logStart: 10n, stableEnd: 50n, fromTimeOffset: null, toTimeOffset: null },
]

const show = (ranges: Array<{ partition: number; start: bigint; end: bigint }>) => ranges.map((r) => `${r.partition}:${r.start}-${r.end}`)
const fails = (work: () => unknown, code: string) => {
  try {
    work()
  } catch (error) {
    assert.instance(error, RecoveryError)
    assert.is((error as RecoveryError).code, code)
    return (error as RecoveryError).message
  }
  assert.unreachable('expected an error')
}

test('bounds parse: earliest, latest, times, offsets for all or some partitions', () => {
  assert.equal(parseRangeBound('earliest', '--from'), { kind: 'earliest' })
  assert.equal(parseRangeBound('latest', '--to'), { kind: 'latest' })
  const t = parseRangeBound('2018-03-21T00:00', '--from')
  assert.is(t.kind, 'time')
  assert.is(t.kind === 'time' && t.instantMs, Date.UTC(2018, 2, 21))
  const all = parseRangeBound('offset:42', '--from')
  assert.is(all.kind === 'offsets' && String(all.all), '42')
  const some = parseRangeBound('offset:0=5,3=7', '--to')
  assert.equal(some.kind === 'offsets' && [...some.perPartition].map(([p, o]) => `${p}=${o}`), ['0=5', '3=7'])
})

test('bad bounds are usage errors that show the accepted forms', () => {
  assert.match(fails(() => parseRangeBound('42', '--from'), 'USAGE')!, /offset:42/)
  assert.match(fails(() => parseRangeBound('offset:0=1,x', '--to'), 'USAGE')!, /partition=offset/)
  assert.match(fails(() => parseRangeBound('offset:0=1,0=2', '--to'), 'USAGE')!, /twice/)
  assert.match(fails(() => parseRangeBound('yesterday-ish', '--from'), 'BAD_TIME_SPEC')!, /earliest, latest/)
})

test('ranges are half-open, default to [log start, last stable offset) and are clamped to it', () => {
  assert.equal(show(planReplayRanges({ kind: 'earliest' }, { kind: 'latest' }, facts)), ['0:0-100', '1:10-50'])
  const time = planReplayRanges(parseRangeBound('2018-03-21', '--from'), parseRangeBound('2018-03-22', '--to'), facts)
  // Partition 1 has no record that late: an empty range at its end.
  assert.equal(show(time), ['0:40-60', '1:50-50'])
  const offsets = planReplayRanges(parseRangeBound('offset:5', '--from'), parseRangeBound('offset:0=500', '--to'), facts)
  assert.equal(show(offsets), ['0:5-100', '1:10-50'])
  // A start after the end is an empty range, never a negative one.
  assert.equal(show(planReplayRanges(parseRangeBound('offset:80', '--from'), parseRangeBound('offset:20', '--to'), facts)), ['0:20-20', '1:20-20'])
})

test('partition lists and partitions named by bounds are checked', () => {
  assert.equal(parsePartitionList('2,0, 1,2'), [0, 1, 2])
  fails(() => parsePartitionList('0,a'), 'USAGE')
  fails(() => checkBoundPartitions(parseRangeBound('offset:7=1', '--from'), '--from', [0, 1]), 'PARTITION_NOT_FOUND')
  checkBoundPartitions(parseRangeBound('offset:1=1', '--from'), '--from', [0, 1])
})

test('--from after --to is INVERTED_RANGE (exit 2) before Kafka is asked: two times, two offsets for a partition, latest..earliest', () => {
  const inverted = (from: string, to: string) => fails(() => checkRangeOrder(parseRangeBound(from, '--from'), parseRangeBound(to, '--to')), 'INVERTED_RANGE')!
  assert.match(
    inverted('2018-03-21T02:00', '2018-03-21T00:00'),
    /--from 2018-03-21T02:00:00\.000Z \(UTC\) is after --to 2018-03-21T00:00:00\.000Z \(UTC\).*swap them/,
  )
  assert.match(inverted('offset:80', 'offset:20'), /offset:80 is after --to offset:20/)
  assert.match(inverted('offset:0=80,1=5', 'offset:0=20,1=9'), /partition 0: 80 > 20/)
  assert.match(inverted('offset:80', 'offset:1=20'), /partition 1: 80 > 20/)
  inverted('latest', 'earliest')
  assert.is(new RecoveryError('INVERTED_RANGE', 'x').exitCode, 2)
  // Equal bounds, different kinds, or different partitions: Kafka's answer decides (EMPTY_RANGE).
  checkRangeOrder(parseRangeBound('2018-03-21T00:00', '--from'), parseRangeBound('2018-03-21T00:00', '--to'))
  checkRangeOrder(parseRangeBound('offset:0=80', '--from'), parseRangeBound('offset:1=20', '--to'))
  checkRangeOrder(parseRangeBound('2018-03-21T00:00', '--from'), parseRangeBound('offset:20', '--to'))
})

test("offsets outside a partition's log are clamped, and each clamp is a warning", () => {
  const warnings = rangeClampWarnings(parseRangeBound('offset:5', '--from'), parseRangeBound('offset:0=500', '--to'), facts)
  assert.equal(warnings, [
    '--from offset 5 is before the log start of partition 1 (10; older records were deleted by retention or compaction): it starts at 10.',
    '--to offset 500 is past the end of partition 0 (100): it ends at 100.',
  ])
  assert.match(
    rangeClampWarnings(parseRangeBound('offset:0=999999', '--from'), { kind: 'latest' }, facts)[0]!,
    /--from offset 999999 is past the end of partition 0 \(100\): it has nothing to replay/,
  )
  assert.equal(rangeClampWarnings({ kind: 'earliest' }, parseRangeBound('2018-03-22', '--to'), facts), [])
})

test('an empty selection is EMPTY_RANGE (exit 2) saying what each partition holds', () => {
  const holdings = [
    { partition: 0, logStart: 0n, stableEnd: 100n, firstTimestampMs: Date.UTC(2018, 2, 20, 12), lastTimestampMs: Date.UTC(2018, 2, 21, 12) },
    { partition: 1, logStart: 7n, stableEnd: 7n },
  ]
  const e = emptyRangeError('orders', parseRangeBound('2018-03-25', '--from'), { kind: 'latest' }, holdings)
  assert.is(e.code, 'EMPTY_RANGE')
  assert.is(e.exitCode, 2)
  assert.is(
    e.message,
    '--from 2018-03-25T00:00:00.000Z (UTC) --to latest selects no records in any partition of orders: partition 0 holds offsets [0, 100), records from 2018-03-20T12:00:00.000Z to 2018-03-21T12:00:00.000Z; partition 1 is empty (offset 7). Choose bounds inside what the topic holds.',
  )
  assert.equal((e.details.partitions as unknown[])[1], { partition: 1, logStart: '7', logEnd: '7', firstRecordTime: null, lastRecordTime: null })
  const empty = emptyRangeError('orders', { kind: 'earliest' }, { kind: 'latest' }, [holdings[1]!])
  assert.is(empty.message, 'Topic orders holds no records to replay (partition 1 is empty (offset 7)).')
})

test.run()
