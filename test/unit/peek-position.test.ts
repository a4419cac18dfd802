import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { checkPeekMode, parsePeekPosition, peekPartitions, planPeekRanges, type PeekPartitionFacts } from '../../src/core/peek-position.js'
import { compileViewFilter, parseHeaderFilter, previewText, rawContains } from '../../src/services/peek-filter.js'
import type { RecordView } from '../../src/kafka/record-batch-walker.js'
import { RecoveryError } from '../../src/errors.js'

const facts: PeekPartitionFacts[] = [
  { partition: 0, logStart: 0n, logEnd: 100n, atTimeOffset: 40n, untilTimeOffset: 60n },
  { partition: 2, logStart: 1000n, logEnd: 2000n, atTimeOffset: null, untilTimeOffset: null },
]
const show = (ranges: Array<{ partition: number; start: bigint; end: bigint }>) => ranges.map((r) => `${r.partition}:${r.start}-${r.end}`)
const fails = (work: () => unknown, code: string): string => {
  try {
    work()
  } catch (error) {
    assert.instance(error, RecoveryError)
    assert.is((error as RecoveryError).code, code)
    return (error as RecoveryError).message
  }
  return assert.unreachable('expected an error') as never
}

test('--at takes offsets, earliest, latest and every time form peek always took', () => {
  assert.equal(parsePeekPosition('offset:1750', '--at'), { kind: 'offsets', all: 1750n, perPartition: new Map() })
  assert.equal(parsePeekPosition('offset:0=5,2=1750', '--at'), {
    kind: 'offsets',
    perPartition: new Map([
      [0, 5n],
      [2, 1750n],
    ]),
  })
  assert.equal(parsePeekPosition('earliest', '--at'), { kind: 'earliest' })
  assert.equal(parsePeekPosition('latest', '--at'), { kind: 'latest' })
  const time = parsePeekPosition('2018-03-21T09:00', '--at', { tz: 'Asia/Seoul' })
  assert.is(time.kind === 'time' && new Date(time.instantMs).toISOString(), '2018-03-21T00:00:00.000Z')
  assert.is(parsePeekPosition('1521590400000', '--at').kind, 'time', 'epoch milliseconds stay a time')
  assert.is(parsePeekPosition('-2h', '--at').kind, 'time')
  assert.match(
    fails(() => parsePeekPosition('offset:abc', '--at'), 'USAGE'),
    /--at offset:1750 --partition 2/,
  )
  assert.match(
    fails(() => parsePeekPosition('offset:1=5,1=6', '--at'), 'USAGE'),
    /partition 1 twice/,
  )
  fails(() => parsePeekPosition('next tuesday', '--at'), 'BAD_TIME_SPEC')
})

test('bad combinations are refused before Kafka is asked, each saying what to do instead', () => {
  const offsets = parsePeekPosition('offset:5', '--at')
  assert.match(
    fails(() => checkPeekMode({ at: offsets, tail: 10, follow: false }), 'USAGE'),
    /use one of them/,
  )
  assert.match(
    fails(() => checkPeekMode({ tail: 10, until: offsets, follow: false }), 'USAGE'),
    /drop --until/,
  )
  assert.match(
    fails(() => checkPeekMode({ until: offsets, follow: true }), 'USAGE'),
    /--follow/,
  )
  assert.match(
    fails(() => checkPeekMode({ at: { kind: 'latest' }, follow: false }), 'USAGE'),
    /add --follow .* --tail N/,
  )
  assert.match(
    fails(() => checkPeekMode({ at: parsePeekPosition('offset:0=5', '--at'), partition: 2, follow: false }), 'USAGE'),
    /--partition 2/,
  )
  fails(() => checkPeekMode({ at: parsePeekPosition('offset:50', '--at'), until: parsePeekPosition('offset:10', '--until'), follow: false }), 'INVERTED_RANGE')
  fails(
    () => checkPeekMode({ at: parsePeekPosition('2018-03-22', '--at'), until: parsePeekPosition('2018-03-21', '--until'), follow: false }),
    'INVERTED_RANGE',
  )
  checkPeekMode({ at: { kind: 'latest' }, follow: true })
  checkPeekMode({ tail: 10, follow: true })
})

test('--at offset:0=N,2=M reads only the partitions it names; --partition wins', () => {
  assert.equal(peekPartitions([0, 1, 2], { at: parsePeekPosition('offset:2=5,0=1', '--at') }), [0, 2])
  assert.equal(peekPartitions([0, 1, 2], { at: parsePeekPosition('offset:5', '--at') }), [0, 1, 2])
  assert.equal(peekPartitions([0, 1, 2], { partition: 1 }), [1])
})

