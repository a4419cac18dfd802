import { createRequire } from 'node:module'
import type { DateTime, Zone } from 'luxon'
import { RecoveryError } from '../errors.js'
import { readDuration } from './duration.js'

const require = createRequire(import.meta.url)

/**
 * Luxon, loaded on first use: only named zones (and showing an instant in a zone other than
 * UTC) need it. UTC and fixed offsets are plain arithmetic, so `seek --to 2018-03-21T00:00`
 * does not pay for loading Luxon and initialising Intl, which took longer than its Kafka requests.
 */
function luxon(): typeof import('luxon') {
  return require('luxon') as typeof import('luxon')
}

/** How a time spec was written: a calendar time, a distance back from now, or epoch ms. */
export type TimeSpecKind = 'absolute' | 'relative' | 'epoch'

/** Options for {@link parseTimeSpec}. */
export interface TimeSpecOptions {
  /** The instant relative times count back from, in epoch ms. Defaults to `Date.now()`. */
  now?: number
  /**
   * The zone for times written without `Z` or an offset: an IANA name (`Asia/Seoul`), `UTC`,
   * `local` (this machine's zone) or a fixed offset (`+09:00`). Defaults to UTC, as Apache
   * Kafka's `kafka-consumer-groups.sh` does.
   */
  tz?: string
}

/** A time spec resolved to one instant, with everything needed to show it unambiguously. */
export interface ResolvedTime {
  /** The instant in epoch milliseconds. */
  instantMs: number
  /** The instant in UTC, ISO-8601 with milliseconds and `Z`: `2018-03-20T15:00:00.000Z`. */
  iso: string
  /**
   * The zone the input was read in: `UTC`, an offset written in the input (`+09:00`) or the
   * `tz` option (`Asia/Seoul`). Epoch and relative inputs carry no zone; they report the
   * `tz` option (default UTC), which is also the zone `display` shows them in.
   */
  zone: string
  /**
   * For plans and logs: `2018-03-21T00:00:00.000Z (UTC)`, or in another zone
   * `2018-03-21T00:00:00.000+09:00 (Asia/Seoul) = 2018-03-20T15:00:00.000Z`.
   */
  display: string
  kind: TimeSpecKind
}

/** A named zone (Luxon's), or a fixed offset from UTC in minutes (UTC is 0). */
interface ResolvedZone {
  zone: Zone | { offsetMinutes: number }
  /** `UTC`, an IANA name as the platform spells it, or `+09:00`. */
  label: string
}

const ACCEPTED = 'use an ISO time like 2018-03-21T00:00 (UTC unless it has Z/+09:00 or --tz), a date, epoch milliseconds, or a relative time like -2h or PT90M'

const UTC: ResolvedZone = { zone: { offsetMinutes: 0 }, label: 'UTC' }

// Date, optional time (seconds and fraction optional), optional offset; "T" or a space between.
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i

const OFFSET = /^([+-])(\d{2})(?::?(\d{2}))?$/

// The range of instants JavaScript dates (and Luxon) can represent.
const MAX_INSTANT_MS = 8.64e15

// Kafka timestamps are epoch milliseconds from 1970 on: ListOffsets reserves negative times
// for its own markers (-1 latest, -2 earliest) and a broker answers other negative ones with
// an error (UNSUPPORTED_VERSION), so an earlier instant is refused here as a usage error.
const EPOCH_MS = 0

/**
 * Parses the TIME argument of `seek --to`, `peek --at`, `replay --from/--to` and friends into
 * one instant. Accepted:
 * - ISO-8601: `2018-03-21T00:00`, `2018-03-21T00:00:00`, `2018-03-21T00:00:00.000`,
 *   `2018-03-21 00:00:00.000`, optionally ending in `Z`, `+09:00` or `+0900`; a date alone
 *   (`2018-03-21`) is midnight. Without an offset the time is read in `options.tz` (default
 *   UTC); an offset in the input wins over `tz`.
 * - Epoch milliseconds: 11 or more digits (`1521590400000`). Shorter numbers are refused,
 *   since they are usually epoch seconds or a year.
 * - Relative, counted back from `options.now`: `-2h`, `-90m`, `-30s`, `-1d`, `-1w`, `-1h30m`,
 *   ISO durations `PT90M`, `P1D`, `-PT2H` (unsigned ISO durations also mean "ago"), and `now`.
 *
 * A wall-clock time that a daylight-saving change skips is refused; one it repeats resolves to
 * the earlier instant (as Java's `ZonedDateTime` does), which replays more rather than less.
 * An instant before 1970-01-01T00:00Z (the Unix epoch, where Kafka timestamps start) is
 * refused; for a year that looks like a typo (`0218`) the message suggests the likely one.
 *
 * Pure apart from reading the machine's zone for `tz: 'local'` and `Date.now()` when `now` is
 * not given.
 * @throws RecoveryError BAD_TIME_SPEC (exit 2) naming the input (or the zone) and showing
 *   accepted examples.
 */
