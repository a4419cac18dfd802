/**
 * seek --connector where it meets other features: two Kafka clusters with a Connect worker each
 * and the same connector name on both, Ctrl-C at the confirmation prompt, describe at 80
 * columns, and a worker that applies the PATCH but never answers. Real brokers, real workers
 * (one per cluster for the whole file).
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { startLocalKafka, type LocalKafka } from '../../src/local-kafka/index.js'
import { runCli } from '../support/cli.js'
import { startDistributedWorker, type DistributedWorker } from '../support/connect-distributed.js'
import { startHttpTap } from '../support/http-tap.js'
import { createTopic, produce, testBrokers, uniqueName, withGateway } from '../support/kafka.js'
import { startLossyHttpProxy } from '../support/lossy-http-proxy.js'
import { TerminalSession } from '../support/terminal.js'
import { waitFor, withTimeout } from '../support/timeout.js'

type Cluster = 'A' | 'B'
/** A's and B's workers, and A2: a second Connect cluster on Kafka cluster A. */
type Workers = Cluster | 'A2'
const kafkaOf = (w: Workers): Cluster => (w === 'A2' ? 'A' : w)
const T0 = Date.now() - 3_600_000
const dir = mkdtempSync(join(tmpdir(), 'recover-connect-boundaries-'))
const home = join(dir, 'home')
const journal = join(dir, 'journal')
const brokers: Record<Cluster, string> = { A: '', B: '' }
const workers = {} as Record<Workers, DistributedWorker>
let startedB: LocalKafka | undefined

/** recover pointed at a cluster as a person would (RECOVER_BROKERS), so printed commands carry no --brokers. */
const on = (cluster: Cluster, args: string[]) => runCli(args, { cwd: dir, timeoutMs: 120_000, env: { RECOVER_BROKERS: brokers[cluster], RECOVER_HOME: home } })
const offsetsOf = async (cluster: Workers, name: string) =>
  new Map(
    ((await workers[cluster].rest('GET', `/connectors/${name}/offsets`)).offsets as Array<{ partition: any; offset: any }>).map((o) => [
      `${o.partition.kafka_topic}-${o.partition.kafka_partition}`,
      String(o.offset.kafka_offset),
    ]),
  )
const stateOf = async (cluster: Workers, name: string) => (await workers[cluster].rest('GET', `/connectors/${name}/status`)).connector.state as string
const journalled = (name: string) => {
  const folder = join(journal, 'connectors', encodeURIComponent(name))
  return existsSync(folder) ? readdirSync(folder).sort() : []
}
const at = (topic: string, p0: string, p1: string) =>
  new Map([
    [`${topic}-0`, p0],
    [`${topic}-1`, p1],
  ])
/** A printed command ("recover seek …") as argv: the names and paths here need no quoting. */
const argvOf = (command: string) => command.trim().split(/\s+/).slice(1)

/** A FileStreamSink over a 2-partition topic of 6 records on a cluster, committed at 3 and 3. */
async function runningSink(cluster: Workers, options: { name?: string; topic?: string; prefix?: string; group?: string } = {}) {
  const topic = options.topic ?? uniqueName(`${options.prefix ?? 'bnd'}-in`)
  const name = options.name ?? uniqueName(options.prefix ?? 'bnd-sink')
  if (cluster !== 'A2') await createTopic(topic, 2, brokers[kafkaOf(cluster)])
  if (cluster !== 'A2')
    await produce(
      topic,
      Array.from({ length: 6 }, (_, i) => ({ partition: i % 2, key: `k${i}`, value: `v${i}`, timestampMs: T0 + i * 1000 })),
      brokers[kafkaOf(cluster)],
    )
  await workers[cluster].createConnector(name, {
    ...(options.group ? { 'consumer.override.group.id': options.group } : {}),
    'connector.class': 'org.apache.kafka.connect.file.FileStreamSinkConnector',
    'tasks.max': '1',
    topics: topic,
    file: join(dir, `${name}-${cluster}.txt`),
  })
  await waitFor(
    `${name} on ${cluster} to commit offsets 3 and 3\n${workers[cluster].log()}`,
    async () => {
      const o = await offsetsOf(cluster, name).catch(() => new Map())
      return o.get(`${topic}-0`) === '3' && o.get(`${topic}-1`) === '3' ? true : undefined
    },
    90_000,
    250,
  )
  return { topic, name }
}