test('ranges: log start by default, --tail N per partition (kcat -o -N), --follow from the log end, --until exclusive', () => {
  assert.equal(show(planPeekRanges({ topic: 't', follow: false }, facts)), ['0:0-100', '2:1000-2000'])
  assert.equal(show(planPeekRanges({ topic: 't', tail: 10, follow: false }, facts)), ['0:90-100', '2:1990-2000'])
  assert.equal(show(planPeekRanges({ topic: 't', tail: 5000, follow: false }, facts)), ['0:0-100', '2:1000-2000'], '--tail never reaches before the log start')
  assert.equal(show(planPeekRanges({ topic: 't', follow: true }, facts)), ['0:100-100', '2:2000-2000'])
  const at = parsePeekPosition('2018-03-21', '--at')
  const until = parsePeekPosition('2018-03-22', '--until')
  assert.equal(
    show(planPeekRanges({ topic: 't', at, until, follow: false }, facts)),
    ['0:40-60', '2:2000-2000'],
    'a time with no record that late is the log end',
  )
  const offsets = parsePeekPosition('offset:0=50,2=1750', '--at')
  assert.equal(show(planPeekRanges({ topic: 't', at: offsets, until: parsePeekPosition('offset:1800', '--until'), follow: false }, facts)), [
    '0:50-100',
    '2:1750-1800',
  ])
})

test('an offset outside the log is refused with the offsets the partition holds', () => {
  const beyond = fails(
    () => planPeekRanges({ topic: 'orders', at: parsePeekPosition('offset:2=2500', '--at'), follow: false }, [facts[1]!]),
    'OFFSET_NOT_IN_LOG',
  )
  assert.match(beyond, /Offset 2500 of orders-2 is beyond the log end: the partition holds offsets 1000\.\.1999/)
  const gone = fails(() => planPeekRanges({ topic: 'orders', at: parsePeekPosition('offset:2=5', '--at'), follow: false }, [facts[1]!]), 'OFFSET_NOT_IN_LOG')
  assert.match(gone, /no longer in the log .* holds offsets 1000\.\.1999/)
  fails(() => planPeekRanges({ topic: 'orders', at: parsePeekPosition('offset:2000', '--at'), follow: false }, [facts[1]!]), 'OFFSET_NOT_IN_LOG')
  assert.equal(
    show(planPeekRanges({ topic: 'orders', at: parsePeekPosition('offset:2000', '--at'), follow: true }, [facts[1]!])),
    ['2:2000-2000'],
    '--follow waits at the log end',
  )
  const empty = fails(
    () => planPeekRanges({ topic: 'orders', at: parsePeekPosition('offset:0', '--at'), follow: false }, [{ partition: 0, logStart: 7n, logEnd: 7n }]),
    'OFFSET_NOT_IN_LOG',
  )
  assert.match(empty, /holds no records \(log start and end 7\)/)
})

/** A record laid out as the batch walker sees it: key, then headers, in one buffer. */
function view(key: string | null, headers: Array<[string, string | null]>): RecordView {
  const parts: Buffer[] = []
  let at = 0
  const put = (text: string) => {
    const b = Buffer.from(text)
    parts.push(b)
    const start = at
    at += b.length
    return [start, b.length] as const
  }
  const k = key === null ? ([-1, 0] as const) : put(key)
  const ranges = new Int32Array(32)
  headers.forEach(([name, value], h) => {
    const [ns, nl] = put(name)
    const [vs, vl] = value === null ? ([-1, 0] as const) : put(value)
    ranges.set([ns, nl, vs, vl], 4 * h)
  })
  return {
    partition: 0,
    offset: 0n,
    timestampMs: 0,
    logAppendTime: false,
    bytes: Buffer.concat(parts),
    keyStart: k[0],
    keyLength: k[1],
    valueStart: -1,
    valueLength: 0,
    headerCount: headers.length,
    headerRanges: ranges,
  }
}

test('key and header filters compare bytes in place: exact key, header by name or name=value, all of them', () => {
  const record = view('ord-123', [
    ['app-version', '1.6.0'],
    ['trace', null],
  ])
  assert.ok(compileViewFilter({ key: 'ord-123' })(record))
  assert.not.ok(compileViewFilter({ key: 'ord-12' })(record), 'a prefix is not the key')
  assert.not.ok(compileViewFilter({ key: 'ord-123' })(view(null, [])), 'a null key never matches')
  assert.ok(compileViewFilter({ headers: [parseHeaderFilter('app-version=1.6.0')] })(record))
  assert.not.ok(compileViewFilter({ headers: [parseHeaderFilter('app-version=1.6')] })(record))
  assert.ok(compileViewFilter({ headers: [parseHeaderFilter('trace')] })(record), 'NAME matches a null value too')
  assert.not.ok(compileViewFilter({ headers: [parseHeaderFilter('trace=')] })(record), 'NAME= wants an empty value, not null')
  assert.not.ok(compileViewFilter({ key: 'ord-123', headers: [parseHeaderFilter('app-version=1.6.0'), parseHeaderFilter('missing')] })(record))
  assert.ok(compileViewFilter({})(record))
  assert.equal(parseHeaderFilter('a=b=c'), { name: 'a', value: 'b=c' })
  fails(() => parseHeaderFilter('=x'), 'USAGE')
})

test('--grep text: in the raw key or value, and in the decoded text', () => {
  assert.ok(rawContains(Buffer.from('k'), Buffer.from('{"kind":"refund"}'), 'refund'))
  assert.ok(rawContains(Buffer.from('ord-refund'), null, 'refund'))
  assert.not.ok(rawContains(null, Buffer.from('sale'), 'refund'))
  assert.is(previewText({ format: 'avro', value: { kind: 'refund', raw: Buffer.from([1, 2]) } }), '{"kind":"refund","raw":"0x0102"}')
  assert.is(previewText({ format: 'null', value: null }), 'null')
})

test.run()
