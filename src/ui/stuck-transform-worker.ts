import { writeSync } from 'node:fs'
import { workerData } from 'node:worker_threads'
import { TransformActivityBoard, transformStallReason } from '../plugin-host/transform-activity.js'
import { renderWaitingLine } from '../render/replay-progress.js'

/**
 * Runs on its own thread (see stuck-transform-watch.ts): while the main thread is held by one
 * transform call (its heartbeat has stopped), says so on stderr, once per call. Written
 * straight to file descriptor 2: a worker's process.stderr goes through the main thread.
 */
const { buffer, topic, stallMs } = workerData as { buffer: SharedArrayBuffer; topic: string; stallMs: number }
const board = new TransformActivityBoard(buffer)
/** How long without a heartbeat before the main thread counts as held. */
const HELD_MS = 2_000
let reported = -1

setInterval(() => {
  const now = Date.now()
  const call = board.current()
  if (!call || call.sinceMs === reported || now - call.sinceMs < stallMs || now - board.lastBeatMs < HELD_MS) return
  reported = call.sinceMs
  const line = renderWaitingLine({
    reason: transformStallReason(`${topic}-${call.partition}@${call.offset}`, now - call.sinceMs),
    sinceMs: call.sinceMs,
    giveUpAtMs: null,
  })
  writeSync(2, `${line}\n`)
}, 500)
