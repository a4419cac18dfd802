/**
 * Shell words as a POSIX shell reads a command line, for help examples that must survive a
 * copy and paste: wrapping may only happen between words, and a test checks that the wrapped
 * text reads back as the same words.
 */

/** The words of `line` as written (quotes and escapes kept): where a line may be broken. */
export function rawShellWords(line: string): string[] {
  const words: string[] = []
  let word = ''
  let quote: "'" | '"' | undefined
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!
    if (quote) {
      word += ch
      if (ch === '\\' && quote === '"' && i + 1 < line.length) word += line[++i]!
      else if (ch === quote) quote = undefined
    } else if (ch === ' ' || ch === '\t' || ch === '\n') {
      if (word !== '') words.push(word)
      word = ''
    } else {
      word += ch
      if (ch === "'" || ch === '"') quote = ch
      else if (ch === '\\' && i + 1 < line.length) word += line[++i]!
    }
  }
  if (word !== '') words.push(word)
  return words
}

/**
 * The arguments a shell passes for `text` (quotes removed, escapes applied, backslash-newline
 * joining lines outside single quotes): what a pasted example really runs.
 */
export function shellArguments(text: string): string[] {
  const args: string[] = []
  let arg: string | undefined
  let quote: "'" | '"' | undefined
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!
    if (quote === "'") {
      if (ch === "'") quote = undefined
      else arg += ch
    } else if (quote === '"') {
      if (ch === '"') quote = undefined
      else if (ch === '\\' && text[i + 1] === '\n') i++
      else if (ch === '\\' && /["\\$`]/.test(text[i + 1] ?? '')) arg += text[++i]!
      else arg += ch
    } else if (ch === '\\' && text[i + 1] === '\n') {
      i++
    } else if (ch === ' ' || ch === '\t' || ch === '\n') {
      if (arg !== undefined) args.push(arg)
      arg = undefined
    } else if (ch === "'" || ch === '"') {
      arg ??= ''
      quote = ch
    } else if (ch === '\\') {
      arg = (arg ?? '') + (text[++i] ?? '')
    } else {
      arg = (arg ?? '') + ch
    }
  }
  if (arg !== undefined) args.push(arg)
  return args
}

/**
 * `line` broken into lines of at most `width` characters, only between shell words: a URL or a
 * quoted argument is never cut. A word longer than `width` gets a line of its own.
 */
export function wrapShellWords(line: string, width: number): string[] {
  const lines: string[] = []
  let current = ''
  for (const word of rawShellWords(line)) {
    if (current === '') current = word
    else if (current.length + 1 + word.length <= width) current += ` ${word}`
    else {
      lines.push(current)
      current = word
    }
  }
  if (current !== '') lines.push(current)
  return lines
}
