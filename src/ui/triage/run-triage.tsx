import { spawnSync } from 'node:child_process'
import { render } from 'ink'
import type { TriageController } from '../../triage/triage-controller.js'
import { TriageApp } from './TriageApp.js'

/**
 * Runs the TUI on the terminal until `q`. The controller's data is loaded while the first
 * frame already shows; the list height follows the terminal.
 */
export async function runTriage(
  makeController: (hooks: { exit: () => void; runEditor: (path: string) => void; height: number }) => TriageController,
): Promise<void> {
  const rows = process.stdout.rows ?? 30
  const columns = process.stdout.columns ?? 120
  let exit: () => void = () => undefined
  const runEditor = (path: string) => {
    // The editor needs the terminal as it is: cooked mode, and Ink paused (spawnSync blocks renders).
    const editor = process.env.VISUAL ?? process.env.EDITOR ?? 'vi'
    const raw = process.stdin.isTTY && process.stdin.isRaw
    if (raw) process.stdin.setRawMode(false)
    try {
      spawnSync(editor, [path], { stdio: 'inherit', shell: process.platform === 'win32' })
    } finally {
      if (raw) process.stdin.setRawMode(true)
      instance.clear()
    }
  }
  const controller = makeController({ exit: () => exit(), runEditor, height: bodyRows(rows) })
  controller.dispatch({ type: 'resize', height: bodyRows(rows), width: columns })
  // SIGWINCH: lay the screen out again for the new size. The terminal has already re-wrapped the
  // old frame, so Ink cannot erase it line by line: clear the screen, then draw the new layout.
  // Registered before Ink's own resize handler, so that Ink redraws from the new state.
  const onResize = () => {
    if (process.stdout.isTTY) process.stdout.write('\x1b[2J\x1b[H')
    controller.dispatch({ type: 'resize', height: bodyRows(process.stdout.rows ?? 30), width: process.stdout.columns ?? 120 })
  }
  process.stdout.on('resize', onResize)
  const instance = render(<TriageApp controller={controller} />, { exitOnCtrlC: true })
  exit = () => instance.unmount()
  try {
    await Promise.race([
      controller.load().catch((error: unknown) => controller.dispatch({ type: 'message', text: (error as Error).message, level: 'error' })),
      instance.waitUntilExit(),
    ])
    await instance.waitUntilExit()
  } finally {
    process.stdout.off('resize', onResize)
  }
}

/** Rows between the header and footer lines, keeping the frame shorter than the terminal (a full-height frame makes Ink clear and redraw the whole screen on every change). */
function bodyRows(terminalRows: number): number {
  return Math.max(3, terminalRows - 3)
}
