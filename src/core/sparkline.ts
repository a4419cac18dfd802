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

/**
 * `values` squeezed into at most `width` buckets, each the largest value in it (the worst lag
 * of its stretch of time), so a sparkline of a long history spans all of it.
 */
export function bucketMax(values: ReadonlyArray<number | null>, width: number): Array<number | null> {
  if (values.length <= width) return [...values]
  const out: Array<number | null> = []
  for (let b = 0; b < width; b++) {
    const slice = values.slice(Math.floor((b * values.length) / width), Math.floor(((b + 1) * values.length) / width))
    const measured = slice.filter((v): v is number => v !== null)
    out.push(measured.length === 0 ? null : Math.max(...measured))
  }
  return out
}
