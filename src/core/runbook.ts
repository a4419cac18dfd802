import { CommandLineError, splitCommandLine } from './command-line.js'

/**
 * Executable runbooks: Markdown a person reads, with the steps in fenced blocks a machine runs.
 *
 *   ```runbook-vars                 one variable a line: NAME: meaning, or NAME = default: meaning
 *   group: The consumer group that stopped.
 *   schema = fixtures/schemas: Avro schemas.
 *   ```
 *
 *   ```recover destructive          one step: one `recover …` command, {{NAME}} placeholders;
 *   recover seek --group {{group}} --to {{from}} --execute
 *   ```
 *
 * Step markers after `recover`: `destructive` (asks before running), `rollback` (runs only
 * with --rollback). Any other fenced block (```sh, ```text) is for people and never runs.
 * The title is the first `# ` heading, the summary the paragraph under it, and each step is
 * named by the text just above its block (or the section heading).
 */

export interface RunbookVariable {
  name: string
  description: string
  default?: string
}

export interface RunbookStep {
  /** 1-based, in file order, rollback steps included. */
  number: number
  title: string
  /** The `## ` section the step is in (Confirm, Recover, Verify, Roll back…). */
  section: string
  /** 1-based line of the command in the file. */
  line: number
  /** Words after splitting, placeholders still in them; argv[0] is "recover". */
  words: string[]
  destructive: boolean
  rollback: boolean
}

export interface Runbook {
  name: string
  title: string
  summary: string
  variables: RunbookVariable[]
  steps: RunbookStep[]
}

export class RunbookFormatError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message)
  }
}

const MARKERS = new Set(['destructive', 'rollback'])
const PLACEHOLDER = /\{\{\s*([A-Za-z_][\w-]*)\s*\}\}/g

export function parseRunbook(name: string, text: string): Runbook {
  const lines = text.split(/\r?\n/)
  let title = ''
  let summary = ''
  let section = ''
  let lastProse = ''
  let summaryState: 'before' | 'in' | 'done' = 'before'
  let paragraphDone = true
  const variables: RunbookVariable[] = []
  const steps: RunbookStep[] = []

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    const fence = /^```\s*([\w-]*)\s*(.*)$/.exec(line)
    if (fence) {
      if (summaryState === 'in') summaryState = 'done'
      paragraphDone = true
      const start = i
      const body: string[] = []
      for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!)
      if (i >= lines.length) throw new RunbookFormatError(start + 1, 'a fenced block is never closed')
      const kind = fence[1]
      if (kind === 'runbook-vars') variables.push(...parseVariables(body, start + 2))
      else if (kind === 'recover') steps.push(parseStep(body, fence[2]!, start + 2, steps.length + 1, section, lastProse))
      continue
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line)
    if (heading) {
      if (heading[1] === '#' && !title) title = heading[2]!.trim()
      if (summaryState === 'in') summaryState = 'done'
      if (heading[1] === '##') section = heading[2]!.trim()
      lastProse = heading[2]!.trim()
      paragraphDone = true
      continue
    }
    if (line.trim() === '') {
      if (summaryState === 'in') summaryState = 'done'
      paragraphDone = true
      continue
    }
    // A step is named by the whole paragraph above it.
    lastProse = paragraphDone ? line.trim() : `${lastProse} ${line.trim()}`
    paragraphDone = false
    // The summary is the first paragraph under the title.
    if (title && summaryState !== 'done' && section === '') {
      summary = summary ? `${summary} ${line.trim()}` : line.trim()
      summaryState = 'in'
    }
  }
  if (!title) throw new RunbookFormatError(1, 'it has no "# Title" heading')
  if (steps.length === 0) throw new RunbookFormatError(1, 'it has no ```recover step')

  const declared = new Set([...variables.map((v) => v.name), ...BUILT_IN_VARIABLES])
  for (const step of steps) {
    for (const word of step.words) {
      for (const m of word.matchAll(PLACEHOLDER)) {
        if (!declared.has(m[1]!)) throw new RunbookFormatError(step.line, `{{${m[1]}}} is not declared in the runbook-vars block`)
      }
    }
  }
  return { name, title, summary, variables, steps }
}

