import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { runCli } from '../support/cli.js'
import { startDistributedWorker, type DistributedWorker } from '../support/connect-distributed.js'
import { startHttpTap } from '../support/http-tap.js'
import { startTlsAuthProxy } from '../support/tls-auth-proxy.js'
import { createTopic, produce, readTopic, testBrokers, testKafka, uniqueName } from '../support/kafka.js'
import { kafkaCommittedOffsets } from '../support/seek-oracle.js'
import { waitFor, withTimeout } from '../support/timeout.js'

// Recent timestamps: the broker's retention must keep them.
const T0 = Date.now() - 3_600_000
const dir = mkdtempSync(join(tmpdir(), 'recover-connect-e2e-'))
const journal = join(dir, 'journal')
let worker: DistributedWorker

const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [])
const recover = (args: string[]) => runCli([...args, '--connect-url', worker.url], { cwd: dir, timeoutMs: 120_000 })
const offsetsOf = async (name: string) =>
  new Map(
    ((await worker.rest('GET', `/connectors/${name}/offsets`)).offsets as Array<{ partition: any; offset: any }>).map((o) => [
      `${o.partition.kafka_topic}-${o.partition.kafka_partition}`,
      String(o.offset.kafka_offset),
    ]),
  )
/** A sink connector over a 2-partition topic that has written 6 records and committed offsets 3 and 3. */
const runningSink = async (prefix: string) => {
  const topic = uniqueName(`${prefix}-in`)
  const name = uniqueName(prefix)
  await createTopic(topic, 2)
  await produce(
    topic,
    Array.from({ length: 6 }, (_, i) => ({ partition: i % 2, key: `k${i}`, value: `v${i}`, timestampMs: T0 + i * 1000 })),
  )
  await worker.createConnector(name, {
    'connector.class': 'org.apache.kafka.connect.file.FileStreamSinkConnector',
    'tasks.max': '1',
    topics: topic,
    file: join(dir, `${name}.txt`),
  })
  await waitFor(
    `${name} to commit offsets 3 and 3\n${worker.log()}`,
    async () => {
      const o = await offsetsOf(name)
      return o.get(`${topic}-0`) === '3' && o.get(`${topic}-1`) === '3' ? true : undefined
    },
    90_000,
    250,
  )
  return { topic, name }
}
/** The journal files written for a connector (none when nothing was attempted). */
const journalled = (name: string) => {
  const folder = join(journal, 'connectors', encodeURIComponent(name))
  return existsSync(folder) ? readdirSync(folder).filter((f) => f.endsWith('.json')) : []
}
/** A printed command ("recover seek … --yes") as argv, for runCli: the names and paths in these tests need no quoting. */
const argvOf = (command: string) => command.trim().split(/\s+/).slice(1)
const stateOf = async (name: string) => (await worker.rest('GET', `/connectors/${name}/status`)).connector.state as string

/** Starts the worker a test killed and waits until it has the connector back, STOPPED as the seek left it. */
async function restartWorkerUntilStopped(name: string): Promise<void> {
  await worker.restart()
  await waitFor(
    `${name} to be back, STOPPED\n${worker.log()}`,
    async () => ((await stateOf(name).catch(() => '')) === 'STOPPED' ? true : undefined),
    90_000,
    250,
  )
}

test.before(
  withTimeout(150_000, async () => {
    worker = await startDistributedWorker({ brokers: testBrokers() })
  }),
)
test.after(async () => {
  await worker?.stop()
})

