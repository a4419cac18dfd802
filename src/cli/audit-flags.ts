import { Flags } from './oclif.js'
import { describeMetrics, describeThreshold, type COMPARE_METRICS, type DUPLICATES_METRICS, type FailOnOutcome } from '../core/fail-on.js'
import { join } from 'node:path'
import { RecoveryError } from '../errors.js'
import { recoverStateDir } from '../config/state-dir.js'
import type { ProjectConfig } from '../config/project-config.js'
import type { SchemaSourceOptions } from '../codecs/create-codecs.js'
import type { CodecFormat } from '../codecs/codec.js'
import type { ScanRequest } from '../services/audit-scan.js'
import type { AuditDatabaseOptions } from '../duckdb/audit-db.js'

/** Flags every `recover audit` command that scans a range shares; `metrics` are its --fail-on metrics. */
export function auditOutputFlags(metrics: typeof DUPLICATES_METRICS | typeof COMPARE_METRICS) {
  return {
    db: Flags.string({
      summary: `The audit DuckDB file where this run is recorded (audit history reads it). Default: ${DEFAULT_AUDIT_DB}.`,
      helpGroup: 'OUTPUT',
    }),
    history: Flags.boolean({ summary: 'Record this run in --db. --no-history: record nothing.', default: true, allowNo: true, helpGroup: 'OUTPUT' }),
    report: Flags.string({ summary: 'Write every finding (not only the top ones) to FILE.csv or FILE.json.', helpGroup: 'OUTPUT' }),
    'fail-on': Flags.string({
      summary: `Exit 3 when a count passes its limit, for cron and CI: "duplicates>0,undecodable>=10,records<1000" (quoted: > and < are shell redirections); an empty range always fails. Metrics: ${describeMetrics(metrics)}.`,
      helpGroup: 'OUTPUT',
    }),
  }
}

/** How --help names the default audit file. */
export const DEFAULT_AUDIT_DB = "audit.duckdb in recover's state folder (RECOVER_HOME, else stateDir of recover.config.json, else ~/.recover)"

/**
 * The audit history file: --db, else audit.duckdb in recover's state folder, so a cron job and
 * a person in another folder read and write the same history.
 */
export function auditDbPath(db: string | undefined, project?: Pick<ProjectConfig, 'path' | 'defaults'>): string {
  return db ?? join(recoverStateDir(project).dir, 'audit.duckdb')
}

/**
 * Exit 3 for cron and CI when --fail-on did not pass: what was exceeded, or that the range was
 * empty (which never passes). The command still returns its result (see endWithFindings).
 */
export function failOnFailure(what: string, result: { failOn: FailOnOutcome | null; window: { from: string; to: string } }): RecoveryError | undefined {
  const failOn = result.failOn
  if (!failOn || failOn.passed) return undefined
  const details = { exceeded: failOn.exceeded }
  if (failOn.exceeded.some((e) => e.metric === 'records' && e.actual === 0)) {
    return new RecoveryError(
      'FINDINGS_OVER_THRESHOLD',
      `The range is empty: the ${what} read no records from ${result.window.from} to ${result.window.to}, and an empty range never passes --fail-on.`,
      {
        nextSteps: ['Check --from, --to and --partitions; a topic nobody writes to any more, or retention, also leaves the range empty.'],
        details,
      },
    )
  }
  const list = failOn.exceeded.map((e) => `${e.metric} is ${e.actual} (--fail-on ${describeThreshold(e)})`).join(', ')
  return new RecoveryError('FINDINGS_OVER_THRESHOLD', `The ${what} is past its --fail-on limits: ${list}.`, {
    nextSteps: ['See the findings above (or --report FILE for all of them); recover audit history shows the trend.'],
    details,
  })
}

/** The range and key flags every scanning audit shares, parsed into the scan request. */
export async function scanRequestFromFlags(
  flags: { topic: string; partitions?: string; from?: string; to?: string; tz?: string; key: string; 'value-format'?: string },
  schemas: SchemaSourceOptions,
): Promise<ScanRequest> {
  const { parseRangeBound, parsePartitionList } = await import('../core/replay-range.js')
  const { parseKeySelector } = await import('../core/audit-key.js')
  const tz = { tz: flags.tz }
  return {
    topic: flags.topic,
    partitions: flags.partitions === undefined ? undefined : parsePartitionList(flags.partitions),
    from: flags.from === undefined ? undefined : parseRangeBound(flags.from, '--from', tz),
    to: flags.to === undefined ? undefined : parseRangeBound(flags.to, '--to', tz),
    key: parseKeySelector(flags.key),
    valueFormat: flags['value-format'] as CodecFormat | undefined,
    schemas,
  }
}

/** DuckDB settings of an audit run, from the environment (RECOVER_DUCKDB_MEMORY). */
export function auditDuckdbOptions(): AuditDatabaseOptions {
  return { memoryLimit: process.env.RECOVER_DUCKDB_MEMORY }
}
