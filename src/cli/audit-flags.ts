import { Flags } from '@oclif/core'
import { describeThreshold, type ExceededThreshold } from '../core/fail-on.js'
import { RecoveryError } from '../errors.js'
import type { SchemaSourceOptions } from '../codecs/create-codecs.js'
import type { CodecFormat } from '../codecs/codec.js'
import type { ScanRequest } from '../services/audit-scan.js'
import type { AuditDatabaseOptions } from '../duckdb/audit-db.js'

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