test(
  "a FileStreamSink rewound by time through Connect: the plan, stop → PATCH → read back, the group offsets (Kafka's own tool) equal the plan, the file receives exactly the records from that time again, undo restores",
  withTimeout(240_000, async () => {
    const topic = uniqueName('connect-sink-in')
    const name = uniqueName('file-sink')
    const out = join(dir, `${name}.txt`)
    await createTopic(topic, 2)
    const records = Array.from({ length: 10 }, (_, i) => ({ partition: i % 2, key: `k${i}`, value: `v${i}`, timestampMs: T0 + i * 1000 }))
    await produce(topic, records)
    await worker.createConnector(name, {
      'connector.class': 'org.apache.kafka.connect.file.FileStreamSinkConnector',
      'tasks.max': '1',
      topics: topic,
      file: out,
    })
    await waitFor(`${name} to write 10 lines\n${worker.log()}`, () => (lines(out).length >= 10 ? true : undefined), 90_000, 250)
    await waitFor(
      `${name} to commit offsets 5 and 5`,
      async () => {
        const o = await offsetsOf(name)
        return o.get(`${topic}-0`) === '5' && o.get(`${topic}-1`) === '5' ? true : undefined
      },
      60_000,
      250,
    )

    const list = await recover(['connect', 'list', '--json'])
    assert.is(list.exitCode, 0, list.stderr)
    assert.ok(list.json.connectors.some((c: { name: string; type: string }) => c.name === name && c.type === 'sink'))

    const described = await recover(['connect', 'describe', name, '--json'])
    assert.is(described.exitCode, 0, described.stderr)
    assert.is(described.json.type, 'sink')
    assert.is(described.json.consumerGroup, `connect-${name}`)
    assert.equal(described.json.topics, [topic])
    assert.is(described.json.lag.records, '0')
    assert.is(described.json.errors.tolerance, 'none')

    // Record 6 is the first at or after this time: partition 0 goes back to offset 3 (v6, v8), partition 1 to 3 (v7, v9).
    const at = new Date(T0 + 6000).toISOString()
    const dry = await recover(['seek', '--connector', name, '--to', at, '--journal', journal])
    assert.is(dry.exitCode, 0, dry.stderr)
    assert.match(dry.stdout, /replay 2/)
    assert.match(dry.stdout, /dry run/)
    assert.equal(
      await offsetsOf(name),
      new Map([
        [`${topic}-0`, '5'],
        [`${topic}-1`, '5'],
      ]),
    )

    const run = await recover(['seek', '--connector', name, '--to', at, '--journal', journal, '--execute', '--yes', '--no-resume', '--json'])
    assert.is(run.exitCode, 0, run.stderr)
    assert.is(run.json.applied, true)
    const planned = new Map(run.json.plan.rows.map((r: { topic: string; partition: number; newOffset: string }) => [`${r.topic}-${r.partition}`, r.newOffset]))
    assert.equal(
      planned,
      new Map([
        [`${topic}-0`, '3'],
        [`${topic}-1`, '3'],
      ]),
    )
    assert.is(await stateOf(name), 'STOPPED')
    assert.equal(await offsetsOf(name), planned)
    assert.equal(await kafkaCommittedOffsets(`connect-${name}`), planned)
    // STOPPED behind: describe measures the lag of its group in records (4: v6..v9) and in time (the oldest unread record is v6).
    const behind = await recover(['connect', 'describe', name, '--json'])
    assert.is(behind.exitCode, 0, behind.stderr)
    assert.is(behind.json.state, 'STOPPED')
    assert.is(behind.json.lag.records, '4')
    const expectedLagMs = Date.now() - (T0 + 6000)
    assert.ok(Math.abs(behind.json.lag.maxLagMs - expectedLagMs) < 120_000, `lag ${behind.json.lag.maxLagMs} ms, about ${expectedLagMs} ms expected`)
    const cycle = run.json.connectorExecution.timings
    console.log(`  connector seek: stop ${cycle.stopMs} ms, patch+check ${cycle.patchMs} ms, total ${cycle.totalMs} ms (no resume)`)

    const resumed = await recover(['connect', 'resume', name])
    assert.is(resumed.exitCode, 0, resumed.stderr)
    await waitFor(`${name} to write the 4 replayed lines\n${worker.log()}`, () => (lines(out).length >= 14 ? true : undefined), 90_000, 250)
    await waitFor(
      `${name} to commit offsets 5 and 5 again`,
      async () => {
        const o = await offsetsOf(name)
        return o.get(`${topic}-0`) === '5' && o.get(`${topic}-1`) === '5' ? true : undefined
      },
      60_000,
      250,
    )
    assert.equal(lines(out).slice(10).sort(), ['v6', 'v7', 'v8', 'v9'])
    assert.is(lines(out).length, 14)

    // Undo puts back the offsets before the seek (5 and 5), through Connect, and resumes it.
    const undo = await recover(['seek', '--connector', name, '--undo', '--journal', journal, '--execute', '--yes', '--json'])
    assert.is(undo.exitCode, 0, undo.stderr)
    assert.is(undo.json.connectorExecution.resumed, true)
    const timings = undo.json.connectorExecution.timings
    console.log(`  connector undo: stop → patch → resume ${timings.totalMs} ms (stop ${timings.stopMs}, patch ${timings.patchMs}, resume ${timings.resumeMs})`)
    assert.equal(
      await offsetsOf(name),
      new Map([
        [`${topic}-0`, '5'],
        [`${topic}-1`, '5'],
      ]),
    )
    assert.equal(
      await kafkaCommittedOffsets(`connect-${name}`),
      new Map([
        [`${topic}-0`, '5'],
        [`${topic}-1`, '5'],
      ]),
    )
    assert.not.equal(await stateOf(name), 'STOPPED')
  }),
)

