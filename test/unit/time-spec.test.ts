import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { formatDuration, parseDuration } from '../../src/core/duration.js'
import { formatInstant, likelyYear, parseTimeSpec, type TimeSpecOptions } from '../../src/core/time-spec.js'
import { RecoveryError } from '../../src/errors.js'

// 2018-03-21T00:00:00.000Z, the example date of Kafka's own reset-offsets docs.
const MARCH_21_UTC = 1521590400000
// 2018-03-21T12:00:00.000Z, the fixed "now" for relative times.
const NOW = 1521633600000
const HOUR = 3_600_000

function instantOf(input: string, options: TimeSpecOptions = {}): number {
  return parseTimeSpec(input, options).instantMs
}

function rejectionOf(action: () => unknown): RecoveryError {
  try {
    action()
  } catch (error) {
    assert.instance(error, RecoveryError)
    return error as RecoveryError
  }
  assert.unreachable('expected a RecoveryError')
  throw new Error('unreachable')
}

// ISO times

test('an ISO time without seconds is read as UTC', () => {
  assert.is(instantOf('2018-03-21T00:00'), MARCH_21_UTC)
})

test('an ISO time with seconds is read as UTC', () => {
  assert.is(instantOf('2018-03-21T00:00:00'), MARCH_21_UTC)
})

test('an ISO time with milliseconds is read as UTC', () => {
  assert.is(instantOf('2018-03-21T00:00:00.000'), MARCH_21_UTC)
  assert.is(instantOf('2018-03-21T12:34:56.789'), 1521635696789)
})

test('the space-separated form reads like the T form', () => {
  assert.is(instantOf('2018-03-21 00:00:00.000'), MARCH_21_UTC)
  assert.is(instantOf('2018-03-21 00:00'), MARCH_21_UTC)
})

test('a date alone is midnight UTC', () => {
  const time = parseTimeSpec('2018-03-21')
  assert.is(time.instantMs, MARCH_21_UTC)
  assert.is(time.kind, 'absolute')
})

test('a trailing Z means UTC', () => {
  assert.is(instantOf('2018-03-21T00:00Z'), MARCH_21_UTC)
  assert.is(instantOf('2018-03-21T00:00:00.000Z'), MARCH_21_UTC)
})

test('an offset with a colon is honoured', () => {
  assert.is(instantOf('2018-03-21T00:00+09:00'), 1521558000000)
  assert.is(instantOf('2018-03-21T00:00:00.000-05:00'), 1521608400000)
})

test('an offset without a colon is honoured', () => {
  assert.is(instantOf('2018-03-21T00:00+0900'), 1521558000000)
  assert.is(instantOf('2018-03-21 00:00:00.000+0900'), 1521558000000)
})

test('digits finer than milliseconds are truncated, as Kafka timestamps are milliseconds', () => {
  assert.is(instantOf('2018-03-21T00:00:00.123999'), MARCH_21_UTC + 123)
})

test('surrounding whitespace is ignored', () => {
  assert.is(instantOf('  2018-03-21T00:00\n'), MARCH_21_UTC)
})

test('a UTC time displays once, with its zone named', () => {
  assert.equal(parseTimeSpec('2018-03-21T00:00'), {
    instantMs: MARCH_21_UTC,
    iso: '2018-03-21T00:00:00.000Z',
    zone: 'UTC',
    display: '2018-03-21T00:00:00.000Z (UTC)',
    kind: 'absolute',
  })
})

// Zones

test('a time without an offset is read in the tz option', () => {
  assert.equal(parseTimeSpec('2018-03-21T00:00', { tz: 'Asia/Seoul' }), {
    instantMs: 1521558000000,
    iso: '2018-03-20T15:00:00.000Z',
    zone: 'Asia/Seoul',
    display: '2018-03-21T00:00:00.000+09:00 (Asia/Seoul) = 2018-03-20T15:00:00.000Z',
    kind: 'absolute',
  })
})

