import { RecoveryError } from '../errors.js'
import type { PartitionRange, RangeBound } from './replay-range.js'
import { parseTimeSpec, type TimeSpecOptions } from './time-spec.js'

/** A peek position: replay's bounds without first-match:/last-match: (those are `recover find`'s). */
export type PeekBound = Exclude<RangeBound, { kind: 'match' }>

/**
 * Where `recover peek` starts (`--at`) or stops (`--until`, exclusive), in replay's --from/--to
 * grammar: `earliest`, `latest`, a time, `offset:N` (every partition read) or `offset:0=N,1=M`
 * (only those partitions). A bare number stays a time (epoch ms), as `--at` always took it.
 */
export function parsePeekPosition(input: string, flag: '--at' | '--until', options: TimeSpecOptions = {}): PeekBound {
  const text = input.trim()
  if (/^(earliest|beginning|start)$/i.test(text)) return { kind: 'earliest' }
  if (/^(latest|end)$/i.test(text)) return { kind: 'latest' }
  const offsets = /^offsets?:(.*)$/i.exec(text)
  if (offsets) {
    const body = offsets[1]!.trim()
    if (/^\d+$/.test(body)) return { kind: 'offsets', all: BigInt(body), perPartition: new Map() }
    const perPartition = new Map<number, bigint>()
    for (const part of body.split(',')) {
      const m = /^\s*(\d+)\s*[=:]\s*(\d+)\s*$/.exec(part)
      if (!m)
        throw new RecoveryError(
          'USAGE',
          `${flag} ${input}: "${part.trim()}" is not partition=offset; write ${flag} offset:1750 --partition 2 or ${flag} offset:0=100,2=1750.`,
        )
      const partition = Number(m[1])
      if (perPartition.has(partition)) throw new RecoveryError('USAGE', `${flag} ${input} names partition ${partition} twice; give each partition one offset.`)
      perPartition.set(partition, BigInt(m[2]!))
    }
    return { kind: 'offsets', perPartition }
  }
  const t = parseTimeSpec(text, options)
  return { kind: 'time', instantMs: t.instantMs, display: t.display }
}

export interface PeekModeOptions {
  at?: PeekBound
  until?: PeekBound
  tail?: number
  follow: boolean
  partition?: number
}

/** Combinations that cannot mean one thing, refused before any broker round trip. */
export function checkPeekMode(options: PeekModeOptions): void {
  const { at, until, tail, follow, partition } = options
  if (tail !== undefined && at !== undefined) {
    throw new RecoveryError(
      'USAGE',
      '--tail N starts N records before the end of each partition and --at says where to start: use one of them (--tail 10, or --at offset:1750).',
    )
  }
  if (tail !== undefined && until !== undefined) {
    throw new RecoveryError(
      'USAGE',
      '--tail N reads up to the end of each partition, so --until has nothing to bound: drop --until, or use --at … --until … instead.',
    )
  }
  if (follow && until !== undefined) {
    throw new RecoveryError('USAGE', '--follow reads on until stopped and --until stops at a bound: drop one of them.')
  }
  if (at?.kind === 'latest' && !follow) {
    throw new RecoveryError(
      'USAGE',
      '--at latest is the log end, where there is nothing to show yet: add --follow to wait for new records, or use --tail N for the last N records of each partition.',
    )
  }
  if (until?.kind === 'earliest') throw new RecoveryError('USAGE', '--until earliest selects nothing: give --until a time, offset:N or latest.')
  if (partition !== undefined && at?.kind === 'offsets' && at.perPartition.size > 0 && !at.perPartition.has(partition)) {
    throw new RecoveryError(
      'USAGE',
      `--at names offsets for partitions ${[...at.perPartition.keys()].join(', ')} but --partition is ${partition}: write --at offset:N --partition ${partition}.`,
    )
  }
  if (at && until) {
    const inverted =
      (at.kind === 'time' && until.kind === 'time' && at.instantMs > until.instantMs) ||
      (at.kind === 'offsets' && until.kind === 'offsets' && offsetPairs(at, until).some(([a, u]) => a > u))
    if (inverted) throw new RecoveryError('INVERTED_RANGE', `--at is after --until; the range is [--at, --until): swap them.`)
  }
}

