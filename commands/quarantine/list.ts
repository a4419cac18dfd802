import { Flags } from '../../src/cli/oclif.js'
import { connectionFlags } from '../../src/cli/shared-flags.js'
import { filterFlags, dlqFlag, toFilter } from '../../src/cli/quarantine-flags.js'
import { QuarantineCommand } from '../../src/cli/quarantine-command.js'
import type { QuarantineListing } from '../../src/services/quarantine.js'

export default class QuarantineList extends QuarantineCommand<QuarantineListing> {
  static override summary = 'Dead letters grouped by error class and stage, with counts, first/last time, state and the audit trail.'
  static override description =
    `Reads recover's own quarantine and the dead-letter topics of Kafka Connect (__connect.errors.*), Kafka Streams (__streams.errors.*), Spring Kafka (kafka_dlt-*) and Karafka (source_*); records without any known headers are listed as (unknown). Reading never joins a consumer group.

HANDLED counts records the audit trail (<quarantine>.recover-audit) marks redriven, parked, retried or dropped. --records N lists the records themselves with their positions (partition@offset), which --id and "quarantine show" take.`
  static override examples = [
    { description: 'What is in the quarantine of a replay', command: '<%= config.bin %> quarantine list --dlq kafka:orders.quarantine' },
    {
      description: 'A Kafka Connect dead-letter queue, one error class, the last day, with the records',
      command: '<%= config.bin %> quarantine list --dlq kafka:dlq-orders --error DataException --since -1d --records 20',
    },
    { description: 'A file quarantine, as JSON', command: '<%= config.bin %> quarantine list --dlq file:orders.quarantine.jsonl --json' },
  ]
  static override flags = {
    ...connectionFlags,
    ...dlqFlag,
    ...filterFlags,
    records: Flags.integer({ summary: 'Also list up to N matching records with their positions.', min: 0 }),
    actions: Flags.integer({ summary: 'How many of the newest audit-trail actions to show.', default: 10, min: 0 }),
  }

  async run(): Promise<QuarantineListing> {
    const { flags } = await this.parse(QuarantineList)
    const filter = toFilter(flags)
    const ctx = await this.openQuarantine(flags)
    const { listQuarantine } = await import('../../src/services/quarantine.js')
    const listing = await listQuarantine(ctx, { filter, records: flags.records, actions: flags.actions })
    const { renderListing } = await import('../../src/render/quarantine.js')
    this.out(renderListing(listing))
    return listing
  }
}