test('Asia/Seoul is nine hours ahead in summer and in winter alike', () => {
  assert.is(instantOf('2018-07-01T00:00', { tz: 'Asia/Seoul' }), 1530370800000)
  assert.is(instantOf('2018-01-01T00:00', { tz: 'Asia/Seoul' }), 1514732400000)
})

test('America/New_York is four hours behind in summer', () => {
  const time = parseTimeSpec('2018-07-01T12:00', { tz: 'America/New_York' })
  assert.is(time.instantMs, 1530460800000)
  assert.is(time.display, '2018-07-01T12:00:00.000-04:00 (America/New_York) = 2018-07-01T16:00:00.000Z')
})

test('America/New_York is five hours behind in winter', () => {
  const time = parseTimeSpec('2018-01-15T12:00', { tz: 'America/New_York' })
  assert.is(time.instantMs, 1516035600000)
  assert.is(time.display, '2018-01-15T12:00:00.000-05:00 (America/New_York) = 2018-01-15T17:00:00.000Z')
})

test('a date alone with tz is midnight in that zone', () => {
  assert.is(instantOf('2018-03-21', { tz: 'Asia/Seoul' }), 1521558000000)
})

test('a wall-clock time repeated when clocks fall back resolves to the earlier instant', () => {
  // 01:30 happens at -04:00 and again at -05:00 on 2018-11-04 in New York.
  assert.is(instantOf('2018-11-04T01:30', { tz: 'America/New_York' }), 1541309400000)
})

test('an explicit offset in the input beats the tz option', () => {
  const time = parseTimeSpec('2018-03-21T00:00+09:00', { tz: 'America/New_York' })
  assert.is(time.instantMs, 1521558000000)
  assert.is(time.zone, '+09:00')
  assert.is(time.display, '2018-03-21T00:00:00.000+09:00 (+09:00) = 2018-03-20T15:00:00.000Z')
})

test('an explicit Z in the input beats the tz option', () => {
  const time = parseTimeSpec('2018-03-21T00:00Z', { tz: 'Asia/Seoul' })
  assert.is(time.instantMs, MARCH_21_UTC)
  assert.is(time.zone, 'UTC')
})

test('tz UTC is the same as no tz', () => {
  assert.equal(parseTimeSpec('2018-03-21T00:00', { tz: 'UTC' }), parseTimeSpec('2018-03-21T00:00'))
  assert.equal(parseTimeSpec('2018-03-21T00:00', { tz: 'utc' }), parseTimeSpec('2018-03-21T00:00'))
})

test('tz local is the machine zone under its IANA name', () => {
  const machineZone = new Intl.DateTimeFormat().resolvedOptions().timeZone
  assert.equal(parseTimeSpec('2018-03-21T00:00', { tz: 'local' }), parseTimeSpec('2018-03-21T00:00', { tz: machineZone }))
})

test('a zone name in the wrong case is printed in its canonical spelling', () => {
  assert.is(parseTimeSpec('2018-03-21T00:00', { tz: 'asia/seoul' }).zone, 'Asia/Seoul')
})

test('a fixed offset works as tz', () => {
  const time = parseTimeSpec('2018-03-21T00:00', { tz: '+0530' })
  assert.is(time.instantMs, 1521570600000)
  assert.is(time.zone, '+05:30')
})

test('an unknown tz is a BAD_TIME_SPEC that names the zone', () => {
  const error = rejectionOf(() => parseTimeSpec('2018-03-21T00:00', { tz: 'Mars/Olympus_Mons' }))
  assert.is(error.code, 'BAD_TIME_SPEC')
  assert.is(error.exitCode, 2)
  assert.match(error.message, '"Mars/Olympus_Mons"')
  assert.match(error.message, 'Asia/Seoul')
})

test('an unknown tz is refused even for relative times', () => {
  assert.is(rejectionOf(() => parseTimeSpec('-2h', { now: NOW, tz: 'Nowhere' })).code, 'BAD_TIME_SPEC')
})

// Epoch milliseconds