function parseVariables(body: string[], firstLine: number): RunbookVariable[] {
  const out: RunbookVariable[] = []
  body.forEach((raw, index) => {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) return
    const m = /^([A-Za-z_][\w-]*)\s*(?:=\s*(\S+)\s*)?:\s*(.*)$/.exec(line)
    if (!m) throw new RunbookFormatError(firstLine + index, `"${line}" is not "NAME: meaning" or "NAME = default: meaning"`)
    out.push({ name: m[1]!, description: m[3]!.trim(), ...(m[2] === undefined ? {} : { default: m[2] }) })
  })
  return out
}

function parseStep(body: string[], info: string, firstLine: number, number: number, section: string, lastProse: string): RunbookStep {
  const markers = info.split(/\s+/).filter(Boolean)
  for (const marker of markers) {
    if (!MARKERS.has(marker)) throw new RunbookFormatError(firstLine - 1, `unknown step marker "${marker}" (known: ${[...MARKERS].join(', ')})`)
  }
  const text = body
    .filter((l) => !l.trim().startsWith('#'))
    .join('\n')
    .trim()
  let words: string[]
  try {
    words = splitCommandLine(text)
  } catch (error) {
    if (error instanceof CommandLineError) throw new RunbookFormatError(firstLine, error.message)
    throw error
  }
  if (words[0] !== 'recover' || words.length < 2) throw new RunbookFormatError(firstLine, 'a ```recover step must be one "recover …" command')
  return {
    number,
    title: lastProse.replace(/:$/, '') || section || `Step ${number}`,
    section,
    line: firstLine,
    words,
    destructive: markers.includes('destructive'),
    rollback: markers.includes('rollback'),
  }
}

/**
 * Variables recover fills in itself. {{run}}: the id of this run of the runbook; in a
 * --rollback run, the id of the run being rolled back, so a rollback step can revert exactly
 * what that run changed (`seek --undo --runbook-run {{run}}`).
 */
export const BUILT_IN_VARIABLES = ['run'] as const

/** The values every variable gets: --var first, then the runbook's default. Returns the names still missing. */
export function resolveRunbookVariables(
  runbook: Runbook,
  given: Record<string, string>,
): { values: Record<string, string>; missing: string[]; unknown: string[] } {
  const values: Record<string, string> = {}
  const missing: string[] = []
  for (const v of runbook.variables) {
    const value = given[v.name] ?? v.default
    if (value === undefined) missing.push(v.name)
    else values[v.name] = value
  }
  // {{run}} is recover's to set: a --var run=… would make a rollback revert another run.
  const unknown = Object.keys(given).filter((k) => !runbook.variables.some((v) => v.name === k))
  return { values, missing, unknown }
}

/** The variables a set of steps uses ({{NAME}}), recover's own {{run}} left out. */
export function variablesUsed(steps: RunbookStep[]): string[] {
  const names = new Set(steps.flatMap((s) => s.words.flatMap((w) => [...w.matchAll(PLACEHOLDER)].map((m) => m[1]!))))
  names.delete('run')
  return [...names].sort()
}

/** A step's arguments (after "recover") with every {{NAME}} replaced; values are never split into words. */
export function stepArguments(step: RunbookStep, values: Record<string, string>): string[] {
  return step.words.slice(1).map((word) => word.replace(PLACEHOLDER, (_all, name: string) => values[name] ?? `{{${name}}}`))
}

/** Parses `--var key=value` flags. */
export function parseVarFlags(flags: string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const flag of flags) {
    const eq = flag.indexOf('=')
    if (eq <= 0) throw new CommandLineError(`--var ${flag} is not NAME=VALUE`)
    out[flag.slice(0, eq)] = flag.slice(eq + 1)
  }
  return out
}
