import { Flags } from '../src/cli/oclif.js'
import { BaseCommand } from '../src/cli/base-command.js'
import { connectionFlags, keySchemaFlags } from '../src/cli/shared-flags.js'
import type { PeekedRecord, PeekRangeResult, PeekResult } from '../src/services/peek.js'

const FORMATS = ['auto', 'json', 'string', 'bytes', 'avro', 'json-schema', 'protobuf'] as const

type PeekOutput = (PeekResult & { resolvedAt: string }) | PeekRangeResult | undefined

export default class Peek extends BaseCommand<PeekOutput> {
  static override summary =
    'Show records by time or by offset, decoded: what a time points to, the record at an offset, the last records, or those with a key, header or text.'
  static override description = [
    '--at TIME: each partition starts at the earliest offset whose timestamp is at or after TIME (what seek --to TIME would pick). --at offset:N (with --partition P, or offset:0=N,2=M for several) starts at an offset; --at earliest at the log start (the default). Records are merged across partitions by timestamp; --count (-n, -c) is how many are shown (default 10).',
    '--key, --header and --grep look through a bounded range, from --at to --until (default: the log end when the peek starts), and show the first --count matches and how many records were scanned. Key and header tests compare bytes in place; --grep matches the UTF-8 text of keys and values, and decoded Avro values as JSON.',
    '--tail N shows the last N records of each partition (kcat -o -N). --follow then keeps printing new records until Ctrl-C or SIGTERM (exit 0); under --json each record is one line (NDJSON). A time without a zone is UTC unless --tz is given.',
  ].join('\n\n')
  static override examples = [
    '<%= config.bin %> peek --topic orders --at 2018-03-21T00:00',
    '<%= config.bin %> peek --topic orders --at -2h --count 5 --partition 0',
    '<%= config.bin %> peek --topic orders --at offset:1750 --partition 2 -c 1',
    '<%= config.bin %> peek --topic orders --at offset:0=100,2=1750 --count 3',
    '<%= config.bin %> peek --topic orders --key ord-123',
    '<%= config.bin %> peek --topic orders --header app-version=1.6.0 --at -2h --count 50',
    '<%= config.bin %> peek --topic orders --grep refund --until offset:5000 -p 0',
    '<%= config.bin %> peek --topic orders --tail 10',
    '<%= config.bin %> peek --topic orders --tail 10 --follow',
    '<%= config.bin %> peek --topic orders --at latest --follow --key ord-123',
    '<%= config.bin %> peek --topic orders --follow --header app-version --json',
    '<%= config.bin %> peek --topic orders --at "2018-03-21 09:00" --tz Asia/Seoul --json',
    '<%= config.bin %> peek --topic orders --at 2018-03-21 --value-format avro --schema fixtures/schemas',
    '<%= config.bin %> peek --topic orders --at 2018-03-21 --value-format avro --schema fixtures/schemas --reader-schema fixtures/schemas/orders-v2.avsc',
    'RECOVER_REGISTRY_AUTH=user:secret <%= config.bin %> peek --topic orders --at -2h --registry https://registry:8081',
    '<%= config.bin %> peek --topic payments --value-format json-schema --registry http://registry:8081',
    '<%= config.bin %> peek --topic payments --value-format json-schema --schema payment.schema.json',
    '<%= config.bin %> peek --topic orders --value-format protobuf --registry http://registry:8081',
    '<%= config.bin %> peek --topic orders --value-format protobuf --schema fixtures/protobuf/v1/orders.proto --message shop.Order',
  ]
  static override flags = {
    ...connectionFlags,
    topic: Flags.string({ char: 't', summary: 'Topic to read.', required: true }),
    at: Flags.string({
      summary:
        'Where to start: a time (ISO-8601, UTC unless zoned; a date; epoch ms; relative like -2h / PT90M), offset:N (every partition read; with --partition), offset:0=N,2=M, earliest (default) or latest (with --follow).',
    }),
    until: Flags.string({ summary: 'Where to stop (exclusive): a time, offset:N, offset:0=N,2=M or latest (default: the log end when the peek starts).' }),
    count: Flags.integer({
      char: 'n',
      charAliases: ['c'],
      summary: 'How many records (matches) to show at most (-c works too): default 10; with --tail or --follow, all.',
      min: 1,
      max: 1_000_000,
    }),
    partition: Flags.integer({ char: 'p', summary: 'Only this partition.', min: 0 }),
    key: Flags.string({ char: 'k', summary: 'Only records with this key (its UTF-8 bytes, exactly).', helpGroup: 'FILTER' }),
    header: Flags.string({
      summary: 'Only records with this header: NAME (any value) or NAME=VALUE (exact). Repeat for several (all must match).',
      multiple: true,
      helpGroup: 'FILTER',
    }),
    grep: Flags.string({ summary: 'Only records whose key or value text contains TEXT (decoded Avro values as JSON).', helpGroup: 'FILTER' }),
    tail: Flags.integer({ summary: 'The last N records of each partition (kcat -o -N); not with --at or --until.', min: 1, max: 1_000_000 }),
    follow: Flags.boolean({ char: 'f', summary: 'Keep printing new records until Ctrl-C or SIGTERM (exit 0); NDJSON under --json.', default: false }),
    tz: Flags.string({ summary: 'Zone for times without one: an IANA zone (Asia/Seoul), UTC, or local.' }),
    'key-format': Flags.string({ summary: 'How to show keys.', options: [...FORMATS], default: 'auto' }),
    'value-format': Flags.string({
      summary:
        'How to show values: auto tries Confluent-framed Avro, JSON Schema or Protobuf (by the schema id, with --registry; Avro also with --schema ids.json), then JSON, then UTF-8 text, then hex.',
      options: [...FORMATS],
      default: 'auto',
    }),
    schema: Flags.string({
      summary:
        'Avro schemas: a directory of .avsc files (ids.json maps Confluent schema ids to files) or one .avsc file (raw Avro); Protobuf: a .proto file or a directory of them; for json-schema, one JSON Schema file (.json), the reader schema.',
      helpGroup: 'DECODING',
    }),
    registry: Flags.string({
      summary:
        'Confluent Schema Registry URL for Confluent-framed Avro, JSON Schema and Protobuf; basic auth as https://user:password@host or RECOVER_REGISTRY_AUTH=user:password.',
      helpGroup: 'DECODING',
    }),
    'writer-header': Flags.string({
      summary:
        "Raw Avro (no Confluent header): the record header naming each record's writer schema (a schema id from ids.json/--registry, or a schema file name), e.g. schema.version.",
      helpGroup: 'DECODING',
    }),
    'writer-schema': Flags.string({ summary: 'Raw Avro: the writer schema (.avsc) for records without such a header.', helpGroup: 'DECODING' }),
    message: Flags.string({
      summary: "Protobuf: the message the records are (shop.Order or Order); default: the only message of --schema, or the registry's message indexes.",
      helpGroup: 'DECODING',
    }),
    ...keySchemaFlags,
    'reader-schema': Flags.string({
      summary: 'Show every Avro record in this schema (.avsc): older writer schemas are resolved to it (defaults, aliases).',
      helpGroup: 'DECODING',
    }),
  }

