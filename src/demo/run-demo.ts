import { runRecover, formatCommandLine, type RecoverRun } from '../runner/run-recover.js'
import { RecoveryError } from '../errors.js'
import type { DemoStep } from './demo-steps.js'

export interface DemoStepRun {
  id: string
  title: string
  command: string
  exitCode: number
  ms: number
  /** The command's typed result (what its --json prints). */
  result?: unknown
}

export interface RunDemoStepsOptions {
  /** Every step runs against these brokers, exported as RECOVER_BROKERS (so the command lines stay as short as typed). */
  brokers: string
  cwd: string
  onStepStart?: (step: DemoStep, index: number, total: number, command: string) => void
  /** After the step's command ended, whatever its exit code. */
  onStepEnd?: (run: DemoStepRun, index: number, total: number) => void
  /** Called after the step is announced, before it runs; false ends the demo there (a person pressed q). */
  beforeStep?: (step: DemoStep) => Promise<boolean>
  onStdout?: (chunk: Buffer) => void
  onStderr?: (chunk: Buffer) => void
}

/**
 * Runs the demo's steps in order, each as its own `recover` process, and stops at the first
 * one that fails: later steps build on it.
 */
export async function runDemoSteps(steps: DemoStep[], options: RunDemoStepsOptions): Promise<DemoStepRun[]> {
  const runs: DemoStepRun[] = []
  for (const [index, step] of steps.entries()) {
    const command = formatCommandLine(step.argv)
    options.onStepStart?.(step, index, steps.length, command)
    if (options.beforeStep && !(await options.beforeStep(step))) break
    const run: RecoverRun = await runRecover(step.argv, {
      cwd: options.cwd,
      env: { RECOVER_BROKERS: options.brokers },
      onStdout: options.onStdout,
      onStderr: options.onStderr,
    })
    runs.push({ id: step.id, title: step.title, command, exitCode: run.exitCode, ms: run.ms, result: run.result })
    options.onStepEnd?.(runs.at(-1)!, index, steps.length)
    if (run.exitCode !== 0) {
      throw new RecoveryError(
        'DEMO_STEP_FAILED',
        `Demo step ${index + 1} of ${steps.length} (${step.title}) failed with exit code ${run.exitCode}${run.error ? ` [${run.error.code}]: ${run.error.message.replace(/\.$/, '')}` : ''}.`,
        {
          nextSteps: [
            `Run it by hand to see everything: RECOVER_BROKERS=${options.brokers} ${command} --verbose`,
            'If the broker is fine, this is a bug in recover: please report it with that output.',
          ],
          details: { step: step.id, command, exitCode: run.exitCode, stepError: run.error, completed: runs.slice(0, -1).map((r) => r.id) },
        },
      )
    }
  }
  return runs
}
