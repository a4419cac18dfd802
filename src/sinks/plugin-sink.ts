import type { DefinedSink, PluginContext } from '../plugin-api.js'
import { RecoveryError } from '../errors.js'
import type { Sink, SinkOpenResult, SinkRecord, SinkRejection, SinkState } from './sink.js'

/**
 * A sink plugin (`plugin:path.ts#target`) behind the same interface. A batch is durable when
 * the plugin's write() resolves; a throw stops the replay (SINK_FAILED) before the checkpoint
 * moves, so --resume writes the batch again: plugins should be idempotent or accept duplicates.
 */
export class PluginSink implements Sink {
  readonly mayDuplicateOnResume = true

  constructor(
    private readonly plugin: DefinedSink,
    private readonly target: string,
    private readonly ctx: PluginContext,
    private readonly path: string,
  ) {}

  get uri(): string {
    return `plugin:${this.path}${this.target ? `#${this.target}` : ''}`
  }

  private fail(error: unknown, doing: string): RecoveryError {
    return new RecoveryError('SINK_FAILED', `Sink plugin ${this.plugin.name}@${this.plugin.version} failed ${doing}: ${error instanceof Error ? error.message : String(error)}`, { cause: error, details: { plugin: this.plugin.name, version: this.plugin.version } })
  }

  async open(): Promise<SinkOpenResult> {
    try {
      await this.plugin.open?.({ ...this.ctx, target: this.target })
    } catch (error) {
      throw this.fail(error, 'to open')
    }
    return {}
  }

  async write(records: SinkRecord[]): Promise<SinkRejection[]> {
    try {
      const result = await this.plugin.write(records, this.ctx)
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
    await this.plugin.close?.(this.ctx)
  }
}