test('thirteen digits are epoch milliseconds', () => {
  assert.equal(parseTimeSpec('1521590400000'), {
    instantMs: MARCH_21_UTC,
    iso: '2018-03-21T00:00:00.000Z',
    zone: 'UTC',
    display: '2018-03-21T00:00:00.000Z (UTC)',
    kind: 'epoch',
  })
})

test('eleven digits are epoch milliseconds too', () => {
  assert.is(instantOf('10000000000'), 10000000000)
})

test('an epoch time is displayed in the tz option', () => {
  const time = parseTimeSpec('1521590400000', { tz: 'Asia/Seoul' })
  assert.is(time.instantMs, MARCH_21_UTC)
  assert.is(time.display, '2018-03-21T09:00:00.000+09:00 (Asia/Seoul) = 2018-03-21T00:00:00.000Z')
})

test('epoch seconds are refused with a hint to write milliseconds', () => {
  const error = rejectionOf(() => parseTimeSpec('1521590400'))
  assert.is(error.code, 'BAD_TIME_SPEC')
  assert.is(error.exitCode, 2)
  assert.match(error.message, 'epoch seconds')
  assert.match(error.message, '1521590400000')
})

test('a short number such as a year is refused as ambiguous', () => {
  const error = rejectionOf(() => parseTimeSpec('2018'))
  assert.is(error.code, 'BAD_TIME_SPEC')
  assert.match(error.message, 'milliseconds')
  assert.match(error.message, '2018-03-21T00:00')
})

test('an epoch beyond the representable range is refused', () => {
  assert.is(rejectionOf(() => parseTimeSpec('99999999999999999')).code, 'BAD_TIME_SPEC')
})

// Relative times

test('-2h is two hours before now', () => {
  const time = parseTimeSpec('-2h', { now: NOW })
  assert.is(time.instantMs, NOW - 2 * HOUR)
  assert.is(time.instantMs, 1521626400000)
  assert.is(time.kind, 'relative')
})

test('-90m, -30s, -1d and -1w count back from now', () => {
  assert.is(instantOf('-90m', { now: NOW }), 1521628200000)
  assert.is(instantOf('-30s', { now: NOW }), 1521633570000)
  assert.is(instantOf('-1d', { now: NOW }), 1521547200000)
  assert.is(instantOf('-1w', { now: NOW }), 1521028800000)
})

test('-1h30m combines units', () => {
  assert.is(instantOf('-1h30m', { now: NOW }), 1521628200000)
})

test('an unsigned ISO duration means that long ago', () => {
  assert.is(instantOf('PT90M', { now: NOW }), 1521628200000)
  assert.is(instantOf('P1D', { now: NOW }), 1521547200000)
})

test('a negative ISO duration means that long ago', () => {
  assert.is(instantOf('-PT2H', { now: NOW }), 1521626400000)
})

test('now alone is now', () => {
  const time = parseTimeSpec('now', { now: NOW })
  assert.is(time.instantMs, NOW)
  assert.is(time.kind, 'relative')
  assert.is(instantOf('NOW', { now: NOW }), NOW)
})

test('a relative time is displayed in the tz option', () => {
  const time = parseTimeSpec('-2h', { now: NOW, tz: 'Asia/Seoul' })
  assert.is(time.display, '2018-03-21T19:00:00.000+09:00 (Asia/Seoul) = 2018-03-21T10:00:00.000Z')
})

test('a relative time defaults to counting back from the clock', () => {
  const before = Date.now()
  const instant = instantOf('-1h')
  assert.ok(instant >= before - HOUR && instant <= Date.now() - HOUR)
})

test('a relative time into the future is refused with the minus-sign form', () => {
  const error = rejectionOf(() => parseTimeSpec('+2h', { now: NOW }))
  assert.is(error.code, 'BAD_TIME_SPEC')
  assert.match(error.message, '-2h')
})

