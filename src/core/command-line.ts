/**
 * Splits one command line the way a POSIX shell would for the simple cases runbooks use:
 * whitespace separates words, '…' is literal, "…" keeps spaces (\" and \\ escape), a
 * backslash escapes the next character, and a backslash at the end of a line continues it.
 * No variables, globs, pipes or redirections: a runbook step is one command, nothing more.
 */
export function splitCommandLine(text: string): string[] {
  const words: string[] = []
  let word = ''
  let inWord = false
  let quote: '"' | "'" | undefined
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (quote === "'") {
      if (c === "'") quote = undefined
      else word += c
      continue
    }
    if (quote === '"') {
      if (c === '"') quote = undefined
      else if (c === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\')) word += text[++i]
      else word += c
      continue
    }
    if (c === '\\') {
      const next = text[i + 1]
      if (next === '\n') i++
      else if (next !== undefined) {
        word += next
        inWord = true
        i++
      }
      continue
    }
    if (c === "'" || c === '"') {
      quote = c
      inWord = true
      continue
    }
    if (/\s/.test(c)) {
      if (inWord) words.push(word)
      word = ''
      inWord = false
      continue
    }
    if (/[|;&<>`$]/.test(c)) throw new CommandLineError(`"${c}" is shell syntax; a step is a single recover command (quote it if it is part of a value)`)
    word += c
    inWord = true
  }
  if (quote) throw new CommandLineError(`an unclosed ${quote} quote`)
  if (inWord) words.push(word)
  return words
}

export class CommandLineError extends Error {}

/** One argument as a POSIX shell reads it back unchanged: bare when safe, else in single quotes. */
export function quoteArgument(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`
}
