import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { parseMatchEdge, parsePredicate, type PredicateRecord } from '../../src/core/record-predicate.js'
import { RecoveryError } from '../../src/errors.js'

interface Fake {
  partition?: number
  offset?: bigint
  timestampMs?: number
  key?: string | null
  headers?: Array<[string, string | null]>
  value?: unknown
  text?: string | null
}

function record(f: Fake): PredicateRecord {
  return {
    partition: f.partition ?? 0,
    offset: f.offset ?? 0n,
    timestampMs: f.timestampMs ?? 0,
    key: () => f.key ?? null,
    headerValues: (name) => (f.headers ?? []).filter(([k]) => k === name).map(([, v]) => v),
    valueText: () => (f.text !== undefined ? f.text : f.value === undefined ? null : JSON.stringify(f.value)),
    decodedValue: () => f.value,
  }
}

const matches = (where: string, f: Fake, options = {}) => parsePredicate(where, options).test(record(f))

function failure(where: string): RecoveryError {
  try {
    parsePredicate(where)
  } catch (error) {
    assert.instance(error, RecoveryError)
    return error as RecoveryError
  }
  throw new Error(`expected ${where} to be refused`)
}

test('header equality with a bare word, as in the incident', () => {
  assert.ok(matches('header app-version = 1.6.0', { headers: [['app-version', '1.6.0']] }))
  assert.not.ok(matches('header app-version = 1.6.0', { headers: [['app-version', '1.5.9']] }))
  assert.not.ok(matches('header app-version = 1.6.0', { headers: [] }))
  // Any header of that name counts (headers may repeat).
  assert.ok(
    matches('header h = b', {
      headers: [
        ['h', 'a'],
        ['h', 'b'],
      ],
    }),
  )
  assert.ok(matches('header "with space" = x', { headers: [['with space', 'x']] }))
})

test('exists, and absent fields fail every comparison (also !=)', () => {
  assert.ok(matches('header trace exists', { headers: [['trace', null]] }))
  assert.not.ok(matches('header trace exists', { headers: [] }))
  assert.not.ok(matches('header trace != x', { headers: [] }))
  assert.ok(matches('not header trace exists', { headers: [] }))
  assert.ok(matches('key exists', { key: 'k' }))
  assert.not.ok(matches('key exists', { key: null }))
  assert.not.ok(matches('value.missing != 1', { value: { a: 1 } }))
  assert.ok(matches('value exists', { value: { a: 1 } }))
  assert.not.ok(matches('value exists', { text: null }))
})

test('keys: =, !=, contains, matches, ordering as text', () => {
  assert.ok(matches('key = ord-123', { key: 'ord-123' }))
  assert.ok(matches("key != 'ord-123'", { key: 'ord-124' }))
  assert.ok(matches('key contains 12', { key: 'ord-123' }))
  assert.ok(matches('key matches /^ord-\\d+$/', { key: 'ord-123' }))
  assert.not.ok(matches('key matches /^ORD/', { key: 'ord-123' }))
  assert.ok(matches('key matches /^ORD/i', { key: 'ord-123' }))
  assert.ok(matches('key < b', { key: 'a' }))
  assert.ok(matches('key >= "ord-100"', { key: 'ord-123' }))
})

test('value fields: nested, numbers as numbers, strings, booleans, null, arrays', () => {
  const value = { status: 'PAID', amount: 12.5, customer: { id: 'c-7', vip: true }, tags: ['a', 'b'], note: null, qty: '10' }
  assert.ok(matches('value.status = PAID', { value }))
  assert.ok(matches('value.status = "PAID"', { value }))
  assert.ok(matches('value.customer.id = c-7', { value }))
  assert.ok(matches('value.customer.vip = true', { value }))
  assert.not.ok(matches('value.customer.vip = "true"', { value }))
  assert.ok(matches('value.amount > 12', { value }))
  assert.ok(matches('value.amount <= 12.5', { value }))
  assert.not.ok(matches('value.amount < 9', { value }))
  // 9 < 10 as numbers, though "9" > "10" as text.
  assert.ok(matches('value.qty > 9', { value }))
  assert.ok(matches('value.tags contains b', { value }))
  assert.not.ok(matches('value.tags contains c', { value }))
  assert.ok(matches('value.note = null', { value }))
  assert.ok(matches('value contains PAID', { value }))
  assert.ok(matches('value.items.0.sku = x', { value: { items: [{ sku: 'x' }] } }))
})

test('and binds tighter than or, not tighter than and, parentheses group', () => {
  const f = { key: 'a', headers: [['v', '2']] as Array<[string, string]> }
  assert.ok(matches('key = a or key = b and header v = 1', f))
  assert.not.ok(matches('(key = a or key = b) and header v = 1', f))
  assert.ok(matches('not key = b and header v = 2', f))
  assert.not.ok(matches('not (key = a or key = b)', f))
  assert.ok(matches('KEY = a AND NOT header v = 3', f))
})

