import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readAuditTrail } from '../../src/quarantine/audit-trail.js'
import { originalHeaders, readFailureContext } from '../../src/quarantine/dialects.js'
import { quarantineHeaders } from '../../src/quarantine/quarantine.js'
import { rangeScope, recordsScope, sourceKey } from '../../src/quarantine/quarantined-sources.js'
import type { KafkaRecord } from '../../src/kafka/kafka-record.js'

const T = Date.parse('2018-03-21T00:00:00Z')
const record: KafkaRecord = {
  topic: 'orders',
  partition: 2,
  offset: 1952n,
  timestampMs: T,
  timestampType: 'create',
  key: Buffer.from('ord-1'),
  value: Buffer.from('{bad'),
  headers: [{ key: 'trace', value: Buffer.from('t-1') }],
}
const cluster = { id: '4L6g3nShT-eMCtK--X86sw', bootstrap: ['kafka-1:9092', 'kafka-2:9092'], source: '--brokers' }

test('a dead letter recover writes records the cluster it was read from; a redrive strips it with the other context headers', () => {
  const headers = quarantineHeaders({ record, stage: 'decode', error: new Error('not json') }, new Date(T), cluster)
  assert.equal(readFailureContext(headers, T).sourceCluster, { id: cluster.id, bootstrap: cluster.bootstrap })
  assert.equal(
    originalHeaders(headers, 'recover').map((h) => h.key),
    ['trace'],
  )
  assert.is(
    readFailureContext(quarantineHeaders({ record, stage: 'decode', error: new Error('x') }, new Date(T)), T).sourceCluster,
    undefined,
    'older entries record none',
  )
})

test('a source record is known by topic, partition, offset and timestamp; scopes hold exactly a range or the records in hand', () => {
  assert.is(sourceKey(record), sourceKey({ topic: 'orders', partition: 2, offset: 1952n, timestampMs: T }))
  assert.is.not(sourceKey(record), sourceKey({ ...record, timestampMs: T + 1 }), 'a recreated topic reuses offsets for other records')
  assert.is.not(sourceKey(record), sourceKey({ ...record, partition: 3 }))
  const range = rangeScope('orders', [{ partition: 2, start: 1900n, end: 1953n }])
  assert.equal(
    [
      range.includes('orders', 2, 1952n),
      range.includes('orders', 2, 1953n),
      range.includes('orders', 1, 1952n),
      range.includes('payments', 2, 1952n),
      range.includes('orders', 2, 1899n),
    ],
    [true, false, false, false, false],
  )
  const inHand = recordsScope([record])
  assert.equal([inHand.includes('orders', 2, 1952n), inHand.includes('orders', 2, 1951n)], [true, false])
})

test('the audit trail counts the redrives of each dead letter, and keeps the count when compaction leaves only the latest entries', () => {
  const dir = mkdtempSync(join(tmpdir(), 'recover-trail-'))
  const lines = (path: string, entries: Array<{ key: string; value: unknown }>) => writeFileSync(path, entries.map((e) => `${JSON.stringify(e)}\n`).join(''))
  const state = (id: string, outcome: string, redrives?: number) => ({
    key: `record:${id}`,
    value: { id, action: 'redrive', outcome, actionId: 'a', at: '2026-12-06T00:00:00Z', by: 'x', ...(redrives === undefined ? {} : { redrives }) },
  })
  // Before recover recorded counts: every redriven state in the log counts.
  lines(join(dir, 'old.audit.jsonl'), [state('0@0', 'redriven'), state('0@0', 'redriven'), state('0@1', 'parked')])
  // Compacted: only the latest state (a drop, after three redrives) and the count are left.
  lines(join(dir, 'compacted.audit.jsonl'), [
    { key: 'redrives:0@0', value: { id: '0@0', count: 3 } },
    { key: 'record:0@0', value: { ...state('0@0', 'dropped').value, action: 'drop' } },
  ])
  return Promise.all([
    readAuditTrail({ kind: 'file', path: join(dir, 'old.jsonl') }, undefined).then((t) => assert.equal([...t.redrives], [['0@0', 2]])),
    readAuditTrail({ kind: 'file', path: join(dir, 'compacted.jsonl') }, undefined).then((t) => {
      assert.equal([...t.redrives], [['0@0', 3]])
      assert.is(t.states.get('0@0')?.outcome, 'dropped')
    }),
  ]).then(() => undefined)
})

test.run()
