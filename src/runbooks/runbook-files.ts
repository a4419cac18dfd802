import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { RecoveryError } from '../errors.js'
import { parseRunbook, RunbookFormatError, type Runbook } from '../core/runbook.js'
import { findRepoRoot } from '../local-kafka/repo-root.js'

/** The runbooks shipped with recover: docs/runbooks/ of the package. */
export function defaultRunbookDir(): string {
  return join(findRepoRoot(), 'docs', 'runbooks')
}

/** Names of the runbooks in a folder: every .md file but README.md, sorted. */
export function runbookNames(dir: string): string[] {
  if (!existsSync(dir)) throw new RecoveryError('RUNBOOK_NOT_FOUND', `The runbook folder ${dir} does not exist; check --dir.`, { details: { dir } })
  return readdirSync(dir)
    .filter((f) => f.endsWith('.md') && f.toLowerCase() !== 'readme.md')
    .map((f) => basename(f, '.md'))
    .sort()
}

export function loadRunbook(dir: string, name: string): Runbook {
  const names = runbookNames(dir)
  const wanted = name.replace(/\.md$/, '')
  if (!names.includes(wanted)) {
    throw new RecoveryError('RUNBOOK_NOT_FOUND', `There is no runbook "${name}" in ${dir}; the runbooks are: ${names.join(', ')}.`, {
      nextSteps: ['recover runbook list'],
      details: { dir, name, runbooks: names },
    })
  }
  const file = join(dir, `${wanted}.md`)
  try {
    return parseRunbook(wanted, readFileSync(file, 'utf8'))
  } catch (error) {
    if (error instanceof RunbookFormatError) {
      throw new RecoveryError('BAD_RUNBOOK', `${file} line ${error.line}: ${error.message}; fix the runbook (its format is in docs/runbooks/README.md).`, {
        details: { file, line: error.line },
      })
    }
    throw error
  }
}
