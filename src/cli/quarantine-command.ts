import { BaseCommand } from './base-command.js'
import { currentActor } from './quarantine-flags.js'
import type { Actor, QuarantineContext } from '../services/quarantine.js'
import type { QuarantineLocation } from '../quarantine/quarantine-location.js'

/** What every quarantine command (and triage) does first: open the quarantine named by --dlq. */
export abstract class QuarantineCommand<T> extends BaseCommand<T> {
  /** A Kafka quarantine always needs the cluster; a file one only for actions that write to Kafka. */
  protected async openQuarantine(
    flags: { dlq: QuarantineLocation; brokers?: string; 'client-config'?: string; cluster?: string; config?: string },
    options: { needsKafka?: boolean } = {},
  ): Promise<QuarantineContext> {
    const uri = flags.dlq
    const gateway = uri.kind === 'kafka' || options.needsKafka ? await this.gateway(flags) : undefined
    const { openQuarantine } = await import('../services/quarantine.js')
    const ctx = openQuarantine(uri, gateway)
    this.onCleanup(() => ctx.source.close())
    return ctx
  }

  protected actor(): Actor {
    return currentActor(`recover ${(this.id ?? '').replace(/:/g, ' ')} ${this.argv.join(' ')}`.trim())
  }
}
