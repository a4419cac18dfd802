import { Args, Flags } from '../../src/cli/oclif.js'
import { writeFileSync } from 'node:fs'
import { BaseCommand } from '../../src/cli/base-command.js'
import { connectFlags } from '../../src/cli/connect-flags.js'
import { connectionFlags } from '../../src/cli/shared-flags.js'
import type { ConnectorDetail, DlqErrorCount } from '../../src/services/connect-describe.js'

export type ConnectDescribeResult = ConnectorDetail & { exported?: string }

export default class ConnectDescribe extends BaseCommand<ConnectDescribeResult> {
  static override summary =
    "Describe a connector: its state and each task's (with a failed task's trace), topics, consumer group, lag in records and in time, dead letters by error, and its offsets."
  static override description =
    `Connect is asked for the connector's config, status and offsets (GET /connectors/NAME/offsets, Kafka Connect 3.6+); Kafka for the lag of a sink connector's consumer group (connect-NAME, or consumer.override.group.id) and for its dead-letter topic, read as recover quarantine list reads it. --no-kafka asks Connect only.

A source connector's offsets are its own maps (a file name and a position, a table and a timestamp): --export writes them as JSON, {"offsets": [{"partition": {…}, "offset": {…}}]}, which you edit and give to recover seek --connector NAME --from-file.`
  static override examples = [
    {
      description: 'State, failed tasks, lag and dead letters of a sink connector',
      command: '<%= config.bin %> connect describe es-orders --connect-url http://connect:8083',
    },
    { description: "Export a source connector's offsets to edit them", command: '<%= config.bin %> connect describe jdbc-orders --export offsets.json' },
    { description: 'Connect only (no Kafka connection), as JSON', command: '<%= config.bin %> connect describe es-orders --no-kafka --json' },
  ]
  static override args = { name: Args.string({ description: 'The connector.', required: true }) }
  static override flags = {
    ...connectionFlags,
    ...connectFlags,
    kafka: Flags.boolean({ summary: 'Also ask Kafka for the lag and the dead letters (--no-kafka: Connect only).', default: true, allowNo: true }),
    export: Flags.string({ summary: "Write the connector's offsets to this JSON file (the form seek --connector --from-file reads)." }),
  }

  async run(): Promise<ConnectDescribeResult> {
    const { flags, args } = await this.parse(ConnectDescribe)
    const client = await this.connectClient(flags)
    const { describeConnector } = await import('../../src/services/connect-describe.js')
    const gateway = flags.kafka ? await this.gateway(flags) : undefined
    const detail: ConnectDescribeResult = await describeConnector(
      client,
      args.name,
      gateway ? { gateway, countDeadLetters: (topic) => countDeadLetters(gateway, topic) } : undefined,
    )
    if (flags.export) {
      if (detail.offsets === null) {
        const { RecoveryError } = await import('../../src/errors.js')
        throw new RecoveryError(
          'CONNECT_ERROR',
          `Kafka Connect did not give the offsets of connector "${args.name}" (${detail.offsetsUnavailable}); nothing was written.`,
        )
      }
      writeFileSync(flags.export, `${JSON.stringify({ offsets: detail.offsets }, null, 2)}\n`)
      detail.exported = flags.export
      this.note(`Offsets of ${args.name} written to ${flags.export}; edit them, then: recover seek --connector ${args.name} --from-file ${flags.export}`)
    }
    if (!this.jsonEnabled()) this.out((await import('../../src/render/connect.js')).renderConnectorDetail(detail))
    return detail
  }
}

/** The dead-letter topic read as recover quarantine list reads it: counts by error class and stage. */
async function countDeadLetters(
  gateway: import('../../src/kafka/kafka-gateway.js').KafkaGateway,
  topic: string,
): Promise<{ total: number; byError: DlqErrorCount[] }> {
  if (!(await gateway.listTopics()).includes(topic)) return { total: 0, byError: [] }
  const { openQuarantine, listQuarantine } = await import('../../src/services/quarantine.js')
  const ctx = openQuarantine({ kind: 'kafka', topic }, gateway)
  try {
    const listing = await listQuarantine(ctx, { filter: {}, actions: 0 })
    return { total: listing.matched, byError: listing.groups.map((g) => ({ errorClass: g.errorClass, stage: g.stage, count: g.count })) }
  } finally {
    await ctx.source.close()
  }
}
