import { BaseCommand } from '../../src/cli/base-command.js'
import { connectFlags } from '../../src/cli/connect-flags.js'
import { connectionFlags } from '../../src/cli/shared-flags.js'
import type { ConnectorList } from '../../src/services/connect-describe.js'

export default class ConnectList extends BaseCommand<ConnectorList> {
  static override summary = 'List the connectors of a Kafka Connect cluster: type, state, tasks running and failed.'
  static override description =
    'Talks to the Connect REST API only (GET /connectors and each one\'s status). For one connector with its failed tasks\' traces, lag, dead letters and offsets, use "recover connect describe NAME"; to rewind a sink connector, "recover seek --connector NAME".'
  static override examples = [
    { description: 'The connectors of the workers at connect:8083', command: '<%= config.bin %> connect list --connect-url http://connect:8083' },
    { description: 'The Connect URL of cluster prod in recover.config.json, as JSON', command: '<%= config.bin %> connect list --cluster prod --json' },
  ]
  static override flags = { ...connectFlags, cluster: connectionFlags.cluster, config: connectionFlags.config }

  async run(): Promise<ConnectorList> {
    const { flags } = await this.parse(ConnectList)
    const client = await this.connectClient(flags)
    const { listConnectors } = await import('../../src/services/connect-describe.js')
    const list = await listConnectors(client)
    if (!this.jsonEnabled()) this.out((await import('../../src/render/connect.js')).renderConnectorList(list))
    return list
  }
}
