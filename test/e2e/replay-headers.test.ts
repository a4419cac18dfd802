import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { KafkaRecord } from '../../src/kafka/kafka-record.js'
import { KafkaWriter } from '../../src/kafka/kafka-writer.js'
import { runCli } from '../support/cli.js'
import { createTopic, readTopic, uniqueName, withGateway } from '../support/kafka.js'
import { withTimeout } from '../support/timeout.js'

const dir = mkdtempSync(join(tmpdir(), 'recover-replay-headers-'))
const T = 1_521_590_400_000
const NO_KAFKA = { RECOVER_BROKERS: '127.0.0.1:1' }
const quarantineFile = () => join(dir, `${uniqueName('q')}.jsonl`)
const shown = (r: { headers: ReadonlyArray<{ key: string; value: Buffer | null }> }) =>
  r.headers.map((h) => [h.key, h.value === null ? null : h.value.toString('hex')])
const hex = (text: string) => Buffer.from(text).toString('hex')

/** A topic whose records carry the headers a replicated pipeline accumulates: tracing, debug, duplicates, binary, null. */
async function seed(topic: string, values: string[] = ['{"id":1}', '{"id":2}', '{"id":3}', '{"id":4}']): Promise<KafkaRecord[]> {
  await createTopic(topic, 2)
  await withGateway(async (gateway) => {
    const writer = await KafkaWriter.open(gateway, topic, { createPartitions: 2, idempotent: true, errorCode: 'SINK_FAILED', role: 'sink' })
    await writer.write(
      values.map((value, i) => ({
        sourcePartition: i % 2,
        key: Buffer.from(`k${i}`),
        value: Buffer.from(value),
        headers: [
          { key: 'x-b3-traceid', value: Buffer.from(`trace-${i}`) },
          { key: 'app-version', value: Buffer.from('1.6.0') },
          { key: 'x-debug', value: Buffer.from([0x00, 0xff]) },
          { key: 'app-version', value: Buffer.from('1.6.0-dup') },
          { key: 'x-b3-spanid', value: null },
          { key: 'tenant', value: Buffer.from([0xc3, 0x28]) },
        ],
        timestampMs: T + i,
      })),
    )
    await writer.close()
  })
  return readTopic(topic)
}

test(
  'a replay into Kafka adds recover.replayed-from=TOPIC/PARTITION@OFFSET by default; --no-provenance-headers writes the headers exactly as read',
  withTimeout(120_000, async () => {
    const topic = uniqueName('hdr-prov')
    const source = await seed(topic)
    const withProvenance = uniqueName('hdr-prov-out')
    const run = await runCli(['replay', '--topic', topic, '--sink', `kafka:${withProvenance}`, '--quarantine', quarantineFile(), '--json'])
    assert.is(run.exitCode, 0, run.stdout + run.stderr)
    const out = await readTopic(withProvenance)
    assert.is(out.length, source.length)
    for (const r of out) {
      const from = source.find((s) => s.key!.equals(r.key!))!
      assert.equal(shown(r), [...shown(from), ['recover.replayed-from', hex(`${topic}/${from.partition}@${from.offset}`)]])
    }

    const exact = uniqueName('hdr-exact-out')
    const plain = await runCli(['replay', '--topic', topic, '--sink', `kafka:${exact}`, '--no-provenance-headers', '--quarantine', quarantineFile(), '--json'])
    assert.is(plain.exitCode, 0, plain.stdout + plain.stderr)
    assert.equal((await readTopic(exact)).map(shown), source.map(shown))

    // A JSONL export keeps the position in its own fields: no provenance header, so it reads back byte for byte.
    const file = join(dir, `${uniqueName('export')}.jsonl`)
    assert.is((await runCli(['replay', '--topic', topic, '--sink', `file:${file}`, '--quarantine', quarantineFile()])).exitCode, 0)
    assert.not.match(readFileSync(file, 'utf8'), 'recover.replayed-from')
  }),
)

