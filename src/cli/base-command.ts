import { Command } from './oclif.js'
import type { Interfaces } from '@oclif/core'
import { writeFileSync } from 'node:fs'
import { redact, redactText } from '../config/redact.js'
import { loadProjectConfig, type ProjectConfig } from '../config/project-config.js'
import { resolveConnection } from '../config/resolve-connection.js'
import type { ConnectionSettings } from '../config/connection-settings.js'
import type { KafkaGateway } from '../kafka/kafka-gateway.js'
import type { SchemaSourceOptions } from '../codecs/create-codecs.js'
import type { Presenter, Reporter, ReporterOptions } from '../ui/reporter.js'
import { RecoveryError } from '../errors.js'
import { toRecoveryError } from './to-recovery-error.js'
import { verboseFlag } from './shared-flags.js'

interface ConnectionFlagValues {
  brokers?: string
  'client-config'?: string
  cluster?: string
  config?: string
  verbose?: boolean
}

/**
 * The one base for all commands: --json (results are typed objects), errors mapped to exit
 * codes, progress and prompts on stderr, results on stdout, stacks only with --verbose.
 */
export abstract class BaseCommand<T> extends Command {
  static override enableJsonFlag = true
  static override baseFlags = { ...verboseFlag }

  private cleanups: Array<() => Promise<void>> = []
  /** Set by endWithFindings: the run returns its result and still fails. */
  private findings: RecoveryError | undefined

  override async init(): Promise<void> {
    await super.init()
    this.warnAboutOldFlagNames()
  }

  /**
   * A flag renamed for clarity keeps its old name as an oclif alias for one release (quarantine
   * --from is --dlq, export --to is --output: replay and audit use --from/--to for a range).
   * Using the old name works and says so on stderr; not under --json, whose output is for programs.
   */
  private warnAboutOldFlagNames(): void {
    const flags = (this.constructor as typeof Command).flags ?? {}
    for (const [name, flag] of Object.entries(flags)) {
      for (const alias of flag.aliases ?? []) {
        if (this.argv.some((a) => a === `--${alias}` || a.startsWith(`--${alias}=`))) {
          this.note(
            `Warning: --${alias} is now --${name} in "recover ${(this.id ?? '').replace(/:/g, ' ')}"; the old name still works in this release and will be removed in the next one.`,
          )
        }
      }
    }
  }

  /** Progress and notes for people: stderr, and silent under --json. */
  protected note(message: string): void {
    if (!this.jsonEnabled()) process.stderr.write(`${redactText(message)}\n`)
  }

  /**
   * The command's progress reporter, chosen once from --json and the terminal: NDJSON records on
   * stderr under --json, a live view on a terminal (when the presenter has one), plain lines
   * otherwise. Finished when the command ends, if the command has not finished it.
   */
  protected async reporter<E, S>(presenter: Presenter<E, S>, options: ReporterOptions = {}): Promise<Reporter<E, S>> {
    const { chooseReporterMode, createReporter } = await import('../ui/reporter.js')
    const mode = chooseReporterMode({ json: this.jsonEnabled(), isTTY: process.stderr.isTTY === true, columns: process.stderr.columns })
    const reporter = await createReporter(
      presenter,
      mode,
      {
        line: (text) => process.stderr.write(`${redactText(text)}\n`),
        record: (record) => process.stderr.write(`${JSON.stringify(redact(jsonSafe(record)))}\n`),
        terminal: process.stderr,
      },
      options,
    )
    this.onCleanup(async () => reporter.finish())
    return reporter
  }

  /** A result line for people: stdout, and silent under --json (the returned object is printed instead). */
  protected out(text: string): void {
    if (!this.jsonEnabled()) process.stdout.write(`${redactText(text)}\n`)
  }

  /**
   * Destructive actions: on a terminal, ask on stderr; without one, --yes is required.
   * Returns false when the person answered no (or just Enter); Ctrl-C ends the command with
   * INTERRUPTED (exit 130). For a command that asks once, `confirm` is the one to use.
   */
  protected async ask(options: { yes: boolean; what: string }): Promise<boolean> {
    if (options.yes) return true
    if (!process.stdin.isTTY || !process.stderr.isTTY) {
      throw new RecoveryError(
        'CONFIRMATION_REQUIRED',
        `Refusing to ${options.what} without confirmation: there is no terminal to ask on. Review the dry run, then add --yes.`,
      )
    }
    const { askYesNo } = await import('./prompt.js')
    return askYesNo(`${options.what[0]!.toUpperCase()}${options.what.slice(1)}? [y/N] `)
  }

