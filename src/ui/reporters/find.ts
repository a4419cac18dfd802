import { renderFindEvent, renderFindProgress } from '../../render/find.js'
import type { FindEvent } from '../../services/find.js'
import type { LiveView, Presenter, ProgressRecord } from '../reporter.js'

export interface FindProgressState {
  scanned: number
  matches: number
  records: bigint
  elapsedMs: number
}

/**
 * `recover find`: a start line, then a progress bar (redrawn in place on a terminal, a line at
 * intervals elsewhere, NDJSON records under --json).
 */
export const findPresenter: Presenter<FindEvent, FindProgressState> = {
  initial: () => ({ scanned: 0, matches: 0, records: 0n, elapsedMs: 0 }),
  reduce(state, event) {
    switch (event.type) {
      case 'find-start':
        return { ...state, records: event.records }
      case 'find-progress':
      case 'find-done':
        return { ...state, scanned: event.scanned, matches: event.matches, elapsedMs: event.elapsedMs }
    }
  },
  lines(event) {
    const line = renderFindEvent(event)
    return line === undefined ? [] : [line]
  },
  record(event): ProgressRecord | undefined {
    switch (event.type) {
      case 'find-start':
        return {
          type: event.type,
          topic: event.topic,
          where: event.where,
          records: event.records,
          partitions: event.partitions.map((p) => ({ partition: p.partition, start: p.start, end: p.end })),
        }
      case 'find-done':
        return { type: event.type, topic: event.topic, scanned: event.scanned, matches: event.matches, elapsedMs: event.elapsedMs }
      case 'find-progress':
        return undefined
    }
  },
  progress: {
    moves: (event) => event.type === 'find-progress' || event.type === 'find-done',
    line: (state) => renderFindProgress(state),
    record: (state) => ({ type: 'find-progress', scanned: state.scanned, matches: state.matches, records: state.records, elapsedMs: state.elapsedMs }),
  },
  loadLive: async () => (state, terminal) => new BarView(terminal, state),
}

/** One line redrawn in place with a carriage return: a bar needs no more than that. */
class BarView implements LiveView<FindProgressState> {
  private drawnAt = 0
  private drawn = false

  constructor(
    private readonly terminal: NodeJS.WriteStream,
    state: FindProgressState,
  ) {
    this.update(state)
  }

  update(state: FindProgressState): void {
    const now = Date.now()
    if (this.drawn && now - this.drawnAt < 100) return
    this.drawnAt = now
    this.draw(state)
  }

  note(text: string): void {
    this.clear()
    this.terminal.write(`${text}\n`)
  }

  finish(state: FindProgressState): void {
    this.draw(state)
    this.terminal.write('\n')
    this.drawn = false
  }

  private draw(state: FindProgressState): void {
    const width = Math.max(10, Math.min(40, (this.terminal.columns ?? 80) - 70))
    this.terminal.write(`\r\x1b[2K${renderFindProgress(state, width)}`)
    this.drawn = true
  }

  private clear(): void {
    if (this.drawn) this.terminal.write('\r\x1b[2K')
    this.drawn = false
  }
}
