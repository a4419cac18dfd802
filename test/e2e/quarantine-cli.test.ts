import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { installOrderedHeaders } from '../../src/kafka/ordered-headers.js'
import { RangeReader } from '../../src/kafka/range-reader.js'
import type { KafkaRecord } from '../../src/kafka/kafka-record.js'
import { runCli } from '../support/cli.js'
import { createTopic, produce, uniqueName, withGateway } from '../support/kafka.js'
import { withTimeout } from '../support/timeout.js'
import { progressLineProblems } from '../support/progress-schema.js'

installOrderedHeaders()

// Recent timestamps: the test broker's default retention (7 days) deletes older records, and dead letters keep their original timestamp.
const T = Date.now() - 3_600_000
const dir = mkdtempSync(join(tmpdir(), 'recover-e2e-quarantine-'))

async function readTopic(name: string): Promise<KafkaRecord[]> {
  return withGateway(async (gateway) => {
    const reader = new RangeReader(gateway.kafka, gateway.settings, name)
    try {
      const facts = await reader.partitionFacts(await gateway.partitionsOf(name))
      const out: KafkaRecord[] = []
      for await (const chunks of reader.read(facts.map((f) => ({ partition: f.partition, start: f.logStart, end: f.stableEnd }))))
        for (const c of chunks) out.push(...c.records)
      return out
    } finally {
      await reader.close()
    }
  })
}

let topic = ''
let quarantine = ''

test.before(async () => {
  // A real quarantine, written by recover replay: 2 records are not JSON, one is.
  topic = uniqueName('orders')
  quarantine = `${topic}.quarantine`
  await createTopic(topic, 2)
  await produce(topic, [
    { partition: 0, key: 'a', value: '{"ok":1}', timestampMs: T, headers: { trace: 't-a' } },
    { partition: 0, key: 'b', value: '{broken', timestampMs: T + 1, headers: { trace: 't-b' } },
    { partition: 1, key: 'c', value: 'plain text', timestampMs: T + 2, headers: { trace: 't-c' } },
  ])
  const replayed = await runCli([
    'replay',
    '--topic',
    topic,
    '--value-format',
    'json',
    '--sink',
    `file:${join(dir, `${uniqueName('out')}.jsonl`)}`,
    '--checkpoint',
    join(dir, `${uniqueName('cp')}.json`),
    '--max-failure-rate',
    '0',
    '--json',
  ])
  assert.is(replayed.exitCode, 0, replayed.stderr)
  assert.is(replayed.json.totals.quarantined, 2)
})

test(
  'list --json groups the replay quarantine; --records gives positions; show --json decodes it',
  withTimeout(60_000, async () => {
    const list = await runCli(['quarantine', 'list', '--dlq', `kafka:${quarantine}`, '--records', '10', '--json'])
    assert.is(list.exitCode, 0, list.stderr)
    assert.is(list.json.scanned, 2)
    assert.equal(
      list.json.groups.map((g: { errorClass: string; stage: string; count: number; topics: string[] }) => [g.errorClass, g.stage, g.count, g.topics]),
      [['DecodeError', 'decode', 2, [topic]]],
    )
    assert.equal(list.json.records.map((r: { id: string; key: string }) => r.key).sort(), ['b', 'c'])
    const id = list.json.records.find((r: { key: string }) => r.key === 'c').id
    const shown = await runCli(['quarantine', 'show', id, '--dlq', `kafka:${quarantine}`, '--json'])
    assert.is(shown.exitCode, 0, shown.stderr)
    assert.is(shown.json.dialect, 'recover')
    assert.equal(shown.json.original, { topic, partition: 1, offset: '0' })
    assert.equal(shown.json.value, { format: 'string', value: 'plain text' })
    const text = await runCli(['quarantine', 'show', id, '--dlq', `kafka:${quarantine}`])
    assert.match(text.stdout, 'Stack:')
    assert.match(text.stdout, '* recover.error.class: DecodeError')
  }),
)

