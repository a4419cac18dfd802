import { Flags } from '../src/cli/oclif.js'
import { BaseCommand } from '../src/cli/base-command.js'
import { connectionFlags } from '../src/cli/shared-flags.js'
import type { FindResult } from '../src/services/find.js'

const FORMATS = ['json', 'string', 'avro', 'json-schema', 'protobuf'] as const

export default class Find extends BaseCommand<FindResult> {
  static override summary = "Find the incident's edges by content: per partition the first and last record matching a predicate, and how many match."
  static override description =
    `Reads [--from, --to) of each partition (default: the log start to the last stable offset when the scan starts) without joining any consumer group, tests every record against --where, and prints per partition the count and the offset and time of the first and last match, with the totals. Values are decoded only when a test reads a value field (json by default; --value-format avro, json-schema or protobuf with --schema or --registry).

The predicate language (docs/commands/find.md): fields key, header NAME, value (the value as text), value.FIELD (nested: value.customer.id), timestamp (or time), partition, offset; tests =, !=, <, <=, >, >=, contains, matches /regex/flags, exists; combined with and, or, not and parentheses. Literals are bare words (1.6.0, PAID, 42) or quoted strings; times in timestamp tests are read like --from (UTC unless zoned or --tz). A test on a field the record does not have is false, also with !=.

The same edges feed other commands directly: seek --to first-match:PRED and replay --from first-match:PRED --to last-match:PRED (one past the last match, since --to is exclusive).`
  static override examples = [
    { description: 'Where did version 1.6.0 start and stop writing?', command: "<%= config.bin %> find --topic orders --where 'header app-version = 1.6.0'" },
    { description: 'A value field (JSON), times shown in Seoul', command: "<%= config.bin %> find -t orders -w 'value.status = FAILED' --tz Asia/Seoul" },
    {
      description: 'A nested field in the last 6 hours, for a script',
      command: "<%= config.bin %> find -t orders -w 'value.customer.id = c-7' --from -6h --json",
    },
    { description: 'Keys by pattern, or a header', command: "<%= config.bin %> find -t orders -w 'key matches /^test-/ or header src = load'" },
    {
      description: 'Avro values (schemas from a folder)',
      command: "<%= config.bin %> find -t orders -w 'value.amount > 1000' --value-format avro --schema s/",
    },
    {
      description: 'Replay from the first record header v = 1.6.0 (dry run)',
      command: "<%= config.bin %> replay -t orders --from 'first-match:header v = 1.6.0' --dry-run",
    },
    {
      description: 'Replay up to just after the last such record (dry run)',
      command: "<%= config.bin %> replay -t orders --to 'last-match:header v = 1.6.0' --dry-run",
    },
  ]
  static override flags = {
    ...connectionFlags,
    topic: Flags.string({ char: 't', summary: 'Topic to search.', required: true }),
    where: Flags.string({
      char: 'w',
      summary: "The predicate, quoted: 'header app-version = 1.6.0 and value.status != PAID' (docs/commands/find.md).",
      required: true,
    }),
    partitions: Flags.string({ summary: 'Only these partitions: 0,1,5. Default: all.' }),
    from: Flags.string({ summary: 'Start (inclusive): earliest (default), a time, offset:N or offset:0=N,1=M.' }),
    to: Flags.string({ summary: 'End (exclusive): latest (default: the last stable offsets at the start), a time, offset:N or offset:0=N,1=M.' }),
    tz: Flags.string({ summary: 'Zone for times without one (in --from, --to and the predicate) and for the times shown: an IANA zone, UTC, or local.' }),
    'value-format': Flags.string({
      summary: 'How values are decoded for value.FIELD tests: json (default), string, avro, json-schema or protobuf (with --schema or --registry).',
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
    'writer-header': Flags.string({ summary: "Raw Avro: the record header naming each record's writer schema.", helpGroup: 'DECODING' }),
    'writer-schema': Flags.string({ summary: 'Raw Avro: the writer schema (.avsc) for records without such a header.', helpGroup: 'DECODING' }),
    message: Flags.string({
      summary: "Protobuf: the message the records are (shop.Order or Order); default: the only message of --schema, or the registry's message indexes.",
      helpGroup: 'DECODING',
    }),
    'reader-schema': Flags.string({ summary: 'Decode every Avro record into this schema (.avsc).', helpGroup: 'DECODING' }),
  }

  async run(): Promise<FindResult> {
    const { flags } = await this.parse(Find)
    const { parsePredicate } = await import('../src/core/record-predicate.js')
    // A typo in the predicate is refused before any broker round trip.
    parsePredicate(flags.where, { tz: flags.tz })
    const { parseRangeBound, parsePartitionList } = await import('../src/core/replay-range.js')
    const tz = { tz: flags.tz }
    const request = {
      topic: flags.topic,
      where: flags.where,
      tz: flags.tz,
      partitions: flags.partitions === undefined ? undefined : parsePartitionList(flags.partitions),
      from: flags.from === undefined ? undefined : parseRangeBound(flags.from, '--from', tz),
      to: flags.to === undefined ? undefined : parseRangeBound(flags.to, '--to', tz),
      valueFormat: flags['value-format'] as (typeof FORMATS)[number] | undefined,
      schemas: this.schemaSources(flags),
      writerHeader: flags['writer-header'],
    }
    const gateway = await this.gateway(flags)
    const { findRecords } = await import('../src/services/find.js')
    const { findPresenter } = await import('../src/ui/reporters/find.js')
    const reporter = await this.reporter(findPresenter, { intervalMs: 2_000 })
    const result = await findRecords(gateway, request, reporter.event)
    reporter.finish()
    const { renderFind } = await import('../src/render/find.js')
    this.out(renderFind(result, flags.tz))
    return result
  }
}
