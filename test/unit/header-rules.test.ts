import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { compileHeaderRules, headerGlob, noHeaderRules, parseHeaderRules, REPLAYED_FROM_HEADER } from '../../src/core/header-rules.js'
import { parseReplaySource } from '../../src/core/location.js'
import { RecoveryError } from '../../src/errors.js'

const h = (key: string, value: string | null) => ({ key, value: value === null ? null : Buffer.from(value) })
const shown = (headers: ReadonlyArray<{ key: string; value: Buffer | null }>) => headers.map((x) => `${x.key}=${x.value === null ? '∅' : x.value.toString()}`)
const at = { topic: 'orders', partition: 2, offset: 1750n }
const rules = (flags: { drop?: string[]; keep?: string[]; set?: string[]; provenance?: boolean }) =>
  compileHeaderRules(parseHeaderRules({ ...flags, provenance: flags.provenance ?? false }))

function refusal(run: () => unknown): RecoveryError {
  try {
    run()
  } catch (error) {
    if (error instanceof RecoveryError) return error
    throw error
  }
  throw new Error('expected a refusal')
}

test('header globs: * and ? over the whole name, case-sensitive, regex characters literal', () => {
  assert.ok(headerGlob('x-b3-*')('x-b3-traceid'))
  assert.ok(headerGlob('x-b3-*')('x-b3-'))
  assert.not.ok(headerGlob('x-b3-*')('my-x-b3-id'))
  assert.ok(headerGlob('trace?')('trace1'))
  assert.not.ok(headerGlob('trace?')('trace12'))
  assert.not.ok(headerGlob('Trace')('trace'))
  assert.ok(headerGlob('a.b')('a.b'))
  assert.not.ok(headerGlob('a.b')('axb'))
  assert.ok(headerGlob('*')('anything'))
  assert.ok(headerGlob('(x)+')('(x)+'))
})

test('drop keeps the rest in order, duplicates and null values included', () => {
  const apply = rules({ drop: ['x-debug-*', 'secret'] })
  const input = [h('a', '1'), h('x-debug-1', 'd'), h('a', '2'), h('n', null), h('secret', 's'), h('a', '3')]
  assert.equal(shown(apply(input, at)), ['a=1', 'a=2', 'n=∅', 'a=3'])
  // The input list is not changed: the quarantine keeps the original headers.
  assert.is(input.length, 6)
})

test('keep keeps only matching names, after drop', () => {
  const apply = rules({ keep: ['app-*', 'trace'], drop: ['app-debug'] })
  assert.equal(shown(apply([h('trace', 't'), h('app-version', '1.6.0'), h('x', 'y'), h('app-debug', 'on'), h('app-version', '1.6.1')], at)), [
    'trace=t',
    'app-version=1.6.0',
    'app-version=1.6.1',
  ])
})

test('set replaces every header of that name with one at the end; the last --set-header of a name wins; NAME= is empty', () => {
  const apply = rules({ set: ['app-version=1.6.1', 'marker=', 'app-version=2.0'] })
  assert.equal(shown(apply([h('app-version', '1.6.0'), h('x', '1'), h('app-version', '1.5')], at)), ['x=1', 'app-version=2.0', 'marker='])
  // A value with = in it keeps everything after the first =.
  assert.equal(shown(rules({ set: ['q=a=b'] })([], at)), ['q=a=b'])
})

test('provenance: recover.replayed-from = TOPIC/PARTITION@OFFSET, last, once; a --set-header of that name wins', () => {
  const apply = rules({ provenance: true })
  assert.equal(shown(apply([h('a', '1'), h(REPLAYED_FROM_HEADER, 'old/0@1')], at)), ['a=1', `${REPLAYED_FROM_HEADER}=orders/2@1750`])
  assert.equal(shown(rules({ provenance: true, set: [`${REPLAYED_FROM_HEADER}=by-hand`] })([], at)), [`${REPLAYED_FROM_HEADER}=by-hand`])
  // A set header survives --keep-header: it is added after the filters.
  assert.equal(shown(rules({ keep: ['nothing'], set: ['k=v'], provenance: true })([h('a', '1')], at)), ['k=v', `${REPLAYED_FROM_HEADER}=orders/2@1750`])
})

test('binary header values pass through untouched', () => {
  const value = Buffer.from([0x00, 0xff, 0xfe, 0x80])
  const out = rules({ drop: ['other'] })([{ key: 'bin', value }], at)
  assert.ok(out[0]!.value!.equals(value))
})

test('no rules: nothing to do', () => {
  assert.ok(noHeaderRules(undefined))
  assert.ok(noHeaderRules(parseHeaderRules({ provenance: false })))
  assert.not.ok(noHeaderRules(parseHeaderRules({ provenance: true })))
})

test('malformed header flags are refused with how to write them', () => {
  const noEquals = refusal(() => parseHeaderRules({ set: ['app-version'], provenance: false }))
  assert.is(noEquals.code, 'BAD_HEADER_RULE')
  assert.match(noEquals.message, /NAME=VALUE/)
  assert.is(refusal(() => parseHeaderRules({ set: ['=v'], provenance: false })).code, 'BAD_HEADER_RULE')
  assert.is(refusal(() => parseHeaderRules({ drop: [''], provenance: false })).code, 'BAD_HEADER_RULE')
})

test('--source takes the JSONL envelope (plain or gzip) and kafka:TOPIC; CSV, Parquet, JSON and zstd are refused with the fix', () => {
  assert.equal(parseReplaySource('file:orders.jsonl'), { kind: 'file', path: 'orders.jsonl', format: 'jsonl', display: 'file:orders.jsonl' })
  assert.is(parseReplaySource('orders.ndjson').kind, 'file')
  assert.is(parseReplaySource('file:orders.jsonl.gz').kind, 'file')
  assert.equal(parseReplaySource('kafka:orders'), { kind: 'kafka', topic: 'orders', display: 'kafka:orders' })
  const csv = refusal(() => parseReplaySource('file:orders.csv'))
  assert.is(csv.code, 'BAD_SOURCE')
  assert.match(csv.message, /CSV keeps no headers.*replay --sink file:X\.jsonl/)
  assert.is(refusal(() => parseReplaySource('file:orders.parquet')).code, 'BAD_SOURCE')
  assert.match(refusal(() => parseReplaySource('file:orders.json')).message, /JSON Lines.*jq -c/)
  assert.match(refusal(() => parseReplaySource('file:orders.jsonl.zst')).message, /zstd -d/)
  assert.match(refusal(() => parseReplaySource('file:orders.txt')).message, /only \.jsonl/)
  assert.match(refusal(() => parseReplaySource('postgres://u@h/db?table=t')).message, /cannot read postgres/)
})

test.run()
