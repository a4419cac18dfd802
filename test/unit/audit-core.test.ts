import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { fieldAt, fieldPaths, keyText, parseKeySelector, recordKeyText } from '../../src/core/audit-key.js'
import { parseAuditSink, planSinkColumns } from '../../src/core/audit-sink.js'
import { contentHashes, murmur3 } from '../../src/core/content-hash.js'
import { COMPARE_METRICS, DUPLICATES_METRICS, evaluateFailOn, exceededThresholds, parseFailOn } from '../../src/core/fail-on.js'
import { RecoveryError } from '../../src/errors.js'

test('--key key means the record key; anything else is a value field path, value. optional', () => {
  assert.equal(parseKeySelector('key'), { kind: 'record-key' })
  assert.equal(parseKeySelector('order_id'), { kind: 'field', path: ['order_id'], display: 'order_id' })
  assert.equal(parseKeySelector('value.customer.id'), { kind: 'field', path: ['customer', 'id'], display: 'customer.id' })
})

test('record keys read as UTF-8, else as 0x-hex, and null stays null', () => {
  assert.is(recordKeyText(Buffer.from('ord-1')), 'ord-1')
  assert.is(recordKeyText(Buffer.from([0xff, 0x00])), '0xff00')
  assert.is(recordKeyText(null), null)
})

test('field values become key text: strings as they are, numbers in decimal, objects as JSON, null is no key', () => {
  assert.equal(fieldAt({ a: { b: 7 } }, ['a', 'b']), { found: true, value: 7 })
  assert.equal(fieldAt({ a: null }, ['a', 'b']), { found: false, value: undefined })
  assert.equal(fieldAt({ a: null }, ['a']), { found: true, value: null })
  assert.is(keyText('x'), 'x')
  assert.is(keyText(12), '12')
  assert.is(keyText(12345678901234567890n), '12345678901234567890')
  assert.is(keyText({ b: 1n }), '{"b":"1"}')
  assert.is(keyText(null), null)
  assert.equal(fieldPaths({ id: 1, customer: { id: 2, name: 'x' }, items: [1] }), ['id', 'customer', 'customer.id', 'customer.name', 'items'])
})

test('content hashes: equal bytes hash equal; headers change the record hash but not the value hash', () => {
  const v = Buffer.from('{"a":1}')
  const h1 = contentHashes(v, [{ key: 'trace', value: Buffer.from('1') }])
  const h2 = contentHashes(Buffer.from('{"a":1}'), [{ key: 'trace', value: Buffer.from('1') }])
  const h3 = contentHashes(v, [{ key: 'trace', value: Buffer.from('2') }])
  const h4 = contentHashes(v, [{ key: 'trace', value: null }])
  assert.is(String(h1.value), String(h2.value))
  assert.is(String(h1.record), String(h2.record))
  assert.is(String(h1.value), String(h3.value))
  assert.is.not(String(h1.record), String(h3.record))
  assert.is.not(String(h3.record), String(h4.record))
  assert.is(contentHashes(null, []).value, null)
  assert.is.not(String(contentHashes(null, []).record), String(contentHashes(Buffer.alloc(0), []).record))
})

test('murmur3 matches the reference vectors of MurmurHash3 x86_32', () => {
  assert.is(murmur3(Buffer.alloc(0), 0), 0)
  assert.is(murmur3(Buffer.alloc(0), 1), 0x514e28b7)
  assert.is(murmur3(Buffer.from([0xff, 0xff, 0xff, 0xff]), 0), 0x76293b50)
  assert.is(murmur3(Buffer.from([0x21, 0x43, 0x65, 0x87]), 0), 0xf55b516b)
  assert.is(murmur3(Buffer.from([0x21, 0x43, 0x65]), 0), 0x7e4a8634)
  assert.is(murmur3(Buffer.from('Hello, world!'), 0x9747b28c), 0x24884cba)
})

test('--fail-on reads METRIC>N and METRIC>=N and refuses unknown metrics and other shapes', () => {
  assert.equal(parseFailOn('duplicates>10, undecodable>=1', DUPLICATES_METRICS), [
    { metric: 'duplicates', op: '>', limit: 10 },
    { metric: 'undecodable', op: '>=', limit: 1 },
  ])
  assert.equal(parseFailOn('missing>0', COMPARE_METRICS), [{ metric: 'missing', op: '>', limit: 0 }])
  for (const bad of ['duplicates', 'duplicates<3', 'dupes>1', 'missing>0', '', 'duplicates>-1']) {
    try {
      parseFailOn(bad, DUPLICATES_METRICS)
      assert.unreachable(bad)
    } catch (error) {
      assert.instance(error, RecoveryError, bad)
      assert.is((error as RecoveryError).code, 'BAD_FAIL_ON')
    }
  }
})

test('thresholds are exceeded above the limit (or at it with >=), and only those are returned', () => {
  const t = parseFailOn('duplicates>2,changed>=1,undecodable>0', DUPLICATES_METRICS)
  assert.equal(exceededThresholds(t, { duplicates: 2, changed: 1, undecodable: 0 }), [{ metric: 'changed', op: '>=', limit: 1, actual: 1 }])
  assert.equal(
    exceededThresholds(t, { duplicates: 3 }).map((e) => e.metric),
    ['duplicates'],
  )
})