test(
  'a failed task is shown with its trace; an unknown connector exits 2 and a worker that is not there exits 5, both saying what to do',
  withTimeout(120_000, async () => {
    const topic = uniqueName('connect-broken-in')
    const name = uniqueName('broken-sink')
    await createTopic(topic, 1)
    await worker.createConnector(name, {
      'connector.class': 'org.apache.kafka.connect.file.FileStreamSinkConnector',
      'tasks.max': '1',
      topics: topic,
      file: join(dir, 'no-such-folder', 'out.txt'),
    })
    await waitFor(
      `task 0 of ${name} to fail`,
      async () => ((await worker.rest('GET', `/connectors/${name}/status`)).tasks[0]?.state === 'FAILED' ? true : undefined),
      60_000,
      250,
    )
    const described = await recover(['connect', 'describe', name])
    assert.is(described.exitCode, 0, described.stderr)
    assert.match(described.stdout, /Task 0 failed:/)
    assert.match(described.stdout, /no-such-folder/, described.stdout)
    assert.match(described.stdout, /errors\.tolerance=none; dead-letter topic: none/)

    // A connector that dead-letters what its converter cannot read: describe counts the DLQ by error, as quarantine list reads it.
    const dlqName = uniqueName('dlq-sink')
    const dlq = `${topic}-dlq`
    await produce(topic, [
      { partition: 0, key: 'a', value: '{"ok":1}', timestampMs: T0 },
      { partition: 0, key: 'b', value: 'not json', timestampMs: T0 + 1 },
    ])
    await worker.createConnector(dlqName, {
      'connector.class': 'org.apache.kafka.connect.file.FileStreamSinkConnector',
      'tasks.max': '1',
      topics: topic,
      file: join(dir, `${dlqName}.txt`),
      'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'value.converter.schemas.enable': 'false',
      'errors.tolerance': 'all',
      'errors.deadletterqueue.topic.name': dlq,
      'errors.deadletterqueue.topic.replication.factor': '1',
      'errors.deadletterqueue.context.headers.enable': 'true',
    })
    const counted = await waitFor(
      `${dlqName} to dead-letter 1 record`,
      async () => {
        const d = await recover(['connect', 'describe', dlqName, '--json'])
        return d.json?.errors?.deadLetters?.total === 1 ? d : undefined
      },
      60_000,
      500,
    )
    assert.equal(counted.json.errors.deadLetters.byError, [{ errorClass: 'org.apache.kafka.connect.errors.DataException', stage: 'VALUE_CONVERTER', count: 1 }])
    assert.is(counted.json.errors.tolerance, 'all')

    const missing = await recover(['seek', '--connector', 'no-such-connector', '--to-earliest', '--journal', journal])
    assert.is(missing.exitCode, 2, missing.stderr)
    assert.match(missing.stderr, /no connector "no-such-connector"/)
    assert.match(missing.stderr, /recover connect list/)

    const gone = await runCli(['connect', 'describe', name, '--connect-url', 'http://127.0.0.1:1', '--json'], { cwd: dir })
    assert.is(gone.exitCode, 5, gone.stderr)
    assert.is(gone.json.error.code, 'CONNECT_UNREACHABLE')
  }),
)

test(
  "a FileStreamSource's offsets round-trip: export, edit, seek --from-file re-reads the file; a PATCH Connect refuses exits 4 and leaves it STOPPED with the command to resume",
  withTimeout(180_000, async () => {
    const topic = uniqueName('connect-source-out')
    const name = uniqueName('file-source')
    const input = join(dir, `${name}.txt`)
    writeFileSync(input, 'a\nb\nc\n')
    await createTopic(topic, 1)
    await worker.createConnector(name, { 'connector.class': 'org.apache.kafka.connect.file.FileStreamSourceConnector', 'tasks.max': '1', file: input, topic })
    await waitFor(`${name} to read 3 lines into ${topic}`, async () => ((await readTopic(topic)).length >= 3 ? true : undefined), 90_000, 250)
    const exported = join(dir, `${name}-offsets.json`)
    await waitFor(
      `${name} to commit its position`,
      async () => {
        const d = await recover(['connect', 'describe', name, '--no-kafka', '--export', exported, '--json'])
        return d.json?.offsets?.[0]?.offset?.position === 6 ? d : undefined
      },
      60_000,
      500,
    )
    const offsets = JSON.parse(readFileSync(exported, 'utf8'))
    assert.equal(offsets.offsets[0].partition, { filename: input })

    offsets.offsets[0].offset.position = 2
    const edited = join(dir, `${name}-edited.json`)
    writeFileSync(edited, JSON.stringify(offsets))
    const run = await recover(['seek', '--connector', name, '--from-file', edited, '--journal', journal, '--execute', '--yes'])
    assert.is(run.exitCode, 0, run.stderr)
    assert.match(run.stdout, /"position":6/)
    assert.match(run.stdout, /"position":2/)
    // From byte 2 the file is "b\nc\n" again.
    await waitFor(`${name} to read b and c again`, async () => ((await readTopic(topic)).length >= 5 ? true : undefined), 60_000, 250)
    assert.equal(
      (await readTopic(topic)).map((r) => r.value?.toString()),
      ['a', 'b', 'c', 'b', 'c'],
    )

    const refused = join(dir, `${name}-refused.json`)
    writeFileSync(refused, JSON.stringify({ offsets: [{ partition: { filename: input }, offset: { position: 'not a number' } }] }))
    const bad = await recover(['seek', '--connector', name, '--from-file', refused, '--journal', journal, '--execute', '--yes'])
    assert.is(bad.exitCode, 4, bad.stderr)
    assert.match(bad.stderr, /refused the new offsets/)
    assert.match(bad.stderr, /left STOPPED/)
    assert.match(bad.stderr, new RegExp(`recover connect resume ${name}`))
    assert.is(await stateOf(name), 'STOPPED')

    // Undo skips the refused attempt: back to position 6, where the edited seek found it.
    appendFileSync(input, 'd\n')
    const undo = await recover(['seek', '--connector', name, '--undo', '--journal', journal, '--execute', '--yes'])
    assert.is(undo.exitCode, 0, undo.stderr)
    await waitFor(`${name} to read d only`, async () => ((await readTopic(topic)).length >= 6 ? true : undefined), 60_000, 250)
    assert.equal(
      (await readTopic(topic)).map((r) => r.value?.toString()),
      ['a', 'b', 'c', 'b', 'c', 'd'],
    )
  }),
)