export function parseTimeSpec(input: string, options: TimeSpecOptions = {}): ResolvedTime {
  const text = input.trim()
  const tz = resolveTimeZone(options.tz)
  if (text === '') throw badTimeSpec(input)

  if (/^now$/i.test(text)) return describeInstant(nowOf(options), tz, 'relative')

  if (/^\d+$/.test(text)) return describeInstant(readEpochMs(input, text), tz, 'epoch')

  const iso = ISO_TIME.exec(text)
  if (iso !== null) return readIsoTime(input, iso, tz, options.now ?? Date.now())

  const duration = readDuration(text)
  if (duration.ok) {
    if (duration.sign === '+') {
      throw badTimeSpec(input, `relative times count back from now, so write -${text.slice(1)}`)
    }
    if (duration.sign === '' && duration.form === 'compact') {
      throw badTimeSpec(input, `relative times count back from now and need a minus sign, as in -${text}`)
    }
    // "-PT2H", "-2h" and the unsigned ISO "PT2H" all mean that long ago.
    return describeInstant(checkInstant(input, nowOf(options) - Math.abs(duration.ms)), tz, 'relative')
  }
  throw badTimeSpec(input, duration.reason)
}

/**
 * Formats an instant the way {@link parseTimeSpec} displays it, e.g. for record timestamps in
 * a plan: `2018-03-21T00:00:00.000Z (UTC)` or
 * `2018-03-21T00:00:00.000+09:00 (Asia/Seoul) = 2018-03-20T15:00:00.000Z`.
 * @throws RecoveryError BAD_TIME_SPEC for an unknown `tz`.
 */
export function formatInstant(instantMs: number, tz?: string): string {
  return describeInstant(instantMs, resolveTimeZone(tz), 'epoch').display
}

function nowOf(options: TimeSpecOptions): number {
  const now = options.now ?? Date.now()
  if (!Number.isFinite(now)) throw new RangeError(`parseTimeSpec: options.now must be epoch milliseconds, got ${now}`)
  return now
}

function resolveTimeZone(tz: string | undefined): ResolvedZone {
  if (tz === undefined) return UTC
  const name = tz.trim()
  if (/^utc$/i.test(name)) return UTC
  if (/^local$/i.test(name)) return ianaZone(luxon().SystemZone.instance.name) ?? UTC
  const offset = OFFSET.exec(name)
  if (offset !== null) {
    const minutes = offsetMinutes(offset)
    if (minutes !== undefined) return fixedOffsetZone(minutes)
  }
  const zone = ianaZone(name)
  if (zone !== undefined) return zone
  throw new RecoveryError(
    'BAD_TIME_SPEC',
    `Unknown time zone ${JSON.stringify(tz)}; use an IANA zone like Asia/Seoul or America/New_York, UTC, local (this machine's zone) or an offset like +09:00.`,
    { details: { tz } },
  )
}

function ianaZone(name: string): ResolvedZone | undefined {
  const { IANAZone } = luxon()
  if (name === '' || !IANAZone.isValidZone(name)) return undefined
  // Intl spells the name canonically ("asia/seoul" -> "Asia/Seoul"), which is what we print.
  const label = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone
  if (label === 'UTC' || label === 'Etc/UTC') return UTC
  return { zone: IANAZone.create(label), label }
}