test('--fail-on records<N: a floor, in both audits; records>N and duplicates<N compare the wrong way and are refused with the metric list', () => {
  assert.equal(parseFailOn('records<1000', DUPLICATES_METRICS), [{ metric: 'records', op: '<', limit: 1000 }])
  assert.equal(parseFailOn('missing>0,records<=5', COMPARE_METRICS), [
    { metric: 'missing', op: '>', limit: 0 },
    { metric: 'records', op: '<=', limit: 5 },
  ])
  for (const bad of ['records>0', 'records>=1', 'duplicates<3']) {
    try {
      parseFailOn(bad, DUPLICATES_METRICS)
      assert.unreachable(bad)
    } catch (error) {
      assert.is((error as RecoveryError).code, 'BAD_FAIL_ON', bad)
      assert.match((error as RecoveryError).message, /records \(with < or <=\)/, bad)
    }
  }
  const t = parseFailOn('records<10', DUPLICATES_METRICS)
  assert.equal(exceededThresholds(t, { records: 9 }), [{ metric: 'records', op: '<', limit: 10, actual: 9 }])
  assert.equal(exceededThresholds(t, { records: 10 }), [])
})

test('an empty range never passes --fail-on: it counts as records<1, whatever the conditions', () => {
  const t = parseFailOn('duplicates>0', DUPLICATES_METRICS)
  assert.equal(evaluateFailOn(t, { records: 0, duplicates: 0 }), {
    conditions: ['duplicates>0'],
    exceeded: [{ metric: 'records', op: '<', limit: 1, actual: 0, implied: true }],
    passed: false,
  })
  assert.equal(evaluateFailOn(t, { records: 5, duplicates: 0 }), { conditions: ['duplicates>0'], exceeded: [], passed: true })
  // Named by the person: reported as written, not twice.
  assert.equal(evaluateFailOn(parseFailOn('records<3', DUPLICATES_METRICS), { records: 0 }).exceeded, [{ metric: 'records', op: '<', limit: 3, actual: 0 }])
})

test('sink URIs: PostgreSQL with its table (password redacted), DuckDB tables, Kafka topics and files by extension', () => {
  const pgSink = parseAuditSink('postgres://app:s3cret@db:5432/shop?table=public.orders&sslmode=disable')
  assert.equal(pgSink.kind === 'postgres' && [pgSink.table, pgSink.connection], ['public.orders', 'postgres://app:s3cret@db:5432/shop?sslmode=disable'])
  assert.not.match(pgSink.display, /s3cret/)
  assert.equal(parseAuditSink('duckdb:out/a.duckdb?table=t'), { kind: 'duckdb', path: 'out/a.duckdb', table: 't', display: 'duckdb:out/a.duckdb?table=t' })
  assert.equal(parseAuditSink('duckdb:a.duckdb#t').kind, 'duckdb')
  assert.equal(parseAuditSink('kafka:orders.fixed'), { kind: 'kafka', topic: 'orders.fixed', display: 'kafka:orders.fixed' })
  assert.equal(parseAuditSink('file:x.jsonl'), { kind: 'file', path: 'x.jsonl', format: 'jsonl', display: 'file:x.jsonl' })
  assert.equal(parseAuditSink('x.csv').kind === 'file' && (parseAuditSink('x.csv') as { format: string }).format, 'csv')
  assert.equal((parseAuditSink('/d/x.parquet') as { format: string }).format, 'parquet')
  for (const bad of ['postgres://db/shop', 'duckdb:a.duckdb', 'x.txt', 'mysql://db/x']) {
    try {
      parseAuditSink(bad)
      assert.unreachable(bad)
    } catch (error) {
      assert.is((error as RecoveryError).code, 'BAD_SINK_URI', bad)
    }
  }
})

test('sink columns: the key named like --key (or --sink-key), provenance found by name, the envelope recognised', () => {
  const field = { kind: 'field' as const, path: ['order_id'] }
  const plan = planSinkColumns(['ORDER_ID', 'source_partition', 'source_offset'], field)
  assert.equal(plan.key, { kind: 'column', path: ['ORDER_ID'] })
  assert.equal(plan.provenance, { partition: 'source_partition', offset: 'source_offset' })
  assert.is(planSinkColumns(['id', 'amount'], field, { sinkKey: 'id' }).provenance, null)
  assert.equal(planSinkColumns(['id', 'p', 'o'], field, { sinkKey: 'id', provenance: 'p,o' }).provenance, { partition: 'p', offset: 'o' })
  const envelope = ['v', 'topic', 'partition', 'offset', 'timestamp', 'key', 'value', 'headers', 'decoded']
  assert.equal(planSinkColumns(envelope, { kind: 'record-key' }).key, { kind: 'envelope-key' })
  assert.equal(planSinkColumns(envelope, field).key, { kind: 'envelope-field', path: ['order_id'] })
  assert.equal(planSinkColumns(envelope, field).provenance, { partition: 'partition', offset: 'offset' })
  try {
    planSinkColumns(['id', 'amount'], field)
    assert.unreachable()
  } catch (error) {
    assert.is((error as RecoveryError).code, 'UNKNOWN_KEY_FIELD')
    assert.match((error as RecoveryError).message, /it has id, amount/)
  }
})

test.run()
