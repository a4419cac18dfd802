import { BaseCommand } from '../../src/cli/base-command.js'
import { connectionFlags } from '../../src/cli/shared-flags.js'
import type { GroupOverview } from '../../src/services/list-groups.js'

export default class Groups extends BaseCommand<{ groups: GroupOverview[] }> {
  static override summary = 'List consumer groups with state, members, topics and total lag.'
  static override description =
    'Lag is the sum over committed partitions of (log-end offset - committed offset), as kafka-consumer-groups.sh computes it. For per-partition detail and lag in time, use "recover groups describe".'
  static override examples = [
    { description: 'Every group with its state and total lag', command: '<%= config.bin %> groups' },
    { description: 'On another cluster, as JSON', command: '<%= config.bin %> groups --brokers kafka-1:9092 --json' },
    { description: 'Through TLS/SASL settings', command: '<%= config.bin %> groups --client-config prod.properties' },
    { description: 'Then one group in detail, and its trend', command: '<%= config.bin %> groups describe --group billing --watch' },
  ]
  static override flags = { ...connectionFlags }

  async run(): Promise<{ groups: GroupOverview[] }> {
    const { flags } = await this.parse(Groups)
    const gateway = await this.gateway(flags)
    const { listGroups } = await import('../../src/services/list-groups.js')
    const result = await listGroups(gateway)
    const { renderGroups } = await import('../../src/render/groups.js')
    this.out(renderGroups(result.groups))
    return result
  }
}
