import type { KafkaGateway } from '../kafka/kafka-gateway.js'
import { describeGroup, type GroupDetail } from './describe-group.js'

export interface WatchGroupLagOptions {
  groupId: string
  intervalMs: number
  /** Stop after this many samples; undefined: until `signal` aborts. */
  samples?: number
  signal?: AbortSignal
  /** Called with every sample as it is measured (draw it, record it). */
  onSample: (detail: GroupDetail, index: number) => Promise<void> | void
  now?: () => number
}

/**
 * `groups describe --watch`: measures the group every interval until told to stop (Ctrl-C) or
 * after `samples`. The interval counts from the start of a measurement, so samples stay evenly
 * spaced when a measurement takes a while; a slow one is followed at once by the next.
 * Returns how many samples were taken.
 */
export async function watchGroupLag(gateway: KafkaGateway, options: WatchGroupLagOptions): Promise<number> {
  const now = options.now ?? Date.now
  let taken = 0
  while (!options.signal?.aborted && (options.samples === undefined || taken < options.samples)) {
    const started = now()
    const detail = await describeGroup(gateway, options.groupId, { now })
    if (options.signal?.aborted) break
    await options.onSample(detail, taken)
    taken++
    if (options.samples !== undefined && taken >= options.samples) break
    await pause(Math.max(0, options.intervalMs - (now() - started)), options.signal)
  }
  return taken
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}