test(
  'runbook connector-bad-data: describe, plan, rewind the connector through Connect, watch it catch up, audit the sink; --rollback puts its offsets back',
  withTimeout(240_000, async () => {
    const topic = uniqueName('connect-rb-in')
    const name = uniqueName('rb-sink')
    const out = join(dir, `${name}.jsonl`)
    await createTopic(topic, 2)
    await produce(
      topic,
      Array.from({ length: 8 }, (_, i) => ({ partition: i % 2, key: `o${i}`, value: JSON.stringify({ id: `o${i}`, n: i }), timestampMs: T0 + i * 1000 })),
    )
    await worker.createConnector(name, {
      'connector.class': 'org.apache.kafka.connect.file.FileStreamSinkConnector',
      'tasks.max': '1',
      topics: topic,
      file: out,
    })
    await waitFor(
      `${name} to commit offsets 4 and 4`,
      async () => {
        const o = await offsetsOf(name)
        return o.get(`${topic}-0`) === '4' && o.get(`${topic}-1`) === '4' ? true : undefined
      },
      90_000,
      250,
    )
    const vars = { connector: name, connect_url: worker.url, since: new Date(T0 + 4000).toISOString(), topic, key: 'id', sink: `file:${out}` }
    const args = ['runbook', 'run', 'connector-bad-data', ...Object.entries(vars).flatMap(([k, v]) => ['--var', `${k}=${v}`]), '--yes', '--json']
    const run = await runCli(args, { cwd: dir, timeoutMs: 170_000 })
    assert.is(run.exitCode, 0, `${run.stderr}${JSON.stringify(run.json?.error ?? '')}`)
    assert.is(run.json.steps.length, 5)
    for (const step of run.json.steps) assert.is(step.exitCode, 0, step.command)
    await waitFor(`${name} to write o4..o7 again`, () => (lines(out).length >= 12 ? true : undefined), 60_000, 250)
    assert.equal(
      lines(out)
        .slice(8)
        .map((l) => JSON.parse(l).id)
        .sort(),
      ['o4', 'o5', 'o6', 'o7'],
    )
    await waitFor(
      `${name} to commit offsets 4 and 4 again`,
      async () => {
        const o = await offsetsOf(name)
        return o.get(`${topic}-0`) === '4' && o.get(`${topic}-1`) === '4' ? true : undefined
      },
      60_000,
      250,
    )

    // Someone moves it again by hand (left stopped); the rollback still puts back the offsets from before the run, through Connect.
    const manual = await recover(['seek', '--connector', name, '--to-earliest', '--execute', '--yes', '--no-resume'])
    assert.is(manual.exitCode, 0, manual.stderr)
    assert.equal(
      await offsetsOf(name),
      new Map([
        [`${topic}-0`, '0'],
        [`${topic}-1`, '0'],
      ]),
    )
    const back = await runCli([...args, '--rollback'], { cwd: dir, timeoutMs: 170_000 })
    assert.is(back.exitCode, 0, `${back.stderr}${JSON.stringify(back.json?.error ?? '')}`)
    assert.equal(
      await offsetsOf(name),
      new Map([
        [`${topic}-0`, '4'],
        [`${topic}-1`, '4'],
      ]),
    )
    assert.not.equal(await stateOf(name), 'STOPPED')
  }),
)

