import { Flags } from '../src/cli/oclif.js'
import { BaseCommand } from '../src/cli/base-command.js'
import { connectionFlags, keySchemaFlags } from '../src/cli/shared-flags.js'
import { quarantineLocationFlag, replaySourceFlag, sinkLocationFlag } from '../src/cli/location-flags.js'
import { headerRuleFlags, provenanceFlag } from '../src/cli/header-flags.js'
import { recoverStateDir } from '../src/config/state-dir.js'
import { RecoveryError } from '../src/errors.js'
import type { ReplayRequest, ReplaySummary } from '../src/services/replay.js'
import type { GroupReplayRequest, GroupReplaySummary } from '../src/services/replay-group.js'
import type { ProgressState } from '../src/core/replay-progress.js'
import type { ReplayProgressEvent } from '../src/services/replay-events.js'
import type { Reporter } from '../src/ui/reporter.js'
import type { KafkaGateway } from '../src/kafka/kafka-gateway.js'
import { exitProcess } from '../src/plugin-host/exit-guard.js'
import { quoteArgument } from '../src/core/command-line.js'

const FORMATS = ['json', 'string', 'bytes', 'avro', 'json-schema', 'protobuf'] as const
/** The replay's stall report (no batch finished for this long): ReplayRequest.stallMs's default. */
const STALL_MS = 10_000