  private following = false

  async run(): Promise<PeekOutput> {
    const { flags } = await this.parse(Peek)
    const { parsePeekPosition, checkPeekMode } = await import('../src/core/peek-position.js')
    const { parseHeaderFilter, isFiltering } = await import('../src/services/peek-filter.js')
    const at = flags.at === undefined ? undefined : parsePeekPosition(flags.at, '--at', { tz: flags.tz })
    const until = flags.until === undefined ? undefined : parsePeekPosition(flags.until, '--until', { tz: flags.tz })
    const filter = { key: flags.key, headers: (flags.header ?? []).map(parseHeaderFilter), grep: flags.grep }
    checkPeekMode({ at, until, tail: flags.tail, follow: flags.follow, partition: flags.partition })
    const decoding = {
      keyFormat: flags['key-format'] as (typeof FORMATS)[number],
      valueFormat: flags['value-format'] as (typeof FORMATS)[number],
      schemas: this.schemaSources(flags),
      writerHeader: flags['writer-header'],
    }
    const request = { topic: flags.topic, partition: flags.partition, at, until, tail: flags.tail, filter, ...decoding }

    if (flags.follow) {
      this.following = true
      await this.follow(flags, { ...request, count: flags.count })
      return undefined
    }
    const gateway = await this.gateway(flags)
    if (at?.kind === 'time' && until === undefined && flags.tail === undefined && !isFiltering(filter)) {
      const { peekAtTime } = await import('../src/services/peek.js')
      const result = await peekAtTime(gateway, { ...request, atMs: at.instantMs, count: flags.count ?? 10 })
      const { renderPeek } = await import('../src/render/peek.js')
      this.out(renderPeek(result, at.display))
      return { ...result, resolvedAt: at.display }
    }
    const { peekRange } = await import('../src/services/peek.js')
    const progress = await this.progressLine()
    const result = await peekRange(gateway, { ...request, count: flags.count ?? (flags.tail === undefined ? 10 : undefined) }, progress?.update)
    progress?.end()
    const { renderPeekRange } = await import('../src/render/peek.js')
    this.out(renderPeekRange(result, at?.kind === 'time' ? at.display : result.at, isFiltering(filter)))
    return result
  }

