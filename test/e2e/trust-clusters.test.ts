/**
 * The trust invariants across two real clusters, A and B, with the same topic and group names
 * on both (staging and prod often share them): every state change names its cluster, and an
 * undo never carries a change from one cluster to the other.
 */
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { runCli } from '../support/cli.js'
import { commitOffsets, createTopic, produce, readCommitted, testBrokers, uniqueName, withGateway } from '../support/kafka.js'
import { testBrokersB as clusterBBrokers } from '../support/kafka.js'
import { withTimeout } from '../support/timeout.js'

const T0 = Date.UTC(2018, 2, 21, 0, 0, 0)

interface Twin {
  topic: string
  group: string
  dir: string
  home: string
  idA: string
  idB: string
  /** recover on cluster A or B, as a person would point it there: RECOVER_BROKERS. */
  on: (cluster: 'A' | 'B', ...args: string[]) => ReturnType<typeof runCli>
  committed: (cluster: 'A' | 'B') => Promise<Record<string, string>>
}

/** The same topic (2 partitions, 10 records each) and group on A and B, committed at 4 on both. */
async function twins(): Promise<Twin> {
  const topic = uniqueName('trust-orders')
  const group = uniqueName('trust-billing')
  const dir = mkdtempSync(join(tmpdir(), 'recover-trust-'))
  const home = join(dir, 'home')
  const brokers = { A: testBrokers(), B: clusterBBrokers() }
  for (const b of Object.values(brokers)) {
    await createTopic(topic, 2, b)
    const records = []
    for (let p = 0; p < 2; p++) for (let i = 0; i < 10; i++) records.push({ partition: p, key: `k${i}`, value: `{"i":${i}}`, timestampMs: T0 + i * 60_000 })
    await produce(topic, records, b)
    await commitOffsets(
      group,
      topic,
      [
        { partition: 0, offset: 4 },
        { partition: 1, offset: 4 },
      ],
      b,
    )
  }
  const idOf = (b: string) => withGateway(async (g) => g.clusterId, b)
  return {
    topic,
    group,
    dir,
    home,
    idA: await idOf(brokers.A),
    idB: await idOf(brokers.B),
    on: (cluster, ...args) => runCli(args, { cwd: dir, env: { RECOVER_BROKERS: brokers[cluster], RECOVER_HOME: home } }),
    committed: (cluster) => readCommitted(group, brokers[cluster]),
  }
}

test(
  'the two test clusters are really two clusters',
  withTimeout(60_000, async () => {
    const t = await twins()
    assert.is.not(t.idA, t.idB)
  }),
)

test(
  "undo on A restores A's snapshot even after a newer, unrelated change to the same group on B (D1)",
  withTimeout(120_000, async () => {
    const t = await twins()
    const onA = await t.on('A', 'seek', '--group', t.group, '--to-latest', '--execute', '--yes')
    assert.is(onA.exitCode, 0, onA.stderr)
    const onB = await t.on('B', 'seek', '--group', t.group, '--to-offset', '7', '--execute', '--yes')
    assert.is(onB.exitCode, 0, onB.stderr)
    const undoA = await t.on('A', 'seek', '--group', t.group, '--undo', '--execute', '--yes', '--json')
    assert.is(undoA.exitCode, 0, undoA.stderr)
    assert.equal(await t.committed('A'), { [`${t.topic}-0`]: '4', [`${t.topic}-1`]: '4' }, 'A is back where it was before its own change')
    assert.equal(await t.committed('B'), { [`${t.topic}-0`]: '7', [`${t.topic}-1`]: '7' }, 'B untouched')
    assert.is(undoA.json.plan.cluster.id, t.idA)
  }),
)

test(
  'an undo command printed on A, run against B, refuses with exit 4 and changes nothing on B',
  withTimeout(120_000, async () => {
    const t = await twins()
    const onA = await t.on('A', 'seek', '--group', t.group, '--to-earliest', '--execute', '--yes')
    assert.is(onA.exitCode, 0, onA.stderr)
    const printed = /Undo with: recover (.*)$/m.exec(onA.stdout)![1]!.split(' ')
    assert.not.ok(printed.includes('--brokers'), 'the brokers came from the environment, as in the report')
    const onB = await t.on('B', ...printed, '--json')
    assert.is(onB.exitCode, 4, onB.stderr)
    assert.is(onB.json.error.code, 'CLUSTER_MISMATCH')
    assert.match(onB.json.error.message, new RegExp(`recorded on cluster ${t.idA} \\(${testBrokers()}\\).*connected to cluster ${t.idB}`))
    assert.equal(await t.committed('B'), { [`${t.topic}-0`]: '4', [`${t.topic}-1`]: '4' })
  }),
)

