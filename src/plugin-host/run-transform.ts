import { Script, createContext, type Context } from 'node:vm'
import { RecoveryError } from '../errors.js'
import type { DefinedTransform, OutputRecord, PluginContext, RecordHeader, ReplayRecord } from '../plugin-api.js'
import { isPluginExitError, type PluginExitError } from './exit-guard.js'
import { TransformActivityBoard } from './transform-activity.js'

/** A transform that did not settle in time. The record goes to quarantine; the call is not waited for. */
export class TransformTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`The transform did not finish within ${timeoutMs} ms (--transform-timeout); if it loops forever, fix it, else raise the timeout.`)
    this.name = 'TransformTimeoutError'
  }
}

/** A transform returned something that is not a record, an array of records or null. */
export class TransformResultError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'TransformResultError'
  }
}

/**
 * Ctrl-C (or the replay's stop) reached a transform call: the batch it belongs to is abandoned
 * whole (nothing of it is written or quarantined) and the replay stops at its last checkpoint.
 */
export class TransformInterruptedError extends Error {
  constructor() {
    super('The transform was interrupted (Ctrl-C); the batch it was working on is not written.')
    this.name = 'TransformInterruptedError'
  }
}

export function isTransformInterrupted(error: unknown): error is TransformInterruptedError {
  return error instanceof TransformInterruptedError
}

/** The transform call in progress, for a status line that names what the replay waits for. */
export interface TransformActivity {
  topic: string
  partition: number
  offset: number
  /** When the call started, epoch ms. */
  sinceMs: number
}

/** What became of one input record. */
export type TransformOutcome = { ok: true; outputs: Array<ReplayRecord> } | { ok: false; error: Error }

/**
 * A chunk of synchronous calls ends by itself once it has run this share of the timeout, so a
 * call that starts late in a chunk still has at least 90% of the timeout before it is stopped.
 */
const CHUNK_SHARE = 0.1

/** The one statement the guard runs under node:vm's timeout: a call into the loop below. */
const GUARDED_CALL = new Script('__recoverRunChunk()', { filename: 'recover-transform-guard' })

/**
 * Wraps a transform plugin: every call is guarded (a throw, a rejection, a timeout or a
 * malformed result becomes an outcome, never an exception), outputs are completed from the
 * input record, and provenance always stays the input's.
 *
 * Timeouts: a promise a transform returns races a timer. A synchronous call that never
 * returns (an infinite loop) can only be stopped from outside the JavaScript thread: applyAll
 * runs the calls of a batch in chunks inside node:vm's `timeout`, whose watchdog thread
 * terminates the running script (V8 TerminateExecution, which the plugin cannot catch) and
 * the record goes to quarantine. The watchdog costs a thread start (about 0.1 ms) per chunk,
 * not per record, which keeps synchronous transforms as fast as unguarded calls; an async
 * transform ends its chunk at every record, so it pays that once per record.
 */
export class TransformRunner {
  private readonly sandbox: Context = createContext({})
  private readonly board: TransformActivityBoard
  private activeTopic = ''

  /** `activity`: shared memory to publish the running call in, for a watcher on another thread. */
  constructor(
    readonly plugin: DefinedTransform,
    private readonly ctx: PluginContext,
    private readonly timeoutMs: number,
    activity?: SharedArrayBuffer,
  ) {
    this.board = new TransformActivityBoard(activity)
  }