export default class Replay extends BaseCommand<ReplaySummary | GroupReplaySummary> {
  static override summary = 'Replay a bounded range of a topic through a corrected transform into a sink, quarantining what fails, with checkpoints and resume.'
  static override description =
    `Reads [--from, --to) of each partition (default: the log start to the last stable offset captured when the replay starts, so it always finishes, even on a topic still being written) without joining any consumer group (--scale-out joins only recover's own group recover-replay.NAME), decodes keys and values, runs the --transform plugin, and writes to --sink a batch at a time.

Records that cannot be decoded, that the transform throws on (or times out on), or that the sink refuses go to --quarantine (default kafka:<topic>.quarantine) with their original bytes, headers and timestamp plus context headers (stage, error, source topic/partition/offset, transform name and version). Nothing is dropped silently: the summary reconciles read = written + dropped + quarantined per partition.

After every batch the sink is made durable and the checkpoint (--checkpoint, default under checkpoints/ of recover's state folder: RECOVER_HOME, else stateDir of recover.config.json, else ~/.recover) is written atomically. After a crash or Ctrl-C, the same command with --resume continues where it stopped, on the same cluster only: file sinks are cut back to the checkpoint (no duplicates); a Kafka sink may hold the interrupted batch twice, and the summary says how many records were sent again.

Nothing is overwritten or created that was not asked for: a file sink (.jsonl, .csv, .parquet) that already has content is refused, a missing directory is an error, a missing PostgreSQL or DuckDB table needs --create-table, and a run that fails before writing a record removes the files it created.

Headers: a record written to a Kafka sink gets recover.replayed-from=TOPIC/PARTITION@OFFSET (where it was read) unless --no-provenance-headers; --drop-header and --keep-header (globs) and --set-header NAME=VALUE change the headers of every record written (Kafka and the JSONL envelope keep headers; the quarantine always keeps the original ones).

A file: --source file:PATH.jsonl replays recover's lossless envelope (what --sink file:X.jsonl and quarantine export write) instead of a topic, into any sink, each record with its partition, key, headers and timestamp byte for byte (a Kafka sink keeps a record's partition when the topic has at least as many partitions as the file's topic had, else places it by key like Kafka's default partitioner). Dead letters are replayed as their original records. Every line is checked before anything is written (a bad line is refused with its number); --resume continues after the last checkpointed record of each partition.

Bounds: earliest, latest, a time (ISO-8601, UTC unless zoned or --tz; epoch ms; -2h), offset:N for every partition, or offset:0=N,1=M per partition. Times resolve like Kafka's offsetsForTimes: the first offset whose timestamp is at or after the time.`
  static override examples = [
    {
      description: 'JSON Schema: validate against the registry, quarantine invalid records (path and rule), upsert the rest',
      command:
        '<%= config.bin %> replay --topic payments --value-format json-schema --registry http://registry:8081 --sink "postgres://postgres@127.0.0.1/test?table=payments&key=id"',
    },
    {
      description: 'Replay the bad-deploy window through the fix into a new topic',
      command:
        '<%= config.bin %> replay --topic orders --from 2018-03-21T00:00 --to 2018-03-21T02:00 --value-format avro --schema fixtures/schemas --transform plugins/fix-bad-deploy.ts --sink kafka:orders.fixed',
    },
    {
      description: 'Look first: decode and transform 5 records, write nothing',
      command:
        '<%= config.bin %> replay --topic orders --from 2018-03-21T00:00 --value-format avro --schema fixtures/schemas --transform plugins/fix-bad-deploy.ts --dry-run --limit 5',
    },
    {
      description: 'Export a range losslessly to JSONL, quarantine to a file',
      command: '<%= config.bin %> replay --topic orders --from offset:0=100,1=250 --to -1h --sink file:orders.jsonl --quarantine file:orders.quarantine.jsonl',
    },
    {
      description: 'Upsert the fixed orders into PostgreSQL, keyed by order_id, exactly once even across crashes',
      command:
        '<%= config.bin %> replay --topic orders --value-format avro --schema fixtures/schemas --transform plugins/fix-bad-deploy.ts --sink "postgres://postgres@127.0.0.1/test?table=orders_fixed&key=order_id" --create-table',
    },
    {
      description: 'Rewrite an OpenSearch (or Elasticsearch) index: one document per record key, so a repeated or resumed replay overwrites',
      command:
        '<%= config.bin %> replay --topic orders --value-format avro --schema fixtures/schemas --transform plugins/fix-bad-deploy.ts --sink opensearch://search:9200/orders-fixed',
    },
    {
      description: 'Into S3 as Parquet objects per partition and offset range (credentials from the AWS environment or AWS_PROFILE)',
      command:
        '<%= config.bin %> replay --topic orders --value-format avro --schema fixtures/schemas --transform plugins/fix-bad-deploy.ts --sink s3://incident-2018-03/replays',
    },
    {
      description: 'Into an S3-compatible store (MinIO) as JSONL objects',
      command: '<%= config.bin %> replay --topic orders --value-format json --sink "s3://replays/orders?format=jsonl&endpoint=http://minio:9000"',
    },
    {
      description: 'Into S3 as CSV objects (the columns and dialect of a file:PATH.csv sink)',
      command: '<%= config.bin %> replay --topic orders --value-format json --sink "s3://replays/orders-csv?format=csv"',
    },
    {
      description: 'Into a topic exactly once for read_committed consumers (transactional producer)',
      command:
        '<%= config.bin %> replay --topic orders --value-format avro --schema fixtures/schemas --transform plugins/fix-bad-deploy.ts --sink kafka:orders.fixed --exactly-once',
    },
    {
      description:
        "Scale out: run the same command on several machines; they split the partitions through recover's own consumer group recover-replay.orders-fix (never an application's group)",
      command:
        '<%= config.bin %> replay --topic orders --value-format avro --schema fixtures/schemas --transform plugins/fix-bad-deploy.ts --sink "postgres://postgres@db:5432/shop?table=orders_fixed&key=order_id" --create-table --scale-out orders-fix',
    },
    {
      description: 'Continue after a crash or Ctrl-C',
      command:
        '<%= config.bin %> replay --topic orders --value-format avro --schema fixtures/schemas --transform plugins/fix-bad-deploy.ts --sink kafka:orders.fixed --resume',
    },
    {
      description: 'Import an export: a JSONL file back into a topic, partitions, keys, headers and timestamps as they were',
      command: '<%= config.bin %> replay --source file:orders.jsonl --sink kafka:orders.restored',
    },
    {
      description: 'Replay a quarantine export (its dead letters, as the original records) through the fix into a topic',
      command:
        '<%= config.bin %> replay --source file:pills.jsonl --value-format avro --schema fixtures/schemas --transform plugins/fix-bad-deploy.ts --sink kafka:orders.fixed',
    },
    {
      description: 'Without the tracing headers, with a marker, and without the provenance header',
      command:
        "<%= config.bin %> replay --topic orders --sink kafka:orders.fixed --drop-header 'x-b3-*' --set-header replayed-by=incident-42 --no-provenance-headers",
    },
    {
      description:
        'Keep replaying new records through the fix until stopped (SIGTERM or Ctrl-C: checkpoint, summary, exit 0); the same command continues after a restart',
      command:
        '<%= config.bin %> replay --topic orders --from 2018-03-21T00:00 --follow --transform plugins/fix-bad-deploy.ts --sink kafka:orders.fixed --exactly-once',
    },
    {
      description: 'Gently, 500 records/s, into CSV',
      command:
        '<%= config.bin %> replay --topic orders --value-format avro --schema fixtures/schemas --reader-schema fixtures/schemas/orders-v2.avsc --sink file:orders.csv --rate 500',
    },
    {
      description: 'Protobuf from the Schema Registry, read as v2 (.proto), fixed and written back framed with schema id 7',
      command:
        '<%= config.bin %> replay --topic orders --value-format protobuf --registry http://registry:8081 --schema fixtures/protobuf/v2/orders.proto --transform plugins/fix.ts --output-schema-id 7 --sink kafka:orders.fixed',
    },
  ]
  static override flags = {
    ...connectionFlags,
    topic: Flags.string({ char: 't', summary: 'Topic to replay (or --source).' }),
    source: replaySourceFlag({
      summary:
        "Replay a file instead of a topic: file:PATH.jsonl of recover's lossless envelope (replay --sink file:X.jsonl, quarantine export; .jsonl.gz too), records kept byte for byte with their partition, key, headers and timestamp; dead letters are replayed as their original records. kafka:TOPIC is the same as --topic.",
      exclusive: ['topic'],
    }),
    partitions: Flags.string({ summary: 'Only these partitions: 0,1,5. Default: all.' }),
    from: Flags.string({
      summary: "Start (inclusive): earliest (default), a time, offset:N, offset:0=N,1=M, or 'first-match:PREDICATE' (recover find's first match).",
    }),
    to: Flags.string({
      summary:
        "End (exclusive): latest (default: the last stable offsets at the start), a time, offset:N, offset:0=N,1=M, or 'last-match:PREDICATE' (one past the last match).",
    }),
    tz: Flags.string({ summary: 'Zone for times without one: an IANA zone (Asia/Seoul), UTC, or local.' }),
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
    ...keySchemaFlags,
    'reader-schema': Flags.string({
      summary: 'Decode every Avro record into this schema (.avsc): older writer schemas are resolved to it.',
      helpGroup: 'DECODING',
    }),
    'output-schema-id': Flags.integer({
      summary:
        'Confluent Avro, Protobuf or JSON Schema: write every value with this schema id (needed with --reader-schema, or with --schema .proto beside --registry; JSON Schema values are validated before sending). Default: the id each record was read with.',
      min: 0,
      helpGroup: 'DECODING',
    }),
    transform: Flags.string({
      summary: 'A transform plugin (.ts or .js) whose default export is defineTransform({ name, version, transform }).',
      helpGroup: 'TRANSFORM',
    }),
    'max-failure-rate': Flags.integer({
      summary:
        'Stop with exit 3 when more than this percent of the first 1,000 records read (or of the whole range, when smaller) fail to decode, transform or encode: usually a wrong --value-format, --schema or --transform, not bad data. 0 never stops.',
      default: 50,
      min: 0,
      max: 100,
      helpGroup: 'TRANSFORM',
    }),
    'transform-timeout': Flags.string({
      summary: 'How long the transform may take per record (sync or async) before the record is quarantined: 5s, 500ms, PT1M.',
      default: '5s',
      helpGroup: 'TRANSFORM',
    }),
    'sink-timeout': Flags.string({
      summary: 'Sink plugins: how long open, a batch write or close may take before the replay stops (exit 5, resumable).',
      default: '2m',
      helpGroup: 'OUTPUT',
    }),
    sink: sinkLocationFlag({
      summary:
        'Where records go: kafka:TOPIC, postgres://USER@HOST:PORT/DB?table=T&key=COL[,COL] (upserts), duckdb:FILE?table=T (or duckdb:FILE#T), file:PATH.jsonl (lossless envelope), file:PATH.csv, file:PATH.parquet, opensearch://HOST:9200/INDEX (or elasticsearch://; opensearchs:// for HTTPS), or plugin:PATH.ts#TARGET (docs/locations.md).',
      helpGroup: 'OUTPUT',
    }),
    quarantine: quarantineLocationFlag({
      summary: 'Where failing records go: kafka:TOPIC or file:PATH.jsonl. Default kafka:<topic>.quarantine.',
      helpGroup: 'OUTPUT',
    }),
    'exactly-once': Flags.boolean({
      summary:
        "Kafka sink: a transactional producer commits each batch together with the replay's progress (topic recover-replay-checkpoints), so read_committed readers see every record exactly once, even after kill -9 and --resume. Database and file sinks are exactly once already.",
      helpGroup: 'OUTPUT',
    }),
    'sink-retry': Flags.string({
      summary:
        'PostgreSQL, OpenSearch and S3 sinks: how long to keep reconnecting to a server that went away (restart, failover), or that answers 429/503, before stopping with a resume command.',
      default: '60s',
      helpGroup: 'OUTPUT',
    }),
    'create-table': Flags.boolean({
      summary:
        'PostgreSQL and DuckDB sinks: create the table from the first records when it does not exist (a column per value field, or ?layout=jsonb for one JSONB value column, plus source_topic, source_partition, source_offset).',
      helpGroup: 'OUTPUT',
    }),
    ...headerRuleFlags,
    ...provenanceFlag,
    partitioning: Flags.string({
      summary:
        "Kafka sink: auto keeps each record's partition when the topic has at least as many partitions as the source (else places it by key, like Kafka's default partitioner); key places every keyed record by its key, so it lands where producers would now put its key (keyless records keep their partition modulo the count).",
      options: ['auto', 'key'],
      default: 'auto',
      helpGroup: 'OUTPUT',
    }),
    'new-timestamps': Flags.boolean({
      summary: 'Kafka sink: stamp records with the time of writing instead of their original timestamps.',
      helpGroup: 'OUTPUT',
    }),
    checkpoint: Flags.string({
      summary:
        'Checkpoint file. Default: <state folder>/checkpoints/replay-<topic>-<hash of the resolved sink>.json (state folder: RECOVER_HOME, else stateDir of recover.config.json, else ~/.recover).',
      helpGroup: 'PROGRESS',
    }),
    resume: Flags.boolean({
      summary: 'Continue the replay the checkpoint belongs to (same cluster, topic, sink, quarantine and transform).',
      helpGroup: 'PROGRESS',
    }),
    follow: Flags.boolean({
      summary:
        'Keep replaying the records written after the start until stopped (SIGTERM or Ctrl-C finish the batch, checkpoint and exit 0), showing the lag; an unfinished checkpoint of the same follow is continued without --resume (docs/running-as-a-service.md).',
      helpGroup: 'PROGRESS',
    }),
    'dry-run': Flags.boolean({ summary: 'Decode and transform a sample, show it before and after, write nothing.', helpGroup: 'PROGRESS' }),
    limit: Flags.integer({ summary: 'Records in the --dry-run sample (default 10).', min: 1, max: 100_000, dependsOn: ['dry-run'], helpGroup: 'PROGRESS' }),
    rate: Flags.integer({
      summary: 'At most this many records per second (back-pressure for fragile sinks); with --scale-out, per process.',
      min: 1,
      helpGroup: 'PROGRESS',
    }),
    'batch-size': Flags.integer({
      summary:
        'Records per sink batch: the unit of checkpoints, and the most a crash can duplicate. Default 5000; 20000 into PostgreSQL, where each batch is one COPY round trip.',
      min: 1,
      max: 1_000_000,
      helpGroup: 'PROGRESS',
    }),
    'commit-interval': Flags.string({
      summary:
        "Transactional sinks (PostgreSQL, DuckDB, Parquet, Kafka --exactly-once): commit the batches written in this time together with the replay's progress, in one transaction (like Kafka Streams' commit.interval.ms); 0 commits every batch. A crash rolls back at most this much work, which --resume writes again.",
      default: '1s',
      helpGroup: 'PROGRESS',
    }),
    'scale-out': Flags.string({
      summary:
        "Scale out: every process run with the same --scale-out NAME (on one machine or several) takes a share of the partitions through recover's own consumer group recover-replay.NAME, whose offsets are the checkpoint; it refuses a group anything else uses. Sinks: kafka: or postgres://; quarantine: kafka:.",
      helpGroup: 'PROGRESS',
    }),
    // Renamed to --scale-out: seek's --group is the application's group it moves, and this one never was.
    group: Flags.string({ hidden: true }),
    'broker-wait': Flags.string({
      summary:
        'When Kafka stops answering mid-replay (a broker restart), wait this long for it, reconnect and continue from the checkpoint; 0 stops at once (exit 5, resumable).',
      default: '5m',
      helpGroup: 'PROGRESS',
    }),
    'progress-interval': Flags.string({
      summary: 'How often a progress line is printed on stderr off a terminal (under --json: a progress record, see docs/progress-events.md).',
      default: '5s',
      helpGroup: 'PROGRESS',
    }),
  }

