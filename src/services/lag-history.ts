import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { lagSeries, type LagSeries } from '../core/lag-trend.js'
import { AuditDatabase } from '../duckdb/audit-db.js'
import { appendLagSamples, ensureLagSchema, readLagSamples } from '../duckdb/lag-history.js'
import type { GroupDetail } from './describe-group.js'

/**
 * Lag samples in the audit DuckDB file: `groups describe --record` writes them, `groups
 * history` reads the trend. The file is opened for each sample and closed again, so a watch
 * that records for hours never keeps it locked from an audit.
 */
export async function recordLagSample(db: string, clusterId: string, detail: GroupDetail): Promise<{ db: string; rows: number }> {
  const path = resolve(db)
  const database = await AuditDatabase.open()
  try {
    await database.attachHistory(path)
    await ensureLagSchema(database)
    const rows = detail.partitions.map((p) => ({
      sampledAt: detail.measuredAt,
      clusterId,
      groupId: detail.groupId,
      topic: p.topic,
      partition: p.partition,
      committedOffset: p.committedOffset,
      logEndOffset: p.logEndOffset,
      lag: p.lag,
      lagMs: p.lagMs,
    }))
    await appendLagSamples(database, rows)
    return { db: path, rows: rows.length }
  } finally {
    database.close()
  }
}

export interface GroupHistoryRequest {
  db: string
  groupId: string
  /** Only samples at or after this instant (epoch ms). */
  sinceMs?: number
  topic?: string
}

export interface GroupHistoryResult {
  db: string
  groupId: string
  since: string | null
  /** Cluster ids the samples were taken on (more than one: the same group name on several clusters). */
  clusters: string[]
  /** Distinct measurements. */
  samples: number
  partitions: LagSeries[]
  /** Per measurement: the sum of the records behind and the oldest unread record. */
  total: LagSeries | null
}

/** `recover groups history`: the recorded lag of a group, per partition and in total. Read-only. */
export async function groupLagHistory(request: GroupHistoryRequest): Promise<GroupHistoryResult> {
  const path = resolve(request.db)
  const since = request.sinceMs === undefined ? null : new Date(request.sinceMs).toISOString()
  const empty: GroupHistoryResult = { db: path, groupId: request.groupId, since, clusters: [], samples: 0, partitions: [], total: null }
  if (!existsSync(path)) return empty
  const database = await AuditDatabase.open()
  try {
    await database.attachHistory(path, { readOnly: true })
    const rows = await readLagSamples(database, { groupId: request.groupId, sinceMs: request.sinceMs, topic: request.topic })
    if (rows.length === 0) return empty
    const { partitions, total } = lagSeries(rows)
    return {
      ...empty,
      clusters: [...new Set(rows.map((r) => r.clusterId))].sort(),
      samples: new Set(rows.map((r) => r.sampledAt)).size,
      partitions,
      total,
    }
  } finally {
    database.close()
  }
}
