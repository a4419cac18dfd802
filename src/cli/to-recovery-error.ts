import { RecoveryError, isRecoveryError } from '../errors.js'
import { redactText } from '../config/redact.js'

/**
 * Every failure a command can end with, as a RecoveryError. oclif's own parse errors are
 * usage errors; anything unknown is a bug.
 */
export function toRecoveryError(error: unknown): RecoveryError {
  if (isRecoveryError(error)) return withoutFlagParsePrefix(error)
  const e = error as { message?: string; oclif?: { exit?: number }; name?: string }
  if (e && typeof e === 'object' && e.oclif && typeof e.oclif.exit === 'number' && e.oclif.exit !== 1) {
    const message = oneSentence(redactText(String(e.message ?? 'Invalid usage')))
    return new RecoveryError('USAGE', `${message} See --help for the flags and examples.`, { cause: error })
  }
  const message = redactText(e?.message ?? String(error))
  return new RecoveryError('INTERNAL', `recover hit a bug: ${message}`, {
    cause: error,
    nextSteps: ['Please report this with the stack trace above and the command you ran: the project issue tracker.'],
  })
}

/** oclif lists several problems on separate lines; an error here is one sentence. */
function oneSentence(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^See more help with/.test(l) && !/^The following errors? occurred:?$/.test(l))
  // Two mutually exclusive flags produce the same complaint twice, once from each side.
  const first = lines[0] ?? 'Invalid usage'
  const joined = lines.length > 1 && /cannot also be provided/.test(first) ? first : lines.join('; ')
  return /[.!?]$/.test(joined) ? joined : `${joined}.`
}

/**
 * oclif rewrites the message of an error a flag's parse function throws ("Parsing --sink \n\t…\nSee
 * more help with --help"); the location flags throw RecoveryErrors whose message already names the flag.
 */
function withoutFlagParsePrefix(error: RecoveryError): RecoveryError {
  const wrapped = /^Parsing --\S+ \n\t([\s\S]*)\nSee more help with --help$/.exec(error.message)
  if (wrapped) error.message = wrapped[1]!
  return error
}
