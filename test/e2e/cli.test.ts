import { createServer, type Server } from 'node:net'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { runCli } from '../support/cli.js'
import { commitOffsets, createTopic, produce, uniqueName } from '../support/kafka.js'
import { withTimeout } from '../support/timeout.js'

const T0 = Date.UTC(2018, 2, 21, 0, 0, 0)

/** One sentence on stderr: "Error: …." plus optional "→ next step" lines. */
function assertOneSentence(stderr: string) {
  // Commands that reached Kafka first say which cluster they are on.
  const lines = stderr
    .trim()
    .split('\n')
    .filter((line) => !/^Kafka: cluster \S+ \(/.test(line))
  assert.match(lines[0]!, /^Error: [^\n]+[.]$/)
  for (const line of lines.slice(1)) assert.match(line, /^\s+→ /)
}

test(
  "the top-level help describes each topic as a whole, not with one of its subcommands' summaries (D17)",
  withTimeout(30_000, async () => {
    const run = await runCli(['--help'], { env: { OCLIF_COLUMNS: '250' } })
    assert.is(run.exitCode, 0)
    const topic = (name: string) => new RegExp(`^\\s+${name}\\s+(.+)$`, 'm').exec(run.stdout.slice(run.stdout.indexOf('TOPICS')))?.[1] ?? ''
    assert.match(topic('audit'), /audit duplicates, audit compare .*audit history/)
    assert.match(topic('quarantine'), /list, show, export, redrive, retry or drop/)
    assert.match(topic('runbook'), /list them, show one, run its steps/)
    assert.not.match(topic('quarantine'), /^Mark dead letters as dropped/)
  }),
)

test(
  '--help lists the commands and exits 0',
  withTimeout(30_000, async () => {
    const run = await runCli(['--help'])
    assert.is(run.exitCode, 0)
    for (const command of ['groups', 'peek']) assert.match(run.stdout, new RegExp(`\\b${command}\\b`))
  }),
)

test(
  'a bad flag is one sentence and exit 2',
  withTimeout(30_000, async () => {
    const run = await runCli(['groups', '--bogus'])
    assert.is(run.exitCode, 2)
    assertOneSentence(run.stderr)
    assert.match(run.stderr, /--bogus/)
    assert.is(run.stdout, '')
  }),
)

test(
  'a bad time spec is exit 2 with an accepted example, also as JSON on stdout',
  withTimeout(30_000, async () => {
    const run = await runCli(['peek', '--topic', 'x', '--at', '2018-13-01'])
    assert.is(run.exitCode, 2)
    assertOneSentence(run.stderr)
    assert.match(run.stderr, /2018-03-21T00:00/)
    const json = await runCli(['peek', '--topic', 'x', '--at', 'next tuesday', '--json'])
    assert.is(json.exitCode, 2)
    assert.is(json.json.error.code, 'BAD_TIME_SPEC')
    assert.is(json.json.error.exitCode, 2)
  }),
)

test(
  'a refused broker port fails with exit 5 naming the broker',
  withTimeout(30_000, async () => {
    const run = await runCli(['groups', '--brokers', '127.0.0.1:1'], { timeoutMs: 20_000 })
    assert.is(run.exitCode, 5)
    assertOneSentence(run.stderr)
    assert.match(run.stderr, /127\.0\.0\.1:1/)
  }),
)

test(
  'a broker that accepts connections but never answers fails with exit 5 instead of hanging',
  withTimeout(40_000, async () => {
    const silent: Server = createServer(() => undefined)
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const port = (silent.address() as { port: number }).port
    try {
      // runCli fails the test if the command is still running after 20 s.
      const run = await runCli(['groups', '--brokers', `127.0.0.1:${port}`, '--json'], { timeoutMs: 20_000 })
      assert.is(run.exitCode, 5)
      assert.is(run.json.error.code, 'BROKER_UNREACHABLE')
      assert.equal(run.json.error.details.brokers, [`127.0.0.1:${port}`])
    } finally {
      silent.close()
    }
  }),
)

test(
  'an unknown group is one sentence and exit 2',
  withTimeout(30_000, async () => {
    const run = await runCli(['groups', 'describe', '--group', uniqueName('no-such-group')])
    assert.is(run.exitCode, 2)
    assertOneSentence(run.stderr)
    assert.match(run.stderr, /does not exist/)
  }),
)

test(
  'an unknown topic for peek is one sentence and exit 2; --verbose says it once too, then where',
  withTimeout(30_000, async () => {
    const run = await runCli(['peek', '--topic', uniqueName('no-such-topic'), '--at', '2018-03-21'])
    assert.is(run.exitCode, 2)
    assertOneSentence(run.stderr)
    assert.match(run.stderr, /does not exist/)
    const verbose = await runCli(['peek', '--topic', uniqueName('no-such-topic'), '--at', '2018-03-21', '--verbose'])
    assert.is(verbose.exitCode, 2)
    assert.is(verbose.stderr.split('does not exist').length - 1, 1, verbose.stderr)
    assert.match(verbose.stderr, /\n {4}at .*peek/)
  }),
)

test(
  'groups describe --json gives offsets as strings and the group state',
  withTimeout(60_000, async () => {
    const topic = uniqueName('e2e-describe')
    const group = uniqueName('e2e-group')
    await createTopic(topic, 2)
    await produce(
      topic,
      [0, 1, 2].map((i) => ({ partition: 0, key: `k${i}`, value: `v${i}`, timestampMs: T0 + i * 1000 })),
    )
    await commitOffsets(group, topic, [{ partition: 0, offset: 1 }])
    const run = await runCli(['groups', 'describe', '--group', group, '--json'])
    assert.is(run.exitCode, 0, run.stderr)
    assert.is(run.json.groupId, group)
    assert.is(run.json.state, 'Empty')
    const p0 = run.json.partitions.find((p: { partition: number }) => p.partition === 0)
    assert.equal([p0.committedOffset, p0.logEndOffset, p0.lag], ['1', '3', '2'])
    assert.is(p0.nextRecordTime, new Date(T0 + 1000).toISOString())
    const p1 = run.json.partitions.find((p: { partition: number }) => p.partition === 1)
    assert.is(p1.committedOffset, null, 'never committed: null in JSON')
    const table = await runCli(['groups', 'describe', '--group', group])
    assert.match(table.stdout, /CURRENT-OFFSET\s+LOG-END-OFFSET\s+LAG/)
    assert.match(table.stdout, /never committed/)
  }),
)

test(
  'peek shows the first records at or after a time across partitions, decoded',
  withTimeout(60_000, async () => {
    const topic = uniqueName('e2e-peek')
    await createTopic(topic, 2)
    await produce(topic, [
      { partition: 0, key: 'a', value: '{"amount":1}', timestampMs: T0 - 60_000 },
      { partition: 0, key: 'b', value: '{"amount":2}', timestampMs: T0 + 10_000 },
      { partition: 1, key: 'c', value: 'plain text', timestampMs: T0 + 5_000 },
      { partition: 1, key: 'd', value: Buffer.from([0xff, 0x00, 0x01]), timestampMs: T0 + 20_000, headers: { trace: 't-1' } },
    ])
    const run = await runCli(['peek', '--topic', topic, '--at', '2018-03-21T00:00', '--json'])
    assert.is(run.exitCode, 0, run.stderr)
    assert.is(run.json.at, '2018-03-21T00:00:00.000Z')
    const seen = run.json.records.map((r: { partition: number; offset: string; key: { value: string } }) => `${r.partition}@${r.offset}:${r.key.value}`)
    assert.equal(seen, ['1@0:c', '0@1:b', '1@1:d'])
    assert.equal(run.json.records[1].value, { format: 'json', value: { amount: 2 } })
    assert.equal(run.json.records[0].value, { format: 'string', value: 'plain text' })
    assert.equal(run.json.records[2].value, { format: 'bytes', value: 'ff0001' })
    assert.equal(run.json.records[2].headers, [{ key: 'trace', value: 't-1' }])

    const one = await runCli(['peek', '--topic', topic, '--at', '2018-03-21T09:00:00', '--tz', 'Asia/Seoul', '--partition', '0', '--count', '1', '--json'])
    assert.is(one.exitCode, 0, one.stderr)
    assert.is(one.json.records.length, 1)
    assert.is(one.json.records[0].offset, '1')
    assert.match(one.json.resolvedAt, /Asia\/Seoul/)

    const late = await runCli(['peek', '--topic', topic, '--at', '2019-01-01', '--json'])
    assert.equal(late.json.records, [])
    assert.ok(late.json.partitions.every((p: { startOffset: string | null }) => p.startOffset === null))

    const missing = await runCli(['peek', '--topic', topic, '--at', '2018-03-21', '--partition', '7'])
    assert.is(missing.exitCode, 2)
    assert.match(missing.stderr, /no partition 7/)
  }),
)

test(
  'a SASL password never appears in output, even with --verbose',
  withTimeout(60_000, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'recover-secret-'))
    const secret = 'Sup3r-Secret-Passw0rd'
    const file = join(dir, 'client.properties')
    writeFileSync(
      file,
      `security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="ops" password="${secret}";\n`,
    )
    for (const extra of [[], ['--verbose'], ['--json']]) {
      const run = await runCli(['groups', '--client-config', file, ...extra], { timeoutMs: 30_000 })
      assert.is.not(run.exitCode, 0, 'the plaintext test broker cannot accept SASL')
      assert.not.match(run.stdout + run.stderr, secret)
    }
  }),
)

test.run()
