/**
 * Lets the event loop run (I/O callbacks included) before continuing: long CPU work in steps,
 * so that what waits on a socket meanwhile (a write in flight) is not held up until it ends.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve))
}
