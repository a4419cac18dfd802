import type { Hook } from '@oclif/core'
import { suggestCommands } from '../core/command-suggestion.js'
import { RecoveryError } from '../errors.js'
import { jsonSafe, renderFailure } from './base-command.js'

/**
 * oclif's command_not_found hook: a misspelt command is a usage error (exit 2) that names the
 * nearest command, in recover's own error format (JSON on stdout under --json), instead of
 * oclif's bare "command x not found" with exit 0.
 */
const commandNotFound: Hook<'command_not_found'> = async function (options) {
  const typed = options.id.split(':').join(' ')
  const suggestions = suggestCommands(
    options.id,
    options.config.commands.filter((c) => !c.hidden).map((c) => c.id),
    options.config.topics.filter((t) => !t.hidden).map((t) => t.name),
  )
  const bin = options.config.bin
  const failure = new RecoveryError(
    'USAGE',
    suggestions.length > 0
      ? `"${bin} ${typed}" is not a command; did you mean "${bin} ${suggestions[0]}"?`
      : `"${bin} ${typed}" is not a command; "${bin} --help" lists them all.`,
    {
      nextSteps: suggestions.length > 0 ? [...suggestions.map((s) => `${bin} ${s} --help`), `${bin} --help lists every command.`] : [],
      details: { command: typed, suggestions },
    },
  )
  if (options.argv?.includes('--json')) process.stdout.write(`${JSON.stringify({ error: jsonSafe(failure.toJSON()) }, null, 2)}\n`)
  else process.stderr.write(renderFailure(failure, false))
  this.exit(failure.exitCode)
}

export default commandNotFound
