import { num, type AuditDatabase, type Row } from './audit-db.js'

/**
 * Lag samples of consumer groups in the audit DuckDB file (attached as `history`), beside the
 * audit runs: `groups describe --record` appends one row per topic-partition per sample, and
 * `groups history` reads the trend. The cluster id is kept so two clusters' groups of the same
 * name never mix.
 */

export interface LagSampleRow {
  sampledAt: string
  clusterId: string
  groupId: string
  topic: string
  partition: number
  committedOffset: bigint | null
  logEndOffset: bigint
  lag: bigint | null
  lagMs: number | null
}

export async function ensureLagSchema(db: AuditDatabase): Promise<void> {
  await db.run(`CREATE TABLE IF NOT EXISTS history.lag_samples (
    sampled_at TIMESTAMPTZ NOT NULL, cluster_id VARCHAR NOT NULL, group_id VARCHAR NOT NULL, topic VARCHAR NOT NULL, partition INTEGER NOT NULL,
    committed_offset BIGINT, log_end_offset BIGINT NOT NULL, lag BIGINT, lag_ms BIGINT)`)
}

export async function appendLagSamples(db: AuditDatabase, rows: readonly LagSampleRow[]): Promise<void> {
  // A few hundred partitions at most per sample: plain parameterised inserts in one transaction.
  await db.run('BEGIN TRANSACTION')
  try {
    for (const r of rows) {
      await db.run('INSERT INTO history.lag_samples VALUES ($1::TIMESTAMPTZ, $2, $3, $4, $5, $6, $7, $8, $9)', [
        r.sampledAt,
        r.clusterId,
        r.groupId,
        r.topic,
        r.partition,
        r.committedOffset,
        r.logEndOffset,
        r.lag,
        r.lagMs === null ? null : BigInt(Math.round(r.lagMs)),
      ])
    }
    await db.run('COMMIT')
  } catch (error) {
    await db.run('ROLLBACK').catch(() => undefined)
    throw error
  }
}

/** The samples of a group since an instant (all when undefined), oldest first. */
export async function readLagSamples(
  db: AuditDatabase,
  options: { groupId: string; sinceMs?: number; topic?: string },
): Promise<Array<Omit<LagSampleRow, 'committedOffset' | 'logEndOffset' | 'lag'> & { lag: number | null }>> {
  const exists = await db.one(`SELECT count(*) AS n FROM duckdb_tables() WHERE database_name = 'history' AND table_name = 'lag_samples'`)
  if (num(exists.n) === 0) return []
  const where = ['group_id = $1']
  const params: Array<string | number> = [options.groupId]
  if (options.sinceMs !== undefined) {
    params.push(new Date(options.sinceMs).toISOString())
    where.push(`sampled_at >= $${params.length}::TIMESTAMPTZ`)
  }
  if (options.topic !== undefined) {
    params.push(options.topic)
    where.push(`topic = $${params.length}`)
  }
  const rows = await db.all(
    `SELECT sampled_at, cluster_id, group_id, topic, partition, lag, lag_ms FROM history.lag_samples WHERE ${where.join(' AND ')} ORDER BY sampled_at, topic, partition`,
    params,
  )
  return rows.map((r: Row) => ({
    sampledAt: r.sampled_at instanceof Date ? r.sampled_at.toISOString() : new Date(String(r.sampled_at)).toISOString(),
    clusterId: String(r.cluster_id),
    groupId: String(r.group_id),
    topic: String(r.topic),
    partition: num(r.partition),
    lag: r.lag === null ? null : num(r.lag),
    lagMs: r.lag_ms === null ? null : num(r.lag_ms),
  }))
}
