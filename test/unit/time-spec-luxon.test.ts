import fc from 'fast-check'
import { DateTime, Duration, FixedOffsetZone } from 'luxon'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readDuration } from '../../src/core/duration.js'
import { formatOffset, parseTimeSpec, wallTimeAsUtc } from '../../src/core/time-spec.js'

// UTC, fixed offsets and short durations are plain arithmetic (Luxon loads only for named zones):
// these hold that arithmetic to what Luxon computed for the same input.

const pad = (n: number, width = 2) => String(n).padStart(width, '0')

const wallTimes = fc.record({
  year: fc.oneof(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 1968, max: 2104 })),
  month: fc.oneof(fc.integer({ min: 0, max: 99 }), fc.integer({ min: 1, max: 12 })),
  day: fc.oneof(fc.integer({ min: 0, max: 99 }), fc.integer({ min: 27, max: 32 })),
  hour: fc.oneof(fc.integer({ min: 0, max: 99 }), fc.integer({ min: 22, max: 24 })),
  minute: fc.oneof(fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 59 })),
  second: fc.oneof(fc.integer({ min: 0, max: 99 }), fc.integer({ min: 58, max: 60 })),
  millisecond: fc.integer({ min: 0, max: 999 }),
})

/** What the parser did with Luxon: valid only if every field survives the round trip. */
function luxonWallTime(wall: { year: number; month: number; day: number; hour: number; minute: number; second: number; millisecond: number }, offset: number) {
  const asUtc = DateTime.fromObject(wall, { zone: 'utc' })
  const fields = ['year', 'month', 'day', 'hour', 'minute', 'second'] as const
  if (!asUtc.isValid || fields.some((f) => asUtc[f] !== wall[f])) return undefined
  return DateTime.fromObject(wall, { zone: FixedOffsetZone.instance(offset) }).toMillis()
}

test('a wall time at a fixed offset is the instant Luxon gives, and out-of-range fields are refused as Luxon refused them', () => {
  fc.assert(
    fc.property(wallTimes, fc.integer({ min: -18 * 60, max: 18 * 60 }), (wall, offset) => {
      const utc = wallTimeAsUtc(wall)
      assert.is(utc === undefined ? undefined : utc - offset * 60_000, luxonWallTime(wall, offset))
    }),
    { numRuns: 3000 },
  )
})

test('parseTimeSpec reads ISO times with Z or an offset to the instant Luxon gives', () => {
  const valid = wallTimes.filter((w) => luxonWallTime(w, 0) !== undefined && w.year >= 1971)
  fc.assert(
    fc.property(valid, fc.integer({ min: -18 * 60, max: 18 * 60 }), (w, offset) => {
      const zone = offset === 0 ? 'Z' : formatOffset(offset)
      const text = `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}.${pad(w.millisecond, 3)}${zone}`
      const resolved = parseTimeSpec(text)
      assert.is(resolved.instantMs, luxonWallTime(w, offset))
      assert.is(resolved.zone, offset === 0 ? 'UTC' : FixedOffsetZone.instance(offset).formatOffset(0, 'short'))
    }),
    { numRuns: 1000 },
  )
})

test('offsets are named as Luxon names fixed-offset zones', () => {
  for (let minutes = -18 * 60; minutes <= 18 * 60; minutes++) {
    assert.is(formatOffset(minutes), FixedOffsetZone.instance(minutes).formatOffset(0, 'short'), String(minutes))
  }
})

test('short durations (1w2d3h4m5s6ms) are as long as Luxon measured them, to the last bit', () => {
  const count = fc.option(fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.bigInt({ min: 0n, max: 10n ** 20n })), { nil: undefined })
  fc.assert(
    fc.property(fc.tuple(count, count, count, count, count, count), (parts) => {
      const units = ['w', 'd', 'h', 'm', 's', 'ms']
      const text = parts.map((n, i) => (n === undefined ? '' : `${n}${units[i]}`)).join('')
      const reading = readDuration(text)
      if (text === '') return
      const [weeks, days, hours, minutes, seconds, milliseconds] = parts.map((n) => (n === undefined ? 0 : Number(n)))
      const luxonMs = Duration.fromObject({ weeks, days, hours, minutes, seconds, milliseconds }).toMillis()
      if (Number.isSafeInteger(luxonMs)) assert.equal(reading, { ok: true, ms: luxonMs, sign: '', form: 'compact' })
      else assert.equal(reading, { ok: false, reason: 'it is too long to count in milliseconds' })
    }),
    { numRuns: 2000 },
  )
})

test.run()
