/**
 * Decoding throughput of the codec layer against its anchors, side by side in one run:
 *
 *   node dist/test/bench/decode.bench.js [N=1000000] [--rounds 5]
 *
 * Input: the fixture incident's order values (Confluent-framed Avro, schema ids 1 and 2), and
 * the same orders as JSON. Anchors call the libraries directly on the same bytes: avsc's
 * Type.fromBuffer on the body after the 5-byte header (the type picked by schema id), avsc with
 * a resolver for v1 -> v2, and JSON.parse(buffer.toString()). Rounds alternate codec and anchor;
 * the median round counts. No broker needed.
 */
import { parseArgs } from 'node:util'
import type { Type } from 'avsc'
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
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
