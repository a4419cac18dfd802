import { RecoveryError } from '../errors.js'

/** Where a record failed, fine enough to name the flag to check. */
export type FailureKind = 'decode-key' | 'decode-value' | 'transform' | 'encode' | 'sink'

/** One failed record, as the guard sees it. */
export interface RecordFailure {
  kind: FailureKind
  /** The error's message (the first of each kind is quoted). */
  message: string
  /** The decode or encode failure kind (not-json, avro-bad-magic, …), where there is one. */
  detail?: string
}

export interface FailureRateLimit {
  /** Stop when more than this share (percent) of the first records fail; 0 never stops. */
  maxPercent: number
  /** How many records, from the first read, the share is taken over. */
  firstRecords: number
}

export const DEFAULT_FAILURE_RATE: FailureRateLimit = { maxPercent: 50, firstRecords: 1_000 }

/** What the guard found when the limit was passed. */
export interface FailureRateVerdict {
  failed: number
  /** Records counted so far (at most `firstRecords`). */
  seen: number
  /** The records the share is taken over: the first `firstRecords`, or all of them when the range held fewer. */
  of: number
  /** The range held fewer records than `firstRecords`: `of` is all of them. */
  wholeRange: boolean
  maxPercent: number
  byKind: Partial<Record<FailureKind, number>>
  /** The kind most records failed with, and the first such failure. */
  worst: RecordFailure
}

/**
 * A replay whose first records mostly fail is almost always a wrong flag (`--value-format json`
 * on Avro data, the wrong schema, a transform that throws on everything), not bad data: it
 * would fill the quarantine and exit 0. The guard counts the failures among the first
 * `firstRecords` records (in the order they are read) and says stop as soon as they pass
 * `maxPercent` of them, or, when the range ends sooner, of all the records there were.
 */
export class FailureRateGuard {
  private seen = 0
  private failed = 0
  private readonly byKind: Partial<Record<FailureKind, number>> = {}
  private readonly firstOfKind: Partial<Record<FailureKind, RecordFailure>> = {}

  private readonly limit: FailureRateLimit

  /** `rangeRecords`: at most how many records the range holds; a smaller range is the whole window. */
  constructor(
    limit: FailureRateLimit = DEFAULT_FAILURE_RATE,
    rangeRecords = Infinity,
    private readonly configuredWindow = limit.firstRecords,
  ) {
    this.limit = { ...limit, firstRecords: Math.max(1, Math.min(limit.firstRecords, rangeRecords)) }
  }

  /**
   * The verdict if these records (each undefined when it did not fail, in read order) were
   * counted, without counting them: to stop before a batch is written.
   */
  assess(records: ReadonlyArray<RecordFailure | undefined>, last: boolean): FailureRateVerdict | undefined {
    return this.tally(records, last, false)
  }

  /** Counts these records (in read order) and returns the verdict when the limit is passed. */
  record(records: ReadonlyArray<RecordFailure | undefined>, last: boolean): FailureRateVerdict | undefined {
    return this.tally(records, last, true)
  }

  private tally(records: ReadonlyArray<RecordFailure | undefined>, last: boolean, keep: boolean): FailureRateVerdict | undefined {
    const { maxPercent, firstRecords } = this.limit
    if (maxPercent <= 0) return undefined
    let seen = this.seen
    let failed = this.failed
    const byKind = { ...this.byKind }
    const firstOfKind = { ...this.firstOfKind }
    for (const f of records) {
      if (seen >= firstRecords) break
      seen++
      if (!f) continue
      failed++
      byKind[f.kind] = (byKind[f.kind] ?? 0) + 1
      firstOfKind[f.kind] ??= f
    }
    if (keep) {
      this.seen = seen
      this.failed = failed
      Object.assign(this.byKind, byKind)
      Object.assign(this.firstOfKind, firstOfKind)
    }
    // Over the share of the whole window: nothing the rest could read changes that. Over the
    // share of a shorter range, once it has ended.
    const of = failed * 100 > maxPercent * firstRecords ? firstRecords : last && seen < firstRecords && failed * 100 > maxPercent * seen ? seen : undefined
    if (of === undefined) return undefined
    const worstKind = (Object.keys(byKind) as FailureKind[]).reduce((a, b) => ((byKind[b] ?? 0) > (byKind[a] ?? 0) ? b : a))
    return { failed, seen, of, wholeRange: of < this.configuredWindow, maxPercent, byKind, worst: firstOfKind[worstKind]! }
  }
}

const WHAT_FAILED: Record<FailureKind, (formats: { key: string; value: string }) => string> = {
  'decode-value': (f) => `to decode as ${f.value}: check --value-format (and --schema or --registry for Avro)`,
  'decode-key': (f) => `to decode their key as ${f.key}: check --key-format`,
  transform: () => 'in the transform: check --transform (the plugin throws or returns no record)',
  encode: (f) =>
    `to encode for the sink as ${f.value}: check --output-schema-id and --reader-schema (the transform's output must fit the schema it is written with)`,
  sink: () => 'because the sink refused them: check --sink (its table, columns and constraints)',
}

/** FAILURE_RATE_EXCEEDED (exit 3): how many failed, where most of them did, and which flag to check. */
export function failureRateError(verdict: FailureRateVerdict, formats: { key: string; value: string }, topic: string): RecoveryError {
  const { failed, seen, of, wholeRange, maxPercent, byKind, worst } = verdict
  const percent = Math.round((failed * 1000) / seen) / 10
  const share = wholeRange
    ? `${failed} of the ${of} records of the range failed (${percent} %, more than --max-failure-rate ${maxPercent} %)`
    : `${failed} of the first ${seen} records read failed, more than --max-failure-rate ${maxPercent} % of the first ${of}`
  const quote = worst.message.length > 160 ? `${worst.message.slice(0, 159)}…` : worst.message
  return new RecoveryError(
    'FAILURE_RATE_EXCEEDED',
    `Stopped the replay of ${topic}: ${share}, most of them ${WHAT_FAILED[worst.kind](formats)}. First failure: ${worst.detail ? `${worst.detail}: ` : ''}${quote}`,
    {
      nextSteps: [
        'Fix that flag, then continue from the checkpoint (it holds what was written) with the command below.',
        'If these records really are bad, add --max-failure-rate 0 to replay everything and quarantine them.',
      ],
      details: { failed, seen, of, percent, maxPercent, byKind, stage: worst.kind, firstFailure: worst },
    },
  )
}
