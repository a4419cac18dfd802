import { render, type Instance } from 'ink'
import type { ProgressState } from '../core/replay-progress.js'
import type { LiveView } from './reporter.js'
import { ReplayProgressView } from './replay-progress-view.js'

/**
 * Ink on stderr for the length of a replay: `update` is cheap to call on every event (renders
 * at most every `intervalMs`), `finish` draws the last state and leaves it on screen, so the
 * summary printed on stdout afterwards follows the final picture.
 */
export class LiveReplayProgress implements LiveView<ProgressState> {
  private readonly ink: Instance
  private latest: ProgressState
  private timer: NodeJS.Timeout | undefined
  /** --follow: redraws every second, so the age of the newest record keeps counting while nothing arrives. */
  private ticker: NodeJS.Timeout | undefined
  private readonly notes: string[] = []

  constructor(
    initial: ProgressState,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly intervalMs = 100,
  ) {
    this.latest = initial
    // Ctrl-C stays with the command (it finishes the batch and checkpoints), not with Ink.
    this.ink = render(this.view(), { stdout: stream, stderr: stream, exitOnCtrlC: false, patchConsole: false })
    if (initial.follow) {
      this.ticker = setInterval(() => this.ink.rerender(this.view()), 1_000)
      this.ticker.unref()
    }
  }

  update(state: ProgressState): void {
    this.latest = state
    this.timer ??= setTimeout(() => {
      this.timer = undefined
      this.ink.rerender(this.view())
    }, this.intervalMs)
  }

  /** A message printed above the live part (writing to stderr directly would tear Ink's frame). */
  note(text: string): void {
    this.notes.push(text)
    this.ink.rerender(this.view())
  }

  finish(state: ProgressState = this.latest): void {
    if (this.ticker) clearInterval(this.ticker)
    this.ticker = undefined
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
    this.latest = state
    this.ink.rerender(this.view())
    this.ink.unmount()
  }

  private view() {
    // Read at every frame: the terminal may have been resized.
    return <ReplayProgressView state={this.latest} notes={[...this.notes]} columns={this.stream.columns} rows={this.stream.rows} />
  }
}
