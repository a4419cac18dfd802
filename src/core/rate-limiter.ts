/**
 * A token bucket for `--rate N` records per second: `delayFor(n)` says how long to wait before
 * n more records may go, and takes them. Bursts are limited to one second's worth. Pure: the
 * caller passes the clock.
 */
export class RateLimiter {
  private tokens: number
  private last: number

  constructor(
    readonly perSecond: number,
    now: number,
  ) {
    this.tokens = perSecond
    this.last = now
  }

  /** Milliseconds to wait before sending n records (0 = now); the records are counted as sent. */
  delayFor(n: number, now: number): number {
    this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.last) / 1000) * this.perSecond)
    this.last = now
    this.tokens -= n
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.perSecond) * 1000)
  }
}
