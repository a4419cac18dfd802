import { Args } from '../../src/cli/oclif.js'
import { Flags } from '../../src/cli/oclif.js'
import { join, resolve } from 'node:path'
import { BaseCommand } from '../../src/cli/base-command.js'
import { currentActor } from '../../src/config/actor.js'
import { RecoveryError } from '../../src/errors.js'
import type { RunbookRunResult } from '../../src/runbooks/run-runbook.js'

export default class RunbookRun extends BaseCommand<RunbookRunResult> {
  static override summary = "Run a runbook's steps in order: asks before each destructive step, stops at the first failure, logs what ran."
  static override description =
    `Every step is a real recover command, run as its own process and printed before it runs. Variables come from --var NAME=VALUE, else the runbook's defaults; recover runbook show NAME lists them.

Before a destructive step (seek --execute, a replay into a sink…) it asks on the terminal; without one, --yes is needed. Answering no stops the run there with exit 4 (DECLINED), Ctrl-C with exit 130; the step asked about does not run. The first step that fails stops the run, with the step's error and how to continue (--from-step N) or undo (--rollback). Steps marked rollback run only with --rollback.

Each run has an id ({{run}} in the runbook) and is logged, step by step, in runbooks/ of the state folder (RECOVER_HOME, else ~/.recover; or --log-dir). Every change its steps make is journalled with that id, so --rollback reverts exactly the changes of that run (by default the newest earlier run with the same variables; --run ID names one), and refuses when the group has moved since.`
  static override examples = [
    {
      description: 'See what would run, with the values filled in',
      command: '<%= config.bin %> runbook run poison-pill --var group=billing --var topic=orders --var partition=1 --var offset=343 --dry-run',
    },
    {
      description: 'Run it, asking before each destructive step',
      command: '<%= config.bin %> runbook run poison-pill --var group=billing --var topic=orders --var partition=1 --var offset=343',
    },
    {
      description: 'Continue from step 5 after fixing what stopped it',
      command: '<%= config.bin %> runbook run bad-deploy --var group=billing --var topic=orders --from-step 5',
    },
    {
      description: "Undo what the last run with these variables changed: run the runbook's rollback steps",
      command: '<%= config.bin %> runbook run bad-deploy --var group=billing --var topic=orders --rollback --yes',
    },
    {
      description: 'Undo one run by its id (printed when it failed, and in its log)',
      command: '<%= config.bin %> runbook run poison-pill --var partition=2 --var offset=1952 --rollback --run 2026-12-06T21-10-00-000Z-poison-pill',
    },
  ]
  static override args = { name: Args.string({ description: 'The runbook (recover runbook list).', required: true }) }
  static override flags = {
    var: Flags.string({ summary: 'A variable: NAME=VALUE (repeatable).', multiple: true, default: [] }),
    'dry-run': Flags.boolean({ summary: 'Print the commands with the values filled in; run nothing.' }),
    yes: Flags.boolean({ char: 'y', summary: 'Do not ask before destructive steps.' }),
    rollback: Flags.boolean({ summary: 'Run the rollback steps (and only those), reverting what an earlier run changed.' }),
    run: Flags.string({
      summary: 'With --rollback: the id of the run to revert. Default: the newest earlier run with the same variables.',
      dependsOn: ['rollback'],
    }),
    'from-step': Flags.integer({ summary: 'Start at this step number (the steps before it are not run).', min: 1 }),
    dir: Flags.string({ summary: 'A folder of runbooks. Default: the docs/runbooks/ that comes with recover.' }),
    'log-dir': Flags.string({ summary: 'Where run logs go. Default: runbooks/ in the state folder (RECOVER_HOME, else ~/.recover).' }),
  }

