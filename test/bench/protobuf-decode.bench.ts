/**
 * Protobuf decoding: recover's codec against protobufjs called directly on the same bytes,
 * side by side in one run:
 *
 *   node dist/test/bench/protobuf-decode.bench.js [N=200000] [--rounds 5]
 *
 * Input: N fixture orders (fixtures/protobuf/v1, every well-known type, int64 beyond 2^53)
 * encoded by protobufjs and framed as Confluent Protobuf (schema id 1, message index [0]).
 * recover's codec reads the header and message indexes and renders the canonical JSON mapping
 * (defaults printed, unknown fields kept). Anchors, on the body after the 6-byte header:
 *   - decode + ProtoJSON: Type.decode then protobufjs's own canonical JSON (ext/protojson), the
 *     library's way to the same output: the like-for-like anchor (goal: overhead <= 20 %);
 *   - decode + toObject: Type.decode then toObject({ longs: String, enums: String, bytes: String });
 *   - decode only: Type.decode (a message object with Long instances; no JSON).
 * Rounds alternate codec and anchors; the median round counts. No broker or registry needed.
 */
import { parseArgs } from 'node:util'
import protobuf from 'protobufjs'
import protojson from 'protobufjs/ext/protojson.js'
import { createProtobufCodec } from '../../src/codecs/protobuf-codec.js'
import { buildProtoSchema } from '../../src/codecs/protobuf-schema.js'
import { protobufOrder, protobufOrderSources } from '../../src/fixtures/protobuf-orders.js'

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
  const count = Number(positionals[0] ?? 200_000)
  const rounds = Number(values.rounds)

  const schema = buildProtoSchema('orders v1', 'orders.proto', protobufOrderSources('v1'))
  const Order = schema.find('shop.Order')!
  const raw = createProtobufCodec({ framing: 'raw', files: schema, message: 'shop.Order', encodeWith: { type: Order } })
  const distinct = Array.from({ length: 1000 }, (_, n) => raw.encode(protobufOrder(n)))
  const header = Buffer.from([0, 0, 0, 0, 1, 0])
  const inputs = Array.from({ length: count }, (_, i) => Buffer.concat([header, distinct[i % distinct.length]!]))
  console.log(`input: ${fmt(count)} Confluent-framed Protobuf orders, ${(inputs.reduce((n, b) => n + b.length, 0) / count).toFixed(0)} B on average`)

  const codec = createProtobufCodec({
    framing: 'confluent',
    registry: { label: 'in memory', cached: () => ({ ok: true, schema }), load: async () => ({ ok: true, schema }) },
  })
  const body = (b: Buffer) => {
    const reader = protobuf.Reader.create(b.subarray(6))
    reader.discardUnknown = false
    return Order.decode(reader)
  }
  const anchors: Array<{ name: string; decode: (b: Buffer) => unknown }> = [
    { name: 'protobufjs decode + ProtoJSON', decode: (b) => protojson.toJson(Order, body(b)) },
    { name: 'protobufjs decode + toObject', decode: (b) => Order.toObject(body(b), { longs: String, enums: String, bytes: String }) },
    { name: 'protobufjs decode only', decode: body },
  ]
  const ours: number[] = []
  const theirs = anchors.map(() => [] as number[])
  timeRound((b) => codec.decode(b), inputs.slice(0, 20_000))
  for (const a of anchors) timeRound(a.decode, inputs.slice(0, 20_000))
  for (let r = 0; r < rounds; r++) {
    ours.push(timeRound((b) => codec.decode(b), inputs))
    anchors.forEach((a, i) => theirs[i]!.push(timeRound(a.decode, inputs)))
  }
  const recover = median(ours)
  console.log(`recover protobuf codec.decode: ${fmt(recover)} records/s (median of ${rounds})`)
  anchors.forEach((a, i) => {
    const anchor = median(theirs[i]!)
    const overhead = (anchor / recover - 1) * 100
    console.log(`  vs ${a.name}: ${fmt(anchor)} records/s -> recover takes ${overhead >= 0 ? '+' : ''}${overhead.toFixed(0)} % time per record`)
  })
}

await main()