  /** Records as they come: a line each (NDJSON under --json) until Ctrl-C/SIGTERM, which ends it with exit 0. */
  private async follow(flags: Parameters<typeof this.gateway>[0], request: import('../src/services/peek.js').PeekRangeRequest): Promise<void> {
    const controller = new AbortController()
    // The first signal stops after the records in hand; a second one (a broker that hangs) exits at once.
    const stop = () => {
      if (controller.signal.aborted) process.exit(0)
      controller.abort()
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
    this.onCleanup(async () => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
    })
    const gateway = await this.gateway(flags)
    const { followRecords } = await import('../src/services/peek.js')
    const { renderFollowLine } = await import('../src/render/peek.js')
    const { jsonSafe } = await import('../src/cli/base-command.js')
    const { redact, redactText } = await import('../src/config/redact.js')
    const json = this.jsonEnabled()
    const print = (records: PeekedRecord[]) => {
      const text = records.map((r) => (json ? JSON.stringify(redact(jsonSafe({ topic: request.topic, ...r }))) : redactText(renderFollowLine(r)))).join('\n')
      process.stdout.write(`${text}\n`)
    }
    const started = (starts: Array<{ partition: number; offset: bigint }>) =>
      this.note(
        `Following ${request.topic} from ${starts.map((s) => `p${s.partition}@${s.offset}`).join(', ')}: new records are printed as they arrive; Ctrl-C to stop.`,
      )
    const totals = await followRecords(gateway, request, print, controller.signal, started)
    this.note(`Stopped: ${totals.matched} record(s) shown of ${totals.scanned} read.`)
  }

  /** NDJSON stays NDJSON while following: an error is one line too. */
  override logJson(json: unknown): void {
    if (this.following) process.stdout.write(`${JSON.stringify(json)}\n`)
    else super.logJson(json)
  }

  /** A scan's progress on a terminal's stderr (never under --json): records scanned so far. */
  private async progressLine(): Promise<{ update: (p: import('../src/services/peek.js').PeekProgress) => void; end: () => void } | undefined> {
    if (this.jsonEnabled() || process.stderr.isTTY !== true) return undefined
    let shown = false
    return {
      update: (p) => {
        shown = true
        process.stderr.write(`\rScanned ${p.scanned.toLocaleString('en-US')} of ${p.planned.toLocaleString('en-US')} records, ${p.matched} matched…`)
      },
      end: () => {
        if (shown) process.stderr.write('\r\x1b[K')
      },
    }
  }
}
