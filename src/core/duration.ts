import { createRequire } from 'node:module'
import { RecoveryError } from '../errors.js'

const require = createRequire(import.meta.url)

/** Luxon's Duration, loaded on first use: the short forms (2h, 90m) are plain arithmetic. */
function luxonDuration(): typeof import('luxon').Duration {
  return (require('luxon') as typeof import('luxon')).Duration
}

/** A length of time read from a flag such as `--by-duration`, `--within` or `--wait-empty`. */
export interface ParsedDuration {
  /** Signed length in milliseconds (`-PT30M` is -1800000). */
  ms: number
  /** Compact canonical form for output, e.g. `1d2h`, `-30m`, `500ms`, `0s`. */
  display: string
}

/**
 * What {@link readDuration} found: a signed length, or why the text is not one.
 * `reason` is a clause for an error message when the text is recognisably a duration that we
 * refuse (months, years), and absent when it is simply not a duration.
 */
export type DurationReading = { ok: true; ms: number; sign: '+' | '-' | ''; form: 'iso' | 'compact' } | { ok: false; reason?: string }

const DURATION_EXAMPLES = 'use an ISO duration like PT2H, P1DT2H or -PT30M, or a short form like 2h, 90m, 1h30m, 500ms, 30s or 1d'

// Units in descending order, each at most once. "500ms" backtracks past the minutes group.
const COMPACT = /^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/

/**
 * Reads a duration without throwing, so the time-spec parser can share the grammar.
 * Accepts an optional leading sign, then an ISO-8601 duration (`PT90M`, `P1DT2H`, `P1W`,
 * fractions like `PT1.5H`) or a compact form (`1w2d3h4m5s6ms`, units in that order).
 * Days are exactly 24 hours and weeks 7 days, as in Java's `Duration` that Kafka's tools use;
 * months and years have no fixed length and are refused.
 */
export function readDuration(text: string): DurationReading {
  const sign = text.startsWith('-') ? '-' : text.startsWith('+') ? '+' : ''
  const body = sign === '' ? text : text.slice(1)
  const reading = /^p/i.test(body) ? readIsoDuration(body) : readCompactDuration(body)
  if (!reading.ok) return reading
  const ms = sign === '-' && reading.ms !== 0 ? -reading.ms : reading.ms
  if (!Number.isSafeInteger(ms)) return { ok: false, reason: 'it is too long to count in milliseconds' }
  return { ok: true, ms, sign, form: reading.form }
}

function readIsoDuration(body: string): { ok: true; ms: number; form: 'iso' } | { ok: false; reason?: string } {
  const upper = body.toUpperCase()
  // Luxon accepts a sign per component ("PT1H-30M"), an empty "P"/"PT" and a dangling "T";
  // none of those is something an operator means, so they are turned away here.
  if (/[+-]/.test(upper) || !/\d/.test(upper) || upper.endsWith('T')) return { ok: false }
  const duration = luxonDuration().fromISO(upper)
  if (!duration.isValid) return { ok: false }
  if (duration.years !== 0 || duration.months !== 0) {
    return { ok: false, reason: 'months and years have no fixed length, so count in days or weeks (P30D, P4W)' }
  }
  return { ok: true, ms: Math.round(duration.toMillis()), form: 'iso' }
}

function readCompactDuration(body: string): { ok: true; ms: number; form: 'compact' } | { ok: false } {
  const match = COMPACT.exec(body)
  if (match === null || body === '') return { ok: false }
  const [weeks, days, hours, minutes, seconds, milliseconds] = match.slice(1).map((part) => (part === undefined ? 0 : Number(part)))
  // Summed in the order Luxon's Duration#toMillis sums (milliseconds first), so even lengths
  // past exact integers come out as they did when Luxon did it.
  let ms = milliseconds!
  for (const [count, unitMs] of [
    [seconds!, 1_000],
    [minutes!, 60_000],
    [hours!, 3_600_000],
    [days!, 86_400_000],
    [weeks!, 604_800_000],
  ] as const) {
    if (count) ms += count * unitMs
  }
  return { ok: true, ms, form: 'compact' }
}

/**
 * Parses a signed duration flag value: `PT2H`, `P1DT2H`, `-PT30M`, `2h`, `90m`, `1h30m`,
 * `500ms`, `30s`, `1d`. The sign is kept; callers decide whether negative makes sense.
 * @throws RecoveryError BAD_DURATION (exit 2) naming the input and showing accepted forms.
 */
export function parseDuration(input: string): ParsedDuration {
  const text = input.trim()
  // A bare 0 needs no unit: "--broker-wait 0" reads as it is meant.
  if (/^[-+]?0+$/.test(text)) return { ms: 0, display: formatDuration(0) }
  const reading = readDuration(text)
  if (!reading.ok) {
    const why = reading.reason === undefined ? '' : `: ${reading.reason}`
    throw new RecoveryError('BAD_DURATION', `Cannot read "${input}" as a duration${why}; ${DURATION_EXAMPLES}.`, {
      details: { input },
    })
  }
  return { ms: reading.ms, display: formatDuration(reading.ms) }
}

/**
 * Formats milliseconds in the compact form `parseDuration` reads back, largest unit first:
 * 5400000 -> `1h30m`, -1800000 -> `-30m`, 93600000 -> `1d2h`, 0 -> `0s`.
 */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s'
  const parts = luxonDuration().fromMillis(Math.abs(ms)).shiftTo('days', 'hours', 'minutes', 'seconds', 'milliseconds').toObject()
  const units: Array<[number | undefined, string]> = [
    [parts.days, 'd'],
    [parts.hours, 'h'],
    [parts.minutes, 'm'],
    [parts.seconds, 's'],
    [parts.milliseconds, 'ms'],
  ]
  const text = units
    .filter(([value]) => value !== undefined && value !== 0)
    .map(([value, unit]) => `${value}${unit}`)
    .join('')
  return ms < 0 ? `-${text}` : text
}
