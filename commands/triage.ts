import { Flags } from '../src/cli/oclif.js'
import { connectionFlags, keySchemaFlags } from '../src/cli/shared-flags.js'
import { QuarantineCommand } from '../src/cli/quarantine-command.js'
import { quarantineLocationFlag, sinkLocationFlag } from '../src/cli/location-flags.js'
import type { QuarantineLocation } from '../src/quarantine/quarantine-location.js'
import { RecoveryError } from '../src/errors.js'
import { drawEveryFrame } from '../src/ui/interactive-terminal.js'

const FORMATS = ['json', 'string', 'bytes', 'avro', 'json-schema', 'protobuf'] as const

export default class Triage extends QuarantineCommand<{ source: string }> {
  static override summary = 'The triage TUI: dead letters grouped by error, their detail, and keys to retry, redrive, drop, edit, export and see lag.'
  static override description =
    `Left: records grouped by error class and stage, with counts (only the visible rows are drawn, so 100,000 records stay responsive); right: the record under the cursor, in full after enter. Keys: ↑↓/j k move (PgUp/PgDn a page, Home/gg and End/G to the ends), / filter (text, or a position such as orders-2@1750), enter detail (scrolls with the same keys), r retry (needs --sink), R redrive to the original topics (asks first), d drop (says how many, asks for a reason), e edit the value in $EDITOR then retry it, x export to JSONL, l consumer groups and lag, ? help, q quit. Fits an 80x24 terminal and follows resizes. Actions apply to the record under the cursor, or to its whole group on a group line, and use the same services, audit trail and loop guard as "recover quarantine".

Without --dlq, the one topic named *.quarantine, *-dlt, *.dlt or *dlq* on the cluster is opened.`
  static override examples = [
    '<%= config.bin %> triage --dlq kafka:orders.quarantine',
    {
      description: 'Retry with the fixed transform',
      command:
        '<%= config.bin %> triage --dlq kafka:orders.quarantine --value-format avro --schema fixtures/schemas --transform plugins/fix-bad-deploy.ts --sink kafka:orders.fixed',
    },
    {
      description: 'A Kafka Connect DLQ; redrive back to the original partitions',
      command: '<%= config.bin %> triage --dlq kafka:dlq-payments --same-partition',
    },
    '<%= config.bin %> triage --dlq file:orders.quarantine.jsonl',
  ]
  static override flags = {
    ...connectionFlags,
    // Formerly --from, which names the start of a range in replay and audit: still accepted for one release, with a warning.
    dlq: quarantineLocationFlag({
      summary:
        'The dead letters: kafka:TOPIC (any dead-letter dialect) or file:PATH.jsonl. Default: the one quarantine-like topic on the cluster. Formerly --from.',
      aliases: ['from'],
    }),
    sink: sinkLocationFlag({
      summary: 'Where r (retry) and e (edit, then retry) write: any location replay --sink takes (see docs/locations.md).',
      helpGroup: 'RETRY',
    }),
    transform: Flags.string({ summary: 'The (fixed) transform plugin retries go through.', helpGroup: 'RETRY' }),
    'transform-timeout': Flags.string({ summary: 'Per-record transform timeout.', default: '5s', helpGroup: 'RETRY' }),
    quarantine: quarantineLocationFlag({ summary: 'Where retried records that fail again go. Default: the same quarantine topic.', helpGroup: 'RETRY' }),
    'key-format': Flags.string({ summary: 'How retried keys are decoded.', options: [...FORMATS], default: 'bytes', helpGroup: 'RETRY' }),
    'value-format': Flags.string({ summary: 'How retried values are decoded.', options: [...FORMATS], default: 'bytes', helpGroup: 'RETRY' }),
    schema: Flags.string({
      summary: 'Avro schemas (.avsc directory or file), Protobuf (.proto file or directory) or a JSON Schema file (.json), for retries and for showing values.',
      helpGroup: 'DECODING',
    }),
    registry: Flags.string({ summary: 'Confluent Schema Registry URL.', helpGroup: 'DECODING' }),
    message: Flags.string({
      summary: "Protobuf: the message the records are (shop.Order or Order); default: the only message of --schema, or the registry's message indexes.",
      helpGroup: 'DECODING',
    }),
    ...keySchemaFlags,
    'same-partition': Flags.boolean({ summary: 'R sends records back to their original partition (default: by key).', helpGroup: 'REDRIVE' }),
    'max-redrives': Flags.integer({
      summary: 'Loop guard: records redriven this many times go to the parking topic.',
      default: 3,
      min: 0,
      helpGroup: 'REDRIVE',
    }),
    parking: quarantineLocationFlag({ summary: 'The parking topic: kafka:TOPIC or file:PATH.jsonl. Default kafka:<quarantine>.parked.', helpGroup: 'REDRIVE' }),
  }

