import fc from 'fast-check'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { decodeJson } from '../../src/codecs/json-codec.js'
import { JsonCopyText, jsonCopyPlan } from '../../src/sinks/json-copy-text.js'
import { copyConverter, keyId } from '../../src/sinks/postgres-sink.js'
import type { SinkRecord } from '../../src/sinks/sink.js'
import { rowWriter } from '../../src/sinks/value-columns.js'

// The direct path (JSON bytes straight to COPY text) must write exactly what the general path
// (JSON.parse, then the column converters) writes, or decline the value.

const COLUMNS = [
  { name: 'order_id', type: 'text' },
  { name: 'amount', type: 'bigint' },
  { name: 'price', type: 'double precision' },
  { name: 'ok', type: 'boolean' },
  { name: 'at', type: 'timestamp with time zone' },
  { name: 'doc', type: 'jsonb' },
  { name: 'naïve', type: 'text' },
  { name: 'source_topic', type: 'text' },
  { name: 'source_partition', type: 'bigint' },
  { name: 'source_offset', type: 'bigint' },
]
const SOURCE = { topic: 'orders.v1', partition: 3, offset: 9_007_199_254_740_993n }

function general(value: Buffer, keyAt: number[]): { line: string; key: string | undefined } | 'declined' {
  let decoded: unknown
  try {
    decoded = decodeJson(value)
  } catch {
    return 'declined'
  }
  const write = rowWriter(
    COLUMNS.map((c) => c.name),
    false,
    COLUMNS.map((c) => copyConverter(c.type)),
  )
  const row = new Array<string>(COLUMNS.length)
  const record: SinkRecord = {
    key: null,
    value,
    decodedKey: null,
    decodedValue: decoded,
    headers: [],
    timestamp: 0,
    timestampType: 'create',
    source: SOURCE,
  }
  try {
    write(record, row)
  } catch {
    return 'declined'
  }
  return { line: row.join('\t'), key: keyId(keyAt)(row) }
}

function direct(value: Buffer, keyAt: number[]): { line: string; key: string | undefined } | 'declined' {
  const text = new JsonCopyText(jsonCopyPlan(COLUMNS, keyAt), 16)
  const line = text.append(value, SOURCE.topic, SOURCE.partition, SOURCE.offset)
  if (line < 0) return 'declined'
  return { line: text.lineText(line), key: text.keys[line] }
}

/** Strings the direct path takes: no escapes, no control characters (any other Unicode is fine). */
const plainString = fc.string({ unit: 'grapheme', maxLength: 12 }).filter((s) => !/[\\"\u0000-\u001f]/.test(s))
const plainValue = fc.oneof(plainString, fc.integer(), fc.maxSafeInteger(), fc.boolean(), fc.constant(null))
const fieldNames = ['order_id', 'amount', 'price', 'ok', 'naïve']
const space = fc.constantFrom('', ' ', '\n', '\t ', '\r\n')

/** A flat object of the table's columns with plain values, written with arbitrary spacing. */
const plainObject = fc
  .tuple(fc.uniqueArray(fc.constantFrom(...fieldNames), { maxLength: fieldNames.length }), fc.array(plainValue, { minLength: 5, maxLength: 5 }), space, space)
  .map(([names, values, a, b]) => `${a}{${names.map((n, i) => `${b}${JSON.stringify(n)}${a}:${b}${JSON.stringify(values[i])}`).join(`${a},`)}${b}}${a}`)

test('a flat object of plain values is taken, and its line and key are the general path’s', () => {
  fc.assert(
    fc.property(plainObject, fc.constantFrom<number[]>([0], [1], [0, 1], [7, 9]), (json, keyAt) => {
      const value = Buffer.from(json, 'utf8')
      const d = direct(value, keyAt)
      assert.not.equal(d, 'declined', json)
      assert.equal(d, general(value, keyAt), json)
    }),
    { numRuns: 2000 },
  )
})

/** Any JSON value, including escapes, floats, big integers, nesting, duplicate and unknown fields. */
const anyJson = fc.oneof(
  fc.json({ maxDepth: 2 }),
  fc
    .tuple(
      fc.array(
        fc.tuple(fc.constantFrom(...fieldNames, 'doc', 'at', 'extra', 'source_topic'), fc.oneof(fc.jsonValue({ maxDepth: 1 }), fc.double(), fc.string())),
        {
          maxLength: 7,
        },
      ),
      space,
    )
    .map(([fields, a]) => `{${fields.map(([n, v]) => `${JSON.stringify(n)}:${a}${JSON.stringify(v) ?? 'null'}`).join(',')}}`),
  fc.constantFrom('{"amount": 12345678901234567}', '{"amount": -0}', '{"price": 1.50}', '{"price": 1e21}', '{"amount": 1E3}', '{"at": 1700000000000}'),
)

test('whatever the JSON, the direct path writes the general path’s line or declines', () => {
  fc.assert(
    fc.property(anyJson, fc.constantFrom<number[]>([0], [1], [0, 1]), (json, keyAt) => {
      const value = Buffer.from(json, 'utf8')
      const d = direct(value, keyAt)
      if (d !== 'declined') assert.equal(d, general(value, keyAt), json)
    }),
    { numRuns: 3000 },
  )
})

test('bytes that are not JSON, or not UTF-8, are declined (the general path classifies them)', () => {
  fc.assert(
    fc.property(plainObject, fc.nat(), fc.integer({ min: 0, max: 255 }), (json, at, byte) => {
      const bytes = Buffer.from(json, 'utf8')
      if (bytes.length === 0) return
      const broken = Buffer.from(bytes)
      broken[at % broken.length] = byte
      for (const value of [broken, bytes.subarray(0, at % bytes.length)]) {
        const d = direct(value, [0])
        if (d !== 'declined') assert.equal(d, general(value, [0]), value.toString('latin1'))
      }
    }),
    { numRuns: 3000 },
  )
  for (const value of ['{"order_id": "a\\u0041"}', '{"order_id": "a', '{"order_id": 1,}', '{"order_id": 01}', '[1]', '"x"', '{"doc": {"a": 1}}', '\ufeff{}']) {
    assert.is(direct(Buffer.from(value, 'utf8'), [0]), 'declined', value)
  }
  assert.is(direct(Buffer.from([0x7b, 0x22, 0x6f, 0x22, 0x3a, 0x22, 0xc3, 0x22, 0x7d]), [0]), 'declined', 'a cut UTF-8 sequence')
})

test('lines follow each other in one buffer; a run of them is one view', () => {
  const text = new JsonCopyText(jsonCopyPlan(COLUMNS, [0]), 8)
  const a = text.append(Buffer.from('{"order_id":"a","amount":1}'), 't', 0, 1n)
  const b = text.append(Buffer.from('{"order_id":"é","amount":2,"ok":true,"at":"2026-12-07T00:00:00Z"}'), 't', 0, 2n)
  assert.is(text.append(Buffer.from('{"order_id":"c","extra":1}'), 't', 0, 3n), -1)
  assert.equal([a, b], [0, 1])
  assert.is(text.bytes(0, 2).toString('utf8'), `a\t1\t\\N\t\\N\t\\N\t\\N\t\\N\tt\t0\t1\né\t2\t\\N\ttrue\t2026-12-07T00:00:00Z\t\\N\t\\N\tt\t0\t2\n`)
  assert.equal(text.keys, ['a', 'é'])
})

test.run()
