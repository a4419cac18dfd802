import { RecoveryError, isRecoveryError } from '../errors.js'
import { redactText } from '../config/redact.js'

/**
 * Every failure a command can end with, as a RecoveryError. oclif's own parse errors are
 * usage errors; anything unknown is a bug.
 */
export function toRecoveryError(error: unknown): RecoveryError {
  if (isRecoveryError(error)) return error
  const e = error as { message?: string; oclif?: { exit?: number }; name?: string }
  if (e && typeof e === 'object' && e.oclif && typeof e.oclif.exit === 'number' && e.oclif.exit !== 1) {
    const firstLine = redactText(String(e.message ?? 'Invalid usage')).split('\n')[0]!.trim()
    const message = /[.!?]$/.test(firstLine) ? firstLine : `${firstLine}.`
    return new RecoveryError('USAGE', `${message} See --help for the flags and examples.`, { cause: error })
  }
  const message = redactText(e?.message ?? String(error))
  return new RecoveryError('INTERNAL', `recover hit a bug: ${message}`, {
    cause: error,
    nextSteps: ['Please report this with the stack trace above and the command you ran: the project issue tracker.'],
  })
}
