import { Flags } from '@oclif/core'
import { connectionFlags } from '../../src/cli/shared-flags.js'
import { filterFlags, fromFlag, toFilter } from '../../src/cli/quarantine-flags.js'
import { QuarantineCommand } from '../../src/cli/quarantine-command.js'
import type { ExportResult } from '../../src/services/quarantine.js'

export default class QuarantineExport extends QuarantineCommand<ExportResult> {
  static override summary = 'Write dead letters, exactly as stored (bytes and every header), to a lossless JSONL envelope file.'
  static override description = 'The file reads back with --from file:PATH.jsonl (every quarantine command and triage take it) and is the same envelope replay and audit use. An existing file is never overwritten.'
  static override examples = [
    '<%= config.bin %> quarantine export --from kafka:orders.quarantine --to orders-dlq.jsonl',
    '<%= config.bin %> quarantine export --from kafka:dlq-payments --error DataException --since 2018-03-21 --to data-exceptions.jsonl',
  ]
  static override flags = {
    ...connectionFlags,
    ...fromFlag,
    ...filterFlags,
    to: Flags.string({ summary: 'The .jsonl file to write (must not exist).', required: true }),
  }

  async run(): Promise<ExportResult> {
    const { flags } = await this.parse(QuarantineExport)
    const filter = toFilter(flags)
    const ctx = await this.openQuarantine(flags)
    const { exportQuarantine } = await import('../../src/services/quarantine.js')
    const result = await exportQuarantine(ctx, filter, flags.to.replace(/^file:/, ''))
    const { renderExport } = await import('../../src/render/quarantine.js')
    this.out(renderExport(result))
    return result
  }
}
