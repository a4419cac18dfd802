import type { Actor } from '../config/actor.js'
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { RecoveryError } from '../errors.js'
import { redact } from '../config/redact.js'
import { stepArguments, variablesUsed, type Runbook, type RunbookStep } from '../core/runbook.js'
import { formatCommandLine, runRecover, quoteArgument } from '../runner/run-recover.js'

export interface RunbookStepRun {
  number: number
  title: string
  section: string
  command: string
  destructive: boolean
  /** 'ran' (see exitCode), 'skipped' (--from-step, or the person declined), 'planned' (--dry-run). */
  status: 'ran' | 'declined' | 'planned'
  exitCode?: number
  ms?: number
  error?: { code: string; message: string }
}

export interface RunbookRunResult {
  runbook: string
  /** This run's id ({{run}}); a rollback's id is the run it rolled back. */
  runId: string | null
  /** --rollback: the run whose changes it reverted. */
  rollbackOf?: string
  title: string
  variables: Record<string, string>
  dryRun: boolean
  rollback: boolean
  steps: RunbookStepRun[]
  /** Stopped early because the person answered no. */
  stopped: boolean
  log: string | null
}

export interface RunRunbookOptions {
  runbook: Runbook
  variables: Record<string, string>
  dryRun?: boolean
  /** Run the rollback steps instead of the others, reverting the changes of this earlier run (its id). */
  rollback?: boolean
  rollbackOf?: string
  /** Start at this step number (after fixing what made it fail). */
  fromStep?: number
  cwd: string
  /** Where the run log goes: <logDir>/<time>-<runbook>.jsonl. */
  logDir: string
  /** Asked before each destructive step; false stops the run. */
  confirm: (step: RunbookStep, command: string) => Promise<boolean>
  /** Whether the command a step runs has --yes (added once the person has confirmed, so the step does not ask again). */
  acceptsYes: (argv: string[]) => boolean
  onStepStart?: (step: RunbookStep, index: number, total: number, command: string) => void
  onStdout?: (chunk: Buffer) => void
  onStderr?: (chunk: Buffer) => void
  /** For the log: who ran it. */
  actor: Actor
  /** The command to continue with, given the step to start from. */
  continueCommand: (fromStep: number) => string
  /** The command that rolls back the run with this id. */
  rollbackCommand?: (runId: string) => string
}

/**
 * Runs a runbook's steps in order, each as its own `recover` process, asking before every
 * destructive one, and stops at the first failure with what to do next. Every step that runs
 * is appended to a JSONL log first (command) and after (exit code), so the log shows what ran
 * even if this process dies.
 */
export async function runRunbook(options: RunRunbookOptions): Promise<RunbookRunResult> {
  const { runbook, variables } = options
  const steps = runbook.steps.filter((s) => s.rollback === (options.rollback ?? false) && s.number >= (options.fromStep ?? 1))
  const rollback = options.rollback ?? false
  if (rollback && !options.rollbackOf) throw new RecoveryError('USAGE', 'A rollback needs the id of the run it reverts.')
  const stem = `${new Date().toISOString().replace(/[:.]/g, '-')}-${runbook.name}${rollback ? '-rollback' : ''}`
  const runId = options.dryRun && !rollback ? null : stem
  const result: RunbookRunResult = {
    runbook: runbook.name,
    runId,
    ...(rollback ? { rollbackOf: options.rollbackOf } : {}),
    title: runbook.title,
    variables,
    dryRun: options.dryRun ?? false,
    rollback,
    steps: [],
    stopped: false,
    log: null,
  }
  // {{run}}: in a rollback, the run being reverted; otherwise this run.
  const values = { ...variables, ...(rollback ? { run: options.rollbackOf! } : runId ? { run: runId } : {}) }
  if (result.dryRun) {
    for (const step of steps) result.steps.push(describe(step, formatCommandLine(stepArguments(step, values)), 'planned'))
    return result
  }

  mkdirSync(options.logDir, { recursive: true })
  const log = resolve(join(options.logDir, `${stem}.jsonl`))
  result.log = log
  const write = (entry: Record<string, unknown>) => appendFileSync(log, `${JSON.stringify(redact({ at: new Date().toISOString(), ...entry }))}\n`)
  write({
    event: 'start',
    runbook: runbook.name,
    runId: stem,
    ...(rollback ? { rollbackOf: options.rollbackOf } : {}),
    variables,
    rollback,
    fromStep: options.fromStep ?? 1,
    ...options.actor,
  })

  for (const [index, step] of steps.entries()) {
    const argv = stepArguments(step, values)
    const command = formatCommandLine(argv)
    options.onStepStart?.(step, index, steps.length, command)
    if (step.destructive) {
      if (!(await confirmStep(options, step, command, result, write))) {
        result.steps.push(describe(step, command, 'declined'))
        result.stopped = true
        write({ event: 'declined', step: step.number, command })
        break
      }
      if (options.acceptsYes(argv) && !argv.includes('--yes') && !argv.includes('-y')) argv.push('--yes')
    }
    write({ event: 'step', step: step.number, title: step.title, command: formatCommandLine(argv) })
    // Every change a step makes is journalled with this run's id, so a rollback reverts exactly it.
    const run = await runRecover(argv, { cwd: options.cwd, env: { RECOVER_RUNBOOK_RUN: stem }, onStdout: options.onStdout, onStderr: options.onStderr })
    const done: RunbookStepRun = { ...describe(step, command, 'ran'), exitCode: run.exitCode, ms: run.ms }
    if (run.error) done.error = { code: run.error.code, message: run.error.message }
    result.steps.push(done)
    write({ event: 'done', step: step.number, exitCode: run.exitCode, ms: run.ms, ...(run.error ? { error: run.error.code } : {}) })
    if (run.exitCode !== 0) {
      const nextSteps = [...(run.error?.nextSteps ?? []), `Once the cause is fixed, continue from this step: ${options.continueCommand(step.number)}`]
      if (options.rollbackCommand && !result.rollback) nextSteps.push(`Or undo what this run changed: ${options.rollbackCommand(stem)}`)
      nextSteps.push(`What ran is logged in ${log}.`)
      throw new RecoveryError(
        'RUNBOOK_STEP_FAILED',
        `Step ${step.number} of runbook ${runbook.name} (${step.title}) failed with exit code ${run.exitCode}${run.error ? ` [${run.error.code}]: ${run.error.message.replace(/\.$/, '')}` : ''}; the steps after it were not run.`,
        {
          nextSteps,
          details: { runbook: runbook.name, step: step.number, command, exitCode: run.exitCode, stepError: run.error, log, steps: result.steps },
        },
      )
    }
  }
  write({ event: result.stopped ? 'stopped' : 'finished' })
  return result
}

