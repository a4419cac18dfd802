import { quoteArgument } from './command-line.js'

/** Where the printed commands reach Kafka Connect: its URL without credentials, and the CA file given. */
export interface ConnectCommandTarget {
  /** http(s)://host:port, without credentials. */
  url: string
  /** --connect-ca as given (made absolute by the caller), so the command works over https. */
  ca?: string
  /** The credentials were in the URL: the commands cannot carry them, the environment must. */
  credentialsInUrl?: boolean
}

/** `--connect-url URL [--connect-ca FILE]`, quoted for a shell. */
export function connectTargetArgs(target: ConnectCommandTarget): string[] {
  return ['--connect-url', quoteArgument(target.url), ...(target.ca ? ['--connect-ca', quoteArgument(target.ca)] : [])]
}

/**
 * The command line that was run, to run again: every --connect-url value replaced by the URL
 * without credentials (the argv's `user:password@` would print as `user:***@`, which cannot be
 * run), and --yes added when it was not given.
 */
export function rerunCommand(command: string[], argv: readonly string[], target: ConnectCommandTarget): string {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--connect-url' && i + 1 < argv.length) {
      out.push(arg, target.url)
      i++
    } else if (arg.startsWith('--connect-url=')) out.push(`--connect-url=${target.url}`)
    else out.push(arg)
  }
  if (!out.includes('--yes') && !out.includes('-y')) out.push('--yes')
  return [...command, ...out.map(quoteArgument)].join(' ')
}

/** Said once under printed commands when the credentials were in the URL. */
export function credentialsNote(target: ConnectCommandTarget): string | undefined {
  return target.credentialsInUrl
    ? 'The commands above leave out the credentials that were in the URL: set RECOVER_CONNECT_USER and RECOVER_CONNECT_PASSWORD before running them.'
    : undefined
}
