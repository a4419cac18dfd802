/**
 * Decoding throughput of the codec layer against its anchors, side by side in one run:
 *
 *   node dist/test/bench/decode.bench.js [N=1000000] [--rounds 5]
 *
 * Then reading: the records of fetch bytes (record batches of 1000 records as kafkajs encodes
 * them: JSON orders of about 300 bytes with a key and two headers) built the way replay builds
 * them (the batch walker, keys and values in place), against kafkajs's decoding and our record
 * objects made from its messages (what replay did before), and against the walker alone
 * (visiting each record in place, as audits read).
 *
 * Input: the fixture incident's order values (Confluent-framed Avro, schema ids 1 and 2), and
 * the same orders as JSON. Anchors call the libraries directly on the same bytes: avsc's
 * Type.fromBuffer on the body after the 5-byte header (the type picked by schema id), avsc with
 * a resolver for v1 -> v2, and JSON.parse(buffer.toString()). Rounds alternate codec and anchor;
 * the median round counts. No broker needed.
 */
import { createRequire } from 'node:module'
import { parseArgs } from 'node:util'
import type { Type } from 'avsc'
import { installOrderedHeaders } from '../../src/kafka/ordered-headers.js'
import { toRecord } from '../../src/kafka/partition-fetcher.js'
import { decodeFetched } from '../../src/kafka/raw-fetch.js'
import { walkRecordBatches } from '../../src/kafka/record-batch-walker.js'
import { ViewRecords } from '../../src/kafka/view-record.js'
import { createCodec, openSchemaSources } from '../../src/codecs/create-codecs.js'
import { tryDecode } from '../../src/codecs/decode-outcome.js'
import { findOrderSchemaDir, generateIncident, loadOrderSchemas } from '../../src/fixtures/index.js'
import { join } from 'node:path'

interface Pair {
  name: string
  codec: (b: Buffer) => unknown
  anchor: (b: Buffer) => unknown
  anchorName: string
  inputs: Buffer[]
}