test.before(
  withTimeout(240_000, async () => {
    brokers.A = testBrokers()
    const clusterB = async () => {
      if (process.env.RECOVER_TEST_BROKERS_B) brokers.B = process.env.RECOVER_TEST_BROKERS_B
      else {
        startedB = await startLocalKafka({})
        brokers.B = startedB.brokers
      }
      workers.B = await startDistributedWorker({ brokers: brokers.B })
    }
    await Promise.all([
      (async () => (workers.A = await startDistributedWorker({ brokers: brokers.A })))(),
      (async () => (workers.A2 = await startDistributedWorker({ brokers: brokers.A })))(),
      clusterB(),
    ])
  }),
)
test.after(async () => {
  await Promise.all([workers.A?.stop(), workers.A2?.stop(), workers.B?.stop()])
  await startedB?.stop()
})

test(
  'the same connector name on two Kafka clusters and on two Connect clusters: an undo of the change on A refuses, exit 4 and nothing changed, when pointed at Kafka B, at Connect of B, or at the other Connect cluster on A; another address of the same workers restores A, even after a newer change on B',
  withTimeout(300_000, async () => {
    const name = uniqueName('twin-sink')
    const topic = uniqueName('twin-in')
    await Promise.all([runningSink('A', { name, topic }), runningSink('B', { name, topic })])
    // The second Connect cluster on A runs its twin in a group of its own (the default would share A's).
    await runningSink('A2', { name, topic, group: `connect-${name}-second` })
    const ids = {
      A: await withGateway(async (g) => g.clusterId, brokers.A),
      B: await withGateway(async (g) => g.clusterId, brokers.B),
    }
    assert.is.not(ids.A, ids.B)

    const seekA = await on('A', [
      'seek',
      '--connector',
      name,
      '--to-earliest',
      '--connect-url',
      workers.A.url,
      '--journal',
      journal,
      '--execute',
      '--yes',
      '--no-resume',
    ])
    assert.is(seekA.exitCode, 0, seekA.stderr)
    assert.equal(await offsetsOf('A', name), at(topic, '0', '0'))
    const undo = /Undo with: (recover seek .*)$/m.exec(seekA.stdout)?.[1]
    assert.ok(undo, seekA.stdout)
    assert.not.match(undo!, /--brokers/, 'the brokers came from the environment')
    const journalAfterSeek = journalled(name)
    assert.is(journalAfterSeek.length, 1)

    const withUrl = (url: string) => argvOf(undo!).map((a) => (a === workers.A.url ? url : a))
    const snapshotOfA = join(journal, 'connectors', name, journalAfterSeek[0]!)
    const setFromSnapshot = (url: string) => [
      'seek',
      '--connector',
      name,
      '--connect-url',
      url,
      '--from-file',
      snapshotOfA,
      '--journal',
      journal,
      '--execute',
      '--yes',
    ]
    const refusals = {
      // The printed undo, on a shell where RECOVER_BROKERS points at B: Connect A is not on B.
      printedOnB: await on('B', [...argvOf(undo!), '--yes', '--json']),
      // The same with B's own workers, as someone "fixing" the URL would: the journal is of A.
      workersOfB: await on('B', [...withUrl(workers.B.url), '--yes', '--json']),
      // Kafka A but Connect of B: those workers are on B.
      connectOfB: await on('A', [...withUrl(workers.B.url), '--yes', '--json']),
      // Kafka A, through the other Connect cluster on A, which has a connector of the same name.
      otherConnect: await on('A', [...withUrl(workers.A2.url), '--yes', '--json']),
      // A's journal snapshot as --from-file (the form printed when a PATCH answer is lost), on B and on the other Connect cluster.
      snapshotOnB: await on('B', [...setFromSnapshot(workers.B.url), '--json']),
      snapshotThroughOtherConnect: await on('A', [...setFromSnapshot(workers.A2.url), '--json']),
    }
    for (const [why, run] of Object.entries(refusals)) {
      assert.is(run.exitCode, 4, `${why}: ${run.stdout}${run.stderr}`)
      assert.is(run.json.error.code, /^(otherConnect|snapshotThroughOtherConnect)$/.test(why) ? 'CONNECT_MISMATCH' : 'CLUSTER_MISMATCH', why)
      assert.match(run.json.error.message, /nothing was changed/, why)
      assert.ok(run.json.error.nextSteps.length > 0, why)
    }
    assert.match(refusals.printedOnB.json.error.message, new RegExp(`Kafka Connect at ${workers.A.url} was recorded on cluster ${ids.A}`))
    assert.match(
      refusals.workersOfB.json.error.message,
      new RegExp(`journal snapshot of connector "${name}".*recorded on cluster ${ids.A}.*connected to cluster ${ids.B}`),
    )
    assert.match(refusals.workersOfB.json.error.nextSteps.join(' '), new RegExp(`--connect-url ${workers.A.url}`))
    assert.match(
      refusals.otherConnect.json.error.message,
      new RegExp(`written through Kafka Connect at ${workers.A.url}.*but this command goes through ${workers.A2.url}`),
    )
    assert.match(refusals.otherConnect.json.error.nextSteps[0], new RegExp(`--connect-url ${workers.A.url}`))

    assert.equal(await offsetsOf('A', name), at(topic, '0', '0'), 'A untouched by the refusals')
    assert.is(await stateOf('A', name), 'STOPPED')
    assert.equal(await offsetsOf('A2', name), at(topic, '3', '3'), "the other Connect cluster's twin untouched")
    assert.is(await stateOf('A2', name), 'RUNNING')
    assert.equal(await offsetsOf('B', name), at(topic, '3', '3'), 'B untouched')
    assert.is(await stateOf('B', name), 'RUNNING')
    assert.equal(journalled(name), journalAfterSeek, 'no journal entry from a refusal')

    // A newer change to the same name on B, in the same journal, does not hide A's.
    const seekB = await on('B', [
      'seek',
      '--connector',
      name,
      '--to-offset',
      '1',
      '--connect-url',
      workers.B.url,
      '--journal',
      journal,
      '--execute',
      '--yes',
      '--no-resume',
    ])
    assert.is(seekB.exitCode, 0, seekB.stderr)
    // Through another address of A's workers (a proxy, as a load balancer would be): the same Connect cluster.
    const tap = await startHttpTap(workers.A.url, () => undefined)
    try {
      const back = await on('A', [...withUrl(tap.url), '--yes', '--no-resume', '--json'])
      assert.is(back.exitCode, 0, back.stderr)
    } finally {
      await tap.stop()
    }
    assert.equal(await offsetsOf('A', name), at(topic, '3', '3'), 'A back where it was before its own change')
    assert.equal(await offsetsOf('B', name), at(topic, '1', '1'), 'B keeps its own change')
    assert.equal(await offsetsOf('A2', name), at(topic, '3', '3'))
  }),
)

