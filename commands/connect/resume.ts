import { Args, Flags } from '../../src/cli/oclif.js'
import { BaseCommand } from '../../src/cli/base-command.js'
import { connectFlags } from '../../src/cli/connect-flags.js'
import { connectionFlags } from '../../src/cli/shared-flags.js'

export interface ConnectResumeResult {
  connector: string
  state: string
}

export default class ConnectResume extends BaseCommand<ConnectResumeResult> {
  static override summary = 'Resume a stopped or paused connector (PUT /connectors/NAME/resume) and wait until it runs.'
  static override description =
    'What to run after seek --connector --no-resume, or after a seek that stopped the connector and then failed (the failure prints this command).'
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
    const { waitForState } = await import('../../src/services/seek-connector.js')
    await client.resume(args.name)
    const status = await waitForState(client, args.name, (s) => s.connector.state !== 'STOPPED' && s.connector.state !== 'PAUSED', parseDuration(flags.wait).ms)
    this.out(`Connector ${args.name} is ${status.connector.state}.`)
    return { connector: args.name, state: status.connector.state }
  }
}
