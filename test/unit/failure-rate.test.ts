import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { FailureRateGuard, failureRateError, type RecordFailure } from '../../src/core/failure-rate.js'

const ok = undefined
const bad = (kind: RecordFailure['kind'] = 'decode-value', message = 'not JSON'): RecordFailure => ({ kind, message, detail: 'not-json' })
const many = (n: number, f: RecordFailure | undefined) => Array.from({ length: n }, () => f)
const formats = { key: 'bytes', value: 'json' }

test('more than the share of the first N records failing stops as soon as it is certain, even before N are read', () => {
  const guard = new FailureRateGuard({ maxPercent: 50, firstRecords: 1_000 })
  assert.is(guard.record(many(500, bad()), false), undefined)
  const verdict = guard.assess([bad()], false)
  assert.ok(verdict)
  assert.is(verdict!.failed, 501)
  assert.is(verdict!.seen, 501)
  assert.is(verdict!.of, 1_000)
  assert.is(verdict!.wholeRange, false)
})

test('assess does not count; record does', () => {
  const guard = new FailureRateGuard({ maxPercent: 50, firstRecords: 10 })
  assert.ok(guard.assess(many(6, bad()), false))
  assert.ok(guard.assess(many(6, bad()), false))
  assert.is(guard.record(many(5, bad()), false), undefined)
  assert.ok(guard.record([bad()], false))
})

test('records after the first N are not counted', () => {
  const guard = new FailureRateGuard({ maxPercent: 50, firstRecords: 10 })
  assert.is(guard.record([...many(10, ok), ...many(100, bad())], true), undefined)
  assert.is(guard.record(many(100, bad()), true), undefined)
})

test('a range smaller than N is judged over all its records: known up front, or at its end', () => {
  const small = new FailureRateGuard({ maxPercent: 50, firstRecords: 1_000 }, 34)
  const verdict = small.assess(many(34, bad()), false)
  assert.is(verdict?.of, 34)
  assert.is(verdict?.wholeRange, true)
  // Gaps (compaction, transaction markers) can leave fewer records than the offsets promise.
  const gappy = new FailureRateGuard({ maxPercent: 50, firstRecords: 1_000 }, 100)
  assert.is(gappy.record(many(30, bad()), false), undefined)
  assert.is(gappy.record(many(20, ok), true)?.of, 50)
  // Exactly half is not more than half.
  assert.is(new FailureRateGuard({ maxPercent: 50, firstRecords: 1_000 }, 4).assess([bad(), bad(), ok, ok], true), undefined)
})

test('0 never stops', () => {
  assert.is(new FailureRateGuard({ maxPercent: 0, firstRecords: 1_000 }, 5).record(many(5, bad()), true), undefined)
})

test('the error names the stage that failed most and the flag to check, exit 3', () => {
  const guard = new FailureRateGuard({ maxPercent: 50, firstRecords: 1_000 }, 10)
  const verdict = guard.record([bad('transform', 'boom'), ...many(8, bad('decode-value', 'Unexpected token')), ok], true)!
  const error = failureRateError(verdict, formats, 'orders')
  assert.is(error.code, 'FAILURE_RATE_EXCEEDED')
  assert.is(error.exitCode, 3)
  assert.is(
    error.message,
    'Stopped the replay of orders: 9 of the 10 records of the range failed (90 %, more than --max-failure-rate 50 %), most of them to decode as json: check --value-format (and --schema or --registry for Avro). First failure: not-json: Unexpected token',
  )
  assert.equal(error.details.byKind, { transform: 1, 'decode-value': 8 })
  assert.match(error.nextSteps.join(' '), '--max-failure-rate 0')
  const flags: Array<[RecordFailure['kind'], string]> = [
    ['decode-key', '--key-format'],
    ['transform', '--transform'],
    ['encode', '--output-schema-id'],
    ['sink', '--sink'],
  ]
  for (const [kind, flag] of flags) {
    const v = new FailureRateGuard({ maxPercent: 50, firstRecords: 1_000 }, 1).record([bad(kind)], true)!
    assert.match(failureRateError(v, formats, 'orders').message, `check ${flag}`)
  }
})

test.run()
