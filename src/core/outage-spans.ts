/** One Kafka outage a replay waited out (--broker-wait): when the wait began (epoch ms) and how long it took. */
export interface OutageSpan {
  sinceMs: number
  waitedMs: number
}

export interface OutageTotals {
  outages: number
  /** Time spent waiting in all (overlapping waits counted once), and the longest single outage. */
  waitedMs: number
  longestMs: number
}

/**
 * The outages several replays of one process waited out together: a --scale-out process runs
 * a replay per partition, and one broker killed stalls each partition it led at once, so
 * waits that overlap are one outage, lasting from the first wait's start to the last one's end.
 */
export function mergeOutageSpans(spans: readonly OutageSpan[]): OutageTotals {
  const sorted = [...spans].sort((a, b) => a.sinceMs - b.sinceMs)
  const merged: Array<{ start: number; end: number }> = []
  for (const s of sorted) {
    const last = merged[merged.length - 1]
    const end = s.sinceMs + s.waitedMs
    if (last && s.sinceMs <= last.end) last.end = Math.max(last.end, end)
    else merged.push({ start: s.sinceMs, end })
  }
  return {
    outages: merged.length,
    waitedMs: merged.reduce((sum, m) => sum + (m.end - m.start), 0),
    longestMs: merged.reduce((max, m) => Math.max(max, m.end - m.start), 0),
  }
}
