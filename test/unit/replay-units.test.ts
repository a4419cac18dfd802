import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { envelopeLine, parseEnvelopeLine, EnvelopeError } from '../../src/files/envelope.js'
import { initialProgress, reduceProgress } from '../../src/core/replay-progress.js'
import { RateLimiter } from '../../src/core/rate-limiter.js'
import { CommitPacer } from '../../src/core/commit-pacer.js'
import { quarantineHeaders, QUARANTINE_HEADERS } from '../../src/quarantine/quarantine.js'

const record = {
  topic: 'orders',
  partition: 3,
  offset: 9_007_199_254_740_993n,
  timestampMs: 1_521_590_400_000,
  timestampType: 'log-append' as const,
  key: Buffer.from('k1'),
  value: Buffer.from([0, 0, 0, 0, 1, 0xff, 0x80]),
  headers: [
    { key: 'a', value: Buffer.from('1') },
    { key: 'b', value: null },
    { key: 'a', value: Buffer.from([0xc3, 0x28]) },
    { key: 'e', value: Buffer.alloc(0) },
  ],
}

test('the envelope reads back into the exact record: bytes, header order, repeats, nulls, offsets beyond 2^53', () => {
  const line = envelopeLine(record, { value: { format: 'avro', value: { big: 12345678901234567890n, bytes: Buffer.from('hi'), nested: [1, { x: null }] } } })
  assert.ok(line.endsWith('\n') && !line.slice(0, -1).includes('\n'))
  const back = parseEnvelopeLine(line)
  assert.is(back.offset.toString(), record.offset.toString())
  assert.is(back.timestampType, 'log-append')
  assert.ok(back.key!.equals(record.key) && back.value!.equals(record.value))
  assert.equal(
    back.headers.map((h) => [h.key, h.value === null ? null : h.value.toString('hex')]),
    record.headers.map((h) => [h.key, h.value === null ? null : h.value.toString('hex')]),
  )
  // Decoded forms: bigints keep every digit, bytes become base64, invalid UTF-8 headers have no text.
  assert.match(line, /"big":12345678901234567890/)
  assert.match(line, /"bytes":"aGk="/)
  const raw = JSON.parse(line)
  assert.is(raw.headers[0].text, '1')
  assert.is(raw.headers[2].text, undefined)
  assert.equal(raw.format, { value: 'avro' })
})

test('any record survives the envelope (property)', () => {
  const bytes = fc.option(
    fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
    { nil: null },
  )
  fc.assert(
    fc.property(
      fc.record({
        topic: fc.string({ minLength: 1, maxLength: 20 }),
        partition: fc.nat(1000),
        offset: fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }),
        timestampMs: fc.nat(),
        timestampType: fc.constantFrom('create' as const, 'log-append' as const),
        key: bytes,
        value: bytes,
        headers: fc.array(fc.record({ key: fc.string({ maxLength: 10 }), value: bytes }), { maxLength: 6 }),
      }),
      (r) => {
        const back = parseEnvelopeLine(envelopeLine(r))
        assert.is(back.offset, r.offset)
        assert.is(back.key === null ? null : back.key.toString('hex'), r.key === null ? null : r.key.toString('hex'))
        assert.is(back.value === null ? null : back.value.toString('hex'), r.value === null ? null : r.value.toString('hex'))
        assert.equal(
          back.headers.map((h) => [h.key, h.value?.toString('hex') ?? null]),
          r.headers.map((h) => [h.key, h.value?.toString('hex') ?? null]),
        )
      },
    ),
  )
})

test('a line that is not an envelope says which field is wrong', () => {
  const bad = (mutate: (o: Record<string, unknown>) => void) => {
    const o = JSON.parse(envelopeLine(record))
    mutate(o)
    try {
      parseEnvelopeLine(JSON.stringify(o))
    } catch (error) {
      assert.instance(error, EnvelopeError)
      return (error as Error).message
    }
    throw new Error('accepted')
  }
  assert.match(
    bad((o) => (o.offset = 5)),
    /offset/,
  )
  assert.match(
    bad((o) => (o.v = 2)),
    /version 2/,
  )
  assert.match(
    bad((o) => (o.value = 'not base64!')),
    /value is not base64/,
  )
  assert.match(
    bad((o) => ((o.headers as Array<{ key: unknown }>)[0]!.key = 1)),
    /headers\[0\]\.key/,
  )
  assert.throws(() => parseEnvelopeLine('{'), /not JSON/)
})

