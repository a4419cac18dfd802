import type { ConnectorStatus } from '../connect/connect-types.js'

/** Where a resumed connector got to: running, still halted (STOPPED/PAUSED) at the deadline, or failed (the connector or a task). */
export type ResumeOutcome =
  | { kind: 'running'; state: string }
  | { kind: 'halted'; state: string }
  | { kind: 'failed'; state: string; failed: Array<{ id: number | 'connector'; trace: string }> }

/**
 * Done waiting after `PUT /connectors/NAME/resume`: the connector left the halted states and
 * either something failed or it has tasks and none is still UNASSIGNED. A connector that comes
 * back with no task is only taken as running at the deadline.
 */
export function resumeSettled(status: ConnectorStatus, halted: readonly string[]): boolean {
  if (halted.includes(status.connector.state)) return false
  if (status.connector.state === 'FAILED' || status.tasks.some((t) => t.state === 'FAILED')) return true
  return status.connector.state === 'RUNNING' && status.tasks.length > 0 && status.tasks.every((t) => t.state !== 'UNASSIGNED')
}

/** The outcome of a resume from the last status read (when settled or at the deadline). */
export function resumeOutcome(status: ConnectorStatus, halted: readonly string[]): ResumeOutcome {
  const state = status.connector.state
  if (halted.includes(state)) return { kind: 'halted', state }
  const failed: Array<{ id: number | 'connector'; trace: string }> = []
  if (state === 'FAILED') failed.push({ id: 'connector', trace: status.connector.trace ?? '' })
  for (const t of status.tasks) if (t.state === 'FAILED') failed.push({ id: t.id, trace: t.trace ?? '' })
  return failed.length > 0 ? { kind: 'failed', state, failed } : { kind: 'running', state }
}

/** "task 0 FAILED (java.io.FileNotFoundException: /x (No such file or directory))", one clause per failure. */
export function describeFailures(failed: Array<{ id: number | 'connector'; trace: string }>): string {
  return failed
    .map((f) => {
      const first = f.trace.split('\n')[0]?.trim()
      return `${f.id === 'connector' ? 'the connector' : `task ${f.id}`} FAILED${first ? ` (${first})` : ''}`
    })
    .join(', ')
}