  /**
   * As `ask`, and a "no" ends the command with DECLINED (exit 4): a script that ran it must
   * not read "nothing was done" as success.
   */
  protected async confirm(options: { yes: boolean; what: string }): Promise<void> {
    if (!(await this.ask(options))) {
      throw new RecoveryError('DECLINED', 'Not applied: the answer was no, so nothing was changed.', { details: { declined: options.what } })
    }
  }

  /**
   * A run that did its work and found what the caller said should fail it (an audit past
   * --fail-on): `--json` prints the result exactly as on success, so machine readers see one
   * shape; the exit code is the failure's; people read the failure on stderr.
   */
  protected endWithFindings(result: T, failure: RecoveryError): T {
    this.findings = failure
    process.exitCode = failure.exitCode
    if (!this.jsonEnabled()) process.stderr.write(renderFailure(failure, false))
    return result
  }

  protected get verbose(): boolean {
    return this.argv.includes('--verbose')
  }

  protected projectConfig(flags: ConnectionFlagValues): ProjectConfig {
    return loadProjectConfig(flags.config)
  }

  /** Where Avro schemas come from, the same for every command: flags, then recover.config.json, then the environment. */
  protected schemaSources(
    flags: ConnectionFlagValues & {
      schema?: string
      registry?: string
      'reader-schema'?: string
      'writer-schema'?: string
      message?: string
      'key-message'?: string
      'key-schema'?: string
    },
  ): SchemaSourceOptions {
    return {
      schema: flags.schema ?? this.projectConfig(flags).defaults?.schemaDir,
      registry: flags.registry,
      registryUserInfo: process.env.RECOVER_REGISTRY_AUTH,
      readerSchema: flags['reader-schema'],
      ...(flags['writer-schema'] === undefined ? {} : { writerSchema: flags['writer-schema'] }),
      ...(flags.message === undefined ? {} : { message: flags.message }),
      ...(flags['key-message'] === undefined ? {} : { keyMessage: flags['key-message'] }),
      ...(flags['key-schema'] === undefined ? {} : { keySchema: flags['key-schema'] }),
    }
  }

  protected connection(flags: ConnectionFlagValues): ConnectionSettings {
    return resolveConnection({ brokers: flags.brokers, clientConfig: flags['client-config'], cluster: flags.cluster }, this.projectConfig(flags))
  }

  /** Opens the cluster, closed automatically when the command ends. */
  protected async gateway(flags: ConnectionFlagValues, options: { label?: string; settings?: ConnectionSettings } = {}): Promise<KafkaGateway> {
    const { KafkaGateway } = await import('../kafka/kafka-gateway.js')
    const settings = options.settings ?? this.connection(flags)
    const log = this.verbose
      ? (line: { level: string; namespace: string; message: string }) =>
          process.stderr.write(`kafka ${line.level} [${line.namespace}] ${redactText(line.message)}\n`)
      : undefined
    const gateway = await KafkaGateway.open(settings, { log })
    this.onCleanup(() => gateway.close())
    // Two clusters can hold the same group and topic names: say which one this is, every time.
    const { describeCluster } = await import('../core/cluster-identity.js')
    this.note(`${options.label ?? 'Kafka'}: ${describeCluster(gateway.cluster)}`)
    return gateway
  }

  /** The Kafka Connect REST client: --connect-url, RECOVER_CONNECT_URL or the cluster's connectUrl. */
  protected async connectClient(
    flags: ConnectionFlagValues & { 'connect-url'?: string; 'connect-ca'?: string },
  ): Promise<import('../connect/connect-client.js').ConnectClient> {
    const { resolveConnect } = await import('../config/resolve-connect.js')
    const { ConnectClient } = await import('../connect/connect-client.js')
    const settings = resolveConnect(
      { connectUrl: flags['connect-url'], connectCa: flags['connect-ca'], brokers: flags.brokers, cluster: flags.cluster },
      this.projectConfig(flags),
    )
    this.note(`Kafka Connect: ${settings.url} (from ${settings.source})`)
    return new ConnectClient(settings)
  }