  async run(): Promise<{ source: string }> {
    const { flags } = await this.parse(Triage)
    if (!process.stdin.isTTY || !process.stdout.isTTY) {
      throw new RecoveryError('USAGE', 'recover triage needs a terminal; off one, use recover quarantine list|show|redrive|drop with --json.')
    }
    drawEveryFrame()
    const { parseDuration } = await import('../src/core/duration.js')
    const dlq = flags.dlq ?? (await this.guessQuarantine(flags))
    const parking = flags.parking
    const timeoutMs = parseDuration(flags['transform-timeout']).ms
    const ctx = await this.openQuarantine({ ...flags, dlq })
    const { TriageController } = await import('../src/triage/triage-controller.js')
    const { runTriage } = await import('../src/ui/triage/run-triage.js')
    const schemas = this.schemaSources(flags)
    await runTriage(
      ({ exit, runEditor, height }) =>
        new TriageController(
          {
            ctx,
            actor: this.actor(),
            connect: () => this.gateway(flags),
            retry:
              flags.sink === undefined
                ? undefined
                : {
                    sink: flags.sink,
                    quarantine: flags.quarantine,
                    transform: flags.transform === undefined ? undefined : { path: flags.transform, timeoutMs },
                    keyFormat: flags['key-format'] as (typeof FORMATS)[number],
                    valueFormat: flags['value-format'] as (typeof FORMATS)[number],
                    schemas,
                  },
            redrive: { samePartition: flags['same-partition'], maxRedrives: flags['max-redrives'], parking },
            // auto tells Protobuf only by a registry id's type: without --registry (raw .proto files), show it as the retries read it.
            formats: {
              schemas,
              ...(flags['key-format'] === 'protobuf' ? { keyFormat: 'protobuf' as const } : {}),
              ...(flags['value-format'] === 'protobuf' ? { valueFormat: 'protobuf' as const } : {}),
            },
            runEditor,
            onExit: exit,
          },
          height,
        ),
    )
    return { source: ctx.source.uri }
  }

  private async guessQuarantine(flags: { brokers?: string; 'client-config'?: string; cluster?: string; config?: string }): Promise<QuarantineLocation> {
    const gateway = await this.gateway(flags)
    const candidates = (await gateway.listTopics()).filter((t) => /\.quarantine$|[.-]dlt$|dlq/i.test(t))
    const { parseQuarantineLocation } = await import('../src/quarantine/quarantine-location.js')
    if (candidates.length === 1) return parseQuarantineLocation(`kafka:${candidates[0]}`, '--dlq')
    throw new RecoveryError(
      'USAGE',
      candidates.length === 0
        ? 'No quarantine-like topic on the cluster; pass --dlq kafka:TOPIC or --dlq file:PATH.jsonl.'
        : `Several quarantine-like topics (${candidates.slice(0, 8).join(', ')}${candidates.length > 8 ? ', …' : ''}); pass --dlq kafka:TOPIC.`,
    )
  }
}
