import { Flags } from '../../src/cli/oclif.js'
import { connectionFlags } from '../../src/cli/shared-flags.js'
import { allFlag, filterFlags, dlqFlag, toFilter } from '../../src/cli/quarantine-flags.js'
import { QuarantineCommand } from '../../src/cli/quarantine-command.js'
import { quarantineLocationFlag } from '../../src/cli/location-flags.js'
import { headerRuleFlags } from '../../src/cli/header-flags.js'
import type { RedriveRequest, RedriveResult } from '../../src/services/quarantine-redrive.js'

export default class QuarantineRedrive extends QuarantineCommand<RedriveResult> {
  static override summary =
    'Send dead letters back to their original topics in bulk, with a canary, a loop guard and an audit trail (dry run unless --execute).'
  static override description =
    `Each record goes back to the topic it came from (read from the dead-letter headers of any dialect) with its key, value, timestamp and original headers; the failure headers are stripped and recover.redrive-count is raised by one. --drop-header, --keep-header and --set-header then change the headers sent back (not those of parked records); recover.redrive-count is added after them, so the loop guard cannot be removed. Partitions: the original one with --same-partition, otherwise by key like Kafka's default partitioner (keyless records keep their original partition modulo the count).

Loop guard: a record that was already redriven --max-redrives times goes to the parking topic (--parking, default kafka:<quarantine>.parked) with all its headers instead. Its redrives are counted from its recover.redrive-count header (it failed again after each) plus the redrives of the same dead letter recorded in the audit trail (--again), so running the same redrive again cannot loop forever.

Cluster: dead letters written by recover replay record the cluster the record was read from; a redrive connected to another cluster refuses (exit 4) before anything is written. Dead letters of other dialects (Kafka Connect, Spring, Streams, Karafka) do not say: the plan counts them as of unknown cluster.

--canary N sends N records first and continues only if every one was acknowledged. Records the audit trail marks redriven, parked, retried or dropped are skipped unless --again; every record sent is recorded there.`
  static override examples = [
    { description: 'Plan: what would go where', command: '<%= config.bin %> quarantine redrive --dlq kafka:orders.quarantine --error DecodeError' },
    {
      description: 'After the consumer is fixed: 10 first, then the rest, back to their original partitions',
      command: '<%= config.bin %> quarantine redrive --dlq kafka:orders.quarantine --error DecodeError --same-partition --canary 10 --execute',
    },
    {
      description: 'A Kafka Connect DLQ, the last hour, without asking',
      command: '<%= config.bin %> quarantine redrive --dlq kafka:dlq-payments --since -1h --execute --yes',
    },
    {
      description: 'Without the tracing headers that broke the consumer, marked as a redrive',
      command: "<%= config.bin %> quarantine redrive --dlq kafka:orders.quarantine --all --drop-header 'x-b3-*' --set-header redriven-by=sre --execute",
    },
  ]
  static override flags = {
    ...connectionFlags,
    ...dlqFlag,
    ...filterFlags,
    ...allFlag,
    'same-partition': Flags.boolean({ summary: "Back to the original partition (default: by key, like Kafka's default partitioner)." }),
    canary: Flags.integer({ summary: 'Send N records first; continue only if all were acknowledged.', min: 1 }),
    'max-redrives': Flags.integer({ summary: 'Records already redriven this many times go to the parking topic instead.', default: 3, min: 0 }),
    parking: quarantineLocationFlag({
      summary:
        'Where the loop guard parks records: kafka:TOPIC or file:PATH.jsonl. Default kafka:<quarantine>.parked (<file>.parked.jsonl for a file quarantine).',
    }),
    again: Flags.boolean({ summary: 'Also records the audit trail marks redriven, parked, retried or dropped.' }),
    execute: Flags.boolean({ summary: 'Send them (asks on a terminal; needs --yes otherwise).' }),
    yes: Flags.boolean({ char: 'y', summary: 'Do not ask for confirmation.' }),
    ...headerRuleFlags,
  }

  async run(): Promise<RedriveResult> {
    const { flags } = await this.parse(QuarantineRedrive)
    const filter = toFilter(flags)
    const { parseHeaderRules } = await import('../../src/core/header-rules.js')
    const request: RedriveRequest = {
      headerRules: parseHeaderRules({ drop: flags['drop-header'], keep: flags['keep-header'], set: flags['set-header'], provenance: false }),
      filter,
      all: flags.all,
      samePartition: flags['same-partition'],
      canary: flags.canary,
      maxRedrives: flags['max-redrives'],
      parking: flags.parking,
      again: flags.again,
      execute: false,
    }
    const ctx = await this.openQuarantine(flags, { needsKafka: true })
    const { redriveQuarantined } = await import('../../src/services/quarantine-redrive.js')
    const { renderRedrive } = await import('../../src/render/quarantine.js')
    // A long redrive says how far it got, at most once a second (stderr; the summary stays on stdout).
    const { redrivePresenter } = await import('../../src/ui/reporters/redrive.js')
    const progress = async () => ({ onProgress: (await this.reporter(redrivePresenter, { intervalMs: 1_000 })).event })
    if (flags.execute && flags.yes) {
      const { result } = await redriveQuarantined(ctx, { ...request, execute: true }, this.actor(), await progress())
      this.out(renderRedrive(result))
      return result
    }
    const { result: plan, selected } = await redriveQuarantined(ctx, request, this.actor())
    this.out(renderRedrive(plan))
    if (!flags.execute) {
      this.note('Dry run: nothing sent. Add --execute to redrive.')
      return plan
    }
    if (selected.size === 0) {
      this.note('Nothing to redrive.')
      return plan
    }
    await this.confirm({
      yes: false,
      what: `redrive ${plan.toRedrive} record(s) to their original topics on cluster ${plan.cluster.id} (${plan.cluster.bootstrap.join(',')}) and park ${plan.toPark}`,
    })
    // Exactly the records of the plan that was confirmed, even if more arrived meanwhile.
    const { result } = await redriveQuarantined(ctx, { ...request, execute: true, only: selected }, this.actor(), await progress())
    this.out(renderRedrive(result))
    return result
  }
}
