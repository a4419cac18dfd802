/**
 * The reporter layer: services emit typed events, one presenter per command family reduces them
 * into view state, and one reporter, chosen once at the start, shows that state on stderr:
 * a live view on a terminal (Ink, loaded only then), plain lines elsewhere (cron, CI, pipes),
 * or NDJSON records under --json (docs/progress-events.md), while stdout keeps the result.
 */

/** Version of the NDJSON records (the `v` field of every line); raised when a field changes meaning or goes away. */
export const PROGRESS_SCHEMA_VERSION = 1

/** Narrower terminals get plain lines: the live view's columns need about this many cells. */
const MIN_LIVE_COLUMNS = 60

export type ReporterMode = 'live' | 'lines' | 'ndjson'

/** The one choice: NDJSON under --json, a live view on a terminal wide enough for it, plain lines otherwise. */
export function chooseReporterMode(terminal: { json: boolean; isTTY: boolean; columns?: number }): ReporterMode {
  if (terminal.json) return 'ndjson'
  return terminal.isTTY && (terminal.columns ?? 0) >= MIN_LIVE_COLUMNS ? 'live' : 'lines'
}

/** One NDJSON line before its `v` and `time`: a `type` and that type's fields (docs/progress-events.md). */
export type ProgressRecord = { type: string } & Record<string, unknown>

/** Where a reporter writes: both on stderr, redacted. */
export interface ReporterOutput {
  line(text: string): void
  /** One record as a JSON line (bigints as decimal strings). */
  record(record: Record<string, unknown>): void
  /** The terminal a live view draws on. */
  terminal?: NodeJS.WriteStream
}

/** A view that redraws the state in place (Ink). */
export interface LiveView<S> {
  update(state: S): void
  /** A line printed above the live part. */
  note(text: string): void
  finish(state: S): void
}

/** How one command family shows its events: its reducer, and what each mode prints for them. */
export interface Presenter<E, S> {
  initial(): S
  /** The one reducer; `atMs` is the reporter's clock (ms since it started). */
  reduce(state: S, event: E, atMs: number): S
  /** Lines for people about this event (a start, a warning, a wait), printed as it happens. */
  lines(event: E, state: S): string[]
  /** The event as an NDJSON record, or undefined when it only moves the figures. */
  record(event: E, state: S): ProgressRecord | undefined
  /** Events that move the figures (batches): the figures are printed at most every interval. */
  progress?: {
    moves(event: E): boolean
    line(state: S): string
    record(state: S): ProgressRecord
  }
  /** On a terminal: loads the live view; the factory returns one once the state calls for it (a replay that writes). */
  loadLive?(): Promise<(state: S, terminal: NodeJS.WriteStream) => LiveView<S> | undefined>
}

export interface Reporter<E, S> {
  /** A service's event (bound: pass it as the service's onEvent). */
  readonly event: (event: E) => void
  /** A message for people (a plugin's log line, "Stopping…"); a `log` record under --json (bound). */
  readonly note: (text: string) => void
  /** Draws the last state (the live view stays on screen) and writes the last figures under --json. Idempotent. */
  finish(): void
  readonly state: S
  readonly mode: ReporterMode
}

export interface ReporterOptions {
  /** At most one progress line (or progress record) per interval. Default 5 s. */
  intervalMs?: number
  now?: () => number
}

export async function createReporter<E, S>(
  presenter: Presenter<E, S>,
  mode: ReporterMode,
  output: ReporterOutput,
  options: ReporterOptions = {},
): Promise<Reporter<E, S>> {
  const openLive = mode === 'live' && presenter.loadLive && output.terminal ? await presenter.loadLive() : undefined
  return new StreamingReporter(presenter, mode, output, openLive, options)
}

class StreamingReporter<E, S> implements Reporter<E, S> {
  state: S
  private view: LiveView<S> | undefined
  private readonly startedAt: number
  private shownAt: number
  /** The figures moved since they were last printed (NDJSON: written). */
  private pending = false
  private finished = false
  private readonly now: () => number
  private readonly intervalMs: number

  constructor(
    private readonly presenter: Presenter<E, S>,
    readonly mode: ReporterMode,
    private readonly output: ReporterOutput,
    private readonly openLive: ((state: S, terminal: NodeJS.WriteStream) => LiveView<S> | undefined) | undefined,
    options: ReporterOptions,
  ) {
    this.now = options.now ?? Date.now
    this.intervalMs = options.intervalMs ?? 5_000
    this.startedAt = this.now()
    this.shownAt = this.startedAt
    this.state = presenter.initial()
  }

  readonly event = (event: E): void => {
    const now = this.now()
    this.state = this.presenter.reduce(this.state, event, now - this.startedAt)
    const moved = this.presenter.progress?.moves(event) ?? false
    if (this.mode === 'ndjson') {
      const record = this.presenter.record(event, this.state)
      if (moved) this.pending = true
      // The figures first, so every record is read against up-to-date ones.
      if ((moved && now - this.shownAt >= this.intervalMs) || (record && this.pending)) this.writeProgress(now)
      if (record) this.write(record, now)
      return
    }
    for (const line of this.presenter.lines(event, this.state)) this.say(line)
    if (!this.view && this.openLive && !this.finished) this.view = this.openLive(this.state, this.output.terminal!)
    if (!moved) return
    if (this.view) this.view.update(this.state)
    else if (now - this.shownAt >= this.intervalMs) {
      this.shownAt = now
      this.output.line(this.presenter.progress!.line(this.state))
    }
  }

  readonly note = (text: string): void => {
    if (this.mode === 'ndjson') this.write({ type: 'log', message: text }, this.now())
    else this.say(text)
  }

  finish(): void {
    if (this.finished) return
    this.finished = true
    if (this.mode === 'ndjson' && this.pending) this.writeProgress(this.now())
    this.view?.finish(this.state)
    this.view = undefined
  }

  private say(text: string): void {
    if (this.view) this.view.note(text)
    else this.output.line(text)
  }

  private writeProgress(now: number): void {
    if (!this.presenter.progress) return
    this.pending = false
    this.shownAt = now
    this.write(this.presenter.progress.record(this.state), now)
  }

  private write(record: ProgressRecord, now: number): void {
    const { type, ...fields } = record
    this.output.record({ v: PROGRESS_SCHEMA_VERSION, type, time: new Date(now).toISOString(), ...fields })
  }
}
