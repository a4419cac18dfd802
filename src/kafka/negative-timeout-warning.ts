/**
 * kafkajs 2.2.4 (unmaintained) schedules its throttle check with `setTimeout(fn, throttledUntil -
 * Date.now())` while `throttledUntil` is still 0: a negative delay, which Node 23+ turns into a
 * TimeoutNegativeWarning on stderr (kafkajs issue 1751). Node runs such a timer after 1 ms, as
 * kafkajs meant, so the only effect is a warning line before recover's one-sentence error. It is
 * dropped when kafkajs's code is on the stack; every other warning is printed as before.
 */
let installed = false

export function installNegativeTimeoutFilter(): void {
  if (installed) return
  installed = true
  const emitWarning = process.emitWarning
  process.emitWarning = function filtered(this: NodeJS.Process, warning: string | Error, ...rest: unknown[]): void {
    const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type
    const name = type ?? (warning instanceof Error ? warning.name : undefined)
    const fromKafkajs = name === 'TimeoutNegativeWarning' && /[\\/]kafkajs[\\/]/.test(new Error().stack ?? '')
    if (!fromKafkajs) Reflect.apply(emitWarning, this, [warning, ...rest])
  } as typeof process.emitWarning
}