test('an unsigned short duration is refused with the minus-sign form', () => {
  const error = rejectionOf(() => parseTimeSpec('2h', { now: NOW }))
  assert.is(error.code, 'BAD_TIME_SPEC')
  assert.match(error.message, 'as in -2h')
})

test('months are refused because they have no fixed length', () => {
  const error = rejectionOf(() => parseTimeSpec('-P1M', { now: NOW }))
  assert.is(error.code, 'BAD_TIME_SPEC')
  assert.match(error.message, 'no fixed length')
})

// Invalid times

const invalidTimes = [
  '',
  '   ',
  'yesterday-ish',
  '2018-13-01',
  '2018-03-21T25:00',
  '2018-03-21T24:00',
  '2018-03-21T00:60',
  '2018-02-30',
  '2018-03',
  '21/03/2018',
  '2018-03-21T00:00+25:00',
  '2018-03-21T00:00 +09:00',
  '-',
  '-1521590400000',
  '-1h 30m',
  'PT',
  'PT1H-30M',
  'now-2h',
]

for (const input of invalidTimes) {
  test(`${JSON.stringify(input)} is refused with BAD_TIME_SPEC, exit 2 and accepted examples`, () => {
    const error = rejectionOf(() => parseTimeSpec(input, { now: NOW }))
    assert.is(error.code, 'BAD_TIME_SPEC')
    assert.is(error.exitCode, 2)
    assert.match(error.message, JSON.stringify(input))
    assert.match(error.message, '2018-03-21T00:00')
    assert.match(error.message, 'PT90M')
  })
}

test('the message for a bad month is the one promised in the spec', () => {
  assert.is(
    rejectionOf(() => parseTimeSpec('2018-13-01')).message,
    'Cannot read "2018-13-01" as a time; use an ISO time like 2018-03-21T00:00 (UTC unless it has Z/+09:00 or --tz), a date, epoch milliseconds, or a relative time like -2h or PT90M.',
  )
})

test('a wall-clock time skipped by daylight saving is refused with an explicit-offset suggestion', () => {
  const error = rejectionOf(() => parseTimeSpec('2018-03-11T02:30', { tz: 'America/New_York' }))
  assert.is(error.code, 'BAD_TIME_SPEC')
  assert.match(error.message, 'does not exist in America/New_York')
  assert.match(error.message, '2018-03-11T02:30-05:00')
  assert.match(error.message, '2018-03-21T00:00')
})

test('the suggested offset for a skipped time reads back to an instant', () => {
  assert.is(instantOf('2018-03-11T02:30-05:00', { tz: 'America/New_York' }), 1520753400000)
})

// formatInstant

test('formatInstant shows UTC with its zone by default', () => {
  assert.is(formatInstant(MARCH_21_UTC), '2018-03-21T00:00:00.000Z (UTC)')
})

test('formatInstant shows another zone next to UTC', () => {
  assert.is(formatInstant(MARCH_21_UTC, 'America/New_York'), '2018-03-20T20:00:00.000-04:00 (America/New_York) = 2018-03-21T00:00:00.000Z')
})

// Durations

const validDurations: Array<[string, number, string]> = [
  ['PT2H', 2 * HOUR, '2h'],
  ['P1DT2H', 26 * HOUR, '1d2h'],
  ['-PT30M', -30 * 60_000, '-30m'],
  ['pt90m', 90 * 60_000, '1h30m'],
  ['PT1.5H', 90 * 60_000, '1h30m'],
  ['P1W', 7 * 24 * HOUR, '7d'],
  ['2h', 2 * HOUR, '2h'],
  ['90m', 90 * 60_000, '1h30m'],
  ['1h30m', 90 * 60_000, '1h30m'],
  ['500ms', 500, '500ms'],
  ['30s', 30_000, '30s'],
  ['1d', 24 * HOUR, '1d'],
  ['1w', 7 * 24 * HOUR, '7d'],
  ['-2h', -2 * HOUR, '-2h'],
  ['+2h', 2 * HOUR, '2h'],
  ['1m500ms', 60_500, '1m500ms'],
  ['0s', 0, '0s'],
  // Flags document "0 stops at once" / "0 commits every batch": a bare zero needs no unit.
  ['0', 0, '0s'],
]

