import { Args } from '../../src/cli/oclif.js'
import { Flags } from '../../src/cli/oclif.js'
import { connectionFlags, keySchemaFlags } from '../../src/cli/shared-flags.js'
import { dlqFlag } from '../../src/cli/quarantine-flags.js'
import { QuarantineCommand } from '../../src/cli/quarantine-command.js'
import type { ShownRecord } from '../../src/services/quarantine.js'

const FORMATS = ['auto', 'json', 'string', 'bytes', 'avro', 'json-schema', 'protobuf'] as const

export default class QuarantineShow extends QuarantineCommand<ShownRecord> {
  static override summary =
    'One dead letter in full: original position, error, stage, stack, headers, and the value as pretty JSON, decoded Avro or a hex dump.'
  static override description =
    'ID is the record\'s position in the quarantine, partition@offset (0@LINE for a file, 0-based), as "quarantine list --records" prints it. Headers marked * are failure context, stripped when the record is redriven.'
  static override examples = [
    '<%= config.bin %> quarantine show 0@17 --dlq kafka:orders.quarantine',
    '<%= config.bin %> quarantine show 2@5 --dlq kafka:orders.quarantine --value-format avro --schema fixtures/schemas',
    '<%= config.bin %> quarantine show 0@3 --dlq file:orders.quarantine.jsonl --json',
  ]
  static override args = { id: Args.string({ description: 'partition@offset in the quarantine', required: true }) }
  static override flags = {
    ...connectionFlags,
    ...dlqFlag,
    'key-format': Flags.string({ summary: 'How to show the key.', options: [...FORMATS], default: 'auto', helpGroup: 'DECODING' }),
    'value-format': Flags.string({
      summary:
        'How to show the value: auto tries Confluent-framed Avro, JSON Schema or Protobuf (by the schema id, with --registry; Avro also with --schema ids.json), then JSON, then UTF-8 text, then hex; or json, string, bytes, avro, json-schema, protobuf.',
      options: [...FORMATS],
      default: 'auto',
      helpGroup: 'DECODING',
    }),
    schema: Flags.string({
      summary:
        'Avro schemas: a directory of .avsc files (ids.json maps Confluent schema ids to files) or one .avsc file; Protobuf: a .proto file or a directory of them; for json-schema, one JSON Schema file (.json).',
      helpGroup: 'DECODING',
    }),
    registry: Flags.string({ summary: 'Confluent Schema Registry URL.', helpGroup: 'DECODING' }),
    message: Flags.string({
      summary: "Protobuf: the message the records are (shop.Order or Order); default: the only message of --schema, or the registry's message indexes.",
      helpGroup: 'DECODING',
    }),
    ...keySchemaFlags,
    'reader-schema': Flags.string({ summary: 'Show Avro in this schema (.avsc).', helpGroup: 'DECODING' }),
  }

  async run(): Promise<ShownRecord> {
    const { flags, args } = await this.parse(QuarantineShow)
    const ctx = await this.openQuarantine(flags)
    const { showQuarantined } = await import('../../src/services/quarantine.js')
    const shown = await showQuarantined(ctx, args.id, {
      keyFormat: flags['key-format'] as (typeof FORMATS)[number],
      valueFormat: flags['value-format'] as (typeof FORMATS)[number],
      schemas: this.schemaSources(flags),
    })
    const { renderShown } = await import('../../src/render/quarantine.js')
    this.out(renderShown(shown))
    return shown
  }
}