test(
  "seek --connector by --by-duration, --to-latest, a CSV --from-file and --shift-by=-1: after each, the offsets Connect reports and the group's offsets read by Kafka's own tool equal the plan",
  withTimeout(180_000, async () => {
    const { topic, name } = await runningSink('modes-sink')
    const seek = async (mode: string[]) => {
      const run = await recover(['seek', '--connector', name, ...mode, '--journal', journal, '--execute', '--yes', '--no-resume', '--json'])
      assert.is(run.exitCode, 0, run.stderr)
      const planned = new Map<string, string>(
        run.json.plan.rows.map((r: { topic: string; partition: number; newOffset: string }) => [`${r.topic}-${r.partition}`, r.newOffset]),
      )
      assert.is(planned.size, 2, mode.join(' '))
      assert.equal(await offsetsOf(name), planned, mode.join(' '))
      assert.equal(await kafkaCommittedOffsets(`connect-${name}`), planned, mode.join(' '))
      assert.is(await stateOf(name), 'STOPPED')
      return planned
    }
    // Back to 0.5 s after the first record (at T0) or a little later, as recover reads "now" after this: record 0 is before it.
    const byDuration = await seek(['--by-duration', `${Date.now() - (T0 + 500)}ms`])
    assert.not.equal(byDuration.get(`${topic}-0`), '0')
    assert.equal(
      await seek(['--to-latest']),
      new Map([
        [`${topic}-0`, '3'],
        [`${topic}-1`, '3'],
      ]),
    )
    const csv = join(dir, `${name}-plan.csv`)
    writeFileSync(csv, `${topic},0,1\n${topic},1,2\n`)
    assert.equal(
      await seek(['--from-file', csv]),
      new Map([
        [`${topic}-0`, '1'],
        [`${topic}-1`, '2'],
      ]),
    )
    assert.equal(
      await seek(['--shift-by=-1']),
      new Map([
        [`${topic}-0`, '0'],
        [`${topic}-1`, '1'],
      ]),
    )
  }),
)

test(
  'a resume Connect accepts but that leaves the connector STOPPED exits 5, saying its offsets are set, with the command that resumes it; a task FAILED after the resume exits 5 naming it',
  withTimeout(240_000, async () => {
    const { topic, name } = await runningSink('stuck-resume')
    const earliest = new Map([
      [`${topic}-0`, '0'],
      [`${topic}-1`, '0'],
    ])
    // The tap answers the resume itself (202, as Connect does) and the worker never sees it: the connector stays STOPPED.
    let swallow = true
    const tap = await startHttpTap(worker.url, (method, path) =>
      swallow && method === 'PUT' && path === `/connectors/${name}/resume` ? { status: 202 } : undefined,
    )
    try {
      const run = await runCli(
        ['seek', '--connector', name, '--to-earliest', '--journal', journal, '--execute', '--yes', '--stop-timeout', '5s', '--connect-url', tap.url],
        { cwd: dir, timeoutMs: 120_000 },
      )
      assert.is(run.exitCode, 5, run.stderr)
      assert.match(run.stderr, new RegExp(`The offsets of connector "${name}" are set as planned and read back, but it was still STOPPED 5 s after`))
      const resume = /Resume it with: (recover connect resume .*)/.exec(run.stderr)?.[1]
      assert.ok(resume, run.stderr)
      assert.is(resume, `recover connect resume ${name} --connect-url ${tap.url}`)
      assert.is(await stateOf(name), 'STOPPED')
      assert.equal(await offsetsOf(name), earliest)
      assert.equal(await kafkaCommittedOffsets(`connect-${name}`), earliest)

      const stuck = await runCli(['connect', 'resume', name, '--connect-url', tap.url, '--wait', '2s', '--json'], { cwd: dir, timeoutMs: 60_000 })
      assert.is(stuck.exitCode, 5, stuck.stderr)
      assert.is(stuck.json.error.code, 'CONNECT_ERROR')
      assert.match(stuck.json.error.message, /still STOPPED after 2s/)

      swallow = false
      const resumed = await runCli(argvOf(resume!), { cwd: dir, timeoutMs: 60_000 })
      assert.is(resumed.exitCode, 0, resumed.stderr)
      assert.match(resumed.stdout, new RegExp(`Connector ${name} is RUNNING`))
    } finally {
      await tap.stop()
    }

    // Stopped, then a config that cannot work (a file in a folder that does not exist): the seek sets the offsets, and its task fails once resumed.
    const stop = await recover(['seek', '--connector', name, '--to-earliest', '--journal', journal, '--execute', '--yes', '--no-resume'])
    assert.is(stop.exitCode, 0, stop.stderr)
    const config = await worker.rest('GET', `/connectors/${name}/config`)
    await worker.rest('PUT', `/connectors/${name}/config`, { ...config, file: join(dir, 'no-such-folder', `${name}.txt`) })
    const failed = await recover(['seek', '--connector', name, '--to-latest', '--journal', journal, '--execute', '--yes', '--json'])
    assert.is(failed.exitCode, 5, failed.stderr)
    assert.is(failed.json.error.code, 'CONNECT_SEEK_PARTIAL')
    assert.match(failed.json.error.message, new RegExp(`The offsets of connector "${name}" are set as planned and it was resumed, but task 0 FAILED`))
    assert.match(failed.json.error.message, /no-such-folder/)
    const latest = new Map([
      [`${topic}-0`, '3'],
      [`${topic}-1`, '3'],
    ])
    assert.equal(await offsetsOf(name), latest)
    const again = await recover(['connect', 'resume', name, '--json'])
    assert.is(again.exitCode, 5, again.stderr)
    assert.match(again.json.error.message, /task 0 FAILED/)
    await worker.rest('DELETE', `/connectors/${name}`)
  }),
)

