import { render, type Instance } from 'ink'
import { lagWatchLines, type LagWatchScreen } from '../render/groups.js'
import { LagWatchView } from './lag-watch-view.js'

/**
 * `groups describe --watch` on a terminal: Ink redraws the screen in place at every sample and
 * when the terminal is resized; `finish` leaves the last picture on screen. Ctrl-C stays with
 * the command, which stops the sampling and exits 0.
 */
export class LiveLagWatch {
  private readonly ink: Instance
  private latest: LagWatchScreen | undefined
  private readonly onResize = () => this.draw()

  constructor(private readonly stream: NodeJS.WriteStream = process.stdout) {
    this.ink = render(<LagWatchView lines={[]} />, { stdout: stream, stderr: process.stderr, exitOnCtrlC: false, patchConsole: false })
    stream.on('resize', this.onResize)
  }

  update(screen: LagWatchScreen): void {
    this.latest = screen
    this.draw()
  }

  finish(): void {
    this.stream.off('resize', this.onResize)
    this.draw()
    this.ink.unmount()
  }

  private draw(): void {
    if (!this.latest) return
    // Read at every frame: the terminal may have been resized.
    this.ink.rerender(<LagWatchView lines={lagWatchLines(this.latest, this.stream.columns ?? 80)} />)
  }
}
