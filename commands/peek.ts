import { Flags } from '../src/cli/oclif.js'
import { BaseCommand } from '../src/cli/base-command.js'
import { connectionFlags } from '../src/cli/shared-flags.js'
import type { PeekResult } from '../src/services/peek.js'

const FORMATS = ['auto', 'json', 'string', 'bytes', 'avro'] as const

export default class Peek extends BaseCommand<PeekResult & { resolvedAt: string }> {
  static override summary = 'Show the first records at or after a point in time, decoded, to see what a time really points to.'
  static override description =
    'Each partition starts at the earliest offset whose timestamp is at or after TIME (what seek --to TIME would pick); records are merged across partitions by timestamp. A time without a zone is UTC unless --tz is given.'
  static override examples = [
    '<%= config.bin %> peek --topic orders --at 2018-03-21T00:00',
    '<%= config.bin %> peek --topic orders --at -2h --count 5 --partition 0',
    '<%= config.bin %> peek --topic orders --at "2018-03-21 09:00" --tz Asia/Seoul --json',
    '<%= config.bin %> peek --topic orders --at 2018-03-21 --value-format avro --schema fixtures/schemas',
    '<%= config.bin %> peek --topic orders --at 2018-03-21 --value-format avro --schema fixtures/schemas --reader-schema fixtures/schemas/orders-v2.avsc',
    'RECOVER_REGISTRY_AUTH=user:secret <%= config.bin %> peek --topic orders --at -2h --registry https://registry:8081',
  ]
  static override flags = {
    ...connectionFlags,
    topic: Flags.string({ char: 't', summary: 'Topic to read.', required: true }),
    at: Flags.string({ summary: 'Time: ISO-8601 (UTC unless zoned), a date, epoch ms, or relative like -2h / PT90M.', required: true }),
    count: Flags.integer({ char: 'n', summary: 'How many records to show.', default: 10, min: 1, max: 10_000 }),
    partition: Flags.integer({ char: 'p', summary: 'Only this partition.', min: 0 }),
    tz: Flags.string({ summary: 'Zone for times without one: an IANA zone (Asia/Seoul), UTC, or local.' }),
    'key-format': Flags.string({ summary: 'How to show keys.', options: [...FORMATS], default: 'auto' }),
    'value-format': Flags.string({
      summary: 'How to show values: auto tries Confluent-framed Avro (with --schema ids.json or --registry), then JSON, then UTF-8 text, then hex.',
      options: [...FORMATS],
      default: 'auto',
    }),
    schema: Flags.string({
      summary: 'Avro schemas: a directory of .avsc files (ids.json maps Confluent schema ids to files) or one .avsc file (raw Avro).',
      helpGroup: 'DECODING',
    }),
    registry: Flags.string({
      summary: 'Confluent Schema Registry URL for Confluent-framed Avro; basic auth as https://user:password@host or RECOVER_REGISTRY_AUTH=user:password.',
      helpGroup: 'DECODING',
    }),
    'writer-header': Flags.string({
      summary:
        "Raw Avro (no Confluent header): the record header naming each record's writer schema (a schema id from ids.json/--registry, or a schema file name), e.g. schema.version.",
      helpGroup: 'DECODING',
    }),
    'writer-schema': Flags.string({ summary: 'Raw Avro: the writer schema (.avsc) for records without such a header.', helpGroup: 'DECODING' }),
    'reader-schema': Flags.string({
      summary: 'Show every Avro record in this schema (.avsc): older writer schemas are resolved to it (defaults, aliases).',
      helpGroup: 'DECODING',
    }),
  }

  async run(): Promise<PeekResult & { resolvedAt: string }> {
    const { flags } = await this.parse(Peek)
    const { parseTimeSpec } = await import('../src/core/time-spec.js')
    const at = parseTimeSpec(flags.at, { tz: flags.tz })
    const gateway = await this.gateway(flags)
    const { peekAtTime } = await import('../src/services/peek.js')
    const result = await peekAtTime(gateway, {
      topic: flags.topic,
      atMs: at.instantMs,
      count: flags.count,
      partition: flags.partition,
      keyFormat: flags['key-format'] as (typeof FORMATS)[number],
      valueFormat: flags['value-format'] as (typeof FORMATS)[number],
      schemas: this.schemaSources(flags),
      writerHeader: flags['writer-header'],
    })
    const { renderPeek } = await import('../src/render/peek.js')
    this.out(renderPeek(result, at.display))
    return { ...result, resolvedAt: at.display }
  }
}
