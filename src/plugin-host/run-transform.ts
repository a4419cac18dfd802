import type { DefinedTransform, OutputRecord, PluginContext, RecordHeader, ReplayRecord } from '../plugin-api.js'

/** A transform that did not settle in time. The record goes to quarantine; the call is not waited for. */
export class TransformTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`The transform did not finish within ${timeoutMs} ms (--transform-timeout).`)
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

/** What became of one input record. */
export type TransformOutcome =
  | { ok: true; outputs: Array<ReplayRecord> }
  | { ok: false; error: Error }

/**
 * Wraps a transform plugin: every call is guarded (a throw, a rejection, a timeout or a
 * malformed result becomes an outcome, never an exception), outputs are completed from the
 * input record, and provenance always stays the input's. Synchronous transforms pay no timer.
 * A synchronous transform that never returns cannot be interrupted in this thread: the
 * timeout only applies to the promises a transform returns.
 */
export class TransformRunner {
  constructor(
    readonly plugin: DefinedTransform,
    private readonly ctx: PluginContext,
    private readonly timeoutMs: number,
  ) {}

  get name(): string {
    return this.plugin.name
  }

  get version(): string {
    return this.plugin.version
  }

  async setup(): Promise<void> {
    await this.plugin.setup?.(this.ctx)
  }

  /** Runs the transform on one record. Sync results come back without awaiting a timer. */
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

  private async settle(pending: PromiseLike<unknown>, record: ReplayRecord): Promise<TransformOutcome> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<TransformOutcome>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, error: new TransformTimeoutError(this.timeoutMs) }), this.timeoutMs)
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
    }
  }
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
    return typeof value === 'string' ? value : JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}

function normalise(result: unknown, input: ReplayRecord): TransformOutcome {
  if (result === null) return { ok: true, outputs: [] }
  if (result === undefined) {
    return { ok: false, error: new TransformResultError('The transform returned undefined; return the record (or a new one), an array of records, or null to drop it.') }
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
    return new TransformResultError(`The transform returned ${item === null ? 'null inside an array' : `a ${Array.isArray(item) ? 'nested array' : typeof item}`}; each output must be a record object with a value.`)
  }
  const o = item as OutputRecord
  if (!('value' in o)) return new TransformResultError('The transform returned a record without a value property; spread the input ({ ...record, value }) or set value (null for a tombstone).')
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
  if (typeof timestamp !== 'number' || !Number.isFinite(timestamp) || timestamp < 0) return new TransformResultError(`The transform returned timestamp ${String(timestamp)}; use epoch milliseconds.`)
  return {
    key: 'key' in o ? o.key : input.key,
    value: o.value,
    headers,
    timestamp,
    timestampType: input.timestampType,
    source: input.source,
  }
}
