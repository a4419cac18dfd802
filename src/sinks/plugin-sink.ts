import type { DefinedSink, PluginContext } from '../plugin-api.js'
import { RecoveryError } from '../errors.js'
import { callWithTimeout, PluginTimeoutError } from '../plugin-host/guarded-call.js'
import { isPluginExitError } from '../plugin-host/exit-guard.js'
import { pluginExitFailure } from '../plugin-host/run-transform.js'
import type { Sink, SinkOpenResult, SinkRecord, SinkRejection, SinkState } from './sink.js'

export const DEFAULT_SINK_TIMEOUT_MS = 120_000

/**
 * A sink plugin (`plugin:path.ts#target`) behind the same interface. A batch is durable when
 * the plugin's write() resolves; a throw stops the replay (SINK_FAILED) before the checkpoint
 * moves, so --resume writes the batch again: plugins should be idempotent or accept duplicates.
 * Every hook has a deadline (--sink-timeout): a plugin that hangs, even in a synchronous loop,
 * stops the replay with SINK_FAILED instead of hanging it.
 */
export class PluginSink implements Sink {
  readonly mayDuplicateOnResume = true

  constructor(
    private readonly plugin: DefinedSink,
    private readonly target: string,
    private readonly ctx: PluginContext,
    private readonly path: string,
    private readonly timeoutMs: number = DEFAULT_SINK_TIMEOUT_MS,
  ) {}

  get uri(): string {
    return `plugin:${this.path}${this.target ? `#${this.target}` : ''}`
  }

  private fail(error: unknown, doing: string): RecoveryError {
    if (isPluginExitError(error)) {
      return pluginExitFailure(`Sink plugin ${this.plugin.name}@${this.plugin.version}`, error, `when asked ${doing}`, {
        plugin: this.plugin.name,
        version: this.plugin.version,
      })
    }
    if (error instanceof PluginTimeoutError) {
      return new RecoveryError(
        'SINK_FAILED',
        `Sink plugin ${this.plugin.name}@${this.plugin.version} did not finish ${doing.replace(/^to (open|write|close)/, (_m, verb: string) => `${verb.replace(/e$/, '')}ing`)} within ${Math.round(error.timeoutMs / 1000)} s (--sink-timeout); nothing past the last checkpoint counts as written: fix the sink (or raise --sink-timeout).`,
        { cause: error, details: { plugin: this.plugin.name, version: this.plugin.version } },
      )
    }
    return new RecoveryError(
      'SINK_FAILED',
      `Sink plugin ${this.plugin.name}@${this.plugin.version} failed ${doing}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error, details: { plugin: this.plugin.name, version: this.plugin.version } },
    )
  }

  async open(): Promise<SinkOpenResult> {
    try {
      await callWithTimeout('open', this.timeoutMs, () => this.plugin.open?.({ ...this.ctx, target: this.target }))
    } catch (error) {
      throw this.fail(error, 'to open')
    }
    return {}
  }

  async write(records: SinkRecord[]): Promise<SinkRejection[]> {
    try {
      const result = await callWithTimeout('write', this.timeoutMs, () => this.plugin.write(records, this.ctx))
      const rejected = (result && typeof result === 'object' ? result.rejected : undefined) ?? []
      return rejected.filter((r) => Number.isInteger(r.index) && r.index >= 0 && r.index < records.length)
    } catch (error) {
      throw this.fail(error, `to write a batch of ${records.length}`)
    }
  }

  async checkpoint(): Promise<SinkState> {
    return {}
  }

  async close(): Promise<void> {
    try {
      await callWithTimeout('close', this.timeoutMs, () => this.plugin.close?.(this.ctx))
    } catch (error) {
      throw this.fail(error, 'to close')
    }
  }
}