function offsetPairs(a: Extract<RangeBound, { kind: 'offsets' }>, b: Extract<RangeBound, { kind: 'offsets' }>): Array<[bigint, bigint]> {
  const pairs: Array<[bigint, bigint]> = []
  if (a.all !== undefined && b.all !== undefined) pairs.push([a.all, b.all])
  for (const [p, o] of a.perPartition) {
    const other = b.perPartition.get(p) ?? b.all
    if (other !== undefined) pairs.push([o, other])
  }
  for (const [p, o] of b.perPartition) if (!a.perPartition.has(p) && a.all !== undefined) pairs.push([a.all, o])
  return pairs
}

/** The partitions a peek reads: --partition, else those an `offset:0=N,…` names, else all. */
export function peekPartitions(all: readonly number[], options: { partition?: number; at?: PeekBound }): number[] {
  if (options.partition !== undefined) return [options.partition]
  if (options.at?.kind === 'offsets' && options.at.perPartition.size > 0) return [...options.at.perPartition.keys()].sort((a, b) => a - b)
  return [...all]
}

/** What the log holds in one partition when the peek starts (end: the last stable offset). */
export interface PeekPartitionFacts {
  partition: number
  logStart: bigint
  logEnd: bigint
  /** For a time --at / --until: the earliest offset with a timestamp at or after it; null when none is that late. */
  atTimeOffset?: bigint | null
  untilTimeOffset?: bigint | null
}

/**
 * Each partition's [start, end) for a peek. Without --at: the log start, or under --tail N the
 * last N offsets (kcat -o -N: per partition), or under --follow the log end. An offset outside
 * what the log holds is refused with the range it holds (at the log end only under --follow,
 * which waits there for the next record). The end is --until or the log end at the start.
 */
export function planPeekRanges(options: PeekModeOptions & { topic: string }, facts: readonly PeekPartitionFacts[]): PartitionRange[] {
  return facts.map((f) => {
    const start = startOffset(options, f)
    const end = endOffset(options.until, f)
    return { partition: f.partition, start, end: larger(start, end) }
  })
}

function startOffset(options: PeekModeOptions & { topic: string }, f: PeekPartitionFacts): bigint {
  const { at, tail, follow } = options
  if (at === undefined) {
    if (tail !== undefined) return f.logEnd - BigInt(tail) > f.logStart ? f.logEnd - BigInt(tail) : f.logStart
    return follow ? f.logEnd : f.logStart
  }
  switch (at.kind) {
    case 'earliest':
      return f.logStart
    case 'latest':
      return f.logEnd
    case 'time':
      return f.atTimeOffset ?? f.logEnd
    case 'offsets': {
      const offset = at.perPartition.get(f.partition) ?? at.all ?? f.logStart
      checkInLog(options.topic, f, offset, follow)
      return offset
    }
  }
}

function endOffset(until: PeekBound | undefined, f: PeekPartitionFacts): bigint {
  let end = f.logEnd
  if (until?.kind === 'time') end = f.untilTimeOffset ?? f.logEnd
  else if (until?.kind === 'offsets') end = until.perPartition.get(f.partition) ?? until.all ?? f.logEnd
  return smaller(end, f.logEnd)
}

// Math.min/max take no bigints.
function larger(a: bigint, b: bigint): bigint {
  if (a < b) return b
  return a
}

function smaller(a: bigint, b: bigint): bigint {
  if (a > b) return b
  return a
}

function checkInLog(topic: string, f: PeekPartitionFacts, offset: bigint, follow: boolean): void {
  const holds = f.logStart === f.logEnd ? `holds no records (log start and end ${f.logEnd})` : `holds offsets ${f.logStart}..${f.logEnd - 1n}`
  const details = { topic, partition: f.partition, offset: offset.toString(), logStart: f.logStart.toString(), logEnd: f.logEnd.toString() }
  if (offset < f.logStart) {
    throw new RecoveryError(
      'OFFSET_NOT_IN_LOG',
      `Offset ${offset} of ${topic}-${f.partition} is no longer in the log (retention or DeleteRecords removed it): the partition ${holds}; pick an offset in that range or use --at earliest.`,
      { details },
    )
  }
  if (offset > f.logEnd || (offset === f.logEnd && !follow)) {
    throw new RecoveryError(
      'OFFSET_NOT_IN_LOG',
      `Offset ${offset} of ${topic}-${f.partition} is beyond the log end: the partition ${holds}; pick an offset below ${f.logEnd}, or add --follow to wait for new records from the log end.`,
      { details },
    )
  }
}
