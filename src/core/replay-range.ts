import type { CodecFormat } from '../codecs/codec.js'
import type { SchemaSourceOptions } from '../codecs/create-codecs.js'
import { RecoveryError } from '../errors.js'
import { parseMatchEdge } from './record-predicate.js'
import { parseTimeSpec, type TimeSpecOptions } from './time-spec.js'

/**
 * One end of a replay range (`--from` or `--to`):
 * - `earliest`: the log start of each partition (the default start);
 * - `latest`: the last stable offset captured when the replay starts (the default end);
 * - a time: the earliest offset whose timestamp is at or after it (Kafka's offsetsForTimes);
 * - offsets: `offset:N` for every partition, or `offset:0=N,1=M` per partition (the others
 *   keep the default);
 * - `first-match:PRED` / `last-match:PRED`: the first matching record, or one past the last
 *   (recover find's edges); resolved to offsets by the find service before the plan
 *   (kafka-range-plan.ts), so only `match` bounds ever reach it unresolved.
 */
export type RangeBound =
  | { kind: 'earliest' }
  | { kind: 'latest' }
  | { kind: 'time'; instantMs: number; display: string }
  | { kind: 'offsets'; all?: bigint; perPartition: Map<number, bigint> }
  | {
      kind: 'match'
      edge: 'first' | 'last'
      where: string
      tz?: string
      /** How values are decoded for value.FIELD tests (the replay's own --value-format and schemas). */
      decode?: { valueFormat?: CodecFormat; schemas?: SchemaSourceOptions }
    }

const FORMS = 'earliest, latest, a time (2018-03-21T00:00, epoch ms, -2h), offset:N (every partition) or offset:0=N,1=M (per partition)'

/** Parses a --from/--to value. Times follow parseTimeSpec (UTC unless zoned or tz). */
export function parseRangeBound(input: string, flag: '--from' | '--to', options: TimeSpecOptions = {}): RangeBound {
  const text = input.trim()
  if (/^(earliest|beginning|start)$/i.test(text)) return { kind: 'earliest' }
  if (/^(latest|end)$/i.test(text)) return { kind: 'latest' }
  const match = parseMatchEdge(text, flag, options)
  if (match) return { kind: 'match', ...match, ...(options.tz === undefined ? {} : { tz: options.tz }) }
  const offsets = /^offsets?:(.*)$/i.exec(text)
  if (offsets) {
    const body = offsets[1]!.trim()
    if (/^\d+$/.test(body)) return { kind: 'offsets', all: BigInt(body), perPartition: new Map() }
    const perPartition = new Map<number, bigint>()
    for (const part of body.split(',')) {
      const m = /^\s*(\d+)\s*[=:]\s*(\d+)\s*$/.exec(part)
      if (!m)
        throw new RecoveryError('USAGE', `${flag} ${input}: "${part.trim()}" is not partition=offset; use ${flag} offset:0=100,1=250 or ${flag} offset:100.`)
      const partition = Number(m[1])
      if (perPartition.has(partition)) throw new RecoveryError('USAGE', `${flag} ${input} names partition ${partition} twice.`)
      perPartition.set(partition, BigInt(m[2]!))
    }
    return { kind: 'offsets', perPartition }
  }
  if (/^\d{1,10}$/.test(text)) {
    throw new RecoveryError(
      'USAGE',
      `${flag} ${input} is ambiguous: for an offset write ${flag} offset:${text}; for a time use ISO-8601 or epoch milliseconds. Accepted: ${FORMS}.`,
    )
  }
  try {
    const t = parseTimeSpec(text, options)
    return { kind: 'time', instantMs: t.instantMs, display: t.display }
  } catch (error) {
    if (error instanceof RecoveryError) {
      throw new RecoveryError('BAD_TIME_SPEC', `${flag} ${input} is not a replay bound: ${error.message} Accepted: ${FORMS}.`, { cause: error })
    }
    throw error
  }
}

/** What Kafka says about one partition when the replay starts. */
export interface PartitionFacts {
  partition: number
  logStart: bigint
  /** The last stable offset (read_committed end): everything below it is committed or aborted. */
  stableEnd: bigint
  /** For time bounds: the earliest offset with timestamp >= the time, or null when none is that late. */
  fromTimeOffset?: bigint | null
  toTimeOffset?: bigint | null
}

/** The offsets one partition replays: [start, end). */
export interface PartitionRange {
  partition: number
  start: bigint
  end: bigint
}

