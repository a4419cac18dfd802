import { Flags } from '@oclif/core'
import { describeThreshold, type ExceededThreshold } from '../core/fail-on.js'
import { RecoveryError } from '../errors.js'

/** Flags every `recover audit` command that scans a range shares. */
export const auditOutputFlags = {
  db: Flags.string({ summary: 'The audit DuckDB file where this run is recorded (audit history reads it).', default: '.recover/audit.duckdb', helpGroup: 'OUTPUT' }),
  history: Flags.boolean({ summary: 'Record this run in --db. --no-history: record nothing.', default: true, allowNo: true, helpGroup: 'OUTPUT' }),
  report: Flags.string({ summary: 'Write every finding (not only the top ones) to FILE.csv or FILE.json.', helpGroup: 'OUTPUT' }),
  'fail-on': Flags.string({ summary: 'Exit 3 when a count exceeds its limit, for cron and CI: "duplicates>0,undecodable>=10" (quoted: > is a shell redirection).', helpGroup: 'OUTPUT' }),
}

/**
 * Exit 3 for cron and CI: the findings were printed (or written) already; the error carries
 * the exceeded conditions and, for --json, the whole result in its details.
 */
export function findingsOverThreshold(what: string, failOn: { exceeded: ExceededThreshold[] } | null, result: unknown): RecoveryError | undefined {
  if (!failOn || failOn.exceeded.length === 0) return undefined
  const list = failOn.exceeded.map((e) => `${e.metric} is ${e.actual} (--fail-on ${describeThreshold(e)})`).join(', ')
  return new RecoveryError('FINDINGS_OVER_THRESHOLD', `The ${what} found more than --fail-on allows: ${list}.`, {
    nextSteps: ['See the findings above (or --report FILE for all of them); recover audit history shows the trend.'],
    details: { exceeded: failOn.exceeded, result },
  })
}
