import { RecoveryError } from '../errors.js'

/** One `--fail-on` condition: the run fails (exit 3) when `metric` is above (or at) `limit`. */
export interface Threshold {
  metric: string
  op: '>' | '>='
  limit: number
}

export interface ExceededThreshold extends Threshold {
  actual: number
}

/** Metrics `audit duplicates` reports, by their --fail-on name. */
export const DUPLICATES_METRICS = ['duplicates', 'copies', 'identical', 'same-value', 'changed', 'value-duplicates', 'undecodable', 'no-key'] as const
/** Metrics `audit compare` reports, by their --fail-on name. */
export const COMPARE_METRICS = ['missing', 'twice', 'only-in-sink', 'lost', 'undecodable', 'no-key'] as const

/**
 * `duplicates>10,missing>0` → thresholds. Metrics are checked against the command's own list
 * so a typo fails at once instead of never firing.
 */
export function parseFailOn(input: string, metrics: readonly string[]): Threshold[] {
  const out: Threshold[] = []
  for (const part of input.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const m = /^([a-z][a-z-]*)\s*(>=|>)\s*(\d+)$/i.exec(part)
    if (!m) throw new RecoveryError('BAD_FAIL_ON', `--fail-on ${input}: "${part}" is not METRIC>N; write it like --fail-on duplicates>0,undecodable>=10. Metrics: ${metrics.join(', ')}.`)
    const metric = m[1]!.toLowerCase()
    if (!metrics.includes(metric)) throw new RecoveryError('BAD_FAIL_ON', `--fail-on ${input}: this audit has no metric "${metric}"; it has ${metrics.join(', ')}.`)
    out.push({ metric, op: m[2] as '>' | '>=', limit: Number(m[3]) })
  }
  if (out.length === 0) throw new RecoveryError('BAD_FAIL_ON', `--fail-on is empty; write it like --fail-on duplicates>0. Metrics: ${metrics.join(', ')}.`)
  return out
}

/** The thresholds the metrics exceed, in the order they were given. */
export function exceededThresholds(thresholds: readonly Threshold[], metrics: Readonly<Record<string, number>>): ExceededThreshold[] {
  const out: ExceededThreshold[] = []
  for (const t of thresholds) {
    const actual = metrics[t.metric] ?? 0
    if (t.op === '>' ? actual > t.limit : actual >= t.limit) out.push({ ...t, actual })
  }
  return out
}

export function describeThreshold(t: Threshold): string {
  return `${t.metric}${t.op}${t.limit}`
}