/**
 * Resolves the bounds to a half-open offset range per partition, clamped to what the log holds
 * when the replay starts: [max(from, logStart), min(to, stableEnd)), never negative in length.
 * A time with no record that late resolves to the end, as in Kafka's offsetsForTimes.
 */
export function planReplayRanges(from: RangeBound, to: RangeBound, facts: readonly PartitionFacts[]): PartitionRange[] {
  return facts.map((f) => {
    const end = clamp(boundOffset(to, f, f.toTimeOffset, f.stableEnd), f.logStart, f.stableEnd)
    const start = clamp(boundOffset(from, f, f.fromTimeOffset, f.logStart), f.logStart, end)
    return { partition: f.partition, start, end }
  })
}

/** Where a bound falls in one partition; `unnamed` for a partition an offset list leaves out. */
function boundOffset(bound: RangeBound, f: PartitionFacts, timeOffset: bigint | null | undefined, unnamed: bigint): bigint {
  switch (bound.kind) {
    case 'earliest':
      return f.logStart
    case 'latest':
      return f.stableEnd
    case 'time':
      return timeOffset ?? f.stableEnd
    case 'offsets':
      return bound.perPartition.get(f.partition) ?? bound.all ?? unnamed
    case 'match':
      throw new RecoveryError(
        'USAGE',
        `${bound.edge}-match: bounds are taken by replay (without --scale-out) and seek; here, run recover find first and pass its offsets as offset:0=N,1=M.`,
      )
  }
}

/** Partitions named in offset bounds must exist: a typo must not silently replay nothing. */
export function checkBoundPartitions(bound: RangeBound, flag: string, partitions: readonly number[]): void {
  if (bound.kind !== 'offsets') return
  const missing = [...bound.perPartition.keys()].filter((p) => !partitions.includes(p))
  if (missing.length > 0) {
    throw new RecoveryError(
      'PARTITION_NOT_FOUND',
      `${flag} names partition${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, which ${missing.length > 1 ? 'are' : 'is'} not being replayed (partitions ${partitions.join(', ')}).`,
    )
  }
}

/**
 * `--from` after `--to`, refused before any broker round trip: two times, or two offsets given
 * for the same partition. Bounds of different kinds (a time and an offset) can only be compared
 * per partition once Kafka has answered; an empty result is then EMPTY_RANGE.
 */
export function checkRangeOrder(from: RangeBound, to: RangeBound): void {
  if (from.kind === 'time' && to.kind === 'time' && from.instantMs > to.instantMs) {
    throw new RecoveryError('INVERTED_RANGE', `--from ${from.display} is after --to ${to.display}; the range is [--from, --to), so swap them.`, {
      details: { from: from.display, to: to.display },
    })
  }
  if (from.kind === 'latest' && to.kind === 'earliest') {
    throw new RecoveryError('INVERTED_RANGE', '--from latest is after --to earliest; the range is [--from, --to), so swap them.')
  }
  if (from.kind !== 'offsets' || to.kind !== 'offsets') return
  if (from.all !== undefined && to.all !== undefined && from.all > to.all) {
    throw new RecoveryError('INVERTED_RANGE', `--from offset:${from.all} is after --to offset:${to.all}; the range is [--from, --to), so swap them.`, {
      details: { from: from.all.toString(), to: to.all.toString() },
    })
  }
  const named = [...new Set([...from.perPartition.keys(), ...to.perPartition.keys()])].sort((a, b) => a - b)
  const inverted = named.flatMap((p) => {
    const start = from.perPartition.get(p) ?? from.all
    const end = to.perPartition.get(p) ?? to.all
    return start !== undefined && end !== undefined && start > end ? [`partition ${p}: ${start} > ${end}`] : []
  })
  if (inverted.length > 0) {
    throw new RecoveryError('INVERTED_RANGE', `--from is after --to (${inverted.join(', ')}); the range is [--from, --to), so swap them.`, {
      details: { inverted },
    })
  }
}

/** What one partition holds when the replay starts, for messages about an empty selection. */
export interface PartitionHolding {
  partition: number
  logStart: bigint
  stableEnd: bigint
  /** Timestamps of its first and last records, when they could be read (epoch ms). */
  firstTimestampMs?: number
  lastTimestampMs?: number
}

/**
 * Bounds given as offsets that lie outside a partition's log are clamped to it; each clamp is
 * said (on stderr and in --json `warnings`), since the user asked for offsets that are not there.
 */