  /**
   * Runs the transform over a batch in order, one call at a time (async results are awaited
   * before the next call, as with apply). Never throws for the plugin's faults.
   */
  async applyAll(inputs: ReadonlyArray<ReplayRecord>): Promise<TransformOutcome[]> {
    const outcomes = new Array<TransformOutcome>(inputs.length)
    const budget = this.timeoutMs * CHUNK_SHARE
    let next = 0
    let pending: PromiseLike<unknown> | undefined
    let exited: PluginExitError | undefined
    const board = this.board
    const origin = performance.timeOrigin
    const runChunk = (): void => {
      const started = performance.now()
      const first = next
      let now = started
      while (next < inputs.length) {
        if (next > first) {
          now = performance.now()
          if (now - started > budget) return
        }
        const i = next
        const source = inputs[i]!.source
        board.started(source.partition, source.offset, origin + now)
        let result: unknown
        try {
          result = this.plugin.transform(inputs[i]!, this.ctx)
        } catch (error) {
          next = i + 1
          if (isPluginExitError(error)) {
            exited = error
            return
          }
          outcomes[i] = { ok: false, error: asError(error) }
          continue
        }
        next = i + 1
        if (isThenable(result)) {
          pending = result
          return
        }
        outcomes[i] = normalise(result, inputs[i]!)
      }
    }
    ;(this.sandbox as { __recoverRunChunk?: () => void }).__recoverRunChunk = runChunk
    this.activeTopic = inputs[0]?.source.topic ?? ''
    try {
      while (next < inputs.length) {
        if (this.ctx.signal.aborted) throw new TransformInterruptedError()
        pending = undefined
        try {
          // breakOnSigint: Ctrl-C stops even a call that never returns, which would otherwise
          // hold the thread (and the SIGINT handler) until --transform-timeout.
          GUARDED_CALL.runInContext(this.sandbox, { timeout: this.timeoutMs, breakOnSigint: true })
        } catch (error) {
          const code = (error as { code?: string }).code
          if (code === 'ERR_SCRIPT_EXECUTION_INTERRUPTED') {
            // The watchdog took the signal from the process's handlers: hand it back to them
            // (the replay's Ctrl-C handler, or Node's default when there is none).
            process.kill(process.pid, 'SIGINT')
            throw new TransformInterruptedError()
          }
          if (code !== 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw error
          // `next` is the record whose call was running when the watchdog stopped it.
          outcomes[next] = { ok: false, error: new TransformTimeoutError(this.timeoutMs) }
          next++
          continue
        }
        if (exited) throw this.exitFailure(exited, inputs[next - 1]!)
        if (pending !== undefined) {
          const source = inputs[next - 1]!.source
          this.board.started(source.partition, source.offset, Date.now())
          const outcome = await this.settle(pending, inputs[next - 1]!)
          if (!outcome.ok && isPluginExitError(outcome.error)) throw this.exitFailure(outcome.error, inputs[next - 1]!)
          outcomes[next - 1] = outcome
        }
      }
    } finally {
      this.board.idle()
    }
    return outcomes
  }

  /** The call running now (sync or awaited), or undefined between batches. */
  activity(): TransformActivity | undefined {
    const call = this.board.current()
    return call ? { topic: this.activeTopic, ...call } : undefined
  }

  /** A plugin that tried to end the process: the replay stops (BAD_PLUGIN), it does not quarantine the record. */
  private exitFailure(error: PluginExitError, record: ReplayRecord): RecoveryError {
    return pluginExitFailure(
      `The transform plugin ${this.plugin.name}@${this.plugin.version}`,
      error,
      `on ${record.source.topic}-${record.source.partition}@${record.source.offset}`,
      { topic: record.source.topic, partition: record.source.partition, offset: record.source.offset.toString() },
    )
  }

  get name(): string {
    return this.plugin.name
  }

  get version(): string {
    return this.plugin.version
  }

  async setup(): Promise<void> {
    await this.plugin.setup?.(this.ctx)
  }

  /** Runs the transform on one record, unguarded against synchronous hangs (applyAll guards them). Sync results come back without awaiting a timer. */
  apply(record: ReplayRecord): TransformOutcome | Promise<TransformOutcome> {
    let result: unknown
    try {
      result = this.plugin.transform(record, this.ctx)
    } catch (error) {
      return { ok: false, error: asError(error) }
    }
    if (isThenable(result)) return this.settle(result, record)
    return normalise(result, record)
  }

  /** A promise the transform returned: its result, a timeout, or (Ctrl-C) TransformInterruptedError. */
  private async settle(pending: PromiseLike<unknown>, record: ReplayRecord): Promise<TransformOutcome> {
    let timer: NodeJS.Timeout | undefined
    let onAbort: (() => void) | undefined
    const timeout = new Promise<TransformOutcome>((resolve, reject) => {
      timer = setTimeout(() => resolve({ ok: false, error: new TransformTimeoutError(this.timeoutMs) }), this.timeoutMs)
      onAbort = () => reject(new TransformInterruptedError())
      this.ctx.signal.addEventListener('abort', onAbort, { once: true })
    })
    try {
      return await Promise.race([
        Promise.resolve(pending).then(
          (value) => normalise(value, record),
          (error: unknown) => ({ ok: false as const, error: asError(error) }),
        ),
        timeout,
      ])
    } finally {
      clearTimeout(timer)
      this.ctx.signal.removeEventListener('abort', onAbort!)
    }
  }
}

/**
 * BAD_PLUGIN (exit 2) for a plugin that called process.exit: named, with where it was (the
 * record, or the sink call) in the message and in details.
 */
export function pluginExitFailure(plugin: string, error: PluginExitError, where: string, details: Record<string, unknown>): RecoveryError {
  return new RecoveryError(
    'BAD_PLUGIN',
    `${plugin} called process.exit(${error.exitCode ?? ''}) ${where}; a plugin may not end recover, so the replay stopped at its last checkpoint. Remove the call (throw to quarantine a record, return null to drop it), then continue with --resume.`,
    {
      cause: error,
      details: { ...details, pluginExit: true, exitCode: error.exitCode ?? null },
    },
  )
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
}

function asError(error: unknown): Error {
  if (error instanceof Error) return error
  const e = new Error(`The transform threw a non-Error value: ${safeString(error)}`)
  e.name = 'NonErrorThrown'
  return e
}

function safeString(value: unknown): string {
  try {
    return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value))
  } catch {
    return String(value)
  }
}

