import { Args } from '../../src/cli/oclif.js'
import { Flags } from '../../src/cli/oclif.js'
import { BaseCommand } from '../../src/cli/base-command.js'
import type { Runbook } from '../../src/core/runbook.js'

export default class RunbookShow extends BaseCommand<Runbook> {
  static override summary = 'Show a runbook: what it is for, its variables, and the commands it runs.'
  static override examples = ['<%= config.bin %> runbook show poison-pill', '<%= config.bin %> runbook show bad-deploy --json']
  static override args = { name: Args.string({ description: 'The runbook (recover runbook list).', required: true }) }
  static override flags = {
    dir: Flags.string({ summary: 'A folder of runbooks. Default: the docs/runbooks/ that comes with recover.' }),
  }

  async run(): Promise<Runbook> {
    const { args, flags } = await this.parse(RunbookShow)
    const { defaultRunbookDir, loadRunbook } = await import('../../src/runbooks/runbook-files.js')
    const runbook = loadRunbook(flags.dir ?? defaultRunbookDir(), args.name)
    const { renderRunbook } = await import('../../src/render/runbook.js')
    this.out(renderRunbook(runbook))
    this.out(`\nThe whole text: ${flags.dir ?? 'docs/runbooks'}/${runbook.name}.md`)
    return runbook
  }
}