function timeRound(decode: (b: Buffer) => unknown, inputs: Buffer[]): number {
  let sink = 0
  const started = performance.now()
  for (let i = 0; i < inputs.length; i++) if (decode(inputs[i]!) !== undefined) sink++
  const ms = performance.now() - started
  if (sink !== inputs.length) throw new Error(`only ${sink} of ${inputs.length} decoded`)
  return (inputs.length / ms) * 1000
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US')

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { rounds: { type: 'string', default: '5' } } })
  const count = Number(positionals[0] ?? 1_000_000)
  const rounds = Number(values.rounds)

  const started = performance.now()
  const avro: Buffer[] = []
  for (const r of generateIncident({ count }).records) if ((r.kind === 'order' || r.kind === 'bad-deploy') && r.value) avro.push(r.value)
  const schemas = loadOrderSchemas()
  const byId = new Map<number, Type>([
    [1, schemas.v1],
    [2, schemas.v2],
  ])
  const v1ToV2 = schemas.v2.createResolver(schemas.v1)
  const json = avro.map((b) => Buffer.from(JSON.stringify(byId.get(b.readUInt32BE(1))!.fromBuffer(b.subarray(5)))))
  const avroBytes = avro.reduce((n, b) => n + b.length, 0)
  console.log(
    `input: ${fmt(avro.length)} fixture order values (${(avroBytes / avro.length).toFixed(0)} B Avro, ${(json.reduce((n, b) => n + b.length, 0) / json.length).toFixed(0)} B JSON on average), prepared in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  )

  const dir = findOrderSchemaDir()
  const avroCodec = await createCodec({ format: 'avro' }, openSchemaSources({ schema: dir }))
  const evolving = await createCodec({ format: 'avro' }, openSchemaSources({ schema: dir, readerSchema: join(dir, 'orders-v2.avsc') }))
  const jsonCodec = await createCodec({ format: 'json' })
  await avroCodec.prepare(avro)
  await evolving.prepare(avro)

  const pairs: Pair[] = [
    {
      name: 'avro codec.decode',
      codec: (b) => avroCodec.decode(b),
      anchorName: 'avsc fromBuffer',
      anchor: (b) => byId.get(b.readUInt32BE(1))!.fromBuffer(b.subarray(5)),
      inputs: avro,
    },
    {
      name: 'avro tryDecode (outcome)',
      codec: (b) => tryDecode(avroCodec, b),
      anchorName: 'avsc fromBuffer',
      anchor: (b) => byId.get(b.readUInt32BE(1))!.fromBuffer(b.subarray(5)),
      inputs: avro,
    },
    {
      name: 'avro v1->v2 reader',
      codec: (b) => evolving.decode(b),
      anchorName: 'avsc fromBuffer + resolver',
      anchor: (b) => (b.readUInt32BE(1) === 1 ? schemas.v2.fromBuffer(b.subarray(5), v1ToV2) : schemas.v2.fromBuffer(b.subarray(5))),
      inputs: avro,
    },
    {
      name: 'json codec.decode',
      codec: (b) => jsonCodec.decode(b),
      anchorName: 'JSON.parse(toString)',
      anchor: (b) => JSON.parse(b.toString('utf8')),
      inputs: json,
    },
  ]

  console.log(`${rounds} rounds each, alternating, median round:`)
  for (const pair of pairs) {
    // Warm both up so neither pays for JIT compilation in the measured rounds.
    timeRound(pair.codec, pair.inputs.slice(0, 20_000))
    timeRound(pair.anchor, pair.inputs.slice(0, 20_000))
    const codecRates: number[] = []
    const anchorRates: number[] = []
    for (let i = 0; i < rounds; i++) {
      if (i % 2 === 0) {
        codecRates.push(timeRound(pair.codec, pair.inputs))
        anchorRates.push(timeRound(pair.anchor, pair.inputs))
      } else {
        anchorRates.push(timeRound(pair.anchor, pair.inputs))
        codecRates.push(timeRound(pair.codec, pair.inputs))
      }
    }
    const codec = median(codecRates)
    const anchor = median(anchorRates)
    const ratio = codec / anchor
    console.log(
      `  ${pair.name.padEnd(26)} ${fmt(codec).padStart(10)} records/s   anchor ${pair.anchorName.padEnd(27)} ${fmt(anchor).padStart(10)} records/s   ratio ${ratio.toFixed(2)} (overhead ${((1 / ratio - 1) * 100).toFixed(0)}%)`,
    )
  }
  await readingBench(Math.min(count, 200_000), rounds)
}

const require = createRequire(import.meta.url)

/** `count` JSON orders with a key and two headers as record batches of 1000, in fetch responses of about 1 MiB. */
async function fetchResponses(count: number): Promise<Buffer[]> {
  const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: (args: object) => Promise<{ buffer: Buffer }> }
  const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (args: object) => unknown
  const t0 = Date.UTC(2018, 2, 20)
  const batches: Buffer[] = []
  for (let first = 0; first < count; first += 1000) {
    const records = []
    for (let i = first; i < Math.min(count, first + 1000); i++) {
      const value = {
        order_id: `ord-${String(i).padStart(8, '0')}`,
        customer: `cust-${String(i % 20_000).padStart(5, '0')}`,
        amount_cents: (i * 7919) % 20_000,
        currency: 'EUR',
        status: 'PENDING',
        created_at: t0 + i * 10,
        items: [{ sku: `SKU-${i % 500}`, quantity: 1 + (i % 3), unit_price_cents: 999 }],
        channel: 'web',
      }
      records.push(
        Record({
          offsetDelta: i - first,
          timestampDelta: (i - first) * 10,
          key: Buffer.from(value.order_id),
          value: Buffer.from(JSON.stringify(value)),
          headers: { 'app-version': Buffer.from('1.5.0'), 'trace-id': Buffer.from(`${i}`.padStart(16, '0')) },
        }),
      )
    }
    const batch = await RecordBatch({
      firstOffset: String(first),
      firstTimestamp: t0 + first * 10,
      maxTimestamp: t0 + (first + records.length - 1) * 10,
      lastOffsetDelta: records.length - 1,
      records,
    })
    batches.push(batch.buffer)
  }
  const responses: Buffer[] = []
  for (let at = 0; at < batches.length; ) {
    const response: Buffer[] = []
    let size = 0
    while (at < batches.length && size < 1 << 20) size += response[response.push(batches[at++]!) - 1]!.length
    responses.push(Buffer.concat(response))
  }
  return responses
}

async function readingBench(count: number, rounds: number): Promise<void> {
  // kafkajs's record decoder as replay used it: ours in its place (exact header order, numbers without Longs).
  installOrderedHeaders()
  // Each response's records are kept until the next response, as a replay batch keeps them a while.
  const responses = await fetchResponses(count)
  const bytes = responses.reduce((n, r) => n + r.length, 0)
  const contenders: Record<string, () => Promise<number>> = {
    'walker -> records (replay)': async () => {
      const views = new ViewRecords('orders')
      let n = 0
      for (const response of responses) {
        const records: unknown[] = []
        await walkRecordBatches(response, 0, [], 0n, BigInt(count), (v) => records.push(views.recordOf(v)))
        n += records.length
      }
      return n
    },
    'kafkajs decode -> records (before)': async () => {
      let n = 0
      for (const response of responses) {
        const data = { partition: 0, errorCode: 0, highWatermark: String(count), abortedTransactions: [], records: response }
        const { messages } = await decodeFetched('orders', data, 0n)
        n += messages.map((m) => toRecord('orders', 0, m)).length
      }
      return n
    },
    'walker, visit in place (audit)': async () => {
      let n = 0
      for (const response of responses) await walkRecordBatches(response, 0, [], 0n, BigInt(count), () => n++)
      return n
    },
  }
  const rates = new Map<string, number[]>()
  for (const run of Object.values(contenders)) await run() // warm-up
  for (let i = 0; i < rounds; i++) {
    const names = i % 2 === 0 ? Object.keys(contenders) : Object.keys(contenders).reverse()
    for (const name of names) {
      const started = performance.now()
      const n = await contenders[name]!()
      const ms = performance.now() - started
      if (n !== count) throw new Error(`${name} read ${n} of ${count} records`)
      rates.set(name, [...(rates.get(name) ?? []), ms])
    }
  }
  console.log(`reading ${fmt(count)} records from ${responses.length} fetch responses (${(bytes / count).toFixed(0)} B per record), ${rounds} rounds, median:`)
  const anchor = median(rates.get('kafkajs decode -> records (before)')!)
  for (const [name, xs] of rates) {
    const ms = median(xs)
    console.log(`  ${name.padEnd(36)} ${((ms * 1000) / count).toFixed(2).padStart(6)} µs/record  ${(anchor / ms).toFixed(1).padStart(5)}x the kafkajs path`)
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