  async run(): Promise<ReplaySummary | GroupReplaySummary> {
    const { flags } = await this.parse(Replay)
    if (flags.group !== undefined) throw renamedGroupFlag(flags.group)
    const { parseRangeBound, parsePartitionList } = await import('../src/core/replay-range.js')
    const { parseDuration } = await import('../src/core/duration.js')
    const tz = { tz: flags.tz }
    const { parseHeaderRules } = await import('../src/core/header-rules.js')
    const source = flags.source ?? (flags.topic === undefined ? undefined : ({ kind: 'kafka', topic: flags.topic } as const))
    if (!source) throw new RecoveryError('USAGE', 'replay needs --topic TOPIC, or --source file:PATH.jsonl to replay a file.')
    if (source.kind === 'file' && flags['scale-out'] !== undefined)
      throw new RecoveryError('USAGE', '--scale-out splits the partitions of a topic; replay a --source file without it.')
    const request: ReplayRequest = {
      topic: source.kind === 'kafka' ? source.topic : '',
      source: source.kind === 'file' ? source : undefined,
      headerRules: parseHeaderRules({
        drop: flags['drop-header'],
        keep: flags['keep-header'],
        set: flags['set-header'],
        provenance: flags['provenance-headers'],
      }),
      partitions: flags.partitions === undefined ? undefined : parsePartitionList(flags.partitions),
      from: flags.from === undefined ? undefined : parseRangeBound(flags.from, '--from', tz),
      to: flags.to === undefined ? undefined : parseRangeBound(flags.to, '--to', tz),
      keyFormat: flags['key-format'] as (typeof FORMATS)[number],
      valueFormat: flags['value-format'] as (typeof FORMATS)[number],
      schemas: this.schemaSources(flags),
      outputSchemaId: flags['output-schema-id'],
      transform:
        flags.transform === undefined
          ? undefined
          : { path: flags.transform, timeoutMs: positive(parseDuration(flags['transform-timeout']).ms, '--transform-timeout') },
      sink: flags.sink,
      sinkTimeoutMs: positive(parseDuration(flags['sink-timeout']).ms, '--sink-timeout'),
      quarantine: flags.quarantine,
      newTimestamps: flags['new-timestamps'],
      partitioning: flags.partitioning as 'auto' | 'key',
      createTable: flags['create-table'],
      sinkReconnectMs: positive(parseDuration(flags['sink-retry']).ms, '--sink-retry'),
      exactlyOnce: flags['exactly-once'],
      checkpoint: flags.checkpoint,
      stateDir: recoverStateDir(this.projectConfig(flags)).dir,
      resume: flags.resume,
      dryRun: flags['dry-run'] ? { limit: flags.limit ?? 10 } : undefined,
      rate: flags.rate,
      maxFailureRate: { maxPercent: flags['max-failure-rate'], firstRecords: 1_000 },
      batchSize: flags['batch-size'],
      commitIntervalMs: parseDuration(flags['commit-interval']).ms,
      brokerWaitMs: parseDuration(flags['broker-wait']).ms,
      follow: flags.follow,
    }
    if (flags.follow) {
      const { checkFollowCombination } = await import('../src/core/follow.js')
      checkFollowCombination({ ...request, scaleOut: flags['scale-out'] })
    }
    const interval = positive(parseDuration(flags['progress-interval']).ms, '--progress-interval')

    const gateway = await this.gateway(flags)
    const { replayPresenter } = await import('../src/ui/reporters/replay.js')
    const reporter = await this.reporter(replayPresenter, { intervalMs: interval })
    if (flags['scale-out'] !== undefined) return this.runGroup({ ...request, scaleOut: flags['scale-out'] }, gateway, reporter)
    const { replay } = await import('../src/services/replay.js')
    const { renderReplaySummary } = await import('../src/render/replay.js')

    // Ctrl-C: finish the current batch, checkpoint, print the resume command. A second one kills.
    const controller = this.stopOnSignal(() => reporter.note('Stopping after the current batch (Ctrl-C again to quit at once)…'))
    // A transform stuck in a synchronous loop holds this thread: another one says so.
    let transformActivity: SharedArrayBuffer | undefined
    if (request.transform && !this.jsonEnabled()) {
      const { watchStuckTransform } = await import('../src/ui/stuck-transform-watch.js')
      const watch = watchStuckTransform(request.topic || (request.source?.display ?? ''), STALL_MS)
      this.onCleanup(() => watch.stop())
      transformActivity = watch.buffer
    }

    /** The summary of a replay that then fails (a stop): still printed, above the error. */
    let ended: ReplaySummary | undefined
    const summary = await replay(request, {
      gateway,
      signal: controller.signal,
      transformActivity,
      log: reporter.note,
      onEvent: (event) => {
        if (event.type === 'done') ended = event.summary
        reporter.event(event)
      },
    })
      .catch((error: unknown) => {
        // The broker or the sink went away: the checkpoint is valid, so say how to continue.
        if (error instanceof RecoveryError && typeof error.details.checkpoint === 'string') {
          const command = resumeCommand(this.argv, error.details.checkpoint)
          error.details.resumeCommand = command
          error.nextSteps.push(`Continue with: ${command}`)
        }
        // A replay stopped by the failure-rate guard or a plugin: what it wrote, then why.
        if (error instanceof RecoveryError && ended && error.details.summary !== undefined) {
          reporter.finish()
          this.out(renderReplaySummary(ended))
        }
        throw error
      })
      .finally(() => reporter.finish())
    // A follow runs until it is stopped: stopping it is its normal end (a supervisor's SIGTERM).
    if (summary.interrupted && !flags.follow) {
      summary.resumeCommand = resumeCommand(this.argv, summary.checkpoint)
      process.exitCode = 130
    }
    this.out(renderReplaySummary(summary))
    return summary
  }

