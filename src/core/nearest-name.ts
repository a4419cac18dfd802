/**
 * The names a misspelt one most likely meant, best first: those within a few edits (a swap of
 * two neighbours counts as one, case is ignored) and those that contain it or that it contains
 * ("order" → "orders", "orders.v2"), and none much further off than the best. Nothing when no
 * name is close: a wild guess is worse than none.
 */
export function nearestNames(wanted: string, names: readonly string[], limit = 3): string[] {
  const target = wanted.toLowerCase()
  if (target === '') return []
  const allowed = Math.max(2, Math.floor(target.length / 3))
  const scored: Array<{ name: string; score: number }> = []
  for (const name of names) {
    const candidate = name.toLowerCase()
    if (candidate === target && name !== wanted) {
      scored.push({ name, score: 0 })
      continue
    }
    const distance = editDistance(target, candidate)
    if (distance <= allowed) scored.push({ name, score: distance })
    else if (target.length >= 3 && (candidate.includes(target) || target.includes(candidate)))
      scored.push({ name, score: allowed + Math.abs(candidate.length - target.length) / 100 })
  }
  scored.sort((a, b) => a.score - b.score || a.name.localeCompare(b.name))
  // Names much further off than the best guess are noise next to it ("orders-2024" beside "orders").
  const best = scored[0]?.score ?? 0
  return scored
    .filter((s) => s.score <= best + 2)
    .slice(0, limit)
    .map((s) => s.name)
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps cost one each. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1
  const cols = b.length + 1
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1)
      d[i]![j] = best
    }
  }
  return d[a.length]![b.length]!
}
