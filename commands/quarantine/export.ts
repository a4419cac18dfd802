import { connectionFlags } from '../../src/cli/shared-flags.js'
import { filterFlags, dlqFlag, toFilter } from '../../src/cli/quarantine-flags.js'
import { QuarantineCommand } from '../../src/cli/quarantine-command.js'
import { envelopeFileFlag } from '../../src/cli/location-flags.js'
import type { ExportResult } from '../../src/services/quarantine.js'

export default class QuarantineExport extends QuarantineCommand<ExportResult> {
  static override summary = 'Write dead letters, exactly as stored (bytes and every header), to a lossless JSONL envelope file.'
  static override description =
    'The file reads back with --dlq file:PATH.jsonl (every quarantine command and triage take it) and is the same envelope replay and audit use. An existing file is never overwritten.'
  static override examples = [
    '<%= config.bin %> quarantine export --dlq kafka:orders.quarantine --output orders-dlq.jsonl',
    '<%= config.bin %> quarantine export --dlq kafka:dlq-payments --error DataException --since 2018-03-21 --output data-exceptions.jsonl',
  ]
  static override flags = {
    ...connectionFlags,
    ...dlqFlag,
    ...filterFlags,
    // Formerly --to, which names the end of a range in replay and audit: still accepted for one release, with a warning.
    output: envelopeFileFlag({
      summary: 'The .jsonl file to write (must not exist): PATH.jsonl or file:PATH.jsonl. Formerly --to.',
      required: true,
      aliases: ['to'],
    }),
  }

  async run(): Promise<ExportResult> {
    const { flags } = await this.parse(QuarantineExport)
    const filter = toFilter(flags)
    const ctx = await this.openQuarantine(flags)
    const { exportQuarantine } = await import('../../src/services/quarantine.js')
    const result = await exportQuarantine(ctx, filter, flags.output.path)
    const { renderExport } = await import('../../src/render/quarantine.js')
    this.out(renderExport(result))
    return result
  }
}