test(
  'a connector that cannot get to a stop (its consumer group keeps a member: a zombie task elsewhere) exits 4 after --stop-timeout, says its state and the commands to continue or resume, and changes nothing',
  withTimeout(120_000, async () => {
    const { topic, name } = await runningSink('unstoppable-sink')
    const planned = new Map([
      [`${topic}-0`, '3'],
      [`${topic}-1`, '3'],
    ])
    // Stopped first so the member below is alone in the group (Connect's range assignor and KafkaJS's differ); then it
    // stands for a task of this connector that a partitioned worker still runs.
    await worker.rest('PUT', `/connectors/${name}/stop`)
    await waitFor(`${name} to be STOPPED`, async () => ((await stateOf(name)) === 'STOPPED' ? true : undefined), 60_000, 250)
    const zombie = testKafka().consumer({ groupId: `connect-${name}` })
    let printed = ''
    const joined = new Promise<void>((resolve) => zombie.on(zombie.events.GROUP_JOIN, () => resolve()))
    await zombie.connect()
    try {
      await zombie.subscribe({ topics: [topic] })
      await zombie.run({ autoCommit: false, eachMessage: async () => {} })
      await joined

      const run = await recover(['seek', '--connector', name, '--to-earliest', '--journal', journal, '--execute', '--yes', '--stop-timeout', '3s'])
      assert.is(run.exitCode, 4, run.stderr)
      assert.match(run.stderr, new RegExp(`Connector "${name}" did not stop within 3 s: it is STOPPED and its group connect-${name} still has 1 member`))
      assert.match(run.stderr, /No offset was changed/)
      assert.match(run.stderr, new RegExp(`recover seek --connector ${name} --to-earliest .*--stop-timeout 3s`))
      assert.match(run.stderr, new RegExp(`recover connect resume ${name} --connect-url ${worker.url}`))
      printed = run.stderr
      assert.equal(await offsetsOf(name), planned)
      assert.equal(await kafkaCommittedOffsets(`connect-${name}`), planned)
      assert.equal(journalled(name), [])
    } finally {
      await zombie.disconnect()
    }

    // With the zombie gone, the printed resume command puts it back to work where it was.
    const resume = /Or resume it as it was with: (recover connect resume .*)/.exec(printed)?.[1]
    assert.ok(resume, printed)
    const resumed = await runCli(argvOf(resume!), { cwd: dir, timeoutMs: 60_000 })
    assert.is(resumed.exitCode, 0, resumed.stderr)
    await waitFor(`${name} to run again`, async () => ((await stateOf(name)) === 'RUNNING' ? true : undefined), 60_000, 250)
    assert.equal(await offsetsOf(name), planned)
  }),
)

test(
  'a worker killed -9 while recover sets the offsets (after the stop and the journal, before the PATCH) exits 5 with the state and the exact commands; on the restarted worker the printed retry completes the seek and the printed undo restores',
  withTimeout(240_000, async () => {
    const { topic, name } = await runningSink('killed-sink')
    const before = new Map([
      [`${topic}-0`, '3'],
      [`${topic}-1`, '3'],
    ])
    let killed = false
    const tap = await startHttpTap(worker.url, async (method, path) => {
      if (!killed && method === 'PATCH' && path === `/connectors/${name}/offsets`) {
        killed = true
        await worker.kill()
      }
    })
    try {
      const run = await runCli(
        ['seek', '--connector', name, '--to-earliest', '--journal', journal, '--execute', '--yes', '--no-resume', '--connect-url', tap.url],
        { cwd: dir, timeoutMs: 120_000 },
      )
      assert.ok(killed, run.stderr)
      assert.is(run.exitCode, 5, run.stderr)
      assert.match(run.stderr, new RegExp(`stopped answering while it set the offsets of connector "${name}"`))
      assert.match(run.stderr, /the connector is STOPPED \(if a worker is up\)/)
      assert.is(journalled(name).length, 1)
      const retry = /Then set the plan again with: (recover seek .*)/.exec(run.stderr)?.[1]
      const undo = /Or restore the previous offsets with: (recover seek .*)/.exec(run.stderr)?.[1]
      assert.ok(retry && undo, run.stderr)
      assert.match(undo!, new RegExp(`--connector ${name} --connect-url ${tap.url} .*--undo --execute --journal ${journal}`))

      // The same group and topics: the connector comes back STOPPED with the offsets it had (the PATCH never reached it).
      await restartWorkerUntilStopped(name)
      assert.equal(await offsetsOf(name), before)

      const again = await runCli(argvOf(retry!), { cwd: dir, timeoutMs: 120_000 })
      assert.is(again.exitCode, 0, again.stderr)
      const earliest = new Map([
        [`${topic}-0`, '0'],
        [`${topic}-1`, '0'],
      ])
      assert.equal(await offsetsOf(name), earliest)
      assert.equal(await kafkaCommittedOffsets(`connect-${name}`), earliest)
      assert.is(await stateOf(name), 'STOPPED')

      const back = await runCli([...argvOf(undo!), '--yes'], { cwd: dir, timeoutMs: 120_000 })
      assert.is(back.exitCode, 0, back.stderr)
      assert.equal(await offsetsOf(name), before)
      assert.not.equal(await stateOf(name), 'STOPPED')
    } finally {
      await tap.stop()
    }
  }),
)

