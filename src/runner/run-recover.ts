import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { findRepoRoot } from '../local-kafka/repo-root.js'
import { quoteArgument } from '../core/command-line.js'

/** What one `recover …` child process did. */
export interface RecoverRun {
  argv: string[]
  exitCode: number
  /** The command's typed result, as --json would print it (absent when it failed or printed none). */
  result?: unknown
  /** The RecoveryError it ended with, as --json would print it. */
  error?: { code: string; message: string; exitCode: number; nextSteps?: string[]; details?: Record<string, unknown> }
  ms: number
}

export interface RunRecoverOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
  /** Where the child's stdout and stderr go; default: discarded. */
  onStdout?: (chunk: Buffer) => void
  onStderr?: (chunk: Buffer) => void
}

/**
 * Runs `recover <argv>` as its own process: the demo and the runbooks show exactly what a
 * person typing that command would see (same parsing, same output, same exit code), and the
 * typed result comes back through RECOVER_RESULT_FILE rather than from parsing that output.
 */
export async function runRecover(argv: string[], options: RunRecoverOptions = {}): Promise<RecoverRun> {
  const started = Date.now()
  const dir = mkdtempSync(join(tmpdir(), 'recover-step-'))
  const resultFile = join(dir, 'result.json')
  try {
    const exitCode = await new Promise<number>((resolve, reject) => {
      const child = spawn(process.execPath, [join(findRepoRoot(), 'bin', 'run.js'), ...argv], {
        cwd: options.cwd,
        env: { ...process.env, ...options.env, RECOVER_RESULT_FILE: resultFile },
        // No stdin: every step runs non-interactively; confirmation is the caller's business.
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      child.stdout.on('data', (chunk: Buffer) => options.onStdout?.(chunk))
      child.stderr.on('data', (chunk: Buffer) => options.onStderr?.(chunk))
      child.once('error', reject)
      child.once('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)))
    })
    const run: RecoverRun = { argv, exitCode, ms: Date.now() - started }
    const written = readResult(resultFile)
    if (written && 'result' in written) run.result = written.result
    if (written && 'error' in written) run.error = written.error as RecoverRun['error']
    return run
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function readResult(file: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
  } catch {
    // --help, or a crash before the command ran: no result to report.
    return undefined
  }
}

/** A command line as it would be typed: arguments quoted only where a shell needs it. */
export function formatCommandLine(argv: string[]): string {
  return ['recover', ...argv].map(quoteArgument).join(' ')
}

export { quoteArgument } from '../core/command-line.js'
