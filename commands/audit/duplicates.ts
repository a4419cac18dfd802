import { Flags } from '../../src/cli/oclif.js'
import { BaseCommand } from '../../src/cli/base-command.js'
import { connectionFlags } from '../../src/cli/shared-flags.js'
import { auditDbPath, auditDuckdbOptions, auditOutputFlags, failOnFailure, scanRequestFromFlags } from '../../src/cli/audit-flags.js'
import { DUPLICATES_METRICS } from '../../src/core/fail-on.js'
import type { DuplicatesAuditResult } from '../../src/services/audit-duplicates.js'

const FORMATS = ['json', 'string', 'bytes', 'avro', 'json-schema', 'protobuf'] as const

export default class AuditDuplicates extends BaseCommand<DuplicatesAuditResult> {
  static override summary =
    'Find duplicate keys in a range of a topic (identical copies = producer retries, changed = double processing), values under several keys, and records that cannot be audited.'
  static override description =
    `Reads [--from, --to) of each partition (default: the whole log up to the last stable offset at the start) without joining any consumer group, and streams one row per record into DuckDB (partition, offset, timestamp, key, content hashes, size): memory stays flat however long the range.

--key key groups by the Kafka record key (UTF-8, else 0x-hex); --key FIELD by a field of the decoded value (nested as customer.id; values decoded with --value-format, json by default). Records whose value cannot be decoded are counted and listed by offset with the reason; records without a key are counted and listed too: nothing is skipped silently.

Copies of a key are "identical" when value and headers are byte for byte the same (a producer retry), "same-value" when only headers differ, and "changed" when the values differ (processed twice, or updated). With --within, only copies closer in time than the duration count as duplicates.`
  static override examples = [
    {
      description: 'Duplicate order ids in the bad-deploy window',
      command:
        '<%= config.bin %> audit duplicates --topic orders --from 2018-03-21T00:00 --to 2018-03-21T02:00 --key order_id --value-format avro --schema fixtures/schemas',
    },
    {
      description: 'By record key, the last day, copies at most 10 minutes apart',
      command: '<%= config.bin %> audit duplicates --topic orders --from -1d --key key --within 10m',
    },
    {
      description: 'Nightly, for cron: every finding to CSV, exit 3 when any key is duplicated',
      command: '<%= config.bin %> audit duplicates --topic orders --from -1d --key key --report /var/log/recover/orders-dups.csv --fail-on "duplicates>0"',
    },
    {
      description: 'For CI: JSON result (the same shape either way), exit 3 past the thresholds',
      command: '<%= config.bin %> audit duplicates --topic orders --key key --fail-on "changed>0,undecodable>10" --json',
    },
    {
      description: 'Nightly: also fail when the last day held fewer than 1000 records (a producer that stopped)',
      command: '<%= config.bin %> audit duplicates --topic orders --from -1d --key key --fail-on "duplicates>0,records<1000"',
    },
  ]
  static override flags = {
    ...connectionFlags,
    topic: Flags.string({ char: 't', summary: 'Topic to audit.', required: true }),
    key: Flags.string({
      char: 'k',
      summary: 'What identifies a record: key (the Kafka record key) or a field of the decoded value (order_id, customer.id).',
      required: true,
    }),
    partitions: Flags.string({ summary: 'Only these partitions: 0,1,5. Default: all.' }),
    from: Flags.string({ summary: 'Start (inclusive): earliest (default), a time, offset:N or offset:0=N,1=M.' }),
    to: Flags.string({ summary: 'End (exclusive): latest (default: the last stable offsets at the start), a time, offset:N or offset:0=N,1=M.' }),
    tz: Flags.string({ summary: 'Zone for times without one: an IANA zone (Asia/Seoul), UTC, or local.' }),
    within: Flags.string({ summary: 'Only copies at most this far apart in time are duplicates: 10m, 1h, PT30S.' }),
    ...auditOutputFlags(DUPLICATES_METRICS),
    top: Flags.integer({ summary: 'How many duplicate groups to list.', default: 20, min: 0, max: 100_000 }),
    'value-format': Flags.string({
      summary:
        'How values are decoded: json (default with --key FIELD), string, bytes, avro, json-schema or protobuf (with --schema or --registry). With --key key, values are decoded only when this is given.',
      options: [...FORMATS],
      helpGroup: 'DECODING',
    }),
    schema: Flags.string({
      summary:
        'Avro schemas: a directory of .avsc files (ids.json maps Confluent schema ids to files) or one .avsc file (raw Avro); Protobuf: a .proto file or a directory of them; for json-schema, one JSON Schema file (.json), the reader schema.',
      helpGroup: 'DECODING',
    }),
    registry: Flags.string({
      summary: 'Confluent Schema Registry URL; basic auth as https://user:password@host or RECOVER_REGISTRY_AUTH=user:password.',
      helpGroup: 'DECODING',
    }),
    message: Flags.string({
      summary: "Protobuf: the message the records are (shop.Order or Order); default: the only message of --schema, or the registry's message indexes.",
      helpGroup: 'DECODING',
    }),
    'reader-schema': Flags.string({ summary: 'Decode every Avro record into this schema (.avsc).', helpGroup: 'DECODING' }),
  }

  async run(): Promise<DuplicatesAuditResult> {
    const { flags } = await this.parse(AuditDuplicates)
    const { parseDuration } = await import('../../src/core/duration.js')
    const within = flags.within === undefined ? undefined : parseDuration(flags.within)
    if (within && within.ms <= 0) {
      const { RecoveryError } = await import('../../src/errors.js')
      throw new RecoveryError('BAD_DURATION', `--within ${flags.within} must be a positive duration, like 10m or PT1H.`)
    }
    const { parseFailOn } = await import('../../src/core/fail-on.js')
    const request = {
      ...(await scanRequestFromFlags(flags, this.schemaSources(flags))),
      withinMs: within?.ms,
      within: within?.display,
      top: flags.top,
      historyPath: flags.history ? auditDbPath(flags.db, this.projectConfig(flags)) : undefined,
      report: flags.report,
      failOn: flags['fail-on'] === undefined ? undefined : parseFailOn(flags['fail-on'], DUPLICATES_METRICS),
    }
    const gateway = await this.gateway(flags)
    const { auditDuplicates } = await import('../../src/services/audit-duplicates.js')
    const { auditScanPresenter } = await import('../../src/ui/reporters/audit-scan.js')
    const reporter = await this.reporter(auditScanPresenter)
    const result = await auditDuplicates(request, { gateway, duckdb: auditDuckdbOptions(), onEvent: reporter.event })
    const { renderDuplicatesAudit } = await import('../../src/render/audit.js')
    this.out(renderDuplicatesAudit(result, { top: flags.top }))
    const failure = failOnFailure('duplicates audit', result)
    return failure ? this.endWithFindings(result, failure) : result
  }
}
