import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { checkBoundPartitions, parsePartitionList, parseRangeBound, planReplayRanges, type PartitionFacts } from '../../src/core/replay-range.js'
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

test.run()