test(
  "Ctrl-C at seek --connector --execute's [y/N], as the key or as a SIGINT signal: exit 130, the connector still RUNNING at the same offsets, no journal entry",
  withTimeout(180_000, async () => {
    const { topic, name } = await runningSink('A', { prefix: 'prompt-sink' })
    const term = new TerminalSession(['seek', '--connector', name, '--to-earliest', '--connect-url', workers.A.url, '--journal', journal, '--execute'], {
      cwd: dir,
      env: { RECOVER_BROKERS: brokers.A, RECOVER_HOME: home },
    })
    try {
      await term.shows('[y/N]')
      assert.match(term.screen(), new RegExp(`Stop connector ${name}, set 2 offsets through ${workers.A.url}`))
      term.keys('C-c')
      assert.is(await term.exitStatus(), 130, term.screen())
      assert.equal(term.linesAfter('[y/N]'), ['Interrupted at the prompt: nothing was changed.'], term.screen())
      assert.not.match(term.screen(), /bug|AbortError| {4}at /)
    } finally {
      term.close()
    }
    assert.is(await stateOf('A', name), 'RUNNING')
    assert.equal(await offsetsOf('A', name), at(topic, '3', '3'))
    assert.equal(journalled(name), [])

    // SIGINT itself (kill -INT from another shell, not the key): the same code, nothing changed.
    const signalled = new TerminalSession(['seek', '--connector', name, '--to-earliest', '--connect-url', workers.A.url, '--journal', journal, '--execute'], {
      cwd: dir,
      env: { RECOVER_BROKERS: brokers.A, RECOVER_HOME: home },
    })
    try {
      await signalled.shows('[y/N]')
      const pid = recoverPid(name)
      process.kill(pid, 'SIGINT')
      assert.is(await signalled.exitStatus(), 130, signalled.screen())
      assert.not.match(signalled.screen(), /bug|AbortError| {4}at /)
    } finally {
      signalled.close()
    }
    assert.is(await stateOf('A', name), 'RUNNING')
    assert.equal(await offsetsOf('A', name), at(topic, '3', '3'))
    assert.equal(journalled(name), [])
  }),
)

