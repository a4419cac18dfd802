import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawn } from 'node:child_process'
import { ensureKafkaJars } from '../../src/local-kafka/index.js'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { runCli } from '../support/cli.js'
import { repoRoot } from '../support/paths.js'
import { commitOffsets, createTopic, produce, readCommitted, testBrokers, testKafka, uniqueName } from '../support/kafka.js'
import { kafkaResetPlan } from '../support/seek-oracle.js'
import { waitFor, withTimeout } from '../support/timeout.js'

const T0 = Date.UTC(2018, 2, 21, 0, 0, 0)
const HOUR = 3_600_000

/** A topic with 3 partitions of 6 hourly records around T0, and a group committed at 5, 4 and 6. */
async function setup() {
  const topic = uniqueName('e2e-seek')
  const group = uniqueName('e2e-seek-group')
  const dir = mkdtempSync(join(tmpdir(), 'recover-seek-e2e-'))
  await createTopic(topic, 3)
  const records = []
  for (let p = 0; p < 3; p++)
    for (let i = 0; i < 6; i++) records.push({ partition: p, key: `k${p}${i}`, value: `{"i":${i}}`, timestampMs: T0 - 3 * HOUR + i * HOUR })
  await produce(topic, records)
  await commitOffsets(group, topic, [
    { partition: 0, offset: 5 },
    { partition: 1, offset: 4 },
    { partition: 2, offset: 6 },
  ])
  const journal = join(dir, 'journal')
  const seek = (...args: string[]) => runCli(['seek', '--group', group, '--journal', journal, ...args], { cwd: dir })
  return { topic, group, dir, journal, seek, before: await readCommitted(group) }
}

test(
  'the default is a dry run: a plan with the resolved instant, and nothing changes',
  withTimeout(60_000, async () => {
    const s = await setup()
    const run = await s.seek('--to', '2018-03-21T00:00')
    assert.is(run.exitCode, 0, run.stderr)
    assert.match(run.stdout, /2018-03-21T00:00:00\.000Z \(UTC\)/)
    assert.match(run.stdout, /dry run/)
    assert.match(run.stdout, /replay 2/)
    assert.match(run.stderr, /--execute/)
    assert.equal(await readCommitted(s.group), s.before)
  }),
)

test(
  '--execute without a terminal needs --yes, else exit 4 and nothing changes',
  withTimeout(60_000, async () => {
    const s = await setup()
    const run = await s.seek('--to', '2018-03-21T00:00', '--execute')
    assert.is(run.exitCode, 4)
    assert.match(run.stderr, /--yes/)
    assert.equal(await readCommitted(s.group), s.before)
    assert.not.ok(existsSync(s.journal), 'no journal entry for a refused change')
  }),
)

