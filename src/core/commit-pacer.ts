/** How often a replay commits a transactional sink by default (--commit-interval). */
export const DEFAULT_COMMIT_INTERVAL_MS = 1_000

/**
 * When a transactional sink commits the batches written into its open transaction: after every
 * batch with an interval of 0, otherwise once the interval has passed since the last commit (a
 * DuckDB or PostgreSQL commit waits for the disk), and always before stopping. The replay and the
 * sinks benchmark pace their commits with it, so the benchmark measures what a replay does.
 */
export class CommitPacer {
  private committedAt: number
  private pending = false

  constructor(
    readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.committedAt = now()
  }

  /** A batch went into the open transaction; true when it is time to commit it (and those before it). */
  written(stopping = false): boolean {
    this.pending = true
    return this.intervalMs === 0 || stopping || this.now() - this.committedAt >= this.intervalMs
  }

  /** Batches were written since the last commit. */
  get uncommitted(): boolean {
    return this.pending
  }

  committed(): void {
    this.pending = false
    this.committedAt = this.now()
  }
}