/** The pid of the node process running `recover seek --connector NAME` (not the shell that started it). */
function recoverPid(name: string): number {
  const rows = execFileSync('ps', ['-eo', 'pid=,comm=,args='], { encoding: 'utf8' }).split('\n')
  const row = rows.find((r) => /^\s*\d+\s+node\s/.test(r) && r.includes(`--connector ${name} `))
  assert.ok(row, `no recover process for ${name}`)
  return Number(row!.trim().split(/\s+/)[0])
}

test(
  'connect describe at 80 columns: no line wider, and the name, state, group and lag per partition all there',
  withTimeout(120_000, async () => {
    const { topic, name } = await runningSink('A', { prefix: 'describe-at-eighty-columns-sink' })
    const run = await runCli(['connect', 'describe', name, '--connect-url', workers.A.url], {
      cwd: dir,
      timeoutMs: 60_000,
      env: { RECOVER_BROKERS: brokers.A, RECOVER_HOME: home, COLUMNS: '80', LINES: '24' },
    })
    assert.is(run.exitCode, 0, run.stderr)
    for (const line of run.stdout.split('\n')) assert.ok(line.length <= 80, `wider than 80 columns (${line.length}): ${line}`)
    assert.match(run.stdout, new RegExp(`^Connector ${name}: RUNNING \\(sink\\)\\.$`, 'm'))
    assert.match(run.stdout, new RegExp(`Consumer group:\\s+connect-${name}\\.`))
    assert.match(run.stdout, /^Lag: 0 records; /m)
    // The topic name is long enough that one table would not fit: one table under the topic's name.
    assert.match(run.stdout, new RegExp(`^Topic ${topic}:$`, 'm'))
    assert.match(run.stdout, /^ {3}0 {10}3 {8}3 {4}0 /m)
    assert.match(run.stdout, /^ {3}1 {10}3 {8}3 {4}0 /m)
  }),
)