test(
  'the journal records the cluster id and bootstrap servers; plan, prompt line and summary name the cluster',
  withTimeout(60_000, async () => {
    const t = await twins()
    const run = await t.on('A', 'seek', '--group', t.group, '--to-latest', '--execute', '--yes')
    assert.is(run.exitCode, 0, run.stderr)
    assert.match(run.stderr, new RegExp(`^Kafka: cluster ${t.idA} \\(${testBrokers()}, from RECOVER_BROKERS\\)$`, 'm'))
    assert.match(run.stdout, new RegExp(`^On cluster ${t.idA} \\(${testBrokers()}, from RECOVER_BROKERS\\)\\.$`, 'm'))
    assert.match(run.stdout, new RegExp(`Applied to group ${t.group} on cluster ${t.idA} .*\\(2 partitions\\)`))
    const journalDir = join(t.home, 'journal', encodeURIComponent(t.group))
    const journal = readFileSync(join(journalDir, readdirSync(journalDir)[0]!), 'utf8')
    assert.match(journal, new RegExp(`^# cluster-id: ${t.idA}$`, 'm'))
    assert.match(journal, new RegExp(`^# bootstrap: ${testBrokers()}$`, 'm'))
  }),
)

test(
  "a replay's summary and --json name the cluster it read from",
  withTimeout(60_000, async () => {
    const t = await twins()
    const out = join(t.dir, 'out.jsonl')
    const run = await t.on('B', 'replay', '--topic', t.topic, '--sink', `file:${out}`, '--quarantine', `file:${join(t.dir, 'q.jsonl')}`)
    assert.is(run.exitCode, 0, run.stderr)
    assert.match(run.stdout, new RegExp(`^Replay of ${t.topic} on cluster ${t.idB} into file:`, 'm'))
    const json = await t.on(
      'A',
      'replay',
      '--topic',
      t.topic,
      '--sink',
      `file:${join(t.dir, 'out-a.jsonl')}`,
      '--quarantine',
      `file:${join(t.dir, 'q-a.jsonl')}`,
      '--json',
    )
    assert.is(json.exitCode, 0, json.stderr)
    assert.is(json.json.cluster.id, t.idA)
  }),
)

test(
  'RECOVER_BROKERS wins over the default cluster of recover.config.json, and the command says which cluster it used (D6)',
  withTimeout(60_000, async () => {
    const t = await twins()
    writeFileSync(join(t.dir, 'recover.config.json'), JSON.stringify({ clusters: { prod: { brokers: clusterBBrokers() } }, defaults: { cluster: 'prod' } }))
    const run = await t.on('A', 'seek', '--group', t.group, '--to-latest', '--execute', '--yes')
    assert.is(run.exitCode, 0, run.stderr)
    assert.match(run.stderr, new RegExp(`Kafka: cluster ${t.idA} .*from RECOVER_BROKERS`))
    assert.equal(await t.committed('A'), { [`${t.topic}-0`]: '10', [`${t.topic}-1`]: '10' })
    assert.equal(await t.committed('B'), { [`${t.topic}-0`]: '4', [`${t.topic}-1`]: '4' }, "the config file's default cluster was not touched")
    // Without RECOVER_BROKERS the config file's default applies, and says so.
    const byConfig = await runCli(['seek', '--group', t.group, '--to-earliest'], { cwd: t.dir, env: { RECOVER_BROKERS: '', RECOVER_HOME: t.home } })
    assert.is(byConfig.exitCode, 0, byConfig.stderr)
    assert.match(byConfig.stderr, new RegExp(`Kafka: cluster ${t.idB} .*from cluster "prod" \\(the default in .*recover\\.config\\.json\\)`))
  }),
)

test.run()