test('quarantine headers: the original headers first, then our context and Kafka Connect names', () => {
  const error = new TypeError('bad amount')
  const headers = quarantineHeaders(
    { record: { ...record, offset: 41n }, stage: 'transform', error, transform: { name: 'fix', version: '1.2.3' } },
    new Date('2024-01-02T03:04:05Z'),
  )
  const text = (key: string) => headers.find((h) => h.key === key)?.value?.toString()
  assert.equal(headers.slice(0, 4), record.headers)
  assert.is(text(QUARANTINE_HEADERS.stage), 'transform')
  assert.is(text(QUARANTINE_HEADERS.class), 'TypeError')
  assert.is(text(QUARANTINE_HEADERS.message), 'bad amount')
  assert.match(text(QUARANTINE_HEADERS.stack)!, /TypeError: bad amount/)
  assert.is(text(QUARANTINE_HEADERS.topic), 'orders')
  assert.is(text(QUARANTINE_HEADERS.partition), '3')
  assert.is(text(QUARANTINE_HEADERS.offset), '41')
  assert.is(text(QUARANTINE_HEADERS.transformName), 'fix')
  assert.is(text(QUARANTINE_HEADERS.transformVersion), '1.2.3')
  assert.is(text(QUARANTINE_HEADERS.quarantinedAt), '2024-01-02T03:04:05.000Z')
  assert.is(text('__connect.errors.stage'), 'TRANSFORMATION')
  assert.is(text('__connect.errors.exception.class.name'), 'TypeError')
  assert.is(text('__connect.errors.offset'), '41')
  assert.is(text(QUARANTINE_HEADERS.kind), undefined)
})

test('progress: rate over a window, percent and ETA from the offsets still to go', () => {
  let s = reduceProgress(initialProgress(), {
    type: 'start',
    resumed: false,
    resent: 0,
    partitions: [
      { partition: 0, start: 0n, end: 1000n, next: 0n },
      { partition: 1, start: 0n, end: 1000n, next: 0n },
    ],
  })
  assert.is(String(s.totals.rangeSize), '2000')
  const totals = (read: number) => ({ read, written: read, dropped: 0, quarantined: 0, bytes: read * 100, remaining: BigInt(2000 - read), rangeSize: 2000n })
  s = reduceProgress(s, { type: 'batch', records: 500, bytes: 50_000, totals: totals(500), elapsedMs: 1000 })
  assert.is(Math.round(s.rate), 500)
  assert.is(Math.round(s.percent!), 25)
  assert.is(Math.round(s.etaMs!), 3000)
  s = reduceProgress(s, { type: 'batch', records: 500, bytes: 50_000, totals: totals(1000), elapsedMs: 2000 })
  assert.is(Math.round(s.rate), 500)
  assert.is(Math.round(s.bytesPerSecond), 50_000)
  // Only the last 5 s count: a burst long ago no longer lifts the rate.
  s = reduceProgress(s, { type: 'batch', records: 100, bytes: 10_000, totals: totals(1100), elapsedMs: 12_000 })
  assert.ok(s.rate < 100, String(s.rate))
  s = reduceProgress(s, { type: 'done' })
  assert.ok(s.done)
})

test('the rate limiter lets a second of records through, then paces', () => {
  const l = new RateLimiter(100, 0)
  assert.is(l.delayFor(100, 0), 0)
  assert.is(l.delayFor(50, 0), 500)
  assert.is(l.delayFor(50, 500), 500)
  assert.is(l.delayFor(10, 5_000), 0)
})

test('commits of a transactional sink: once the interval has passed, at a stop, every batch at 0', () => {
  let now = 0
  const pacer = new CommitPacer(1_000, () => now)
  assert.is(pacer.uncommitted, false)
  now = 400
  assert.is(pacer.written(), false)
  assert.is(pacer.uncommitted, true, 'a batch waits in the open transaction')
  now = 999
  assert.is(pacer.written(), false)
  assert.is(pacer.written(true), true, 'a stop commits what is written')
  now = 1_000
  assert.is(pacer.written(), true)
  pacer.committed()
  assert.is(pacer.uncommitted, false)
  now = 1_500
  assert.is(pacer.written(), false, 'the interval counts from the last commit')
  const everyBatch = new CommitPacer(0, () => now)
  assert.is(everyBatch.written(), true)
})

test.run()