/**
 * The person's answer before a destructive step. Ctrl-C at the prompt is logged and ends the
 * run with INTERRUPTED (exit 130), saying which steps ran before it.
 */
async function confirmStep(
  options: RunRunbookOptions,
  step: RunbookStep,
  command: string,
  result: RunbookRunResult,
  write: (entry: Record<string, unknown>) => void,
): Promise<boolean> {
  try {
    return await options.confirm(step, command)
  } catch (error) {
    if (!(error instanceof RecoveryError && error.code === 'INTERRUPTED')) throw error
    write({ event: 'interrupted', step: step.number, command })
    const ran = result.steps.filter((s) => s.status === 'ran').map((s) => s.number)
    if (ran.length === 0)
      throw new RecoveryError('INTERRUPTED', `Interrupted at the prompt of step ${step.number}: nothing was changed.`, {
        details: { runbook: result.runbook, step: step.number, log: result.log },
      })
    throw new RecoveryError(
      'INTERRUPTED',
      `Interrupted at the prompt of step ${step.number}: step${ran.length === 1 ? '' : 's'} ${ran.join(', ')} ran, step ${step.number} and the steps after it did not.`,
      {
        nextSteps: [`Continue from this step: ${options.continueCommand(step.number)}`, `What ran is logged in ${result.log}.`],
        details: { runbook: result.runbook, step: step.number, log: result.log, steps: result.steps },
      },
    )
  }
}

function describe(step: RunbookStep, command: string, status: RunbookStepRun['status']): RunbookStepRun {
  return { number: step.number, title: step.title, section: step.section, command, destructive: step.destructive, status }
}

/**
 * The run a --rollback reverts when none is named: the newest earlier run (not a rollback) of
 * this runbook whose values agree on the variables the rollback steps use (the group, say),
 * from its logs. Undefined when there is none.
 */
export function findRunToRollBack(logDir: string, runbook: Runbook, variables: Record<string, string>): string | undefined {
  if (!existsSync(logDir)) return undefined
  const used = variablesUsed(runbook.steps.filter((s) => s.rollback))
  const same = (a: Record<string, string>) => used.every((k) => a[k] === variables[k])
  const runs = readdirSync(logDir)
    .filter((f) => f.endsWith(`-${runbook.name}.jsonl`))
    .sort()
    .reverse()
  for (const file of runs) {
    const first = readFileSync(join(logDir, file), 'utf8').split('\n', 1)[0]
    try {
      const start = JSON.parse(first ?? '') as { event?: string; runId?: string; rollback?: boolean; variables?: Record<string, string> }
      if (start.event === 'start' && start.runId && !start.rollback && start.variables && same(start.variables)) return start.runId
    } catch {}
  }
  return undefined
}

/** Whether a run with this id was logged for this runbook (for --rollback --run ID). */
export function runbookRunLogged(logDir: string, runbook: string, runId: string): boolean {
  return existsSync(join(logDir, `${runId}.jsonl`)) && runId.endsWith(`-${runbook}`)
}

/** `recover runbook run NAME --var k=v …` as a person would type it again. */
export function runbookCommand(name: string, variables: Record<string, string>, extra: string[] = []): string {
  return ['recover', 'runbook', 'run', name, ...Object.entries(variables).flatMap(([k, v]) => ['--var', quoteArgument(`${k}=${v}`)]), ...extra].join(' ')
}
