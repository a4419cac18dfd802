import { spawn } from 'node:child_process'

export interface ProcessOutput {
  stdout: string
  stderr: string
  /** The exit code; 124 when it was killed for running past timeoutMs (as timeout(1) does). */
  exitCode: number
}

export interface RunProcessOptions {
  cwd?: string
  timeoutMs?: number
  env?: NodeJS.ProcessEnv
}

/** Thrown (as a plain Error with code ENOENT) when the executable is not on PATH. */
export function isCommandMissing(error: unknown): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === 'ENOENT'
}

/** Runs a command to completion, collecting its output; rejects only if it cannot start. */
export function runProcess(command: string, args: string[], options: RunProcessOptions = {}): Promise<ProcessOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
    const stdout: Buffer[] = []
    const stderr: Buffer[] = []
    let timedOut = false
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true
            child.kill('SIGKILL')
          }, options.timeoutMs)
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk))
    child.once('error', (error) => {
      if (timer) clearTimeout(timer)
      reject(error)
    })
    child.once('close', (code, signal) => {
      if (timer) clearTimeout(timer)
      let err = Buffer.concat(stderr).toString('utf8')
      if (timedOut) err += `\n[killed after ${options.timeoutMs} ms]\n`
      resolve({
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: err,
        exitCode: timedOut ? 124 : (code ?? (signal ? 128 : 1)),
      })
    })
  })
}

/** The last `count` non-empty lines of some process output. */
export function lastLines(text: string, count: number): string[] {
  return text
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '')
    .slice(-count)
}
