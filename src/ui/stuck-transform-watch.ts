import { Worker } from 'node:worker_threads'
import { TransformActivityBoard } from '../plugin-host/transform-activity.js'

export interface StuckTransformWatch {
  /** For ReplayDeps.transformActivity: where the transform publishes its running call. */
  buffer: SharedArrayBuffer
  stop(): Promise<void>
}

/**
 * A transform stuck in a synchronous loop holds the main thread, so the replay's own stall line
 * cannot be printed until --transform-timeout ends the call. This starts a small worker thread
 * that prints it instead ("the transform has been running on orders-2@1750 for 10 s") when
 * the main thread's heartbeat has stopped; while the main thread runs, the replay reports
 * stalls itself and the worker stays silent. For people only: never under --json.
 */
export function watchStuckTransform(topic: string, stallMs: number): StuckTransformWatch {
  const board = new TransformActivityBoard()
  board.beat(Date.now())
  const heartbeat = setInterval(() => board.beat(Date.now()), 500)
  heartbeat.unref()
  const worker = new Worker(new URL('./stuck-transform-worker.js', import.meta.url), { workerData: { buffer: board.buffer, topic, stallMs } })
  worker.unref()
  // A watcher that fails to start costs the status line, never the replay.
  worker.on('error', () => undefined)
  return {
    buffer: board.buffer,
    stop: async () => {
      clearInterval(heartbeat)
      await worker.terminate()
    },
  }
}