function offsetMinutes(match: RegExpExecArray): number | undefined {
  const [, sign, hours, minutes = '00'] = match
  // Java's ZoneOffset stops at ±18:00; anything beyond is a typo, not a place.
  const total = Number(hours) * 60 + Number(minutes)
  if (Number(minutes) > 59 || total > 18 * 60) return undefined
  return sign === '-' ? -total : total
}

function fixedOffsetZone(minutes: number): ResolvedZone {
  if (minutes === 0) return UTC
  return { zone: { offsetMinutes: minutes }, label: formatOffset(minutes) }
}

/** `+09:00`, `-03:30`: how Luxon's fixed-offset zones name themselves ("short"). */
export function formatOffset(minutes: number): string {
  const pad = (n: number) => String(Math.trunc(n)).padStart(2, '0')
  const abs = Math.abs(minutes)
  return `${minutes >= 0 ? '+' : '-'}${pad(abs / 60)}:${pad(abs % 60)}`
}

function readEpochMs(input: string, digits: string): number {
  if (digits.length <= 10) {
    const hint =
      digits.length >= 9
        ? `bare numbers are epoch milliseconds and this looks like epoch seconds (a common mistake), so write ${digits}000`
        : 'bare numbers are epoch milliseconds with 11 or more digits, not epoch seconds (a common mistake) or a year'
    throw badTimeSpec(input, hint)
  }
  return checkInstant(input, Number(digits))
}

/** `typo`: the year as written and the instant "now" is, for ISO times whose year may be a slip of the finger. */
function checkInstant(input: string, ms: number, typo?: { year: string; nowMs: number }): number {
  if (!Number.isSafeInteger(ms) || Math.abs(ms) > MAX_INSTANT_MS) {
    throw badTimeSpec(input, 'it lies outside the range of representable times')
  }
  if (ms < EPOCH_MS) {
    const likely = typo === undefined ? undefined : likelyYear(typo.year, new Date(typo.nowMs).getUTCFullYear())
    const suggestion = likely === undefined ? undefined : input.trim().replace(typo!.year, likely)
    const hint = suggestion === undefined ? '' : ` (did you mean ${suggestion}?)`
    throw badTimeSpec(input, `it is before 1970-01-01T00:00Z, where Kafka timestamps start${hint}`, suggestion)
  }
  return ms
}

/**
 * The year a pre-1970 year was probably meant to be: one digit changed or two neighbours
 * swapped (0218 -> 2018, 1018 -> 2018, 2108 stays), landing between 1970 and next year, the
 * nearest to this year when several do. Years from 1900 on are taken as meant (1969-12-31 is a
 * real, if wrong, date): no suggestion.
 */
export function likelyYear(year: string, thisYear: number): string | undefined {
  if (!/^\d{4}$/.test(year) || Number(year) >= 1900) return undefined
  const candidates = new Set<string>()
  for (let i = 0; i < 4; i++) {
    for (let d = 0; d <= 9; d++) candidates.add(`${year.slice(0, i)}${d}${year.slice(i + 1)}`)
    if (i < 3) candidates.add(`${year.slice(0, i)}${year[i + 1]}${year[i]}${year.slice(i + 2)}`)
  }
  const plausible = [...candidates].map(Number).filter((y) => y >= 1970 && y <= thisYear + 1)
  if (plausible.length === 0) return undefined
  return String(plausible.reduce((best, y) => (Math.abs(y - thisYear) < Math.abs(best - thisYear) ? y : best)))
}

