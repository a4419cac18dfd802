import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { installOrderedHeaders } from '../../src/kafka/ordered-headers.js'
import type { KafkaRecord } from '../../src/kafka/kafka-record.js'
import { runCli, type CliRun } from '../support/cli.js'
import { createTopic, produce, readTopic, uniqueName } from '../support/kafka.js'
import { withTimeout } from '../support/timeout.js'

installOrderedHeaders()

// Recent timestamps: the test broker's default retention (7 days) deletes older records, and dead letters keep their original timestamp.
const T = Date.now() - 3_600_000
const dir = mkdtempSync(join(tmpdir(), 'recover-e2e-quarantine-trust-'))

const header = (r: KafkaRecord, key: string) => r.headers.find((h) => h.key === key)?.value?.toString()
const ok = (run: CliRun) => assert.is(run.exitCode, 0, `${run.stdout}\n${run.stderr}`)

/** A topic of 2 partitions: 6 JSON orders and 4 poison pills (not JSON). */
async function ordersWithPills(): Promise<string> {
  const topic = uniqueName('orders')
  await createTopic(topic, 2)
  await produce(topic, [
    ...Array.from({ length: 6 }, (_, i) => ({ partition: i % 2, key: `ok-${i}`, value: `{"order":${i}}`, timestampMs: T + i })),
    ...Array.from({ length: 4 }, (_, i) => ({ partition: i % 2, key: `pill-${i}`, value: `{pill ${i}`, timestampMs: T + 10 + i, headers: { trace: `t-${i}` } })),
  ])
  return topic
}

function replayArgs(topic: string, extra: string[] = []): string[] {
  return ['replay', '--topic', topic, '--value-format', 'json', '--sink', `file:${join(dir, `${uniqueName('out')}.jsonl`)}`, '--checkpoint', join(dir, `${uniqueName('cp')}.json`), ...extra]
}

const reconciles = (totals: { read: number; written: number; dropped: number; quarantined: number }) => totals.read === totals.written + totals.dropped + totals.quarantined

test('the same replay run twice quarantines each poison pill once: the second run counts them as already quarantined, and both summaries reconcile; a dropped entry is quarantined anew', withTimeout(120_000, async () => {
  const topic = await ordersWithPills()
  const first = await runCli([...replayArgs(topic), '--json'])
  ok(first)
  assert.equal([first.json.totals.read, first.json.totals.quarantined, first.json.alreadyQuarantined], [10, 4, 0])
  const second = await runCli([...replayArgs(topic), '--json'])
  ok(second)
  const held = await readTopic(`${topic}.quarantine`)
  assert.equal(held.map((r) => r.key?.toString()).sort(), ['pill-0', 'pill-1', 'pill-2', 'pill-3'], 'each pill once')
  assert.equal([second.json.totals.read, second.json.totals.written, second.json.totals.quarantined, second.json.alreadyQuarantined], [10, 6, 4, 4])
  assert.ok(reconciles(first.json.totals) && reconciles(second.json.totals) && second.json.reconciled)

  const text = await runCli(replayArgs(topic))
  ok(text)
  assert.match(text.stdout, 'quarantined 4 (4 of them already in the quarantine from an earlier run, not written again)')

  // A dropped (handled) entry no longer counts: the pill is quarantined again, once.
  const list = await runCli(['quarantine', 'list', '--from', `kafka:${topic}.quarantine`, '--records', '10', '--json'])
  const pill0 = list.json.records.find((r: { key: string }) => r.key === 'pill-0').id
  ok(await runCli(['quarantine', 'drop', '--from', `kafka:${topic}.quarantine`, '--id', pill0, '--reason', 'test', '--execute', '--yes', '--json']))
  const afterDrop = await runCli([...replayArgs(topic), '--json'])
  ok(afterDrop)
  assert.equal([afterDrop.json.totals.quarantined, afterDrop.json.alreadyQuarantined], [4, 3])
  assert.is((await readTopic(`${topic}.quarantine`)).length, 5)
  assert.ok(held.every((r) => header(r, 'recover.source.cluster-id')), 'entries record the cluster they were read from')
}))

test.run()