test(
  'a worker killed -9 after it answered the PATCH, while recover reads the offsets back, exits 5 saying they are set but unchecked and the connector STOPPED; on the restarted worker the printed command finishes the seek',
  withTimeout(240_000, async () => {
    const { topic, name } = await runningSink('killed-readback')
    const earliest = new Map([
      [`${topic}-0`, '0'],
      [`${topic}-1`, '0'],
    ])
    let patched = false
    let killed = false
    const tap = await startHttpTap(worker.url, async (method, path) => {
      if (method === 'PATCH' && path === `/connectors/${name}/offsets`) patched = true
      else if (patched && !killed && method === 'GET' && path === `/connectors/${name}/offsets`) {
        killed = true
        await worker.kill()
      }
    })
    try {
      const run = await runCli(['seek', '--connector', name, '--to-earliest', '--journal', journal, '--execute', '--yes', '--connect-url', tap.url], {
        cwd: dir,
        timeoutMs: 120_000,
      })
      assert.ok(killed, run.stderr)
      assert.is(run.exitCode, 5, run.stderr)
      assert.match(run.stderr, new RegExp(`Kafka Connect accepted the new offsets of connector "${name}" but reading them back failed`))
      assert.match(run.stderr, /so they are set but unchecked and it was not resumed; the connector is STOPPED \(if a worker is up\)/)
      const finish = /Then finish the seek \(it reads them back and resumes the connector\) with: (recover seek .*)/.exec(run.stderr)?.[1]
      assert.ok(finish, run.stderr)
      assert.is(journalled(name).length, 1)

      await restartWorkerUntilStopped(name)
      assert.equal(await offsetsOf(name), earliest, 'the PATCH Connect answered landed')

      const done = await runCli(argvOf(finish!), { cwd: dir, timeoutMs: 120_000 })
      assert.is(done.exitCode, 0, done.stderr)
      assert.match(done.stdout, /already read as planned/)
      assert.is(journalled(name).length, 1)
      assert.not.equal(await stateOf(name), 'STOPPED')
      // Resumed from the earliest offsets: it reads the 6 records again and commits 3 and 3.
      await waitFor(
        `${name} to commit offsets 3 and 3 again\n${worker.log()}`,
        async () => {
          const o = await offsetsOf(name)
          return o.get(`${topic}-0`) === '3' && o.get(`${topic}-1`) === '3' ? true : undefined
        },
        60_000,
        250,
      )
      assert.is(lines(join(dir, `${name}.txt`)).length, 12)
    } finally {
      await tap.stop()
    }
  }),
)

test(
  'an undo whose PATCH the worker never answered (killed -9) says so, and the printed command finishes the undo on the restarted worker instead of undoing the undo',
  withTimeout(240_000, async () => {
    const { topic, name } = await runningSink('killed-undo')
    const before = new Map([
      [`${topic}-0`, '3'],
      [`${topic}-1`, '3'],
    ])
    const earliest = new Map([
      [`${topic}-0`, '0'],
      [`${topic}-1`, '0'],
    ])
    const seek = await runCli(
      ['seek', '--connector', name, '--to-earliest', '--journal', journal, '--execute', '--yes', '--no-resume', '--connect-url', worker.url],
      {
        cwd: dir,
        timeoutMs: 120_000,
      },
    )
    assert.is(seek.exitCode, 0, seek.stderr)
    assert.equal(await offsetsOf(name), earliest)
    let killed = false
    const tap = await startHttpTap(worker.url, async (method, path) => {
      if (!killed && method === 'PATCH' && path === `/connectors/${name}/offsets`) {
        killed = true
        await worker.kill()
      }
    })
    try {
      const undo = await runCli(['seek', '--connector', name, '--undo', '--journal', journal, '--execute', '--yes', '--connect-url', tap.url], {
        cwd: dir,
        timeoutMs: 120_000,
      })
      assert.ok(killed, undo.stderr)
      assert.is(undo.exitCode, 5, undo.stderr)
      assert.match(undo.stderr, new RegExp(`The undo of connector "${name}" may not have landed`))
      const finish = /Then finish the undo with: (recover seek .*)/.exec(undo.stderr)?.[1]
      assert.ok(finish, undo.stderr)
      assert.match(finish!, /--undo/)

      await restartWorkerUntilStopped(name)
      assert.equal(await offsetsOf(name), earliest, 'the PATCH never reached the worker')
      const again = await runCli(argvOf(finish!), { cwd: dir, timeoutMs: 120_000 })
      assert.is(again.exitCode, 0, again.stderr)
      assert.equal(await offsetsOf(name), before, 'the undo restored the offsets before the seek')
      assert.equal(await kafkaCommittedOffsets(`connect-${name}`), before)
      assert.not.equal(await stateOf(name), 'STOPPED')
    } finally {
      await tap.stop()
    }
  }),
)

