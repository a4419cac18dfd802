/** The width plain output is laid out for: a terminal of 80 columns, the smallest still common. */
export const PLAIN_WIDTH = 80

/**
 * Text wrapped at spaces into lines of at most `width` columns, continuation lines indented by
 * `indent`. A word longer than a line (a URL, a class name, a JSON map) is split across lines
 * rather than cut: nothing is lost, and no line is wider than `width`.
 */
export function wrapWords(text: string, width = PLAIN_WIDTH, indent = ''): string[] {
  const lines: string[] = []
  let line = ''
  const room = () => width - (lines.length === 0 ? 0 : indent.length)
  const flush = () => {
    lines.push(lines.length === 0 ? line : `${indent}${line}`)
    line = ''
  }
  for (const word of text.split(/ +/)) {
    if (line !== '' && line.length + 1 + word.length <= room()) {
      line += ` ${word}`
      continue
    }
    if (line !== '') flush()
    let rest = word
    while (rest.length > room()) {
      line = rest.slice(0, room())
      rest = rest.slice(line.length)
      flush()
    }
    line = rest
  }
  if (line !== '' || lines.length === 0) flush()
  return lines
}

/** Every line of a block wrapped to `width` (leading spaces of a line kept for its continuations). */
export function wrapBlock(block: string, width = PLAIN_WIDTH): string {
  return block
    .split('\n')
    .flatMap((line) => {
      if (line.length <= width) return [line]
      const lead = /^ */.exec(line)![0]
      return wrapWords(line.slice(lead.length), width - lead.length, '  ').map((l) => `${lead}${l}`)
    })
    .join('\n')
}

/** The widest line of a block. */
export function widestLine(block: string): number {
  return block.split('\n').reduce((w, l) => Math.max(w, l.length), 0)
}
