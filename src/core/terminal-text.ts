import cliTruncate from 'cli-truncate'
import stringWidth from 'string-width'
import wrapAnsi from 'wrap-ansi'

/**
 * Text sized for terminal cells, not string length: CJK keys and emoji take two cells each, so
 * `slice` would overflow the pane (and wrap the line) or cut a character in half.
 */

/** `text` in at most `width` cells, ending with "…" when cut. */
export function fitText(text: string, width: number): string {
  if (width <= 0) return ''
  const oneLine = text.replace(/[\r\n\t]+/g, ' ')
  return stringWidth(oneLine) <= width ? oneLine : cliTruncate(oneLine, width, { position: 'end' })
}

/** `text` padded with spaces to exactly `width` cells (cut with "…" when longer). */
export function padText(text: string, width: number): string {
  const fitted = fitText(text, width)
  return fitted + ' '.repeat(Math.max(0, width - stringWidth(fitted)))
}

/** The lines `text` takes in a pane `width` cells wide, long words broken where they must be. */
export function wrapText(text: string, width: number): string[] {
  if (width <= 0) return []
  return text.split('\n').flatMap((line) => (line === '' ? [''] : wrapAnsi(line.replace(/\t/g, '  '), width, { hard: true, trim: false }).split('\n')))
}

/** Cells `text` takes on a terminal. */
export function cellWidth(text: string): number {
  return stringWidth(text)
}

/** `text` in at most `width` cells, cut at its start ("…name-2@1750") when the end is what identifies it. */
export function fitTextStart(text: string, width: number): string {
  if (width <= 0) return ''
  const oneLine = text.replace(/[\r\n\t]+/g, ' ')
  return stringWidth(oneLine) <= width ? oneLine : cliTruncate(oneLine, width, { position: 'start' })
}

export interface ListColumn {
  text: string
  /** May be cut, down to `min` cells, when the line is too long; columns give way in the order given. */
  flexible?: boolean
  min?: number
  /** Which end of the text the "…" replaces. */
  cut?: 'start' | 'end'
}

/**
 * Columns of a list line that share `width` cells: each gets its natural width while all fit;
 * otherwise the flexible ones give up cells (the first flexible one first) and are cut with
 * "…". Fixed columns are never cut before the flexible ones are down to `min`.
 */
export function fitColumns(columns: ListColumn[], width: number, gap = ' '): string {
  const widths = columns.map((c) => cellWidth(c.text))
  let over = widths.reduce((a, b) => a + b, 0) + gap.length * (columns.length - 1) - width
  for (let i = 0; i < columns.length && over > 0; i++) {
    const c = columns[i]!
    if (!c.flexible) continue
    const give = Math.min(over, Math.max(0, widths[i]! - (c.min ?? 8)))
    widths[i]! -= give
    over -= give
  }
  const cut = columns.map((c, i) => {
    if (widths[i]! >= cellWidth(c.text)) return c.text
    return c.cut === 'start' ? fitTextStart(c.text, widths[i]!) : fitText(c.text, widths[i]!)
  })
  return fitText(cut.join(gap), width)
}