test(
  'Connect behind HTTPS with credentials: basic auth in the URL and a bearer token are sent and the CA file trusted; wrong credentials and an untrusted certificate exit 5 and no secret is printed',
  withTimeout(120_000, async () => {
    const { topic, name } = await runningSink('secured')
    const proxy = await startTlsAuthProxy(
      { port: Number(new URL(worker.url).port) },
      { basic: ['ops', 'c0nnect-s3cret'], apiKey: 'unused', bearer: 'c0nnect-t0ken' },
    )
    const https = `https://127.0.0.1:${proxy.port}`
    const list = (url: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}) =>
      runCli(['connect', 'list', '--connect-url', url, ...extra, '--json'], { cwd: dir, timeoutMs: 120_000, env })
    try {
      const basic = await list(`https://ops:c0nnect-s3cret@127.0.0.1:${proxy.port}`, ['--connect-ca', proxy.caFile])
      assert.is(basic.exitCode, 0, basic.stderr)
      assert.ok(basic.json.connectors.some((c: { name: string }) => c.name === name))
      assert.not.match(basic.stdout + basic.stderr, /c0nnect-s3cret/)

      const bearer = await list(https, [], { RECOVER_CONNECT_TOKEN: 'c0nnect-t0ken', RECOVER_CONNECT_CA: proxy.caFile })
      assert.is(bearer.exitCode, 0, bearer.stderr)
      assert.ok(bearer.json.connectors.some((c: { name: string }) => c.name === name))

      const refusedBefore = proxy.refused()
      const wrong = await list(`https://ops:wr0ng-pass@127.0.0.1:${proxy.port}`, ['--connect-ca', proxy.caFile])
      assert.is(wrong.exitCode, 5, wrong.stderr)
      assert.is(wrong.json.error.code, 'CONNECT_AUTH_FAILED', wrong.stdout + wrong.stderr)
      assert.not.match(wrong.stdout + wrong.stderr, /wr0ng-pass/)
      assert.ok(proxy.refused() > refusedBefore)

      const untrusted = await list(`https://ops:c0nnect-s3cret@127.0.0.1:${proxy.port}`)
      assert.is(untrusted.exitCode, 5, untrusted.stderr)
      assert.not.match(untrusted.stdout + untrusted.stderr, /c0nnect-s3cret/)

      // A seek through the proxy, credentials in the URL: the offsets move, and the undo it prints keeps --connect-ca, drops
      // the credentials (no unrunnable ops:***@) and says where they go; run so, it restores them.
      const seek = await runCli(
        [
          'seek',
          '--connector',
          name,
          '--to-earliest',
          '--journal',
          journal,
          '--execute',
          '--yes',
          '--no-resume',
          '--connect-url',
          `https://ops:c0nnect-s3cret@127.0.0.1:${proxy.port}`,
          '--connect-ca',
          proxy.caFile,
        ],
        { cwd: dir, timeoutMs: 120_000 },
      )
      assert.is(seek.exitCode, 0, seek.stderr)
      assert.not.match(seek.stdout + seek.stderr, /c0nnect-s3cret/)
      const earliest = new Map([
        [`${topic}-0`, '0'],
        [`${topic}-1`, '0'],
      ])
      assert.equal(await offsetsOf(name), earliest)
      assert.equal(await kafkaCommittedOffsets(`connect-${name}`), earliest)
      const undo = /Undo with: (recover seek .*)/.exec(seek.stdout)?.[1]
      assert.ok(undo, seek.stdout)
      assert.is(undo, `recover seek --connector ${name} --connect-url ${https} --connect-ca ${proxy.caFile} --undo --execute --journal ${journal}`)
      assert.match(seek.stdout, /set RECOVER_CONNECT_USER and RECOVER_CONNECT_PASSWORD/)
      const back = await runCli([...argvOf(undo!), '--yes'], {
        cwd: dir,
        timeoutMs: 120_000,
        env: { RECOVER_CONNECT_USER: 'ops', RECOVER_CONNECT_PASSWORD: 'c0nnect-s3cret' },
      })
      assert.is(back.exitCode, 0, back.stderr)
      assert.equal(
        await offsetsOf(name),
        new Map([
          [`${topic}-0`, '3'],
          [`${topic}-1`, '3'],
        ]),
      )
      assert.not.match(back.stdout + back.stderr, /c0nnect-s3cret/)
    } finally {
      await proxy.stop()
    }
  }),
)

test.run()