test(
  'a worker that applies the PATCH but never answers: recover reads the offsets back and finishes; if the worker is gone, the printed command sets exactly the plan (no second relative move) and the printed undo restores',
  withTimeout(300_000, async () => {
    // The answer lost, the worker still there: the read-back shows the plan landed.
    {
      const { topic, name } = await runningSink('A', { prefix: 'lost-answer' })
      const proxy = await startLossyHttpProxy(workers.A.url, {
        dropAnswer: (method, path) => method === 'PATCH' && path === `/connectors/${name}/offsets` && proxy.dropped() === 0,
      })
      try {
        const run = await on('A', [
          'seek',
          '--connector',
          name,
          '--to-earliest',
          '--connect-url',
          proxy.url,
          '--journal',
          journal,
          '--execute',
          '--yes',
          '--no-resume',
        ])
        assert.is(proxy.dropped(), 1, run.stderr)
        assert.is(run.exitCode, 0, run.stderr)
        assert.match(run.stdout, /Note: Kafka Connect did not answer the PATCH .*but the offsets read back exactly as planned\./)
        assert.equal(await offsetsOf('A', name), at(topic, '0', '0'))
        assert.is(await stateOf('A', name), 'STOPPED')
        assert.is(journalled(name).length, 1)
        // The undo's PATCH answer lost too (through a second proxy): read back, it finishes as well.
        const undo = /Undo with: (recover seek .*)$/m.exec(run.stdout)?.[1]
        const undoProxy = await startLossyHttpProxy(workers.A.url, {
          dropAnswer: (method, path) => method === 'PATCH' && path === `/connectors/${name}/offsets` && undoProxy.dropped() === 0,
        })
        try {
          const back = await on('A', [...argvOf(undo!).map((a) => (a === proxy.url ? undoProxy.url : a)), '--yes', '--no-resume'])
          assert.is(undoProxy.dropped(), 1, back.stderr)
          assert.is(back.exitCode, 0, back.stderr)
          assert.match(back.stdout, /Note: Kafka Connect did not answer the PATCH/)
        } finally {
          await undoProxy.stop()
        }
        assert.equal(await offsetsOf('A', name), at(topic, '3', '3'))
        assert.is(journalled(name).filter((f) => !f.endsWith('.json')).length, 0, 'the undo is not left marked unconfirmed')
      } finally {
        await proxy.stop()
      }
    }
    // The answer lost and the worker gone with it: a relative move (--shift-by) is not planned twice.
    const { topic, name } = await runningSink('A', { prefix: 'lost-worker' })
    const proxy = await startLossyHttpProxy(workers.A.url, {
      dropAnswer: (method, path) => method === 'PATCH' && path === `/connectors/${name}/offsets` && proxy.dropped() === 0,
      downAfterDrop: true,
    })
    try {
      const run = await on('A', [
        'seek',
        '--connector',
        name,
        '--shift-by=-2',
        '--connect-url',
        proxy.url,
        '--journal',
        journal,
        '--execute',
        '--yes',
        '--no-resume',
      ])
      assert.is(proxy.dropped(), 1, run.stderr)
      assert.is(run.exitCode, 5, run.stderr)
      assert.match(run.stderr, new RegExp(`stopped answering while it set the offsets of connector "${name}", so whether they moved is unknown`))
      const retry = /Then set the plan again with: (recover seek .*)/.exec(run.stderr)?.[1]
      const undo = /Or restore the previous offsets with: (recover seek .*)/.exec(run.stderr)?.[1]
      assert.ok(retry && undo, run.stderr)
      const [snapshot] = journalled(name)
      assert.match(retry!, new RegExp(`--from-file ${join(journal, 'connectors', name, snapshot!)} --execute --yes --no-resume`))
      assert.equal(await offsetsOf('A', name), at(topic, '1', '1'), 'the PATCH landed')

      proxy.up()
      const again = await on('A', argvOf(retry!))
      assert.is(again.exitCode, 0, again.stderr)
      assert.match(again.stdout, /already read as planned, so this run changed no offset and wrote no journal snapshot/)
      assert.equal(await offsetsOf('A', name), at(topic, '1', '1'), 'not shifted a second time')
      assert.is(journalled(name).length, 1, 'no snapshot of the already-moved offsets')

      const back = await on('A', [...argvOf(undo!), '--yes'])
      assert.is(back.exitCode, 0, back.stderr)
      assert.not.equal(await stateOf('A', name), 'STOPPED')
      // Resumed from 3 and 3 (the offsets before the seek), it has nothing new to read: they stay.
      assert.equal(await offsetsOf('A', name), at(topic, '3', '3'))
    } finally {
      await proxy.stop()
    }
  }),
)

test.run()
