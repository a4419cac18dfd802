import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { AuditDatabase } from '../duckdb/audit-db.js'
import { readHistory, type HistoryRun, type TopicHistory } from '../duckdb/history.js'

export interface AuditHistoryRequest {
  /** The audit DuckDB file (`--db`). */
  db: string
  topic?: string
  /** Runs shown per topic, newest first. Default 10. */
  limit?: number
}

/** A count of the newest run against the run before it (of the same kind of audit). */
export interface TrendFigure {
  metric: string
  latest: number
  previous: number | null
  change: number | null
}

export interface TopicTrend extends TopicHistory {
  /** Latest vs previous duplicates run, and latest vs previous compare run. */
  trend: TrendFigure[]
}

export interface AuditHistoryResult {
  db: string
  exists: boolean
  topics: TopicTrend[]
}

/** `recover audit history`: the runs kept in the audit file, per topic, with the trend. Read-only. */
export async function auditHistory(request: AuditHistoryRequest): Promise<AuditHistoryResult> {
  const path = resolve(request.db)
  if (!existsSync(path)) return { db: path, exists: false, topics: [] }
  const db = await AuditDatabase.open()
  try {
    await db.attachHistory(path, { readOnly: true })
    const topics = await readHistory(db, { topic: request.topic, limit: request.limit ?? 10 })
    return { db: path, exists: true, topics: topics.map((t) => ({ ...t, trend: trendOf(t.recent) })) }
  } finally {
    db.close()
  }
}

const TRACKED: Array<{ audit: HistoryRun['audit']; metric: string; pick: (r: HistoryRun) => number | null }> = [
  { audit: 'duplicates', metric: 'duplicate keys', pick: (r) => r.duplicateKeys },
  { audit: 'duplicates', metric: 'extra copies', pick: (r) => r.extraCopies },
  { audit: 'duplicates', metric: 'undecodable', pick: (r) => r.undecodable },
  { audit: 'compare', metric: 'missing from sink', pick: (r) => r.missing },
  { audit: 'compare', metric: 'twice in sink', pick: (r) => r.twice },
  { audit: 'compare', metric: 'only in sink', pick: (r) => r.onlyInSink },
  { audit: 'compare', metric: 'lost offsets', pick: (r) => r.lost },
]

/**
 * Runs are newest first. The newest run of each kind is compared with the run before it that
 * audited the same way (same key, same sink), so changing --key does not look like a trend.
 */
export function trendOf(runs: readonly HistoryRun[]): TrendFigure[] {
  const out: TrendFigure[] = []
  for (const t of TRACKED) {
    const [latestRun, ...older] = runs.filter((r) => r.audit === t.audit && t.pick(r) !== null)
    if (!latestRun) continue
    const previousRun = older.find((r) => r.key === latestRun.key && r.sink === latestRun.sink)
    const latest = t.pick(latestRun)!
    const previous = previousRun ? t.pick(previousRun)! : null
    out.push({ metric: t.metric, latest, previous, change: previous === null ? null : latest - previous })
  }
  return out
}