  async run(): Promise<RunbookRunResult> {
    const { args, flags } = await this.parse(RunbookRun)
    const { defaultRunbookDir, loadRunbook } = await import('../../src/runbooks/runbook-files.js')
    const { parseVarFlags, resolveRunbookVariables, variablesUsed } = await import('../../src/core/runbook.js')
    const { CommandLineError } = await import('../../src/core/command-line.js')
    const runbook = loadRunbook(flags.dir ?? defaultRunbookDir(), args.name)
    let given: Record<string, string>
    try {
      given = parseVarFlags(flags.var)
    } catch (error) {
      if (error instanceof CommandLineError) throw new RecoveryError('USAGE', `${error.message}; write --var group=billing.`)
      throw error
    }
    const { values, missing, unknown } = resolveRunbookVariables(runbook, given)
    if (unknown.length > 0)
      throw new RecoveryError(
        'USAGE',
        `Runbook ${runbook.name} has no variable ${unknown.join(', ')}; its variables are ${runbook.variables.map((v) => v.name).join(', ')}.`,
      )
    if (missing.length > 0) {
      throw new RecoveryError('RUNBOOK_VARIABLE_MISSING', `Runbook ${runbook.name} needs ${missing.map((m) => `--var ${m}=…`).join(' ')}.`, {
        nextSteps: missing.map((m) => `${m}: ${runbook.variables.find((v) => v.name === m)!.description}`),
        details: { missing },
      })
    }
    const selected = runbook.steps.filter((s) => s.rollback === (flags.rollback ?? false) && s.number >= (flags['from-step'] ?? 1))
    if (selected.length === 0)
      throw new RecoveryError(
        'USAGE',
        `Runbook ${runbook.name} has no ${flags.rollback ? 'rollback ' : ''}steps${flags['from-step'] ? ` from step ${flags['from-step']}` : ''}; recover runbook show ${runbook.name} lists them.`,
      )
    // Fail before the first step, not halfway through, when nobody can answer the questions.
    if (!flags['dry-run'] && !flags.yes && selected.some((s) => s.destructive) && (!process.stdin.isTTY || !process.stderr.isTTY)) {
      throw new RecoveryError(
        'CONFIRMATION_REQUIRED',
        `Runbook ${runbook.name} has destructive steps and there is no terminal to ask on; review it with --dry-run, then add --yes.`,
      )
    }

    const { runRunbook, runbookCommand, findRunToRollBack, runbookRunLogged } = await import('../../src/runbooks/run-runbook.js')
    const logDir = flags['log-dir']
      ? resolve(flags['log-dir'])
      : join((await import('../../src/config/state-dir.js')).recoverStateDir(this.projectConfig({})).dir, 'runbooks')
    let rollbackOf: string | undefined
    if (flags.rollback) {
      rollbackOf = flags.run ?? findRunToRollBack(logDir, runbook, values)
      if (!rollbackOf) {
        throw new RecoveryError(
          'RUNBOOK_RUN_NOT_FOUND',
          `There is no earlier run of runbook ${runbook.name} with the same ${variablesUsed(runbook.steps.filter((s) => s.rollback)).join(', ')} in ${logDir}, so there is nothing of its to roll back; nothing was changed.`,
          {
            nextSteps: [`Name the run with --run ID (the ids are the file names in ${logDir}), or pass the same --var values as the run.`],
            details: { logDir, runbook: runbook.name },
          },
        )
      }
      if (flags.run && !runbookRunLogged(logDir, runbook.name, flags.run)) {
        throw new RecoveryError('RUNBOOK_RUN_NOT_FOUND', `No run ${flags.run} of runbook ${runbook.name} is logged in ${logDir}; nothing was changed.`, {
          details: { logDir, runbook: runbook.name, run: flags.run },
        })
      }
    }
    const { renderRunbookStepHeader, renderRunbookPlan, renderRunbookEnding } = await import('../../src/render/runbook.js')
    const extra = [...(flags.dir ? ['--dir', flags.dir] : [])]
    const hasRollback = runbook.steps.some((s) => s.rollback)
    const result = await runRunbook({
      runbook,
      variables: values,
      dryRun: flags['dry-run'],
      rollback: flags.rollback,
      ...(rollbackOf ? { rollbackOf } : {}),
      fromStep: flags['from-step'],
      cwd: process.cwd(),
      logDir,
      confirm: async (step, command) => this.ask({ yes: flags.yes, what: `run destructive step ${step.number}: ${command}` }),
      acceptsYes: (argv) => this.acceptsYes(argv),
      onStepStart: (step, index, total, command) => this.out(renderRunbookStepHeader(step, index, total, command)),
      onStdout: (chunk) => {
        if (!this.jsonEnabled()) process.stdout.write(chunk)
      },
      onStderr: (chunk) => {
        if (!this.jsonEnabled()) process.stderr.write(chunk)
      },
      actor: currentActor(),
      continueCommand: (step) => runbookCommand(runbook.name, given, [...extra, '--from-step', String(step)]),
      rollbackCommand: hasRollback ? (runId) => runbookCommand(runbook.name, given, [...extra, '--rollback', '--run', runId]) : undefined,
    })
    this.out(result.dryRun ? renderRunbookPlan(result) : renderRunbookEnding(result))
    if (result.stopped) {
      // A "no" is a decision, not success: a script running the runbook must see it did not finish.
      const declined = result.steps.at(-1)!
      throw new RecoveryError(
        'DECLINED',
        `Runbook ${runbook.name} stopped at step ${declined.number}: the answer was no, so it and the steps after it were not run.`,
        {
          nextSteps: [`Continue from this step when ready: ${runbookCommand(runbook.name, given, [...extra, '--from-step', String(declined.number)])}`],
          details: { runbook: runbook.name, step: declined.number, log: result.log, steps: result.steps },
        },
      )
    }
    return result
  }

  /** Whether the recover command these arguments name has a --yes flag. */
  private acceptsYes(argv: string[]): boolean {
    const first = argv.findIndex((a) => a.startsWith('-'))
    const words = first < 0 ? argv : argv.slice(0, first)
    for (let n = words.length; n > 0; n--) {
      const command = this.config.findCommand(words.slice(0, n).join(':'))
      if (command) return 'yes' in command.flags
    }
    return false
  }
}