  protected onCleanup(cleanup: () => Promise<void>): void {
    this.cleanups.push(cleanup)
  }

  protected override async finally(error: Error | undefined): Promise<void> {
    for (const cleanup of this.cleanups.reverse()) await cleanup().catch(() => undefined)
    this.cleanups = []
    await super.finally(error)
  }

  /**
   * `recover demo` and `recover runbook run` run recover as a child process so that what it
   * prints is exactly what a person typing the command sees; RECOVER_RESULT_FILE asks the
   * child to also leave its typed result (or error) there, for their figures and logs.
   */
  override async _run<R>(): Promise<R> {
    const result = await super._run<R>()
    if (result !== undefined)
      writeResultFile({ result: this.toSuccessJson(result), ...(this.findings ? { error: redact(jsonSafe(this.findings.toJSON())) } : {}) })
    return result
  }

  /**
   * Without a JSON colour theme, oclif's logJson prints exactly JSON.stringify(json, null, 2),
   * but only after splitting the text into tokens to colour one by one, which takes longer
   * than the Kafka requests of a seek plan of a hundred partitions: print the same text directly.
   * (Results are fresh trees from jsonSafe, so oclif's guard against cycles has nothing to do.)
   */
  override logJson(json: unknown): void {
    if (this.config.theme?.json || json === null || typeof json !== 'object') super.logJson(json)
    else process.stdout.write(`${JSON.stringify(json, null, 2)}\n`)
  }

  protected override toSuccessJson(result: unknown): unknown {
    return redact(jsonSafe(result))
  }

  override async catch(error: Interfaces.CommandError): Promise<void> {
    const exit = (error as { oclif?: { exit?: number } }).oclif?.exit
    // this.exit(0) and --help/--version travel as errors with exit 0: not failures.
    if (exit === 0 && !(error instanceof RecoveryError)) throw error
    const failure = toRecoveryError(error)
    process.exitCode = failure.exitCode
    writeResultFile({ error: redact(jsonSafe(failure.toJSON())) })
    if (this.jsonEnabled()) {
      this.logJson({ error: redact(jsonSafe(failure.toJSON())) })
      return
    }
    process.stderr.write(renderFailure(failure, this.verbose))
  }

  abstract override run(): Promise<T>
}

/**
 * A failure as people read it on stderr: "Error: …", the next steps, and for bugs or with
 * --verbose the stack: the cause's (its own message says what Kafka or the library said), or
 * the failure's own frames, without the "RecoveryError: …" line that would say it all again.
 */
export function renderFailure(failure: RecoveryError, verbose: boolean): string {
  // Ctrl-C is what the person asked for, not an error: its one line says what was left undone.
  const lines = [`${failure.category === 'interrupted' ? '' : 'Error: '}${redactText(failure.message)}`]
  for (const step of failure.nextSteps) lines.push(`  → ${redactText(step)}`)
  if (failure.category === 'internal' || verbose) {
    let stack: string
    if (failure.cause instanceof Error) stack = failure.cause.stack ?? String(failure.cause)
    else {
      stack = failure.stack ?? ''
      const frames = stack.indexOf('\n    at ')
      stack = frames >= 0 ? stack.slice(frames + 1) : ''
    }
    if (stack) lines.push('', redactText(stack))
  }
  return `${lines.join('\n')}\n`
}

function writeResultFile(content: unknown): void {
  const file = process.env.RECOVER_RESULT_FILE
  if (file) writeFileSync(file, `${JSON.stringify(content)}\n`)
}

/** bigint -> decimal string (offsets at the JSON boundary), Buffers -> base64, Dates -> ISO. */
export function jsonSafe(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (Buffer.isBuffer(value)) return value.toString('base64')
  if (value instanceof Date) return value.toISOString()
  if (Array.isArray(value)) return value.map(jsonSafe)
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = jsonSafe(v)
    return out
  }
  return value
}