test(
  'redrive: a dry run by default, refused without a terminal or --yes (exit 4), then done with --execute --yes; the audit trail shows it in list',
  withTimeout(60_000, async () => {
    const from = ['--dlq', `kafka:${quarantine}`]
    const dry = await runCli(['quarantine', 'redrive', ...from, '--key', 'b', '--same-partition', '--json'])
    assert.is(dry.exitCode, 0, dry.stderr)
    assert.equal([dry.json.executed, dry.json.toRedrive], [false, 1])
    const refused = await runCli(['quarantine', 'redrive', ...from, '--key', 'b', '--execute', '--json'])
    assert.is(refused.exitCode, 4, `${refused.stdout}\n${refused.stderr}`)
    assert.is(refused.json.error.code, 'CONFIRMATION_REQUIRED')
    const before = (await readTopic(topic)).length
    const done = await runCli(['quarantine', 'redrive', ...from, '--key', 'b', '--same-partition', '--canary', '1', '--execute', '--yes', '--json'])
    assert.is(done.exitCode, 0, done.stderr)
    assert.equal([done.json.redriven, done.json.canary], [1, { records: 1, ok: true }])
    // Under --json its progress is NDJSON on stderr (docs/progress-events.md), the last record the final figures.
    const progress = done.stderr.split('\n').filter(Boolean)
    assert.equal(
      progress.flatMap((line) => progressLineProblems(line)),
      [],
    )
    assert.equal(JSON.parse(progress.at(-1)!), { ...JSON.parse(progress.at(-1)!), type: 'redrive-progress', redriven: 1, parked: 0, refused: 0 })
    const after = await readTopic(topic)
    assert.is(after.length, before + 1)
    const back = after.find((r) => r.headers.some((h) => h.key === 'recover.redrive-count'))!
    assert.equal([back.partition, back.key?.toString(), back.value?.toString(), back.timestampMs], [0, 'b', '{broken', T + 1])
    assert.equal(
      back.headers.map((h) => [h.key, h.value?.toString()]),
      [
        ['trace', 't-b'],
        ['recover.redrive-count', '1'],
      ],
    )
    const list = await runCli(['quarantine', 'list', ...from, '--json'])
    assert.equal(
      list.json.actions.map((a: { action: string; records: number }) => [a.action, a.records]),
      [['redrive', 1]],
    )
    assert.is(list.json.states.redriven, 1)
    const again = await runCli(['quarantine', 'redrive', ...from, '--key', 'b', '--execute', '--yes', '--json'])
    assert.equal([again.json.redriven, again.json.skipped.handled], [0, 1])
  }),
)

test(
  'drop needs --reason (exit 2) and is recorded; export writes a file that reads back; bad input gets clear errors',
  withTimeout(60_000, async () => {
    const from = ['--dlq', `kafka:${quarantine}`]
    const noReason = await runCli(['quarantine', 'drop', ...from, '--key', 'c', '--json'])
    assert.is(noReason.exitCode, 2)
    const dropped = await runCli(['quarantine', 'drop', ...from, '--key', 'c', '--reason', 'not an order', '--execute', '--yes', '--json'])
    assert.is(dropped.exitCode, 0, dropped.stderr)
    assert.is(dropped.json.dropped, 1, dropped.stdout)
    const file = join(dir, `${uniqueName('export')}.jsonl`)
    const exported = await runCli(['quarantine', 'export', ...from, '--output', file, '--json'])
    assert.equal([exported.exitCode, exported.json.exported], [0, 2])
    const fromFile = await runCli(['quarantine', 'list', '--dlq', `file:${file}`, '--json'])
    assert.is(fromFile.json.groups[0].count, 2)
    const missing = await runCli(['quarantine', 'list', '--dlq', `kafka:${uniqueName('no-such')}`, '--json'])
    assert.equal([missing.exitCode, missing.json.error.code], [2, 'TOPIC_NOT_FOUND'])
    const badUri = await runCli(['quarantine', 'list', '--dlq', 'orders', '--json'])
    assert.equal([badUri.exitCode, badUri.json.error.code], [2, 'BAD_QUARANTINE_URI'])
    const noFilter = await runCli(['quarantine', 'redrive', ...from, '--json'])
    assert.equal([noFilter.exitCode, noFilter.json.error.code], [2, 'NOTHING_SELECTED'])
    const help = await runCli(['quarantine', 'redrive', '--help'])
    assert.match(help.stdout, '--max-redrives')
    assert.match(help.stdout, 'EXAMPLES')
  }),
)

test.run()