test(
  '--drop-header and --keep-header (globs) and --set-header change what Kafka and JSONL sinks get; order and repeats of the rest are kept',
  withTimeout(120_000, async () => {
    const topic = uniqueName('hdr-rules')
    const source = await seed(topic)
    const target = uniqueName('hdr-rules-out')
    const run = await runCli([
      'replay',
      '--topic',
      topic,
      '--sink',
      `kafka:${target}`,
      '--drop-header',
      'x-b3-*',
      '--drop-header',
      'x-debu?',
      '--set-header',
      'app-version=1.6.1',
      '--set-header',
      'replayed-by=incident-42',
      '--quarantine',
      quarantineFile(),
      '--json',
    ])
    assert.is(run.exitCode, 0, run.stdout + run.stderr)
    for (const r of await readTopic(target)) {
      const from = source.find((s) => s.key!.equals(r.key!))!
      assert.equal(shown(r), [
        ['tenant', 'c328'],
        ['app-version', hex('1.6.1')],
        ['replayed-by', hex('incident-42')],
        ['recover.replayed-from', hex(`${topic}/${from.partition}@${from.offset}`)],
      ])
    }

    const kept = join(dir, `${uniqueName('kept')}.jsonl`)
    const keep = await runCli([
      'replay',
      '--topic',
      topic,
      '--sink',
      `file:${kept}`,
      '--keep-header',
      'app-*',
      '--keep-header',
      'tenant',
      '--quarantine',
      quarantineFile(),
    ])
    assert.is(keep.exitCode, 0, keep.stdout + keep.stderr)
    const lines = readFileSync(kept, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    assert.is(lines.length, source.length)
    for (const e of lines) {
      assert.equal(
        e.headers.map((h: { key: string; value: string | null }) => [h.key, h.value]),
        [
          ['app-version', Buffer.from('1.6.0').toString('base64')],
          ['app-version', Buffer.from('1.6.0-dup').toString('base64')],
          ['tenant', Buffer.from([0xc3, 0x28]).toString('base64')],
        ],
      )
    }
  }),
)

test(
  'a dry run shows the headers as the sink would get them',
  withTimeout(60_000, async () => {
    const topic = uniqueName('hdr-dry')
    await seed(topic)
    const run = await runCli(['replay', '--topic', topic, '--dry-run', '--limit', '1', '--drop-header', 'x-*', '--set-header', 'app-version=1.6.1', '--json'])
    assert.is(run.exitCode, 0, run.stdout + run.stderr)
    assert.equal(
      run.json.sample[0].after[0].headers.map((h: { key: string; value: string | null }) => [h.key, h.value]),
      [
        ['tenant', Buffer.from([0xc3, 0x28]).toString('utf8')],
        ['app-version', '1.6.1'],
      ],
    )
    assert.equal(
      run.json.sample[0].before.headers.map((h: { key: string }) => h.key),
      ['x-b3-traceid', 'app-version', 'x-debug', 'app-version', 'x-b3-spanid', 'tenant'],
    )
  }),
)

test(
  'header rules leave the quarantine alone: a record that fails keeps its original headers there',
  withTimeout(120_000, async () => {
    const topic = uniqueName('hdr-q')
    await seed(topic, ['{"id":1}', '{broken'])
    const q = quarantineFile()
    const run = await runCli([
      'replay',
      '--topic',
      topic,
      '--value-format',
      'json',
      '--sink',
      `file:${join(dir, `${uniqueName('o')}.jsonl`)}`,
      '--drop-header',
      '*',
      '--quarantine',
      `file:${q}`,
      '--max-failure-rate',
      '0',
      '--json',
    ])
    assert.is(run.exitCode, 0, run.stdout + run.stderr)
    assert.equal([run.json.totals.written, run.json.totals.quarantined], [1, 1])
    const entry = JSON.parse(readFileSync(q, 'utf8').trim())
    assert.equal(
      entry.headers.slice(0, 6).map((h: { key: string }) => h.key),
      ['x-b3-traceid', 'app-version', 'x-debug', 'app-version', 'x-b3-spanid', 'tenant'],
    )
  }),
)

test(
  'quarantine redrive takes the same header flags; recover.redrive-count stays, so the loop guard cannot be dropped',
  withTimeout(120_000, async () => {
    const topic = uniqueName('hdr-redrive')
    await seed(topic, ['{broken'])
    const dlq = uniqueName('hdr-redrive-q')
    const replayed = await runCli([
      'replay',
      '--topic',
      topic,
      '--value-format',
      'json',
      '--sink',
      `file:${join(dir, `${uniqueName('o')}.jsonl`)}`,
      '--quarantine',
      `kafka:${dlq}`,
      '--max-failure-rate',
      '0',
    ])
    assert.is(replayed.exitCode, 0, replayed.stdout + replayed.stderr)
    const before = (await readTopic(topic)).length
    const done = await runCli([
      'quarantine',
      'redrive',
      '--dlq',
      `kafka:${dlq}`,
      '--all',
      '--same-partition',
      '--drop-header',
      'x-*',
      '--drop-header',
      'recover.*',
      '--set-header',
      'redriven-by=sre',
      '--execute',
      '--yes',
      '--json',
    ])
    assert.is(done.exitCode, 0, done.stdout + done.stderr)
    assert.is(done.json.redriven, 1)
    const after = await readTopic(topic)
    assert.is(after.length, before + 1)
    assert.equal(shown(after.at(-1)!), [
      ['app-version', hex('1.6.0')],
      ['app-version', hex('1.6.0-dup')],
      ['tenant', 'c328'],
      ['redriven-by', hex('sre')],
      ['recover.redrive-count', hex('1')],
    ])
  }),
)

test(
  'a malformed --set-header is refused before connecting (exit 2, BAD_HEADER_RULE), on replay and on redrive',
  withTimeout(60_000, async () => {
    for (const args of [
      ['replay', '--topic', 'orders', '--sink', 'kafka:x', '--set-header', 'no-equals-sign'],
      ['quarantine', 'redrive', '--dlq', 'kafka:orders.quarantine', '--all', '--set-header', '=v'],
    ]) {
      const run = await runCli([...args, '--json'], { env: NO_KAFKA })
      assert.equal([run.exitCode, run.json?.error?.code], [2, 'BAD_HEADER_RULE'], run.stdout + run.stderr)
      assert.match(run.json.error.message, /NAME=VALUE/)
    }
  }),
)

test.run()
