import { Flags } from '../../src/cli/oclif.js'
import { BaseCommand } from '../../src/cli/base-command.js'
import { connectionFlags } from '../../src/cli/shared-flags.js'
import type { TopicDetail } from '../../src/services/describe-topic.js'

export default class TopicsDescribe extends BaseCommand<TopicDetail> {
  static override summary =
    'Show a topic per partition: log start and end offsets, the times of the first and last record, leader, ISR and size, and the time span the log still holds.'
  static override description =
    "The time span tells how far back a seek or replay can go: records before the first record's time are gone. Offsets are what kcat -Q and kafka-get-offsets.sh report (the log end is the high watermark); the first and last records are read as stored, with two Fetch requests per leader and without joining any group. Sizes come from the leaders (DescribeLogDirs, as kafka-log-dirs.sh asks) and are left out where the broker does not say. Times are UTC; --json has them to the millisecond and offsets as decimal strings."
  static override examples = [
    '<%= config.bin %> topics describe --topic orders',
    '<%= config.bin %> topics describe -t orders --json',
    '<%= config.bin %> topics describe --topic orders --json | jq -r .holds.from',
  ]
  static override flags = {
    ...connectionFlags,
    topic: Flags.string({ char: 't', summary: 'Topic to describe.', required: true }),
  }

  async run(): Promise<TopicDetail> {
    const { flags } = await this.parse(TopicsDescribe)
    const gateway = await this.gateway(flags)
    const { describeTopic } = await import('../../src/services/describe-topic.js')
    const detail = await describeTopic(gateway, flags.topic)
    // Under --json the result is printed as it is: no table to build (cli-table3 is most of the rendering time).
    if (!this.jsonEnabled()) {
      const { renderTopicDetail } = await import('../../src/render/topics.js')
      this.out(renderTopicDetail(detail))
    }
    return detail
  }
}
