/**
 * The demo's walk through a recovery, as data: each step is a real `recover` command line
 * with a title and the reason it comes next. `runDemo` runs them in this order.
 *
 * Extending the demo is one entry in DEMO_STEPS (a builder that returns undefined when its
 * step does not apply, e.g. because a command or a sink is not available), and a new replay
 * destination is one entry in DEMO_SINKS: the first one that says it is available wins.
 */

export interface DemoContext {
  topic: string
  group: string
  /** The bad-deploy window, as a person would type it (UTC: times without a zone are UTC). */
  window: { from: string; to: string }
  /** Paths as they appear on the command lines: relative to where the demo runs when inside it. */
  schemaDir: string
  transform: string
  /** Where this run's files go (the sink file, reports). */
  workDir: string
  /** --json-schema: the topic of plain JSON orders and the JSON Schema file (as on the command lines) that one of them breaks. */
  json?: { topic: string; schema: string }
  /** The replay destination chosen from DEMO_SINKS. */
  sink: DemoSink
  /** Command ids this recover has (e.g. "groups:describe"), for steps that need a newer command. */
  commands: ReadonlySet<string>
}

export interface DemoStep {
  /** Stable id, used in --json and to pick figures: 'groups-describe', 'replay'… */
  id: string
  title: string
  /** One or two sentences: why this step, what to look at in its output. */
  why: string
  /** The arguments after `recover`. */
  argv: string[]
}

export type DemoStepBuilder = (ctx: DemoContext) => DemoStep | undefined

export interface DemoSink {
  /** The --sink value. */
  uri: string
  /** More replay flags this sink needs (--create-table). */
  replayArgs?: string[]
  /** For the ending: where the corrected records are and how to look at them. */
  describe: string
  /** `audit compare` flags that compare the window with this sink: --sink and --key. */
  compareArgs: string[]
  /**
   * The demo reads the sink back with `audit compare` as a step of its own (a remote store the
   * person named: OpenSearch, S3), so that its figures include what the sink holds.
   */
  compareStep?: boolean
}

/** Replay destinations, best first; each returns undefined when it cannot be used here. */
export type DemoSinkCandidate = (ctx: DemoSinkContext) => Promise<DemoSink | undefined>

export interface DemoSinkContext extends Pick<DemoContext, 'topic' | 'workDir'> {
  /** --postgres URL: replay into PostgreSQL there. */
  postgres?: string
  /** --opensearch URL (http(s)://[USER:PASSWORD@]HOST:PORT): replay into the index <topic>-fixed there. */
  opensearch?: string
  /** --s3 s3://BUCKET/PREFIX: replay into Parquet objects under PREFIX/<topic>-fixed. */
  s3?: string
}

/** The PostgreSQL of the project's own machines and tests, for `recover demo --postgres`. */
export const DEMO_POSTGRES = 'postgres://postgres@127.0.0.1:5432/test'

export const DEMO_SINKS: DemoSinkCandidate[] = [
  // PostgreSQL only when asked for (--postgres URL): the demo never writes to a database a
  // person did not name, even one that happens to answer on the default port.
  async ({ topic, postgres }) => {
    if (!postgres) return undefined
    const { postgresAnswers } = await import('../postgres/probe.js')
    if (!(await postgresAnswers(postgres))) {
      const { RecoveryError } = await import('../errors.js')
      throw new RecoveryError(
        'SINK_UNREACHABLE',
        `PostgreSQL at ${postgres} (from --postgres) did not answer; start it, or leave out --postgres to replay into a Parquet file.`,
      )
    }
    const url = postgres
    const table = `${topic.replace(/[^A-Za-z0-9_]/g, '_')}_fixed`
    return {
      uri: `${url}?table=${table}&key=order_id`,
      replayArgs: ['--create-table'],
      describe: `table ${table} in ${url}, one row per order_id with its source partition and offset (psql ${url} -c 'SELECT order_id, amount_cents, source_offset FROM ${table} LIMIT 5')`,
      compareArgs: ['--key', 'order_id', '--sink', `${url}?table=${table}`],
    }
  },
  // OpenSearch or Elasticsearch only when asked for (--opensearch URL): one document per order_id.
  async ({ topic, opensearch }) => {
    if (!opensearch) return undefined
    const { demoOpenSearchSink } = await import('./demo-remote-sinks.js')
    return demoOpenSearchSink(topic, opensearch)
  },
  // S3 only when asked for (--s3 s3://BUCKET/PREFIX): credentials and endpoint the AWS way.
  async ({ topic, s3 }) => {
    if (!s3) return undefined
    const { demoS3Sink } = await import('./demo-remote-sinks.js')
    return demoS3Sink(topic, s3)
  },
  // Otherwise Parquet, through the DuckDB that recover carries.
  async ({ topic, workDir }) => {
    const file = `${workDir}/${topic}.fixed.parquet`
    return {
      uri: `file:${file}`,
      describe: `${file}, a column per field plus source_topic/partition/offset (duckdb -c "SELECT order_id, amount_cents FROM '${file}' LIMIT 5")`,
      compareArgs: ['--key', 'order_id', '--sink', file],
    }
  },
]

export async function chooseDemoSink(ctx: DemoSinkContext, candidates: DemoSinkCandidate[] = DEMO_SINKS): Promise<DemoSink> {
  for (const candidate of candidates) {
    const sink = await candidate(ctx)
    if (sink) return sink
  }
  throw new Error('No demo sink is available; DEMO_SINKS ends with one that always is.')
}

const avro = (ctx: DemoContext): string[] => ['--value-format', 'avro', '--schema', ctx.schemaDir]