export function rangeClampWarnings(from: RangeBound, to: RangeBound, facts: readonly PartitionFacts[]): string[] {
  const warnings: string[] = []
  for (const [bound, flag] of [
    [from, '--from'],
    [to, '--to'],
  ] as const) {
    if (bound.kind !== 'offsets') continue
    for (const f of facts) {
      const asked = bound.perPartition.get(f.partition) ?? bound.all
      if (asked === undefined) continue
      if (asked < f.logStart)
        warnings.push(
          `${flag} offset ${asked} is before the log start of partition ${f.partition} (${f.logStart}; older records were deleted by retention or compaction): it starts at ${f.logStart}.`,
        )
      else if (asked > f.stableEnd)
        warnings.push(
          `${flag} offset ${asked} is past the end of partition ${f.partition} (${f.stableEnd}): ${flag === '--from' ? 'it has nothing to replay' : `it ends at ${f.stableEnd}`}.`,
        )
    }
  }
  return warnings
}

/** How many partitions an EMPTY_RANGE message lists before "and N more" (details has them all). */
const LISTED_PARTITIONS = 6

/**
 * The bounds select no record in any partition (a window with no records, an offset past the
 * end, a time after the last record, an empty topic): refused, never "finished" with nothing
 * done, and the message says what each partition holds so the next try can aim inside it.
 */
export function emptyRangeError(topic: string, from: RangeBound, to: RangeBound, holdings: readonly PartitionHolding[]): RecoveryError {
  const empty = holdings.every((h) => h.logStart >= h.stableEnd)
  const when = (ms: number | undefined) => (ms === undefined ? '?' : new Date(ms).toISOString())
  const describe = (h: PartitionHolding) =>
    h.logStart >= h.stableEnd
      ? `partition ${h.partition} is empty (offset ${h.stableEnd})`
      : `partition ${h.partition} holds offsets [${h.logStart}, ${h.stableEnd})${h.firstTimestampMs !== undefined || h.lastTimestampMs !== undefined ? `, records from ${when(h.firstTimestampMs)} to ${when(h.lastTimestampMs)}` : ''}`
  const listed = holdings.slice(0, LISTED_PARTITIONS).map(describe)
  if (holdings.length > LISTED_PARTITIONS) listed.push(`and ${holdings.length - LISTED_PARTITIONS} more partitions (see details)`)
  const bounds = `--from ${showBound(from)} --to ${showBound(to)}`
  const message = empty
    ? `Topic ${topic} holds no records to replay (${listed.join('; ')}).`
    : `${bounds} selects no records in any partition of ${topic}: ${listed.join('; ')}. Choose bounds inside what the topic holds.`
  return new RecoveryError('EMPTY_RANGE', message, {
    details: {
      topic,
      from: showBound(from),
      to: showBound(to),
      partitions: holdings.map((h) => ({
        partition: h.partition,
        logStart: h.logStart.toString(),
        logEnd: h.stableEnd.toString(),
        firstRecordTime: h.firstTimestampMs === undefined ? null : new Date(h.firstTimestampMs).toISOString(),
        lastRecordTime: h.lastTimestampMs === undefined ? null : new Date(h.lastTimestampMs).toISOString(),
      })),
    },
  })
}

function showBound(bound: RangeBound): string {
  switch (bound.kind) {
    case 'earliest':
    case 'latest':
      return bound.kind
    case 'time':
      return bound.display
    case 'offsets':
      return `offset:${bound.all !== undefined ? String(bound.all) : [...bound.perPartition].map(([p, o]) => `${p}=${o}`).join(',')}`
    case 'match':
      return `${bound.edge}-match:${bound.where}`
  }
}

function clamp(value: bigint, low: bigint, high: bigint): bigint {
  return value < low ? low : value > high ? high : value
}

/** `--partitions 0,1,5` → [0, 1, 5]. */
export function parsePartitionList(input: string): number[] {
  const parts = input.split(',').map((p) => p.trim())
  if (parts.length === 0 || parts.some((p) => !/^\d+$/.test(p))) {
    throw new RecoveryError('USAGE', `--partitions ${input} is not a list of partition numbers; use --partitions 0,1,5.`)
  }
  return [...new Set(parts.map(Number))].sort((a, b) => a - b)
}

/** Offsets in the ranges: the most records they can hold. */
export function rangeRecordCount(ranges: readonly PartitionRange[]): bigint {
  return ranges.reduce((sum, r) => sum + (r.end - r.start), 0n)
}
