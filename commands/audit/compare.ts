import { Flags } from '../../src/cli/oclif.js'
import { auditDbPath, auditDuckdbOptions, auditOutputFlags, failOnFailure, scanRequestFromFlags } from '../../src/cli/audit-flags.js'
import { COMPARE_METRICS } from '../../src/core/fail-on.js'
import { BaseCommand } from '../../src/cli/base-command.js'
import { connectionFlags } from '../../src/cli/shared-flags.js'
import { auditSinkFlag } from '../../src/cli/location-flags.js'
import type { CompareAuditResult } from '../../src/services/audit-compare.js'
import { resolveConnection } from '../../src/config/resolve-connection.js'

const FORMATS = ['json', 'string', 'bytes', 'avro', 'json-schema', 'protobuf'] as const

export default class AuditCompare extends BaseCommand<CompareAuditResult> {
  static override summary =
    'Compare a range of a topic with a sink: keys missing from it (loss), keys it holds twice, keys only it has, and the exact source offsets that never arrived.'
  static override description =
    `The sink is read first, then [--from, --to) of the topic is scanned into DuckDB the same way as audit duplicates, and keys are compared there.

Sinks (the locations of docs/locations.md): postgres://user@host:5432/db?table=T (read through a server-side cursor; a replay sink's &key= is accepted), duckdb:FILE?table=T or duckdb:FILE#T, kafka:TOPIC (keyed like the source, or by --sink-key), opensearch://HOST:9200/INDEX (or elasticsearch://; --key key compares document ids, a --key field the documents' field; provenance from source_partition/source_offset or id=offset ids), or a .jsonl/.json/.csv/.parquet file (read by DuckDB; recover's lossless JSONL envelope from replay --sink file:X.jsonl is recognised).

A Kafka sink (a mirror: another topic, or with --sink-cluster a topic on another cluster) keeps no provenance, but a faithful copy keeps each record's key, value and headers: every source record is paired with a mirror record of the same key and content, identical copies in offset order, across partitions (a mirror with another partition count moves records between them). Source records left without a pair are the exact offsets that never arrived; mirror records left over are duplicates (one more copy of a source record) or unmatched (no source record in the range has that key and content). --mirror-match value ignores headers (for a copier that adds its own); --mirror-match key compares keys only. The mirror is read whole: compare once it has caught up.

The sink key column defaults to the --key field's name (key for --key key); --sink-key names another. When the sink stores where each row came from (columns source_partition and source_offset, kafka_partition/kafka_offset, the envelope's partition/offset, or --sink-provenance P,O), the comparison also lists the exact source offsets that never arrived: a record is lost when no sink row names its offset and no later copy of its key arrived (an upsert sink keeps only the newest copy); "stale" marks lost records whose key the sink still holds from an older copy.`
  static override examples = [
    {
      description: 'Did every order reach the orders table?',
      command:
        '<%= config.bin %> audit compare --topic orders --key order_id --value-format avro --schema fixtures/schemas --sink "postgres://app@db:5432/shop?table=orders"',
    },
    {
      description: 'Which orders never reached the OpenSearch index a replay wrote (documents by record key)',
      command: '<%= config.bin %> audit compare --topic orders --key key --sink opensearch://search:9200/orders-fixed',
    },
    { description: 'Against a replay export', command: '<%= config.bin %> audit compare --topic orders --key key --sink file:orders.jsonl' },
    {
      description: 'Against the Parquet objects a replay wrote to S3 (the same --sink text)',
      command:
        '<%= config.bin %> audit compare --topic orders --key order_id --value-format avro --schema fixtures/schemas --sink s3://incident-2018-03/replays',
    },
    {
      description: 'Mirror check on the same cluster, for CI',
      command: '<%= config.bin %> audit compare --topic orders --key key --sink kafka:orders.mirror --fail-on "lost>0,duplicated>0" --json',
    },
    {
      description: 'A MirrorMaker 2 copy on the DR cluster (named in recover.config.json)',
      command: '<%= config.bin %> audit compare -t orders -k key --sink kafka:primary.orders --sink-cluster dr',
    },
    {
      description: 'The same topic name on another cluster, by address',
      command: '<%= config.bin %> audit compare -t orders -k key --sink kafka:orders --sink-cluster dr-kafka-1:9092',
    },
  ]
  static override flags = {
    ...connectionFlags,
    topic: Flags.string({ char: 't', summary: 'The source topic.', required: true }),
    key: Flags.string({
      char: 'k',
      summary: 'What identifies a record: key (the Kafka record key) or a field of the decoded value (order_id, customer.id).',
      required: true,
    }),
    sink: auditSinkFlag({
      summary:
        'postgres://…?table=T, duckdb:FILE?table=T (or #T), kafka:TOPIC, opensearch://HOST:9200/INDEX, or a .jsonl/.json/.csv/.parquet file: the --sink a replay wrote to, verbatim.',
      required: true,
    }),
    'sink-cluster': Flags.string({
      summary: "The cluster a kafka: sink is on, when not the source's: a cluster of recover.config.json, or HOST:PORT[,HOST:PORT].",
    }),
    'sink-client-config': Flags.string({
      summary: "Kafka client .properties for --sink-cluster (TLS, SASL); default: the named cluster's own settings.",
      dependsOn: ['sink-cluster'],
    }),
    'mirror-match': Flags.string({
      summary:
        'How a kafka: sink is paired with the source: record (key, value, headers; the default), value (key and value), or key (keys only, no lost offsets).',
      options: ['record', 'value', 'key'],
    }),
    'sink-key': Flags.string({ summary: 'The sink column (or, for kafka:, the key: key or FIELD) that holds the key. Default: the --key field name, or key.' }),
    'sink-provenance': Flags.string({
      summary: 'The sink columns with the source partition and offset: PARTITION,OFFSET. Default: source_partition,source_offset when present.',
    }),
    partitions: Flags.string({ summary: 'Only these source partitions: 0,1,5. Default: all.' }),
    from: Flags.string({ summary: 'Start (inclusive): earliest (default), a time, offset:N or offset:0=N,1=M.' }),
    to: Flags.string({ summary: 'End (exclusive): latest (default: the last stable offsets at the start), a time, offset:N or offset:0=N,1=M.' }),
    tz: Flags.string({ summary: 'Zone for times without one: an IANA zone (Asia/Seoul), UTC, or local.' }),
    top: Flags.integer({ summary: 'How many keys of each finding to list in the table.', default: 20, min: 0, max: 100_000 }),
    ...auditOutputFlags(COMPARE_METRICS),
    'value-format': Flags.string({
      summary: 'How values are decoded: json (default with --key FIELD), string, bytes, avro, json-schema or protobuf (with --schema or --registry).',
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

  async run(): Promise<CompareAuditResult> {
    const { flags } = await this.parse(AuditCompare)
    const { parseFailOn } = await import('../../src/core/fail-on.js')
    const request = {
      ...(await scanRequestFromFlags(flags, this.schemaSources(flags))),
      sink: flags.sink,
      sinkKey: flags['sink-key'],
      sinkProvenance: flags['sink-provenance'],
      top: flags.top,
      historyPath: flags.history ? auditDbPath(flags.db, this.projectConfig(flags)) : undefined,
      report: flags.report,
      failOn: flags['fail-on'] === undefined ? undefined : parseFailOn(flags['fail-on'], COMPARE_METRICS),
      mirrorMatch: flags['mirror-match'] as 'record' | 'value' | 'key' | undefined,
    }
    for (const flag of ['sink-cluster', 'mirror-match'] as const) {
      if (flags[flag] !== undefined && flags.sink.kind !== 'kafka') {
        const { RecoveryError } = await import('../../src/errors.js')
        throw new RecoveryError('USAGE', `--${flag} is for a kafka: sink, and --sink ${flags.sink.display} is not one; drop --${flag}.`)
      }
    }
    const gateway = await this.gateway(flags)
    const sinkGateway =
      flags['sink-cluster'] === undefined ? undefined : await this.gateway(flags, { label: 'Sink Kafka', settings: this.sinkConnection(flags) })
    const { auditCompare } = await import('../../src/services/audit-compare.js')
    const { auditScanPresenter } = await import('../../src/ui/reporters/audit-scan.js')
    const reporter = await this.reporter(auditScanPresenter)
    const result = await auditCompare(request, { gateway, sinkGateway, duckdb: auditDuckdbOptions(), onEvent: reporter.event })
    const { renderCompareAudit } = await import('../../src/render/audit.js')
    this.out(renderCompareAudit(result, { top: flags.top }))
    const failure = failOnFailure('comparison', result)
    return failure ? this.endWithFindings(result, failure) : result
  }

  /** --sink-cluster: a cluster named in recover.config.json, else bootstrap servers. */
  private sinkConnection(flags: { 'sink-cluster'?: string; 'sink-client-config'?: string; config?: string }) {
    const project = this.projectConfig(flags)
    const value = flags['sink-cluster']!
    const named = project.clusters[value] !== undefined || !/^[^\s,:]+:\d+(,[^\s,:]+:\d+)*$/.test(value)
    return resolveConnection({ ...(named ? { cluster: value } : { brokers: value }), clientConfig: flags['sink-client-config'] }, project)
  }
}
