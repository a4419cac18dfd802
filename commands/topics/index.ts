import { Flags } from '../../src/cli/oclif.js'
import { BaseCommand } from '../../src/cli/base-command.js'
import { connectionFlags } from '../../src/cli/shared-flags.js'
import type { TopicList } from '../../src/services/list-topics.js'

export default class Topics extends BaseCommand<TopicList> {
  static override summary = 'List topics with partitions, replication factor, retention and cleanup policy.'
  static override description =
    'Internal topics (__consumer_offsets, __transaction_state and other names starting with "__") are left out unless --internal. Retention is retention.ms and retention.bytes as the broker applies them (defaults included); "forever" when neither limits it, "-" for a compacted-only topic. For one topic per partition, with the time span the log still holds, use "recover topics describe".'
  static override examples = [
    '<%= config.bin %> topics',
    '<%= config.bin %> topics --internal',
    '<%= config.bin %> topics --brokers kafka-1:9092 --json',
    '<%= config.bin %> topics --client-config prod.properties',
  ]
  static override flags = {
    ...connectionFlags,
    internal: Flags.boolean({ summary: 'Also list internal topics (__consumer_offsets, __transaction_state, …).' }),
  }

  async run(): Promise<TopicList> {
    const { flags } = await this.parse(Topics)
    const gateway = await this.gateway(flags)
    const { listTopics } = await import('../../src/services/list-topics.js')
    const result = await listTopics(gateway, { internal: flags.internal })
    // Under --json the result is printed as it is: no table to build (cli-table3 is most of the rendering time).
    if (!this.jsonEnabled()) {
      const { renderTopicList } = await import('../../src/render/topics.js')
      this.out(renderTopicList(result))
    }
    return result
  }
}
