import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { repoRoot } from './paths.js'

/** recover's state folder (journals, checkpoints, run logs, audit history) for this test process: never the person's ~/.recover. */
export const testRecoverHome = mkdtempSync(join(tmpdir(), 'recover-home-'))

export interface CliRun {
  exitCode: number
  stdout: string
  stderr: string
  /** stdout parsed as JSON when it is JSON. */
  json: any
}

/** Runs the built `recover` binary, as a user would, and captures everything. */
export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; input?: string } = {}): Promise<CliRun> {
  const bin = join(repoRoot(), 'bin', 'run.js')
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: options.cwd ?? repoRoot(),
      env: { ...process.env, RECOVER_BROKERS: process.env.RECOVER_TEST_BROKERS, RECOVER_HOME: testRecoverHome, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    child.stdin.end(options.input ?? '')
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`recover ${args.join(' ')} did not finish in ${options.timeoutMs ?? 60_000} ms\nstderr: ${stderr}`))
    }, options.timeoutMs ?? 60_000)
    child.on('close', (code) => {
      clearTimeout(timer)
      let json: unknown
      try {
        json = JSON.parse(stdout)
      } catch {
        json = undefined
      }
      resolve({ exitCode: code ?? -1, stdout, stderr, json })
    })
  })
}

export interface CliProcess {
  child: ChildProcess
  /** What it printed on stderr so far (for a failure message while it still runs). */
  stderr: () => string
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>
}

/** Starts the built `recover` binary and leaves it running: for tests that kill it or run several at once. */
export function spawnCli(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): CliProcess {
  const child = spawn(process.execPath, [join(repoRoot(), 'bin', 'run.js'), ...args], {
    cwd: options.cwd,
    env: { ...process.env, RECOVER_BROKERS: process.env.RECOVER_TEST_BROKERS, RECOVER_HOME: testRecoverHome, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()))
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()))
  return { child, stderr: () => stderr, done: new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))) }
}
