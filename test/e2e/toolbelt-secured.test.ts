import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { LOCAL_SASL_USERS } from '../../src/local-kafka/index.js'
import { runCli } from '../support/cli.js'
import { commitOffsets, createTopic, produce, readTopic, uniqueName } from '../support/kafka.js'
import { withTimeout } from '../support/timeout.js'

/**
 * The incident toolbelt through the SASL (SCRAM-SHA-512) listener only: RECOVER_BROKERS points
 * nowhere, so every answer below came through the client config Kafka's own tools would read.
 */
const saslBrokers = process.env.RECOVER_TEST_SASL_BROKERS
const dir = mkdtempSync(join(tmpdir(), 'recover-toolbelt-sasl-'))
const { scram512 } = LOCAL_SASL_USERS

const T0 = Date.UTC(2018, 2, 21)
const N = 40
// Release 1.6.0 wrote offsets 10..29 of each partition.
const releaseOf = (i: number) => (i >= 10 && i < 30 ? '1.6.0' : '1.5.9')

let config: string
let topic: string

const secured = (args: string[]) => runCli([...args, '--client-config', config], { env: { RECOVER_BROKERS: '127.0.0.1:1' }, timeoutMs: 60_000 })

test.before(
  withTimeout(60_000, async () => {
    if (!saslBrokers) throw new Error('RECOVER_TEST_SASL_BROKERS is not set: run through npm test')
    config = join(dir, 'client.properties')
    writeFileSync(
      config,
      [
        `bootstrap.servers=${saslBrokers}`,
        'security.protocol=SASL_PLAINTEXT',
        'sasl.mechanism=SCRAM-SHA-512',
        `sasl.username=${scram512.username}`,
        `sasl.password=${scram512.password}`,
        '',
      ].join('\n'),
    )
    topic = uniqueName('toolbelt-sasl')
    await createTopic(topic, 2)
    await produce(
      topic,
      Array.from({ length: 2 * N }, (_, j) => {
        const i = Math.floor(j / 2)
        return {
          partition: j % 2,
          key: `ord-${j}`,
          value: JSON.stringify({ n: j }),
          timestampMs: T0 + j * 1000,
          headers: { 'app-version': releaseOf(i) },
        }
      }),
    )
  }),
)

test(
  'peek by offset, key, header and tail, and topics describe, answer through SASL',
  withTimeout(120_000, async () => {
    const at = await secured(['peek', '-t', topic, '--at', 'offset:12', '-p', '1', '-n', '1', '--json'])
    assert.is(at.exitCode, 0, at.stderr)
    assert.equal(
      at.json.records.map((r: { partition: number; offset: string; key: { value: string } }) => [r.partition, r.offset, r.key.value]),
      [[1, '12', 'ord-25']],
    )
    const byKey = await secured(['peek', '-t', topic, '--key', 'ord-7', '--json'])
    assert.is(byKey.exitCode, 0, byKey.stderr)
    assert.equal(
      byKey.json.records.map((r: { value: { value: unknown } }) => r.value.value),
      [{ n: 7 }],
    )
    assert.is(byKey.json.scanned, 2 * N)
    const byHeader = await secured(['peek', '-t', topic, '--header', 'app-version=1.6.0', '-n', '100', '--json'])
    assert.is(byHeader.json.matched, 40)
    const tail = await secured(['peek', '-t', topic, '--tail', '2', '--json'])
    assert.equal(tail.json.records.map((r: { partition: number; offset: string }) => `${r.partition}@${r.offset}`).sort(), ['0@38', '0@39', '1@38', '1@39'])
    const described = await secured(['topics', 'describe', '-t', topic, '--json'])
    assert.is(described.exitCode, 0, described.stderr)
    assert.equal(JSON.stringify(described.json).includes('"40"'), true, 'the log end offsets (40) are reported')
  }),
)

test(
  'find, seek --to first-match, groups describe and replay out and back in through SASL',
  withTimeout(180_000, async () => {
    const found = await secured(['find', '-t', topic, '--where', 'header app-version = 1.6.0', '--json'])
    assert.is(found.exitCode, 0, found.stderr)
    assert.equal(
      found.json.partitions.map((p: { partition: number; matches: number; first: { offset: string }; last: { offset: string } }) => [
        p.partition,
        p.matches,
        p.first.offset,
        p.last.offset,
      ]),
      [
        [0, 20, '10', '29'],
        [1, 20, '10', '29'],
      ],
    )
    const group = uniqueName('toolbelt-sasl-g')
    await commitOffsets(group, topic, [
      { partition: 0, offset: 35 },
      { partition: 1, offset: 35 },
    ])
    const lag = await secured(['groups', 'describe', '-g', group, '--json'])
    assert.is(lag.exitCode, 0, lag.stderr)
    assert.ok(JSON.stringify(lag.json).includes(topic), lag.stdout)
    const plan = await secured(['seek', '-g', group, '-t', topic, '--to', 'first-match:header app-version = 1.6.0', '--json'])
    assert.is(plan.exitCode, 0, plan.stderr)
    assert.match(JSON.stringify(plan.json), /"10"/)

    const file = join(dir, 'export.jsonl')
    const out = await secured(['replay', '-t', topic, '--sink', `file:${file}`, '--json'])
    assert.is(out.exitCode, 0, out.stderr)
    assert.is(readFileSync(file, 'utf8').trim().split('\n').length, 2 * N)
    const restored = uniqueName('toolbelt-sasl-restored')
    await createTopic(restored, 2)
    const back = await secured(['replay', '--source', `file:${file}`, '--sink', `kafka:${restored}`, '--drop-header', 'app-*', '--json'])
    assert.is(back.exitCode, 0, back.stderr)
    const records = await readTopic(restored)
    assert.is(records.length, 2 * N)
    for (const r of records)
      assert.equal(
        r.headers.map((h) => h.key),
        ['recover.replayed-from'],
      )
  }),
)

test.run()
