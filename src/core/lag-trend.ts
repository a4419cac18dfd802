/**
 * Lag samples of a consumer group over time (groups describe --watch, groups history): one
 * sample per topic-partition per measurement, and the summary of a series of them. Pure.
 */

export interface LagPoint {
  /** ISO-8601 instant the sample was measured at. */
  sampledAt: string
  /** Records behind; null when the group never committed the partition. */
  lag: number | null
  /** Age of the next record the group will read, ms; null when not measured. */
  lagMs: number | null
}

export interface LagSeries {
  /** `topic` and `partition`, or `*` and null for the group's total (sum of records, oldest time). */
  topic: string
  partition: number | null
  samples: number
  firstAt: string
  lastAt: string
  lag: MinMaxLast
  lagMs: MinMaxLast
  /** Every point, oldest first (the sparkline's data). */
  points: LagPoint[]
}

export interface MinMaxLast {
  min: number | null
  max: number | null
  last: number | null
}

export interface PartitionSample {
  topic: string
  partition: number
  lag: number | null
  lagMs: number | null
}

/** One series per topic-partition (sorted) plus the total, from samples of many measurements. */
export function lagSeries(rows: ReadonlyArray<PartitionSample & { sampledAt: string }>): { partitions: LagSeries[]; total: LagSeries | null } {
  const byPartition = new Map<string, { topic: string; partition: number; points: LagPoint[] }>()
  const byTime = new Map<string, LagPoint>()
  for (const r of rows) {
    const id = `${r.topic}\0${r.partition}`
    let series = byPartition.get(id)
    if (!series) byPartition.set(id, (series = { topic: r.topic, partition: r.partition, points: [] }))
    series.points.push({ sampledAt: r.sampledAt, lag: r.lag, lagMs: r.lagMs })
    const total = byTime.get(r.sampledAt) ?? { sampledAt: r.sampledAt, lag: null, lagMs: null }
    if (r.lag !== null) total.lag = (total.lag ?? 0) + r.lag
    if (r.lagMs !== null) total.lagMs = Math.max(total.lagMs ?? 0, r.lagMs)
    byTime.set(r.sampledAt, total)
  }
  const partitions = [...byPartition.values()]
    .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition))
    .map((s) => summarise(s.topic, s.partition, s.points))
  const totalPoints = [...byTime.values()]
  return { partitions, total: totalPoints.length === 0 ? null : summarise('*', null, totalPoints) }
}

function summarise(topic: string, partition: number | null, points: LagPoint[]): LagSeries {
  const sorted = [...points].sort((a, b) => (a.sampledAt < b.sampledAt ? -1 : a.sampledAt > b.sampledAt ? 1 : 0))
  return {
    topic,
    partition,
    samples: sorted.length,
    firstAt: sorted[0]!.sampledAt,
    lastAt: sorted[sorted.length - 1]!.sampledAt,
    lag: minMaxLast(sorted.map((p) => p.lag)),
    lagMs: minMaxLast(sorted.map((p) => p.lagMs)),
    points: sorted,
  }
}

export function minMaxLast(values: ReadonlyArray<number | null>): MinMaxLast {
  const measured = values.filter((v): v is number => v !== null)
  return {
    min: measured.length === 0 ? null : Math.min(...measured),
    max: measured.length === 0 ? null : Math.max(...measured),
    last: values.length === 0 ? null : (values[values.length - 1] ?? null),
  }
}
