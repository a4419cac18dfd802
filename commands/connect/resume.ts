import { Args, Flags } from '../../src/cli/oclif.js'
import { BaseCommand } from '../../src/cli/base-command.js'
import { connectFlags } from '../../src/cli/connect-flags.js'
import { connectionFlags } from '../../src/cli/shared-flags.js'
import { RecoveryError } from '../../src/errors.js'
import { resolve } from 'node:path'

export interface ConnectResumeResult {
  connector: string
  state: string
}

export default class ConnectResume extends BaseCommand<ConnectResumeResult> {
  static override summary = 'Resume a stopped or paused connector (PUT /connectors/NAME/resume) and wait until its tasks run.'
  static override description =
    'What to run after seek --connector --no-resume, or after a seek that stopped the connector and then failed (the failure prints this command). Still STOPPED or PAUSED after --wait, or a task FAILED once resumed: CONNECT_ERROR, exit 5.'
  static override examples = [
    { description: 'Resume a connector left STOPPED', command: '<%= config.bin %> connect resume es-orders --connect-url http://connect:8083' },
  ]
  static override args = { name: Args.string({ description: 'The connector.', required: true }) }
  static override flags = {
    ...connectFlags,
    cluster: connectionFlags.cluster,
    config: connectionFlags.config,
    wait: Flags.string({ summary: 'How long to wait for it to leave STOPPED/PAUSED.', default: '60s' }),
  }

  async run(): Promise<ConnectResumeResult> {
    const { flags, args } = await this.parse(ConnectResume)
    const client = await this.connectClient(flags)
    const { parseDuration } = await import('../../src/core/duration.js')
    const { waitForResume } = await import('../../src/services/seek-connector.js')
    const { describeFailures } = await import('../../src/core/connect-resume.js')
    const { connectTargetArgs, credentialsNote } = await import('../../src/core/connect-commands.js')
    const { quoteArgument } = await import('../../src/core/command-line.js')
    const wait = parseDuration(flags.wait)
    await client.resume(args.name)
    const outcome = await waitForResume(client, args.name, ['STOPPED', 'PAUSED'], wait.ms)
    const target = { url: client.url, ...(flags['connect-ca'] ? { ca: resolve(flags['connect-ca']) } : {}), credentialsInUrl: client.settings.credentialsInUrl }
    const connection = [
      ...(flags.cluster ? ['--cluster', quoteArgument(flags.cluster)] : []),
      ...(flags.config ? ['--config', quoteArgument(flags.config)] : []),
    ]
    const describe = ['recover', 'connect', 'describe', quoteArgument(args.name), ...connectTargetArgs(target), ...connection].join(' ')
    const note = credentialsNote(target)
    if (outcome.kind === 'halted')
      throw new RecoveryError(
        'CONNECT_ERROR',
        `Kafka Connect accepted the resume of connector "${args.name}", but it was still ${outcome.state} after ${wait.display}; it reads nothing, and its offsets are as they were.`,
        {
          nextSteps: [
            `Wait longer with: ${['recover', 'connect', 'resume', quoteArgument(args.name), ...connectTargetArgs(target), ...connection, '--wait', '5m'].join(' ')}`,
            `Check with: ${describe}`,
            ...(note ? [note] : []),
          ],
          details: { connector: args.name, state: outcome.state },
        },
      )
    if (outcome.kind === 'failed')
      throw new RecoveryError('CONNECT_ERROR', `Connector "${args.name}" was resumed, but ${describeFailures(outcome.failed)}; it is ${outcome.state}.`, {
        nextSteps: [
          `See the whole trace with: ${describe}`,
          `Fix the cause, then restart what failed: POST /connectors/${args.name}/restart?includeTasks=true&onlyFailed=true on Kafka Connect`,
          ...(note ? [note] : []),
        ],
        details: { connector: args.name, state: outcome.state, failed: outcome.failed.map((f) => f.id) },
      })
    this.out(`Connector ${args.name} is ${outcome.state}.`)
    return { connector: args.name, state: outcome.state }
  }
}
