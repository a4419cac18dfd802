import { Flags } from '../../src/cli/oclif.js'
import { BaseCommand } from '../../src/cli/base-command.js'

export interface RunbookListResult {
  dir: string
  runbooks: Array<{ name: string; title: string; summary: string; steps: number; variables: string[] }>
}

export default class RunbookList extends BaseCommand<RunbookListResult> {
  static override summary = 'List the incident runbooks: what each is for.'
  static override description =
    'Runbooks are Markdown files in docs/runbooks/ (or --dir) whose ```recover blocks are steps that recover runbook run executes in order.'
  static override examples = ['<%= config.bin %> runbook list', '<%= config.bin %> runbook list --json']
  static override flags = {
    dir: Flags.string({ summary: 'A folder of runbooks. Default: the docs/runbooks/ that comes with recover.' }),
  }

  async run(): Promise<RunbookListResult> {
    const { flags } = await this.parse(RunbookList)
    const { defaultRunbookDir, runbookNames, loadRunbook } = await import('../../src/runbooks/runbook-files.js')
    const dir = flags.dir ?? defaultRunbookDir()
    const runbooks = runbookNames(dir).map((name) => {
      const r = loadRunbook(dir, name)
      return { name, title: r.title, summary: r.summary, steps: r.steps.length, variables: r.variables.map((v) => v.name) }
    })
    const { renderRunbookList } = await import('../../src/render/runbook.js')
    this.out(renderRunbookList(runbooks))
    return { dir, runbooks }
  }
}
