import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { generateIncident } from '../../src/fixtures/index.js'
import { generateInWorker } from '../../src/fixtures/generate-in-worker.js'
import { packRecords, unpackRecords } from '../../src/fixtures/record-chunks.js'

/** The fixture generator on a worker thread gives the very records generateIncident gives, in order. */
const asProduced = (r: { partition: number; key: Buffer | null; value: Buffer | null; timestampMs: number; headers: Record<string, string> }) => ({
  partition: r.partition,
  key: r.key?.toString('hex') ?? null,
  value: r.value?.toString('hex') ?? null,
  timestampMs: r.timestampMs,
  headers: Object.entries(r.headers).map(([key, value]) => [key, value]),
})

test('a packed chunk unpacks to the same records (null keys and values, headers in order)', () => {
  const records = [...generateIncident({ count: 500, seed: 7 }).records]
  records[3] = { ...records[3]!, key: null, value: null, headers: {} }
  records[4] = { ...records[4]!, headers: { 'ü-name': 'wert-ß', b: '' } }
  const { chunk, transfer } = packRecords(records)
  assert.ok(transfer.every((b) => b instanceof ArrayBuffer))
  assert.equal(
    unpackRecords(chunk).map((r) => ({
      ...r,
      key: r.key?.toString('hex') ?? null,
      value: r.value?.toString('hex') ?? null,
      headers: r.headers.map((h) => [h.key, h.value?.toString()]),
    })),
    records.map(asProduced),
  )
})

test("generateInWorker yields generateIncident's records, byte for byte, across chunk boundaries", async () => {
  const options = { count: 20_000, partitions: 4, seed: 11 }
  const expected = [...generateIncident(options).records].map(asProduced)
  const got: unknown[] = []
  for await (const r of generateInWorker(generateIncident(options).options)) {
    got.push({
      ...r,
      key: r.key?.toString('hex') ?? null,
      value: r.value?.toString('hex') ?? null,
      headers: r.headers.map((h) => [h.key, h.value?.toString()]),
    })
  }
  assert.is(got.length, expected.length)
  assert.equal(got, expected)
})

test('a consumer that stops early ends the worker', async () => {
  let n = 0
  for await (const _ of generateInWorker(generateIncident({ count: 100_000 }).options)) if (++n === 10) break
  assert.is(n, 10)
})

test.run()