test(
  '--execute moves the group to the plan, journals the previous offsets, and --undo restores them exactly',
  withTimeout(90_000, async () => {
    const s = await setup()
    const run = await s.seek('--to', '2018-03-21T00:00', '--execute', '--yes', '--json')
    assert.is(run.exitCode, 0, run.stderr)
    assert.is(run.json.applied, true)
    const expected = Object.fromEntries(
      run.json.plan.rows.map((r: { topic: string; partition: number; newOffset: string }) => [`${r.topic}-${r.partition}`, r.newOffset]),
    )
    assert.equal(expected, { [`${s.topic}-0`]: '3', [`${s.topic}-1`]: '3', [`${s.topic}-2`]: '3' })
    assert.equal(await readCommitted(s.group), expected)
    const journalFile = run.json.execution.applied[0].journal as string
    const journal = readFileSync(journalFile, 'utf8')
    assert.match(journal, /# command: recover seek --group/)
    assert.match(journal, new RegExp(`${s.group},${s.topic},0,5,3`))
    assert.match(run.json.undoCommands[0], new RegExp(`recover seek --group ${s.group} --undo --execute`))

    const undo = await s.seek('--undo', '--execute', '--yes')
    assert.is(undo.exitCode, 0, undo.stderr)
    assert.equal(await readCommitted(s.group), s.before)
    assert.match(undo.stdout, /Undo with:/, 'the undo is itself journaled and undoable')
  }),
)

test(
  '--export writes the plan in the format kafka-consumer-groups.sh reads, and --from-file applies it',
  withTimeout(90_000, async () => {
    const s = await setup()
    const file = join(s.dir, 'plan.csv')
    const run = await s.seek('--to-earliest', '--topic', `${s.topic}:0,2`, '--export', file)
    assert.is(run.exitCode, 0, run.stderr)
    assert.is(readFileSync(file, 'utf8'), `${s.topic},0,0\n${s.topic},2,0\n`)
    const kafka = await kafkaResetPlan(s.group, ['--from-file', file])
    assert.equal(Object.fromEntries(kafka), { [`${s.topic}-0`]: '0', [`${s.topic}-2`]: '0' })
    const apply = await s.seek('--from-file', file, '--execute', '--yes')
    assert.is(apply.exitCode, 0, apply.stderr)
    assert.equal(await readCommitted(s.group), { ...s.before, [`${s.topic}-0`]: '0', [`${s.topic}-2`]: '0' })
    writeFileSync(file, `${s.group},${s.topic},1,2\n`)
    const grouped = await s.seek('--from-file', file, '--json')
    assert.equal(
      grouped.json.plan.rows.map((r: { newOffset: string }) => r.newOffset),
      ['2'],
    )
  }),
)

test(
  'an active group is refused with exit 4 naming its members; --wait-empty waits for it to drain or gives up',
  withTimeout(120_000, async () => {
    const s = await setup()
    const consumer = testKafka().consumer({ groupId: s.group, sessionTimeout: 10_000, heartbeatInterval: 500, maxWaitTimeInMs: 250 })
    await consumer.connect()
    let stopped = false
    try {
      await consumer.subscribe({ topic: s.topic })
      await consumer.run({ autoCommit: false, eachMessage: async () => undefined })
      await waitFor(
        'the consumer to join',
        async () => ((await s.seek('--to-latest', '--json')).json.plan.groups[0].members.length > 0 ? true : undefined),
        30_000,
        500,
      )
      const refused = await s.seek('--to-latest', '--execute', '--yes')
      assert.is(refused.exitCode, 4)
      assert.match(refused.stderr, /active member/)
      assert.match(refused.stderr, /recover-tests@/)
      assert.match(refused.stderr, /--wait-empty/)
      const gaveUp = await s.seek('--to-latest', '--execute', '--yes', '--wait-empty', '2s')
      assert.is(gaveUp.exitCode, 4)
      assert.match(gaveUp.stderr, /still active after waiting 2 s/)
      assert.equal(await readCommitted(s.group), s.before)

      const waiting = s.seek('--to-latest', '--execute', '--yes', '--wait-empty', '60s')
      setTimeout(() => void consumer.disconnect().then(() => (stopped = true)), 2_000)
      const done = await waiting
      assert.is(done.exitCode, 0, done.stderr)
      assert.match(done.stderr, /Waiting for group/)
      assert.equal(await readCommitted(s.group), { [`${s.topic}-0`]: '6', [`${s.topic}-1`]: '6', [`${s.topic}-2`]: '6' })
    } finally {
      if (!stopped) await consumer.disconnect()
    }
  }),
)

/** A member of the group that commits `commits` as it leaves, the way a consumer shutting down does. */
async function memberThatCommitsOnLeaving(s: { group: string; topic: string }, commits: Array<{ partition: number; offset: string }>) {
  const consumer = testKafka().consumer({ groupId: s.group, sessionTimeout: 10_000, heartbeatInterval: 500, maxWaitTimeInMs: 250 })
  await consumer.connect()
  await consumer.subscribe({ topic: s.topic })
  await consumer.run({ autoCommit: false, eachMessage: async () => undefined })
  return {
    consumer,
    leave: async () => {
      await consumer.commitOffsets(commits.map((c) => ({ topic: s.topic, ...c })))
      await consumer.disconnect()
    },
  }
}

test(
  '--wait-empty: when the group committed while it drained, the plan is shown again before it is applied',
  withTimeout(120_000, async () => {
    const s = await setup()
    const member = await memberThatCommitsOnLeaving(s, [{ partition: 1, offset: '5' }])
    await waitFor(
      'the consumer to join',
      async () => ((await s.seek('--to-latest', '--json')).json.plan.groups[0].members.length > 0 ? true : undefined),
      30_000,
      500,
    )
    const waiting = s.seek('--to-latest', '--execute', '--yes', '--wait-empty', '60s')
    setTimeout(() => void member.leave(), 2_000)
    const done = await waiting
    assert.is(done.exitCode, 0, done.stderr)
    assert.match(done.stdout, /The group committed while it drained; the plan from where it is now:/)
    // The second plan shows partition 1 at 5, where the consumer left it, 1 record to skip.
    const second = done.stdout.slice(done.stdout.indexOf('committed while it drained'))
    assert.match(second, new RegExp(`${s.topic}\\s+1\\s+5\\s+6\\s+skip 1`))
    assert.equal(await readCommitted(s.group), { [`${s.topic}-0`]: '6', [`${s.topic}-1`]: '6', [`${s.topic}-2`]: '6' })
  }),
)

test(
  '--wait-empty with --yes refuses (exit 4) a relative move whose targets changed while the group drained',
  withTimeout(120_000, async () => {
    const s = await setup()
    const member = await memberThatCommitsOnLeaving(s, [{ partition: 0, offset: '2' }])
    await waitFor(
      'the consumer to join',
      async () => ((await s.seek('--to-latest', '--json')).json.plan.groups[0].members.length > 0 ? true : undefined),
      30_000,
      500,
    )
    const waiting = s.seek('--topic', `${s.topic}:0`, '--shift-by', '1', '--execute', '--yes', '--wait-empty', '60s', '--json')
    setTimeout(() => void member.leave(), 2_000)
    const done = await waiting
    assert.is(done.exitCode, 4, done.stderr)
    assert.is(done.json.error.code, 'OFFSETS_CHANGED')
    assert.is((await readCommitted(s.group))[`${s.topic}-0`], '2', 'left where the consumer committed')
  }),
)

test(
  'a group on the new consumer protocol (KIP-848), which the classic DescribeGroups reports Dead, is seen active and refused up front with its member named (exit 4)',
  withTimeout(90_000, async () => {
    // The new consumer protocol is on by default from Kafka 4.0; 3.9 brokers do not offer it.
    if (/^3\./.test(process.env.RECOVER_KAFKA_VERSION ?? '')) return
    const s = await setup()
    const { libDir } = await ensureKafkaJars()
    // Kafka's own console consumer with group.protocol=consumer joins as a KIP-848 member.
    const consumer = spawn(
      'java',
      [
        '-Xmx256m',
        '-XX:TieredStopAtLevel=1',
        '-cp',
        `${libDir}/*`,
        'org.apache.kafka.tools.consumer.ConsoleConsumer',
        '--bootstrap-server',
        testBrokers(),
        '--topic',
        s.topic,
        '--group',
        s.group,
        '--consumer-property',
        'group.protocol=consumer',
        '--consumer-property',
        'enable.auto.commit=false',
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    )
    let printed = ''
    consumer.stdout.on('data', (chunk: Buffer) => (printed += chunk.toString()))
    try {
      // It resumes from the committed offsets, so the record at offset 5 of partition 0 shows once it has joined.
      await waitFor('the KIP-848 consumer to join and read', () => (printed.includes('{"i":5}') ? true : undefined), 60_000, 200)
      const refused = await s.seek('--to-earliest', '--execute', '--yes')
      assert.is(refused.exitCode, 4, refused.stderr)
      assert.match(refused.stderr, /has 1 active member \(console-consumer/)
      assert.match(refused.stderr, /Nothing was changed/)
      assert.equal(await readCommitted(s.group), s.before)
    } finally {
      consumer.kill('SIGKILL')
    }
  }),
)

test(
  'several groups move together, each with its own journal snapshot',
  withTimeout(60_000, async () => {
    const s = await setup()
    const other = uniqueName('e2e-seek-other')
    await commitOffsets(other, s.topic, [
      { partition: 0, offset: 2 },
      { partition: 1, offset: 2 },
    ])
    const run = await runCli(
      ['seek', '--group', s.group, '--group', other, '--to-latest', '--all-topics', '--execute', '--yes', '--journal', s.journal, '--json'],
      { cwd: s.dir },
    )
    assert.is(run.exitCode, 0, run.stderr)
    assert.equal(run.json.execution.applied.map((a: { group: string }) => a.group).sort(), [s.group, other].sort())
    assert.equal(await readCommitted(s.group), { [`${s.topic}-0`]: '6', [`${s.topic}-1`]: '6', [`${s.topic}-2`]: '6' })
    assert.equal(await readCommitted(other), { [`${s.topic}-0`]: '6', [`${s.topic}-1`]: '6' })
    const kafka = await kafkaResetPlan(other, ['--all-topics', '--to-earliest'])
    assert.equal(Object.fromEntries(kafka), { [`${s.topic}-0`]: '0', [`${s.topic}-1`]: '0' })
  }),
)

test(
  'on a terminal, --execute asks first; answering no changes nothing',
  withTimeout(60_000, async () => {
    const s = await setup()
    const bin = join(repoRoot(), 'bin', 'run.js')
    // script(1) gives the command a real pseudo-terminal, as a person at a shell would have.
    const inTerminal = (answer: string) =>
      new Promise<string>((resolve, reject) => {
        const cmd = `printf '${answer}\\n' | script -qec "${process.execPath} ${bin} seek --group ${s.group} --journal ${s.journal} --to-earliest --execute" /dev/null`
        const child = spawn('sh', ['-c', cmd], { cwd: s.dir, env: { ...process.env, RECOVER_BROKERS: testBrokers() } })
        let out = ''
        child.stdout.on('data', (c: Buffer) => (out += c.toString()))
        child.stderr.on('data', (c: Buffer) => (out += c.toString()))
        child.on('close', () => resolve(out))
        child.on('error', reject)
      })
    const declined = await inTerminal('n')
    assert.match(declined, /Move group .* on 3 partitions of cluster \S+ \(127\.0\.0\.1:\d+, from RECOVER_BROKERS\)\? \[y\/N\]/)
    assert.match(declined, /Not applied/)
    assert.equal(await readCommitted(s.group), s.before)
    const accepted = await inTerminal('y')
    assert.match(accepted, /Applied to group/)
    assert.equal(await readCommitted(s.group), { [`${s.topic}-0`]: '0', [`${s.topic}-1`]: '0', [`${s.topic}-2`]: '0' })
  }),
)

test(
  'bad input gets one clear sentence, its exit code, and changes nothing',
  withTimeout(120_000, async () => {
    const s = await setup()
    const bad = join(s.dir, 'bad.csv')
    writeFileSync(bad, `${s.topic},0,1\n${s.topic},x,2\n`)
    const cases: Array<{ args: string[]; code: number; message: RegExp; group?: string }> = [
      { args: ['--to-earliest'], code: 2, message: /no committed offsets.*--topic/, group: uniqueName('nobody') },
      { args: ['--to-earliest', '--topic', uniqueName('missing-topic')], code: 2, message: /does not exist/ },
      { args: ['--to-earliest', '--topic', `${s.topic}:7`], code: 2, message: /no partition 7/ },
      { args: ['--to-earliest', '--to-latest'], code: 2, message: /to-earliest|to-latest/ },
      { args: ['--from-file', bad, '--execute', '--yes'], code: 2, message: /line 2/ },
      { args: ['--to', '2018-02-30T00:00', '--execute', '--yes'], code: 2, message: /2018-03-21T00:00/ },
      { args: ['--to-offset', '-5', '--execute', '--yes'], code: 2, message: /offset/ },
    ]
    for (const c of cases) {
      const run = c.group ? await runCli(['seek', '--group', c.group, '--journal', s.journal, ...c.args], { cwd: s.dir }) : await s.seek(...c.args)
      assert.is(run.exitCode, c.code, `${c.args.join(' ')}: ${run.stderr}`)
      assert.match(run.stderr.split('\n').find((line) => !line.startsWith('Kafka: cluster '))!, /^Error: .+\.$/, c.args.join(' '))
      assert.match(run.stderr, c.message, c.args.join(' '))
    }
    assert.equal(await readCommitted(s.group), s.before)
    assert.not.ok(existsSync(s.journal))
  }),
)

test.run()