function normalise(result: unknown, input: ReplayRecord): TransformOutcome {
  if (result === null) return { ok: true, outputs: [] }
  if (result === undefined) {
    return {
      ok: false,
      error: new TransformResultError('The transform returned undefined; return the record (or a new one), an array of records, or null to drop it.'),
    }
  }
  const list = Array.isArray(result) ? result : [result]
  const outputs: ReplayRecord[] = []
  for (const item of list) {
    const out = toOutput(item, input)
    if (out instanceof Error) return { ok: false, error: out }
    outputs.push(out)
  }
  return { ok: true, outputs }
}

function toOutput(item: unknown, input: ReplayRecord): ReplayRecord | Error {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    return new TransformResultError(
      `The transform returned ${item === null ? 'null inside an array' : `a ${Array.isArray(item) ? 'nested array' : typeof item}`}; each output must be a record object with a value.`,
    )
  }
  const o = item as OutputRecord
  if (!('value' in o))
    return new TransformResultError(
      'The transform returned a record without a value property; spread the input ({ ...record, value }) or set value (null for a tombstone).',
    )
  let headers: RecordHeader[] = input.headers
  if (o.headers !== undefined && o.headers !== input.headers) {
    if (!Array.isArray(o.headers)) return new TransformResultError('The transform returned headers that are not an array of { key, value }.')
    headers = []
    for (const h of o.headers) {
      if (typeof h?.key !== 'string') return new TransformResultError('The transform returned a header without a string key.')
      const v = h.value
      if (v === null || v === undefined) headers.push({ key: h.key, value: null })
      else if (typeof v === 'string') headers.push({ key: h.key, value: Buffer.from(v, 'utf8') })
      else if (Buffer.isBuffer(v)) headers.push({ key: h.key, value: v })
      else if ((v as unknown) instanceof Uint8Array) headers.push({ key: h.key, value: Buffer.from(v as Uint8Array) })
      else return new TransformResultError(`The transform returned header "${h.key}" with a ${typeof v} value; use a string, a Buffer or null.`)
    }
  }
  const timestamp = o.timestamp ?? input.timestamp
  if (typeof timestamp !== 'number' || !Number.isFinite(timestamp) || timestamp < 0)
    return new TransformResultError(`The transform returned timestamp ${String(timestamp)}; use epoch milliseconds.`)
  return {
    key: 'key' in o ? o.key : input.key,
    value: o.value,
    headers,
    timestamp,
    timestampType: input.timestampType,
    source: input.source,
  }
}
