import { hostname, userInfo } from 'node:os'
import { redactText } from './redact.js'

/** Who acts: recorded in seek journals, runbook logs and the quarantine's audit trail. */
export interface Actor {
  by: string
  host: string
  /** The command line, secrets redacted. */
  command?: string
}

/** The person (or service account) running this process, on this host. */
export function currentActor(command?: string): Actor {
  let by: string
  try {
    by = userInfo().username
  } catch {
    // No passwd entry (some containers): the environment is all there is.
    by = process.env.USER ?? 'unknown'
  }
  return { by, host: hostname(), ...(command === undefined ? {} : { command: redactText(command.trim()) }) }
}
