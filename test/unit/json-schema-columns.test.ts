import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { declaredFieldTypes } from '../../src/codecs/json-schema-columns.js'
import type { SinkRecord } from '../../src/sinks/sink.js'
import { inferColumns } from '../../src/sinks/value-columns.js'

const ORDER = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    amount: { type: 'number' },
    qty: { type: ['integer', 'null'] },
    paid: { type: 'boolean' },
    placedAt: { type: 'string', format: 'date-time' },
    shipTo: { $ref: 'address.json' },
    tags: { type: 'array' },
    note: { type: 'string' },
  },
}

const record = (value: Record<string, unknown>, offset = 0): SinkRecord => ({
  key: null,
  value: null,
  decodedKey: null,
  decodedValue: value,
  headers: [],
  timestamp: 0,
  timestampType: 'create',
  source: { topic: 'orders', partition: 0, offset: BigInt(offset) },
})

test('declaredFieldTypes: integer, number, boolean, date-time, array; a $ref and a disagreement declare nothing', () => {
  const v2 = { ...ORDER, properties: { ...ORDER.properties, note: { type: 'integer' }, currency: { type: 'string' } } }
  const declared = declaredFieldTypes([
    { schema: ORDER, label: 'v1' },
    { schema: v2, label: 'v2' },
  ])
  assert.equal(Object.fromEntries(declared), {
    id: 'text',
    amount: 'double',
    qty: 'bigint',
    paid: 'boolean',
    placedAt: 'timestamp',
    tags: 'json',
    currency: 'text',
  })
})

test('inferColumns with declared types: whole numbers of a number field are double, date-time strings a timestamp, an absent field gets its column; values that disagree decide', () => {
  const declared = declaredFieldTypes([{ schema: ORDER, label: 'order' }])
  const records = [record({ id: 'o-1', amount: 5, qty: 1, placedAt: '2026-12-07T08:00:00Z', note: 'x', tags: [] }, 0)]
  const typed = Object.fromEntries(inferColumns(records, ['id'], 'fields', declared).map((c) => [c.name, c.type]))
  assert.equal(typed, {
    id: 'text',
    amount: 'double',
    qty: 'bigint',
    placedAt: 'timestamp',
    note: 'text',
    tags: 'json',
    paid: 'boolean',
    source_topic: 'text',
    source_partition: 'bigint',
    source_offset: 'bigint',
  })
  // A date-time field holding text that is no date, and a number field holding a string: the values decide.
  const odd = [record({ id: 'o-2', amount: 'n/a', placedAt: 'soon' })]
  const inferred = Object.fromEntries(inferColumns(odd, ['id'], 'fields', declared).map((c) => [c.name, c.type]))
  assert.is(inferred.placedAt, 'text')
  assert.is(inferred.amount, 'text')
  // Without declared types, the values alone: a whole number is bigint, a date-time string text.
  const plain = Object.fromEntries(inferColumns(records, ['id'], 'fields').map((c) => [c.name, c.type]))
  assert.equal([plain.amount, plain.placedAt, plain.paid], ['bigint', 'text', undefined])
})

test.run()
