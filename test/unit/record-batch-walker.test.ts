import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { lastOffsetOfBatches, walkRecordBatches } from '../../src/kafka/record-batch-walker.js'

/** A v2 record batch header with no records: what compaction leaves of an idempotent producer's batch. */
function emptyBatch(baseOffset: bigint, lastOffsetDelta: number): Buffer {
  const b = Buffer.alloc(61)
  b.writeBigInt64BE(baseOffset, 0)
  b.writeInt32BE(61 - 12, 8) // batch length: everything after the length field
  b.writeInt8(2, 16) // magic
  b.writeInt32BE(lastOffsetDelta, 23)
  b.writeBigInt64BE(5n, 43) // producer id
  b.writeInt32BE(0, 57) // no records
  return b
}

test('batches emptied by compaction still carry the response past their offsets', async () => {
  const bytes = Buffer.concat([emptyBatch(18n, 4), emptyBatch(23n, 2)])
  assert.is(lastOffsetOfBatches(bytes), 25n)
  const seen: bigint[] = []
  const walked = await walkRecordBatches(bytes, 0, [], 18n, 100n, (v) => seen.push(v.offset))
  assert.is(walked.lastOffset, 25n)
  assert.equal(seen, [])
  // A batch cut short by the fetch size does not count: the next fetch starts there.
  assert.is(lastOffsetOfBatches(Buffer.concat([emptyBatch(18n, 4), emptyBatch(23n, 2).subarray(0, 40)])), 22n)
  assert.is(lastOffsetOfBatches(Buffer.alloc(0)), -1n)
})

test.run()
