import { Flags } from '../../src/cli/oclif.js'
import { connectionFlags, keySchemaFlags } from '../../src/cli/shared-flags.js'
import { allFlag, filterFlags, dlqFlag, toFilter } from '../../src/cli/quarantine-flags.js'
import { QuarantineCommand } from '../../src/cli/quarantine-command.js'
import { quarantineLocationFlag, sinkLocationFlag } from '../../src/cli/location-flags.js'
import { RecoveryError } from '../../src/errors.js'
import type { RetryRequest, RetryResult } from '../../src/services/quarantine-retry.js'

const FORMATS = ['json', 'string', 'bytes', 'avro', 'json-schema', 'protobuf'] as const

export default class QuarantineRetry extends QuarantineCommand<RetryResult> {
  static override summary = 'Retry selected dead letters through a (fixed) transform into a sink, with the replay pipeline (dry run unless --execute).'
  static override description =
    `Each record is restored as it was before it failed (original topic, partition, offset, headers; the failure headers stripped) and goes through replay's own pipeline: decode (--key-format/--value-format), the --transform plugin, encode, and the --sink. Records that fail again are quarantined anew (default: back to the same quarantine topic; a new file beside a file quarantine). Every record's outcome is recorded in the audit trail. A record that fails again while the quarantine still holds it (retrying from it) is not quarantined a second time.

Dead letters written by recover replay record the cluster the record was read from; a retry connected to another cluster refuses (exit 4) before anything is written.`
  static override examples = [
    {
      description: 'Plan',
      command:
        '<%= config.bin %> quarantine retry --dlq kafka:orders.quarantine --stage transform --transform plugins/fix-bad-deploy.ts --sink kafka:orders.fixed',
    },
    {
      description: 'Run it',
      command:
        '<%= config.bin %> quarantine retry --dlq kafka:orders.quarantine --stage transform --value-format avro --schema fixtures/schemas --transform plugins/fix-bad-deploy.ts --sink kafka:orders.fixed --execute --yes',
    },
    {
      description: 'Two records into a file',
      command: '<%= config.bin %> quarantine retry --dlq kafka:orders.quarantine --id 0@17,1@4 --sink file:retried.jsonl --execute',
    },
  ]
  static override flags = {
    ...connectionFlags,
    ...dlqFlag,
    ...filterFlags,
    ...allFlag,
    sink: sinkLocationFlag({
      summary:
        'Where retried records go: any location replay --sink takes (kafka:TOPIC, postgres://…?table=T&key=COL, duckdb:FILE#T, file:PATH.jsonl|.csv|.parquet, plugin:PATH.ts#TARGET; see docs/locations.md).',
      required: true,
      helpGroup: 'OUTPUT',
    }),
    quarantine: quarantineLocationFlag({
      summary: 'Where records that fail again go: kafka:TOPIC or file:PATH.jsonl. Default: the same quarantine topic (a new file beside a file quarantine).',
      helpGroup: 'OUTPUT',
    }),
    transform: Flags.string({ summary: 'A transform plugin (.ts or .js) whose default export is defineTransform(...).', helpGroup: 'TRANSFORM' }),
    'transform-timeout': Flags.string({ summary: 'How long an async transform may take per record: 5s, 500ms, PT1M.', default: '5s', helpGroup: 'TRANSFORM' }),
    'key-format': Flags.string({
      summary: 'How keys are decoded (and re-encoded after a transform).',
      options: [...FORMATS],
      default: 'bytes',
      helpGroup: 'DECODING',
    }),
    'value-format': Flags.string({
      summary: 'How values are decoded (and re-encoded after a transform).',
      options: [...FORMATS],
      default: 'bytes',
      helpGroup: 'DECODING',
    }),
    schema: Flags.string({
      summary:
        'Avro schemas: a directory of .avsc files or one .avsc file; Protobuf: a .proto file or a directory of them; for json-schema, one JSON Schema file (.json).',
      helpGroup: 'DECODING',
    }),
    registry: Flags.string({ summary: 'Confluent Schema Registry URL.', helpGroup: 'DECODING' }),
    message: Flags.string({
      summary: "Protobuf: the message the records are (shop.Order or Order); default: the only message of --schema, or the registry's message indexes.",
      helpGroup: 'DECODING',
    }),
    ...keySchemaFlags,
    'reader-schema': Flags.string({ summary: 'Decode every Avro record into this schema (.avsc).', helpGroup: 'DECODING' }),
    'output-schema-id': Flags.integer({
      summary: 'Confluent Avro, Protobuf or JSON Schema: write every value with this schema id.',
      min: 0,
      helpGroup: 'DECODING',
    }),
    execute: Flags.boolean({ summary: 'Write them (asks on a terminal; needs --yes otherwise).' }),
    yes: Flags.boolean({ char: 'y', summary: 'Do not ask for confirmation.' }),
  }

  async run(): Promise<RetryResult> {
    const { flags } = await this.parse(QuarantineRetry)
    const filter = toFilter(flags)
    const { parseDuration } = await import('../../src/core/duration.js')
    const timeoutMs = parseDuration(flags['transform-timeout']).ms
    if (timeoutMs <= 0) throw new RecoveryError('USAGE', '--transform-timeout must be longer than zero, e.g. 5s.')
    const request: RetryRequest = {
      filter,
      all: flags.all,
      sink: flags.sink,
      quarantine: flags.quarantine,
      transform: flags.transform === undefined ? undefined : { path: flags.transform, timeoutMs },
      keyFormat: flags['key-format'] as (typeof FORMATS)[number],
      valueFormat: flags['value-format'] as (typeof FORMATS)[number],
      schemas: this.schemaSources(flags),
      outputSchemaId: flags['output-schema-id'],
    }
    const ctx = await this.openQuarantine(flags, { needsKafka: true })
    const { retryQuarantined } = await import('../../src/services/quarantine-retry.js')
    const { renderRetry } = await import('../../src/render/quarantine.js')
    if (!(flags.execute && flags.yes)) {
      const plan = await retryQuarantined(ctx, { ...request, dryRun: true }, this.actor())
      this.out(renderRetry(plan))
      if (!flags.execute) {
        this.note('Dry run: nothing written. Add --execute to retry.')
        return plan
      }
      if (plan.matched === 0) return plan
      await this.confirm({
        yes: false,
        what: `retry ${plan.matched} record(s) into ${flags.sink.display} on cluster ${plan.cluster.id} (${plan.cluster.bootstrap.join(',')})`,
      })
      request.filter = { ...filter, ids: plan.records.map((r) => r.id) }
    }
    const result = await retryQuarantined(ctx, request, this.actor(), { log: (line) => this.note(line) })
    this.out(renderRetry(result))
    return result
  }
}
