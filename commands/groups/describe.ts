import { Flags } from '../../src/cli/oclif.js'
import { BaseCommand } from '../../src/cli/base-command.js'
import { connectionFlags } from '../../src/cli/shared-flags.js'
import type { GroupDetail } from '../../src/services/describe-group.js'

export default class GroupsDescribe extends BaseCommand<GroupDetail> {
  static override summary = 'Show a group per topic-partition: committed offset, log end, lag in records and in time, and who holds it.'
  static override description =
    'Lag in time is the age of the record at the committed offset (the next one the group will read). Partitions of the group\'s topics that it never committed are listed with "-" so nothing hides. The numbers match kafka-consumer-groups.sh --describe.'
  static override examples = ['<%= config.bin %> groups describe --group billing', '<%= config.bin %> groups describe --group billing --json']
  static override flags = {
    ...connectionFlags,
    group: Flags.string({ char: 'g', summary: 'Consumer group id.', required: true }),
  }

  async run(): Promise<GroupDetail> {
    const { flags } = await this.parse(GroupsDescribe)
    const gateway = await this.gateway(flags)
    const { describeGroup } = await import('../../src/services/describe-group.js')
    const detail = await describeGroup(gateway, flags.group)
    const { renderGroupDetail } = await import('../../src/render/groups.js')
    this.out(renderGroupDetail(detail))
    return detail
  }
}
