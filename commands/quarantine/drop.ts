import { Flags } from '../../src/cli/oclif.js'
import { connectionFlags } from '../../src/cli/shared-flags.js'
import { allFlag, filterFlags, dlqFlag, toFilter } from '../../src/cli/quarantine-flags.js'
import { QuarantineCommand } from '../../src/cli/quarantine-command.js'
import type { DropResult } from '../../src/services/quarantine.js'

export default class QuarantineDrop extends QuarantineCommand<DropResult> {
  static override summary = 'Mark dead letters as dropped, with a required reason, in the audit trail (dry run unless --execute).'
  static override description =
    'Kafka cannot delete single records, and a dead letter is evidence: drop changes nothing in the quarantine. It records, per record, who dropped it, when and why, in the audit trail next to the quarantine, so that redrive leaves it alone and teammates see it in "quarantine list". Records already handled are left as they are unless --again.'
  static override examples = [
    {
      description: 'See what would be dropped',
      command: '<%= config.bin %> quarantine drop --dlq kafka:orders.quarantine --key test-order --reason "load-test traffic"',
    },
    {
      description: 'Drop them',
      command: '<%= config.bin %> quarantine drop --dlq kafka:orders.quarantine --key test-order --reason "load-test traffic" --execute',
    },
  ]
  static override flags = {
    ...connectionFlags,
    ...dlqFlag,
    ...filterFlags,
    ...allFlag,
    reason: Flags.string({ summary: 'Why these records are not needed (recorded in the audit trail).', required: true }),
    again: Flags.boolean({ summary: 'Also records already redriven, parked, retried or dropped.' }),
    execute: Flags.boolean({ summary: 'Record the drop (asks on a terminal; needs --yes otherwise).' }),
    yes: Flags.boolean({ char: 'y', summary: 'Do not ask for confirmation.' }),
  }

  async run(): Promise<DropResult> {
    const { flags } = await this.parse(QuarantineDrop)
    const filter = toFilter(flags)
    const ctx = await this.openQuarantine(flags)
    const { dropQuarantined } = await import('../../src/services/quarantine.js')
    const { renderDrop } = await import('../../src/render/quarantine.js')
    const request = { filter, all: flags.all, reason: flags.reason, again: flags.again }
    const plan = await dropQuarantined(ctx, { ...request, dryRun: true }, this.actor())
    if (flags.execute && plan.dropped === 0) {
      this.out(`Nothing to drop: ${plan.matched} record(s) match, ${plan.alreadyHandled} of them already handled (--again to include).`)
      return plan
    }
    if (!flags.execute) {
      this.out(renderDrop(plan, flags.reason))
      if (!flags.execute) this.note('Dry run: nothing recorded. Add --execute to mark them dropped.')
      return plan
    }
    await this.confirm({ yes: flags.yes, what: `mark ${plan.dropped} record(s) of ${ctx.source.uri} dropped` })
    const result = await dropQuarantined(ctx, request, this.actor())
    this.out(renderDrop(result, flags.reason))
    return result
  }
}