  /** SIGINT/SIGTERM abort the returned controller (after saying so); a second one exits at once. */
  private stopOnSignal(announce: () => void): AbortController {
    const controller = new AbortController()
    const onSignal = () => {
      // Not process.exit: a replay running plugin code has replaced it (a plugin may not exit).
      if (controller.signal.aborted) exitProcess(130)
      announce()
      controller.abort()
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    this.onCleanup(async () => {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    })
    return controller
  }

  /** --scale-out: this process's share of the partitions, until every partition is done. */
  private async runGroup(
    request: GroupReplayRequest,
    gateway: KafkaGateway,
    reporter: Reporter<ReplayProgressEvent, ProgressState>,
  ): Promise<GroupReplaySummary> {
    const { replayGroup } = await import('../src/services/replay-group.js')
    const { renderGroupReplaySummary } = await import('../src/render/replay.js')
    const controller = this.stopOnSignal(() =>
      reporter.note('Stopping after the current batches (Ctrl-C again to quit at once); the group keeps the progress…'),
    )
    const summary = await replayGroup(request, { gateway, signal: controller.signal, log: reporter.note, onEvent: reporter.event }).finally(() =>
      reporter.finish(),
    )
    if (summary.interrupted) process.exitCode = 130
    this.out(renderGroupReplaySummary(summary))
    return summary
  }
}

/** The old name of --scale-out: refused before connecting, so no group is joined or committed. */
function renamedGroupFlag(group: string): RecoveryError {
  return new RecoveryError(
    'USAGE',
    `replay --group was renamed to --scale-out NAME, and it never moves the consumer group ${group}: nothing was joined or committed.`,
    {
      nextSteps: [
        `To rewind the application's consumer group ${group}: recover seek --group ${group} --to TIME (a plan, a journal and an undo).`,
        "To split a replay over several processes: recover replay … --scale-out NAME (they share recover's own group recover-replay.NAME).",
      ],
      details: { flag: '--group', renamedTo: '--scale-out', group },
    },
  )
}

function positive(ms: number, flag: string): number {
  if (ms <= 0) throw new RecoveryError('BAD_DURATION', `${flag} must be a positive duration such as 5s or 500ms.`)
  return ms
}

/** The command line that continues this replay: the same flags, --resume, and the checkpoint it wrote. */
function resumeCommand(argv: string[], checkpoint: string | null): string {
  const args = argv.filter((a) => a !== '--resume' && a !== '--json')
  const hasCheckpoint = args.some((a) => a === '--checkpoint' || a.startsWith('--checkpoint='))
  return [
    'recover',
    'replay',
    ...args.map(quoteArgument),
    '--resume',
    ...(hasCheckpoint || !checkpoint ? [] : ['--checkpoint', quoteArgument(checkpoint)]),
  ].join(' ')
}