for (const [input, ms, display] of validDurations) {
  test(`the duration ${input} is ${ms} ms, shown as ${display}`, () => {
    assert.equal(parseDuration(input), { ms, display })
  })
}

const invalidDurations = ['', 'soon', '2', '1.5h', '2 h', '2H', '1m2h', 'P', 'PT', 'P1DT', 'PT1H-30M', 'P1M', 'P1Y', '1e3ms']

for (const input of invalidDurations) {
  test(`the duration ${JSON.stringify(input)} is refused with BAD_DURATION, exit 2 and accepted examples`, () => {
    const error = rejectionOf(() => parseDuration(input))
    assert.is(error.code, 'BAD_DURATION')
    assert.is(error.exitCode, 2)
    assert.match(error.message, JSON.stringify(input))
    assert.match(error.message, 'PT2H')
    assert.match(error.message, '1h30m')
  })
}

test('a duration in months explains why it is refused', () => {
  assert.match(rejectionOf(() => parseDuration('P1M')).message, 'no fixed length')
})

test('a duration too long to count in milliseconds is refused', () => {
  assert.is(rejectionOf(() => parseDuration('99999999999999999999h')).code, 'BAD_DURATION')
})

test('formatDuration writes the largest units first and keeps the sign', () => {
  assert.is(formatDuration(93_600_000), '1d2h')
  assert.is(formatDuration(-1_800_000), '-30m')
  assert.is(formatDuration(3_723_004), '1h2m3s4ms')
  assert.is(formatDuration(0), '0s')
})

// Before the Unix epoch (Kafka timestamps start at 1970-01-01T00:00Z)

for (const input of ['1969-12-31T23:59:59Z', '1969-06-01', '0218-03-21T00:00', '1970-01-01T08:59+09:00']) {
  test(`${input} is before 1970 and refused with BAD_TIME_SPEC, exit 2`, () => {
    const error = rejectionOf(() => parseTimeSpec(input, { now: NOW }))
    assert.is(error.code, 'BAD_TIME_SPEC')
    assert.is(error.exitCode, 2)
    assert.match(error.message, 'before 1970-01-01T00:00Z, where Kafka timestamps start')
  })
}

test('a wall-clock time before 1970 in the --tz zone is refused too', () => {
  assert.is(rejectionOf(() => parseTimeSpec('1970-01-01T08:00', { tz: 'Asia/Seoul' })).code, 'BAD_TIME_SPEC')
})

test('a relative time reaching back before 1970 is refused', () => {
  assert.match(rejectionOf(() => parseTimeSpec('-20000d', { now: NOW })).message, 'before 1970')
})

test('the epoch itself is accepted', () => {
  assert.is(instantOf('1970-01-01T00:00Z'), 0)
})

test('a year typo gets the likely year in the message and in details.suggestion', () => {
  const error = rejectionOf(() => parseTimeSpec('0218-03-21T00:00', { now: NOW }))
  assert.match(error.message, '(did you mean 2018-03-21T00:00?)')
  assert.is(error.details.suggestion, '2018-03-21T00:00')
})

test('1969 is taken as meant: no year is suggested', () => {
  const error = rejectionOf(() => parseTimeSpec('1969-12-31T23:59:59Z', { now: NOW }))
  assert.not.match(error.message, 'did you mean')
  assert.is(error.details.suggestion, undefined)
})

test('likelyYear changes one digit or swaps two, nearest to this year', () => {
  assert.is(likelyYear('0218', 2026), '2018')
  assert.is(likelyYear('1018', 2026), '2018')
  assert.is(likelyYear('0226', 2026), '2026')
  assert.is(likelyYear('0025', 2026), '2025')
  assert.is(likelyYear('1969', 2026), undefined)
  assert.is(likelyYear('1234', 2026), undefined)
})

test.run()
