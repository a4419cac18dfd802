import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { parseReplaySource, type FileLocation } from '../../src/core/location.js'
import { RecoveryError } from '../../src/errors.js'
import { envelopeLine } from '../../src/files/envelope.js'
import type { KafkaRecord } from '../../src/kafka/kafka-record.js'
import { QUARANTINE_HEADERS } from '../../src/quarantine/header-names.js'
import { FileRecordSource, scanEnvelopeFile } from '../../src/replay/file-source.js'

const dir = mkdtempSync(join(tmpdir(), 'recover-file-source-'))
let n = 0
const record = (partition: number, offset: number, extra: Partial<KafkaRecord> = {}): KafkaRecord => ({
  topic: 'orders',
  partition,
  offset: BigInt(offset),
  timestampMs: 1_521_590_400_000 + offset,
  timestampType: 'create',
  key: Buffer.from(`k-${partition}-${offset}`),
  value: Buffer.from([0, 255, offset & 0xff]),
  headers: [
    { key: 'h', value: Buffer.from('1') },
    { key: 'h', value: null },
  ],
  ...extra,
})
function file(lines: string[], gz = false): FileLocation {
  const path = join(dir, `f${n++}.jsonl${gz ? '.gz' : ''}`)
  const text = lines.join('')
  writeFileSync(path, gz ? gzipSync(text) : text)
  return parseReplaySource(`file:${path}`) as FileLocation
}
async function readAll(source: FileRecordSource, ranges: Array<{ partition: number; start: bigint; end: bigint }>) {
  const out: KafkaRecord[] = []
  const ends = new Map<number, bigint>()
  for await (const chunks of source.read(ranges, new AbortController().signal)) {
    for (const c of chunks) {
      out.push(...c.records)
      ends.set(c.partition, c.nextOffset)
    }
  }
  return { out, ends }
}
async function refusal(run: () => Promise<unknown>): Promise<RecoveryError> {
  try {
    await run()
  } catch (error) {
    if (error instanceof RecoveryError) return error
    throw error
  }
  throw new Error('expected a refusal')
}

test('a file is planned per partition and read back into the exact records', async () => {
  const written = [record(0, 5), record(1, 7), record(0, 6), record(1, 9)]
  const location = file([...written.map((r) => envelopeLine(r)), '\n'])
  const scan = await scanEnvelopeFile(location)
  assert.is(scan.topic, 'orders')
  assert.is(scan.records, 4)
  assert.is(scan.partitionCount, 2)
  assert.equal(scan.ranges, [
    { partition: 0, start: 5n, end: 7n },
    { partition: 1, start: 7n, end: 10n },
  ])
  const { out, ends } = await readAll(new FileRecordSource(location, scan), scan.ranges)
  assert.equal(out, written)
  assert.equal(ends.get(1), 10n)
})

test('a resume skips what each partition already replayed; --partitions takes some', async () => {
  const location = file([record(0, 0), record(1, 0), record(0, 1), record(1, 1), record(0, 2)].map((r) => envelopeLine(r)))
  const scan = await scanEnvelopeFile(location)
  const { out } = await readAll(new FileRecordSource(location, scan), [
    { partition: 0, start: 2n, end: 3n },
    { partition: 1, start: 1n, end: 2n },
  ])
  assert.equal(
    out.map((r) => `${r.partition}@${r.offset}`),
    ['1@1', '0@2'],
  )
  const only = await scanEnvelopeFile(location, { partitions: [1] })
  assert.equal(only.ranges, [{ partition: 1, start: 0n, end: 2n }])
})

test('records that repeat or go back in a partition are replayed once, with a warning naming the first', async () => {
  const location = file([record(0, 5), record(0, 9), record(0, 5), record(0, 9)].map((r) => envelopeLine(r)))
  const scan = await scanEnvelopeFile(location)
  assert.is(scan.outOfOrder, 2)
  assert.match(scan.warnings[0]!, /line 3: orders\/0@5 after @9/)
  const { out } = await readAll(new FileRecordSource(location, scan), scan.ranges)
  assert.equal(
    out.map((r) => Number(r.offset)),
    [5, 9],
  )
})

test('a dead letter is replayed as its original record: position and headers without the failure context', async () => {
  const original = record(2, 1750)
  const deadLetter: KafkaRecord = {
    ...original,
    topic: 'orders.quarantine',
    partition: 0,
    offset: 3n,
    headers: [
      ...original.headers,
      { key: QUARANTINE_HEADERS.stage, value: Buffer.from('decode') },
      { key: QUARANTINE_HEADERS.class, value: Buffer.from('DecodeError') },
      { key: QUARANTINE_HEADERS.topic, value: Buffer.from('orders') },
      { key: QUARANTINE_HEADERS.partition, value: Buffer.from('2') },
      { key: QUARANTINE_HEADERS.offset, value: Buffer.from('1750') },
      { key: QUARANTINE_HEADERS.quarantinedAt, value: Buffer.from('2026-12-06T10:00:00Z') },
    ],
  }
  const location = file([envelopeLine(deadLetter)])
  const scan = await scanEnvelopeFile(location)
  assert.is(scan.deadLetters, 1)
  assert.is(scan.topic, 'orders')
  const { out } = await readAll(new FileRecordSource(location, scan), scan.ranges)
  assert.equal(out, [original])
})

test('gzip files are read too', async () => {
  const location = file([envelopeLine(record(0, 1))], true)
  const scan = await scanEnvelopeFile(location)
  assert.is(scan.records, 1)
})

test('a line that is not an envelope is refused with its number, a missing file with its path, two topics and no records too', async () => {
  const bad = await refusal(() => scanEnvelopeFile(file([envelopeLine(record(0, 1)), '\n', 'order_id,amount\n'])))
  assert.is(bad.code, 'BAD_SOURCE')
  assert.match(bad.message, /^Line 3 of .* is not a record of recover's JSONL envelope \(not JSON/)
  assert.is(bad.details.line, 3)
  const wrongShape = await refusal(() => scanEnvelopeFile(file(['{"order_id":"ord-1"}\n'])))
  assert.match(wrongShape.message, /Line 1 .*unknown envelope version/)
  const missing = await refusal(() => scanEnvelopeFile(parseReplaySource(`file:${join(dir, 'nope.jsonl')}`) as FileLocation))
  assert.is(missing.code, 'BAD_SOURCE')
  assert.match(missing.message, /cannot be read \(ENOENT\)/)
  const two = await refusal(() => scanEnvelopeFile(file([envelopeLine(record(0, 1)), envelopeLine({ ...record(0, 2), topic: 'payments' })])))
  assert.match(two.message, /2 topics \(orders, payments\).*jq -c/)
  assert.match((await refusal(() => scanEnvelopeFile(file(['\n'])))).message, /holds no records/)
})

test.run()
