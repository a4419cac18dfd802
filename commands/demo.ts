import { Flags } from '../src/cli/oclif.js'
import { randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { isAbsolute, join, relative } from 'node:path'
import { BaseCommand } from '../src/cli/base-command.js'
import type { DemoFigures } from '../src/demo/demo-figures.js'
import type { DemoStepRun } from '../src/demo/run-demo.js'

export interface DemoResult {
  brokers: string
  /** true when the demo started its own broker. */
  ownBroker: boolean
  /** The own broker was left running (--keep). */
  kept: { pid: number; dataDir: string } | null
  topic: string
  group: string
  sink: string
  steps: Array<Omit<DemoStepRun, 'result'>>
  figures: DemoFigures
}

export default class Demo extends BaseCommand<DemoResult> {
  static override summary = 'Walk through a Kafka incident recovery on a local broker, with the real commands: describe, peek, seek, replay, audit.'
  static override description =
    `Starts a local single-node Apache Kafka of the project's own (Java 17 and Maven needed; the jars come from Maven Central on first use), or uses --brokers, then seeds the fixture incident: a day of orders in Avro where release 1.6.0 wrote every amount 100 times too high for two hours (2018-03-21T00:00 to 02:00 UTC), with poison pills and duplicates, and a consumer group (billing) that has processed all of it.

Then it runs the recovery step by step, printing each command before running it as its own process, exactly as you would type it: groups describe, peek at the window start, seek --dry-run then --execute, replay through plugins/fix-bad-deploy.ts into a Parquet file (or, with --postgres URL, upserted into a table <topic>_fixed of that database; with --opensearch URL, indexed into <topic>-fixed there; with --s3 s3://BUCKET/PREFIX, written as Parquet objects under PREFIX/<topic>-fixed), quarantine list, audit compare (reading the sink back, with --opensearch or --s3), audit duplicates. With --json-schema it also peeks and replays a few plain JSON orders validated by fixtures/json-schema/order.schema.json and shows the quarantined one with its failing path and rule. It ends with what happened and what to try next.

The demo's broker (Kafka 4.4.0; RECOVER_KAFKA_VERSION=3.9.2 for the 3.9 line) is stopped at the end unless --keep. With --brokers, topic and group names get a random suffix so that nothing existing is touched. Files go to .recover/demo/ under the current folder.`
  static override examples = [
    { description: 'The whole walk-through on a fresh local broker', command: '<%= config.bin %> demo' },
    { description: 'Keep the broker running afterwards to explore', command: '<%= config.bin %> demo --keep' },
    {
      description: 'Replay into PostgreSQL (a table orders_fixed is created there)',
      command: '<%= config.bin %> demo --postgres postgres://postgres@127.0.0.1:5432/test',
    },
    {
      description: 'Replay into OpenSearch or Elasticsearch (an index orders-fixed is written there, then read back by audit compare)',
      command: '<%= config.bin %> demo --opensearch http://127.0.0.1:9200',
    },
    {
      description: 'Replay into S3 or an S3-compatible store: credentials, region and endpoint the AWS way (environment or AWS_PROFILE)',
      command: 'AWS_ENDPOINT_URL=http://127.0.0.1:9000 <%= config.bin %> demo --s3 s3://my-bucket/recover-demo',
    },
    {
      description: 'Also show a JSON Schema-validated topic: the order that breaks a rule is quarantined with its path and rule',
      command: '<%= config.bin %> demo --json-schema',
    },
    {
      description: 'On a broker you already run, smaller, with a JSON summary for CI',
      command: '<%= config.bin %> demo --brokers 127.0.0.1:9092 --count 2000 --json',
    },
  ]
  static override flags = {
    brokers: Flags.string({
      summary: 'Use this cluster instead of starting a local broker (topic and group names get a random suffix).',
      helpGroup: 'CONNECTION',
    }),
    keep: Flags.boolean({ summary: "Leave the demo's own broker running at the end (prints how to stop it)." }),
    count: Flags.integer({ summary: 'Records in the fixture incident (smaller is faster).', default: 10_000, min: 100 }),
    postgres: Flags.string({
      summary:
        'Replay into this PostgreSQL database instead of a Parquet file: creates and upserts a table <topic>_fixed there, e.g. postgres://postgres@127.0.0.1:5432/test.',
      exclusive: ['opensearch', 's3'],
    }),
    opensearch: Flags.string({
      summary:
        'Replay into this OpenSearch or Elasticsearch instead of a Parquet file: the index <topic>-fixed there, one document per order_id, then read back by audit compare. A base URL, e.g. http://127.0.0.1:9200 (https://USER:PASSWORD@HOST:9200 with a login).',
      exclusive: ['postgres', 's3'],
    }),
    s3: Flags.string({
      summary:
        'Replay into S3 instead of a Parquet file: Parquet objects under PREFIX/<topic>-fixed, then read back by audit compare. s3://BUCKET/PREFIX; credentials, region and endpoint the AWS way (environment, AWS_PROFILE, AWS_ENDPOINT_URL).',
      exclusive: ['postgres', 'opensearch'],
    }),
    'json-schema': Flags.boolean({
      summary: `Also show a JSON Schema at work: a few plain JSON orders in <topic>-json, peeked and replayed with --schema fixtures/json-schema/order.schema.json; the one that breaks a rule is quarantined with its failing path and rule (three more steps: peek, replay, quarantine show).`,
    }),
    pause: Flags.boolean({
      summary: 'Wait for Enter before each step (q stops, Ctrl-C ends with exit 130). Default: on a terminal; never with --json or without one.',
      allowNo: true,
    }),
  }

  async run(): Promise<DemoResult> {
    const { flags } = await this.parse(Demo)
    const { openDemoCluster } = await import('../src/demo/demo-cluster.js')
    const { demoPresenter } = await import('../src/ui/reporters/demo.js')
    const reporter = await this.reporter(demoPresenter)
    if (!flags.brokers) reporter.note('Starting a local Kafka broker for the demo (the first run downloads it from Maven Central)…')
    const cluster = await openDemoCluster({ brokers: flags.brokers, onProgress: (event) => reporter.event({ type: 'local-kafka', event }) })
    let keep = false
    this.onCleanup(async () => {
      if (keep) cluster.own?.detach()
      else await cluster.own?.stop()
    })

    const suffix = cluster.own ? '' : `-demo-${randomBytes(3).toString('hex')}`
    const topic = `orders${suffix}`
    const group = `billing${suffix}`

    const { buildDemoSteps, chooseDemoSink } = await import('../src/demo/demo-steps.js')
    const { INCIDENT_DEFAULTS } = await import('../src/fixtures/incident-options.js')
    const root = this.config.root
    const workDir = `.recover/demo/${Date.now().toString(36)}`
    const minute = (ms: number) => new Date(ms).toISOString().slice(0, 16)
    mkdirSync(workDir, { recursive: true })
    const sink = await chooseDemoSink({
      topic,
      workDir,
      ...(flags.postgres ? { postgres: flags.postgres } : {}),
      ...(flags.opensearch ? { opensearch: flags.opensearch } : {}),
      ...(flags.s3 ? { s3: flags.s3 } : {}),
    })

    // After the sink: a sink that cannot be used stops the demo before it writes anything.
    const { seedDemoIncident } = await import('../src/demo/seed-demo.js')
    reporter.event({ type: 'seeding', topic, group, count: flags.count, brokers: cluster.brokers })
    const jsonTopic = flags['json-schema'] ? `${topic}-json` : undefined
    const seeded = await seedDemoIncident(cluster.brokers, { topic, group, count: flags.count, ...(jsonTopic ? { jsonTopic } : {}) })
    const steps = buildDemoSteps({
      topic,
      group,
      window: { from: minute(INCIDENT_DEFAULTS.badDeploy.startMs), to: minute(INCIDENT_DEFAULTS.badDeploy.endMs) },
      schemaDir: displayPath(join(root, 'fixtures', 'schemas')),
      transform: displayPath(join(root, 'plugins', 'fix-bad-deploy.ts')),
      ...(jsonTopic ? { json: { topic: jsonTopic, schema: displayPath(join(root, 'fixtures', 'json-schema', 'order.schema.json')) } } : {}),
      workDir,
      sink,
      commands: new Set(this.config.commandIDs),
    })

    const { runDemoSteps } = await import('../src/demo/run-demo.js')
    const { renderDemoStepHeader, renderDemoEnding } = await import('../src/render/demo.js')
    if (!cluster.own) reporter.note(`The steps run with RECOVER_BROKERS=${cluster.brokers}.`)
    const pause = (flags.pause ?? true) && !this.jsonEnabled() && process.stdin.isTTY === true && process.stdout.isTTY === true
    const runs = await runDemoSteps(steps, {
      brokers: cluster.brokers,
      cwd: process.cwd(),
      onStepStart: (step, index, total, command) => {
        reporter.event({ type: 'step-start', id: step.id, title: step.title, index, total, command })
        this.out(renderDemoStepHeader(step, index, total, command))
      },
      onStepEnd: (run, index, total) => reporter.event({ type: 'step-end', run, index, total }),
      beforeStep: pause ? (step) => this.waitForGo(steps.indexOf(step), steps.length, cluster.own !== undefined) : undefined,
      onStdout: (chunk) => {
        if (!this.jsonEnabled()) process.stdout.write(chunk)
      },
      onStderr: (chunk) => {
        if (!this.jsonEnabled()) process.stderr.write(chunk)
      },
    })

    const { demoFigures } = await import('../src/demo/demo-figures.js')
    const figures = demoFigures(runs, seeded.truth)
    keep = flags.keep && cluster.own !== undefined
    const kept = keep && cluster.own ? { pid: cluster.own.pid, dataDir: cluster.own.dataDir } : null
    const window = steps.find((s) => s.id === 'replay')?.argv ?? []
    const from = window[window.indexOf('--from') + 1]
    const to = window[window.indexOf('--to') + 1]
    const explore = [
      `recover groups describe --group ${group}`,
      `recover seek --group ${group} --undo --execute        # put the group back where it was`,
      `recover audit compare --topic ${topic} --from ${from} --to ${to} --value-format avro --schema ${displayPath(join(root, 'fixtures', 'schemas'))} ${sink.compareArgs.join(' ')}   # the poison pills never reached the sink`,
      ...(this.config.findCommand('triage') ? [`recover triage --help`] : []),
      'recover runbook list                                  # the incident runbooks, runnable step by step',
    ]
    this.out(
      renderDemoEnding({
        topic,
        group,
        figures,
        sinkDescription: sink.describe,
        brokers: cluster.brokers,
        ownBroker: cluster.own !== undefined,
        kept: kept ?? undefined,
        explore,
      }),
    )
    if (runs.length < steps.length) this.note('Stopped before the end, as asked.')
    return {
      brokers: cluster.brokers,
      ownBroker: cluster.own !== undefined,
      kept,
      topic,
      group,
      sink: sink.uri,
      steps: runs.map(({ result: _result, ...step }) => step),
      figures,
    }
  }

  /**
   * On a terminal, a person reads each step before it runs: Enter runs it, q stops the demo
   * (one key, no Enter needed), Ctrl-C ends it at once (exit 130; the demo's broker is still stopped).
   */
  private async waitForGo(index: number, total: number, ownBroker: boolean): Promise<boolean> {
    const { interruptedAtPrompt, waitForKey } = await import('../src/cli/prompt.js')
    const interrupted = () =>
      interruptedAtPrompt(`Interrupted at the prompt: the demo stopped before step ${index + 1} of ${total}${ownBroker ? ' and stops its local broker' : ''}.`)
    // On stdout, with the step it is about: the pause happens only when stdout is a terminal.
    return (await waitForKey('Press Enter to run it (q to stop) ', { interrupted, output: process.stdout })) === 'continue'
  }
}

/** Paths on the printed command lines: short and relative when under the current folder. */
function displayPath(path: string): string {
  const rel = relative(process.cwd(), path)
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path
}
