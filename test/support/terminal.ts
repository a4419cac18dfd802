import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { repoRoot } from './paths.js'
import { uniqueName } from './kafka.js'
import { waitFor } from './timeout.js'

/**
 * The built `recover` in a real terminal: a tmux server of its own (its own socket, no user
 * config), one session running one command line, kept on screen after it ends. For what only
 * a person at a terminal can do: answer a prompt, press Ctrl-C.
 */
export class TerminalSession {
  private readonly work = mkdtempSync(join(tmpdir(), 'recover-terminal-'))
  private readonly socket = join(this.work, 'socket')
  /** The shell in the pane writes the command's exit status here (tmux's own pane status can lag). */
  private readonly exitFile = join(this.work, 'exit-status')
  private readonly session = uniqueName('recover-term')

  /** Starts `recover <args>` with `env` in a terminal of `size` (default 200x50), in `cwd`. */
  constructor(args: string[], options: { env: Record<string, string>; cwd: string; size?: { columns: number; rows: number } }) {
    const bin = join(repoRoot(), 'bin', 'run.js')
    const env = Object.entries(options.env)
      .map(([k, v]) => `${k}=${shellQuote(v)}`)
      .join(' ')
    const command = `cd ${shellQuote(options.cwd)} && ${env} ${shellQuote(process.execPath)} ${shellQuote(bin)} ${args.map(shellQuote).join(' ')}; echo $? > ${shellQuote(this.exitFile)}; sleep 600`
    // The pane stays open after the command (the sleep), so its last words stay on screen.
    const size = options.size ?? { columns: 200, rows: 50 }
    this.tmux('new-session', '-d', '-s', this.session, '-x', String(size.columns), '-y', String(size.rows), command)
  }

  /** Resizes the terminal, as dragging a window's corner does (the program gets SIGWINCH). */
  resize(columns: number, rows: number): void {
    this.tmux('resize-window', '-t', this.session, '-x', String(columns), '-y', String(rows))
  }

  /** The screen as the terminal shows it, one entry per row: a wrapped line takes two. */
  rows(): string[] {
    return this.tmux('capture-pane', '-p', '-t', this.session).replace(/\n$/, '').split('\n')
  }

  /** The screen, wrapped lines joined. */
  screen(): string {
    return this.tmux('capture-pane', '-p', '-J', '-t', this.session)
  }

  keys(...keys: string[]): void {
    this.tmux('send-keys', '-t', this.session, ...keys)
  }

  async shows(text: string, timeoutMs = 60_000): Promise<void> {
    await waitFor(`the screen to show "${text}"`, () => (this.screen().includes(text) ? true : undefined), timeoutMs, 100).catch((error: Error) => {
      throw new Error(`${error.message}\n--- screen ---\n${this.screen()}`)
    })
  }

  /** The command's exit status, once it has ended. */
  async exitStatus(timeoutMs = 30_000): Promise<number> {
    const status = await waitFor(
      'the command to end',
      () => (existsSync(this.exitFile) && readFileSync(this.exitFile, 'utf8').trim() !== '' ? readFileSync(this.exitFile, 'utf8').trim() : undefined),
      timeoutMs,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n--- screen ---\n${this.screen()}`)
    })
    return Number(status)
  }

  /** The non-empty screen lines after the last one containing `marker`. */
  linesAfter(marker: string): string[] {
    const lines = this.screen().split('\n')
    let at = -1
    lines.forEach((line, i) => {
      if (line.includes(marker)) at = i
    })
    return lines
      .slice(at + 1)
      .map((l) => l.trimEnd())
      .filter((l) => l !== '')
  }

  close(): void {
    try {
      this.tmux('kill-server')
    } catch {
      // Already gone.
    }
  }

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-S', this.socket, '-f', '/dev/null', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  }
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`
}
