const BARS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█']

/**
 * A sparkline of the last `width` values: one bar per value, scaled from the smallest to the
 * largest of those shown (all equal: the lowest bar, so a steady lag reads flat). Nulls (not
 * measured) are a space, so a gap is not mistaken for zero.
 */
export function sparkline(values: ReadonlyArray<number | null>, width = values.length): string {
  const shown = width <= 0 ? [] : values.slice(-width)
  const measured = shown.filter((v): v is number => v !== null && Number.isFinite(v))
  if (measured.length === 0) return ' '.repeat(shown.length)
  const low = Math.min(...measured)
  const high = Math.max(...measured)
  return shown
    .map((v) => {
      if (v === null || !Number.isFinite(v)) return ' '
      if (high === low) return BARS[0]
      return BARS[Math.min(BARS.length - 1, Math.floor(((v - low) / (high - low)) * BARS.length))]
    })
    .join('')
}
