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
  const controller = makeController({ exit: () => exit(), runEditor, height: Math.max(5, rows - 4) })
  const instance = render(<TriageApp controller={controller} width={columns} />, { exitOnCtrlC: true })
  exit = () => instance.unmount()
  const onResize = () => controller.dispatch({ type: 'resize', height: Math.max(5, (process.stdout.rows ?? 30) - 4) })
  process.stdout.on('resize', onResize)
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
