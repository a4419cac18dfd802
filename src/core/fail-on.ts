import { RecoveryError } from '../errors.js'

/**
 * One `--fail-on` condition: the run fails (exit 3) when `metric` is above (or at) `limit`,
 * or for a floor metric (records) below (or at) it.
 */
export interface Threshold {
  metric: string
  op: '>' | '>=' | '<' | '<='
  limit: number
}

export interface ExceededThreshold extends Threshold {
  actual: number
  /** Not written in --fail-on: an empty range fails every --fail-on as records<1. */
  implied?: true
}

/** What --fail-on decided: the conditions as written, those exceeded, and whether the run passed. */
export interface FailOnOutcome {
  conditions: string[]
  exceeded: ExceededThreshold[]
  passed: boolean
}

/** Metrics `audit duplicates` reports, by their --fail-on name. */
export const DUPLICATES_METRICS = [
  'duplicates',
  'copies',
  'identical',
  'same-value',
  'changed',
  'value-duplicates',
  'undecodable',
  'no-key',
  'records',
] as const
/** Metrics `audit compare` reports, by their --fail-on name (records: source records read). */
export const COMPARE_METRICS = ['missing', 'twice', 'only-in-sink', 'lost', 'duplicated', 'unmatched', 'undecodable', 'no-key', 'records'] as const

/** Metrics that fail when too low rather than too high: a nightly audit that read too little proves nothing. */
const FLOOR_METRICS = new Set(['records'])

/** The metrics and their comparisons, for error messages and --help. */
export function describeMetrics(metrics: readonly string[]): string {
  const ceilings = metrics.filter((m) => !FLOOR_METRICS.has(m))
  const floors = metrics.filter((m) => FLOOR_METRICS.has(m))
  return [ceilings.length > 0 ? `${ceilings.join(', ')} (with > or >=)` : '', floors.length > 0 ? `${floors.join(', ')} (with < or <=)` : '']
    .filter(Boolean)
    .join('; ')
}

/**
 * `duplicates>10,missing>0,records<1000` → thresholds. Metrics are checked against the
 * command's own list so a typo fails at once instead of never firing, and each metric against
 * its direction (`duplicates<3` or `records>0` would pass exactly the nights that matter).
 */
export function parseFailOn(input: string, metrics: readonly string[]): Threshold[] {
  const out: Threshold[] = []
  const example = 'write it like --fail-on "duplicates>0,undecodable>=10,records<1"'
  for (const part of input
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')) {
    const m = /^([a-z][a-z-]*)\s*(>=|>|<=|<)\s*(\d+)$/i.exec(part)
    if (!m)
      throw new RecoveryError('BAD_FAIL_ON', `--fail-on ${input}: "${part}" is not METRIC>N (or records<N); ${example}. Metrics: ${describeMetrics(metrics)}.`)
    const metric = m[1]!.toLowerCase()
    const op = m[2] as Threshold['op']
    if (!metrics.includes(metric))
      throw new RecoveryError('BAD_FAIL_ON', `--fail-on ${input}: this audit has no metric "${metric}"; it has ${describeMetrics(metrics)}.`)
    const floor = FLOOR_METRICS.has(metric)
    if (floor !== op.startsWith('<')) {
      throw new RecoveryError(
        'BAD_FAIL_ON',
        `--fail-on ${input}: "${part}" compares the wrong way: ${floor ? `${metric} fails when too low (${metric}<N or ${metric}<=N)` : `${metric} fails when too high (${metric}>N or ${metric}>=N)`}. Metrics: ${describeMetrics(metrics)}.`,
      )
    }
    out.push({ metric, op, limit: Number(m[3]) })
  }
  if (out.length === 0) throw new RecoveryError('BAD_FAIL_ON', `--fail-on is empty; ${example}. Metrics: ${describeMetrics(metrics)}.`)
  return out
}

/** The thresholds the metrics exceed, in the order they were given. */
export function exceededThresholds(thresholds: readonly Threshold[], metrics: Readonly<Record<string, number>>): ExceededThreshold[] {
  const out: ExceededThreshold[] = []
  for (const t of thresholds) {
    const actual = metrics[t.metric] ?? 0
    const exceeded = t.op === '>' ? actual > t.limit : t.op === '>=' ? actual >= t.limit : t.op === '<' ? actual < t.limit : actual <= t.limit
    if (exceeded) out.push({ ...t, actual })
  }
  return out
}

/**
 * --fail-on applied to a run's metrics. An empty range never passes: zero findings in zero
 * records says nothing (a topic that stopped receiving, a window in the future, retention), so
 * it counts as `records<1` exceeded even when --fail-on does not name records.
 */
export function evaluateFailOn(thresholds: readonly Threshold[], metrics: Readonly<Record<string, number>> & { records: number }): FailOnOutcome {
  const exceeded = exceededThresholds(thresholds, metrics)
  if (metrics.records === 0 && !exceeded.some((e) => e.metric === 'records')) exceeded.push({ metric: 'records', op: '<', limit: 1, actual: 0, implied: true })
  return { conditions: thresholds.map(describeThreshold), exceeded, passed: exceeded.length === 0 }
}

export function describeThreshold(t: Threshold): string {
  return `${t.metric}${t.op}${t.limit}`
}
