/**
 * Which transform call runs now, in shared memory: a transform stuck in a synchronous loop
 * holds the main thread, so nothing on it can say so; a watcher on another thread reads this
 * board (and the main thread's heartbeat) instead. Writing it costs a few stores per record.
 */
export class TransformActivityBoard {
  /** [running 0/1, partition, offset, call started (epoch ms), main-thread heartbeat (epoch ms)] */
  private readonly slots: Float64Array

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(5 * Float64Array.BYTES_PER_ELEMENT)) {
    this.slots = new Float64Array(buffer)
  }

  /** A call on this record starts (epoch ms). Offsets beyond 2^53 lose precision here only. */
  started(partition: number, offset: bigint, atMs: number): void {
    this.slots[1] = partition
    this.slots[2] = Number(offset)
    this.slots[3] = atMs
    this.slots[0] = 1
  }

  idle(): void {
    this.slots[0] = 0
  }

  /** The call running now, if any. */
  current(): { partition: number; offset: number; sinceMs: number } | undefined {
    if (this.slots[0] !== 1) return undefined
    return { partition: this.slots[1]!, offset: this.slots[2]!, sinceMs: this.slots[3]! }
  }

  /** The main thread says it is alive (its event loop turns). */
  beat(atMs: number): void {
    this.slots[4] = atMs
  }

  get lastBeatMs(): number {
    return this.slots[4]!
  }
}

/** The stall line's reason when a transform call is what runs, e.g. `the transform has been running on orders-2@1750 for 10 s (…)`. */
export function transformStallReason(where: string, runningMs: number): string {
  return `the transform has been running on ${where} for ${Math.round(runningMs / 1000)} s (--transform-timeout stops it; Ctrl-C stops the replay)`
}