function readIsoTime(input: string, match: RegExpExecArray, tz: ResolvedZone, nowMs: number): ResolvedTime {
  const [, year, month, day, hour = '0', minute = '0', second = '0', fraction = '', offset] = match
  const wallTime = {
    year: Number(year),
    month: Number(month),
    day: Number(day),
    hour: Number(hour),
    minute: Number(minute),
    second: Number(second),
    // Kafka timestamps are milliseconds; finer digits are truncated, not rounded up.
    millisecond: Number(fraction.padEnd(3, '0').slice(0, 3)),
  }

  let zone = tz
  if (offset !== undefined) {
    const minutes = /^z$/i.test(offset) ? 0 : offsetMinutesOf(offset)
    if (minutes === undefined) throw badTimeSpec(input, `${offset} is not a UTC offset`)
    zone = fixedOffsetZone(minutes)
  }

  const utcWallMs = wallTimeAsUtc(wallTime)
  if (utcWallMs === undefined) throw badTimeSpec(input)
  if ('offsetMinutes' in zone.zone) {
    // A fixed offset has no gaps or repeats: the instant is the wall time less the offset.
    return describeInstant(checkInstant(input, utcWallMs - zone.zone.offsetMinutes * 60_000, { year: year!, nowMs }), zone, 'absolute')
  }

  const inZone = luxon().DateTime.fromObject(wallTime, { zone: zone.zone })
  if (!inZone.isValid) throw badTimeSpec(input)
  if (!hasWallTime(inZone, wallTime)) {
    // Luxon moved the time forward by reading it with the offset from before the jump; that
    // offset, written out, is the unambiguous way to ask for the same instant.
    const offsetBefore = fixedOffsetZone((utcWallMs - inZone.toMillis()) / 60_000).label
    throw badTimeSpec(
      input,
      `that wall-clock time does not exist in ${zone.label} (clocks jump forward for daylight saving time), so give an explicit offset like ${match[0]}${offsetBefore === 'UTC' ? 'Z' : offsetBefore}`,
    )
  }
  // A time repeated when clocks fall back has two instants; take the earlier, as Java does.
  const instants = inZone.getPossibleOffsets().map((candidate) => candidate.toMillis())
  const instantMs = Math.min(inZone.toMillis(), ...instants)
  return describeInstant(checkInstant(input, instantMs, { year: year!, nowMs }), zone, 'absolute')
}

function offsetMinutesOf(offset: string): number | undefined {
  const match = OFFSET.exec(offset)
  return match === null ? undefined : offsetMinutes(match)
}

type WallTime = Record<'year' | 'month' | 'day' | 'hour' | 'minute' | 'second', number>

/**
 * The wall time read as UTC, in epoch ms, or undefined when a field is out of range (month 13,
 * 31 April, 29 February of a common year, hour 24, second 60): the calendar of Luxon and Java
 * (proleptic Gregorian), years 0 to 9999 as the ISO pattern allows.
 */
export function wallTimeAsUtc(wallTime: WallTime & { millisecond: number }): number | undefined {
  const { year, month, day, hour, minute, second, millisecond } = wallTime
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
  if (days === undefined || day < 1 || day > days || hour > 23 || minute > 59 || second > 59 || millisecond > 999) return undefined
  const date = new Date(0)
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0 to 99 as 1900 to 1999.
  date.setUTCFullYear(year, month - 1, day)
  date.setUTCHours(hour, minute, second, millisecond)
  return date.getTime()
}

function hasWallTime(dateTime: DateTime, wallTime: WallTime): boolean {
  return (
    dateTime.year === wallTime.year &&
    dateTime.month === wallTime.month &&
    dateTime.day === wallTime.day &&
    dateTime.hour === wallTime.hour &&
    dateTime.minute === wallTime.minute &&
    dateTime.second === wallTime.second
  )
}

function describeInstant(instantMs: number, zone: ResolvedZone, kind: TimeSpecKind): ResolvedTime {
  const iso = new Date(instantMs).toISOString()
  if (zone.label === 'UTC') return { instantMs, iso, zone: 'UTC', display: `${iso} (UTC)`, kind }
  const { DateTime, FixedOffsetZone } = luxon()
  const inZone = 'offsetMinutes' in zone.zone ? FixedOffsetZone.instance(zone.zone.offsetMinutes) : zone.zone
  const local = DateTime.fromMillis(instantMs, { zone: inZone }).toISO() ?? iso
  return { instantMs, iso, zone: zone.label, display: `${local} (${zone.label}) = ${iso}`, kind }
}

function badTimeSpec(input: string, reason?: string, suggestion?: string): RecoveryError {
  const because = reason === undefined ? '' : `: ${reason}`
  const otherwise = reason === undefined ? '' : 'otherwise '
  return new RecoveryError('BAD_TIME_SPEC', `Cannot read ${JSON.stringify(input)} as a time${because}; ${otherwise}${ACCEPTED}.`, {
    details: suggestion === undefined ? { input } : { input, suggestion },
  })
}
