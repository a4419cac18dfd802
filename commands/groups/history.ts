import { Flags } from '../../src/cli/oclif.js'
import { BaseCommand } from '../../src/cli/base-command.js'
import { auditDbPath, DEFAULT_AUDIT_DB } from '../../src/cli/audit-flags.js'
import type { GroupHistoryResult } from '../../src/services/lag-history.js'

export default class GroupsHistory extends BaseCommand<GroupHistoryResult> {
  static override summary = "Show a group's recorded lag over time: per partition and in total, min/max/last lag in records and in time, with a sparkline."
  static override description =
    `Reads the samples groups describe --record kept in the audit DuckDB file (default ${DEFAULT_AUDIT_DB}); it never connects to Kafka and never changes the file. The total row sums the records behind over the partitions and takes the oldest unread record of each sample.`
  static override examples = [
    { description: 'The trend of the billing group', command: '<%= config.bin %> groups history --group billing' },
    { description: 'The last two hours, one topic', command: '<%= config.bin %> groups history -g billing --since 2h --topic orders' },
    {
      description: 'Since a time, as JSON',
      command: '<%= config.bin %> groups history -g billing --since 2026-12-06T09:00Z --json',
    },
  ]
  static override flags = {
    group: Flags.string({ char: 'g', summary: 'Consumer group id.', required: true }),
    since: Flags.string({ summary: 'Only samples from this time on: 2h (that long ago), -PT30M, or a time (2026-12-06T09:00Z; see --tz).' }),
    tz: Flags.string({ summary: 'Zone for --since times without one: an IANA zone (Asia/Seoul), UTC, or local.' }),
    topic: Flags.string({ char: 't', summary: 'Only this topic.' }),
    db: Flags.string({ summary: `The audit DuckDB file. Default: ${DEFAULT_AUDIT_DB}.` }),
    config: Flags.string({ summary: 'Project config file (for its stateDir). Default: ./recover.config.json when present.' }),
  }

  async run(): Promise<GroupHistoryResult> {
    const { flags } = await this.parse(GroupsHistory)
    const { sinceInstant } = await import('../../src/core/since.js')
    const { groupLagHistory } = await import('../../src/services/lag-history.js')
    const result = await groupLagHistory({
      db: auditDbPath(flags.db, this.projectConfig(flags)),
      groupId: flags.group,
      topic: flags.topic,
      sinceMs: flags.since === undefined ? undefined : sinceInstant(flags.since, { tz: flags.tz }),
    })
    const { renderGroupHistory } = await import('../../src/render/groups.js')
    this.out(renderGroupHistory(result))
    return result
  }
}