test('timestamps are read as times with --tz, and offset/partition as numbers', () => {
  const at = Date.parse('2018-03-21T00:00:00Z')
  assert.ok(matches('timestamp >= 2018-03-21T00:00', { timestampMs: at }))
  assert.not.ok(matches('timestamp > 2018-03-21T00:00', { timestampMs: at }))
  // 09:00 in Seoul is midnight UTC.
  assert.ok(matches('time = "2018-03-21 09:00"', { timestampMs: at }, { tz: 'Asia/Seoul' }))
  assert.ok(matches('timestamp > -2h', { timestampMs: 10_000_000 }, { now: 10_000_000 + 3_600_000 }))
  assert.ok(matches('partition = 2 and offset >= 1750', { partition: 2, offset: 1750n }))
  assert.not.ok(matches('offset < 1750', { offset: 1750n }))
})

test('JSON bytes without the literal skip decoding for = on a value field, and nothing else', () => {
  let decoded = 0
  const raw = (json: string): PredicateRecord => ({
    ...record({ value: JSON.parse(json) }),
    decodedValue: () => {
      decoded++
      return JSON.parse(json)
    },
    valueMayContain: (text) => json.includes(text) || json.includes('\\'),
  })
  const test = (where: string, json: string) => parsePredicate(where).test(raw(json))
  assert.not.ok(test('value.status = FAILED', '{"status":"PAID"}'))
  assert.is(decoded, 0, 'a value without FAILED in it is not decoded')
  assert.ok(test('value.status = FAILED', '{"status":"FAILED"}'))
  // An escape spells the text differently: decoded, and found.
  assert.ok(test('value.status = FAILED', '{"status":"F\\u0041ILED"}'))
  // Numbers written differently, != and contains always decode.
  assert.ok(test('value.amount = 1.0', '{"amount":1}'))
  assert.ok(test('value.status != X', '{"status":"PAID"}'))
  assert.ok(test('value.amount contains 1.', '{"amount":15e-1}'))
  assert.is(decoded, 5)
})

test('the predicate says whether values must be decoded', () => {
  assert.not.ok(parsePredicate('header a = 1 and value contains x and key exists').needsDecodedValue)
  assert.ok(parsePredicate('header a = 1 or value.status = x').needsDecodedValue)
})

test('syntax errors are BAD_PREDICATE with the column and the fix', () => {
  const missingOp = failure('header app-version 1.6.0')
  assert.is(missingOp.code, 'BAD_PREDICATE')
  assert.is(missingOp.exitCode, 2)
  assert.match(missingOp.message, /column 20/)
  assert.match(missingOp.message, /expected =, !=/)
  assert.is(missingOp.nextSteps[0], `header app-version 1.6.0\n${' '.repeat(19 + 4)}^`)

  assert.match(failure('colour = red').message, /unknown field "colour"; use key, header NAME/)
  assert.match(failure('key = "open').message, /column 7: the string starting with " is not closed/)
  assert.match(failure('(key = a').message, /expected \) to close the \( at column 1/)
  assert.match(failure('key = a b').message, /column 9: expected and, or or the end/)
  assert.match(failure('key =').message, /expected a value to compare key with/)
  assert.match(failure('key matches /[/').message, /not valid/)
  assert.match(failure('key matches abc').message, /expected a regular expression after matches/)
  assert.match(failure('timestamp > yesterday').message, /the time "yesterday" cannot be read/)
  assert.match(failure('timestamp contains 1').message, /contains does not apply to timestamp/)
  assert.match(failure('offset > abc').message, /offset is compared with a whole number/)
  assert.match(failure('').message, /is empty/)
  assert.match(failure('key ! a').message, /a lone ! is not an operator/)
  assert.match(failure('value..a = 1').message, /empty field name/)
})

test('first-match: and last-match: specs are recognised and their predicate checked', () => {
  assert.equal(parseMatchEdge('first-match:header v = 2', '--to'), { edge: 'first', where: 'header v = 2' })
  assert.equal(parseMatchEdge('last-match:key = a', '--to'), { edge: 'last', where: 'key = a' })
  assert.is(parseMatchEdge('2018-03-21T00:00', '--to'), undefined)
  try {
    parseMatchEdge('first-match:key', '--to')
    assert.unreachable('a bad predicate must be refused')
  } catch (error) {
    assert.is((error as RecoveryError).code, 'BAD_PREDICATE')
    assert.match((error as RecoveryError).message, /^Cannot read --to first-match: at column 4/)
  }
})

test.run()