export const DEMO_STEPS: DemoStepBuilder[] = [
  (ctx) => ({
    id: 'groups-describe',
    title: 'Where is the consumer group?',
    why: `The billing service (group ${ctx.group}) has already processed the two hours of orders that release 1.6.0 wrote with amounts 100 times too high.`,
    argv: ['groups', 'describe', '--group', ctx.group],
  }),
  (ctx) => ({
    id: 'peek',
    title: 'What does the start of the bad-deploy window hold?',
    why: 'Decoded from Avro with the schemas in fixtures/schemas: amount_cents is 100 times what the customers paid (an order of 56,290.00?). Release 1.6.0 wrote these; every record carries its app-version header.',
    argv: ['peek', '--topic', ctx.topic, '--at', ctx.window.from, '--count', '5', ...avro(ctx)],
  }),
  (ctx) => ({
    id: 'seek-dry-run',
    title: 'Plan the rewind of the group (dry run)',
    why: 'Once billing runs the fixed release, it must read the window again. The plan shows, per partition, the new offset and how many records it will re-read; nothing changes yet.',
    argv: ['seek', '--group', ctx.group, '--to', ctx.window.from, '--dry-run'],
  }),
  (ctx) => ({
    id: 'seek-execute',
    title: 'Apply the rewind',
    why: 'The previous offsets go to a journal first, and the undo command is printed. (--yes because the demo runs without asking; on your own you would be asked.)',
    argv: ['seek', '--group', ctx.group, '--to', ctx.window.from, '--execute', '--yes'],
  }),
  (ctx) => ({
    id: 'replay',
    title: 'Replay the window through the corrected transform',
    why: `Without waiting for a redeploy: ${ctx.transform} divides the amounts 1.6.0 wrote by 100. Records that cannot be decoded (the poison pills) go to the quarantine topic ${ctx.topic}.quarantine with the reason.`,
    argv: [
      'replay',
      '--topic',
      ctx.topic,
      '--from',
      ctx.window.from,
      '--to',
      ctx.window.to,
      ...avro(ctx),
      '--transform',
      ctx.transform,
      '--sink',
      ctx.sink.uri,
      ...(ctx.sink.replayArgs ?? []),
    ],
  }),
  (ctx) =>
    ctx.json
      ? {
          id: 'json-schema-peek',
          title: 'Another topic, in JSON: which orders break their JSON Schema?',
          why: `The checkout service writes ${ctx.json.topic} in plain JSON; ${ctx.json.schema} says what an order must be. peek validates each record against it (no registry needed) and names the failing place as a JSON Pointer and the rule.`,
          argv: ['peek', '--topic', ctx.json.topic, '--value-format', 'json-schema', '--schema', ctx.json.schema],
        }
      : undefined,
  (ctx) =>
    ctx.json
      ? {
          id: 'json-schema-replay',
          title: 'Replay it: the invalid order goes to the quarantine',
          why: `The valid orders are written; the one that breaks a rule goes to the quarantine topic ${ctx.json.topic}.quarantine (recover.error.kind json-schema-invalid) with the path and the rule.`,
          argv: [
            'replay',
            '--topic',
            ctx.json.topic,
            '--value-format',
            'json-schema',
            '--schema',
            ctx.json.schema,
            '--sink',
            `file:${ctx.workDir}/${ctx.json.topic}.jsonl`,
            '--quarantine',
            `kafka:${ctx.json.topic}.quarantine`,
          ],
        }
      : undefined,
  (ctx) =>
    ctx.json
      ? {
          id: 'json-schema-quarantine-show',
          title: 'The quarantined order in full',
          why: 'Its original position, the reason with the failing JSON Pointer and rule, and the value as it was written: fix the producer (or the schema), then redrive it with recover quarantine retry.',
          // The topic has one partition and one invalid order: its dead letter is the first of partition 0.
          argv: ['quarantine', 'show', '0@0', '--dlq', `kafka:${ctx.json.topic}.quarantine`],
        }
      : undefined,
  (ctx) =>
    ctx.commands.has('quarantine:list')
      ? {
          id: 'quarantine-list',
          title: 'What went to the quarantine, and why',
          why: `The records the replay could not decode are in ${ctx.topic}.quarantine with their original bytes and the reason, grouped by error. From here: recover quarantine show, redrive once fixed, or recover triage.`,
          argv: ['quarantine', 'list', '--dlq', `kafka:${ctx.topic}.quarantine`, '--records', '10'],
        }
      : undefined,
  (ctx) =>
    ctx.sink.compareStep
      ? {
          id: 'audit-compare',
          title: 'Did every corrected order arrive in the sink?',
          why: 'audit compare reads the sink back and matches it with the window by order_id: missing keys would be orders the replay lost. The poison pills count as undecodable, not missing.',
          argv: ['audit', 'compare', '--topic', ctx.topic, '--from', ctx.window.from, '--to', ctx.window.to, ...avro(ctx), ...ctx.sink.compareArgs],
        }
      : undefined,
  (ctx) => ({
    id: 'audit-duplicates',
    title: 'Audit the window for duplicates',
    why: 'Producer retries and double processing leave the same order_id twice: identical copies are harmless re-sends, changed copies need a decision.',
    argv: ['audit', 'duplicates', '--topic', ctx.topic, '--from', ctx.window.from, '--to', ctx.window.to, '--key', 'order_id', ...avro(ctx)],
  }),
]

export function buildDemoSteps(ctx: DemoContext, builders: DemoStepBuilder[] = DEMO_STEPS): DemoStep[] {
  return builders.map((build) => build(ctx)).filter((step): step is DemoStep => step !== undefined)
}
