import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { parseOpenSearchLocation } from '../../src/core/opensearch-location.js'
import { LocationSyntaxError, redactUrl } from '../../src/core/location.js'
import { bulkItems, bulkRequests } from '../../src/sinks/opensearch-bulk.js'
import type { SinkRecord } from '../../src/sinks/sink.js'

const record = (offset: number, key: string | null, value: unknown): SinkRecord => ({
  key: key === null ? null : Buffer.from(key),
  value: null,
  decodedKey: key,
  decodedValue: value,
  headers: [],
  timestamp: 0,
  timestampType: 'create',
  source: { topic: 'orders', partition: 1, offset: BigInt(offset) },
})

test('document ids: the record key, TOPIC-PARTITION-OFFSET without one or with id=offset', () => {
  const records = [record(5, 'o-1', { a: 1 }), record(6, null, { a: 2 }), record(7, 'o-3', 'text')]
  const { items, rejected } = bulkItems(records, 'idx', { id: 'key', provenance: false })
  assert.equal(rejected, [])
  assert.equal(
    items.map((i) => i.id),
    ['o-1', 'orders-1-6', 'o-3'],
  )
  assert.is(items[2]!.text, '{"index":{"_index":"idx","_id":"o-3"}}\n{"value":"text"}\n')
  const byOffset = bulkItems(records, 'idx', { id: 'offset', provenance: true }).items
  assert.equal(
    byOffset.map((i) => i.id),
    ['orders-1-5', 'orders-1-6', 'orders-1-7'],
  )
  assert.is(byOffset[0]!.text.split('\n')[1], '{"a":1,"source_topic":"orders","source_partition":1,"source_offset":5}')
})

test('a tombstone deletes its key document; bytes and a tombstone without a key are refused with a reason', () => {
  const { items, rejected } = bulkItems([record(1, 'k', null), record(2, null, null), record(3, 'b', Buffer.from('x'))], 'idx', {
    id: 'key',
    provenance: false,
  })
  assert.equal(
    items.map((i) => i.text),
    ['{"delete":{"_index":"idx","_id":"k"}}\n'],
  )
  assert.equal(
    rejected.map((r) => r.index),
    [1, 2],
  )
  assert.match(rejected[1]!.error.message, '--value-format json')
})

test('bulk requests stay within the document and byte bounds, in order', () => {
  const { items } = bulkItems(
    Array.from({ length: 25 }, (_, i) => record(i, `k${i}`, { pad: 'x'.repeat(50) })),
    'idx',
    { id: 'key', provenance: false },
  )
  const byDocs = [...bulkRequests(items, { maxDocs: 10, maxBytes: 1e9 })]
  assert.equal(
    byDocs.map((r) => r.length),
    [10, 10, 5],
  )
  const size = Buffer.byteLength(items[0]!.text)
  const byBytes = [...bulkRequests(items, { maxDocs: 1000, maxBytes: size * 4 })]
  assert.ok(byBytes.every((r) => r.reduce((n, i) => n + Buffer.byteLength(i.text), 0) <= size * 4))
  assert.equal(
    byBytes.flat().map((i) => i.owner),
    items.map((i) => i.owner),
  )
})

test('locations: alias schemes, https, and secrets never in the display', () => {
  const l = parseOpenSearchLocation('elasticsearchs://u:p%40ss@h:9243/logs-2026?api_key=zzz'.replace('u:p%40ss@', ''))
  assert.is(l.node, 'https://h:9243')
  assert.equal(l.auth, { apiKey: 'zzz' })
  assert.ok(!l.display.includes('zzz'))
  const basic = parseOpenSearchLocation('opensearch://u:p%40ss@h:9200/logs')
  assert.equal(basic.auth, { username: 'u', password: 'p@ss' })
  assert.is(basic.display, 'opensearch://u:***@h:9200/logs')
  assert.is(redactUrl('opensearch://h/i?api_key=secret&id=key'), 'opensearch://h/i?api_key=***&id=key')
  for (const bad of ['opensearch://h:9200/', 'opensearch://h/UPPER', 'opensearch://h/i?id=field', 'opensearch://h/i?ca=/x.pem', 'opensearch://h/i?what=1']) {
    assert.throws(
      () => parseOpenSearchLocation(bad),
      (e: unknown) => e instanceof LocationSyntaxError,
      bad,
    )
  }
})

test.run()
