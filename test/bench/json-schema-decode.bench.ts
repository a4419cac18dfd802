/**
 * JSON Schema decoding against its anchor, side by side in one run:
 *
 *   node dist/test/bench/json-schema-decode.bench.js [N=300000] [--rounds 5]
 *
 * Input: the fixture incident's orders (schema ids 1 and 2) as Confluent-framed JSON, validated
 * by a JSON Schema per id (draft-07, as Confluent's registry serves by default). recover's
 * `json-schema` codec (codec.decode and tryDecode: header, schema by id, UTF-8 check, parse,
 * validate, classified failures) against the libraries called directly on the same bytes:
 * JSON.parse(body.toString()) then an Ajv validate function compiled with the same options
 * (the schema picked by id). Rounds alternate codec and anchor; the median round counts. No
 * broker or registry needed: the schemas are given by id in memory.
 */
import { parseArgs } from 'node:util'
import { Ajv } from 'ajv'
import addFormatsModule from 'ajv-formats'
import { frameConfluent } from '../../src/codecs/confluent-framing.js'
import { tryDecode } from '../../src/codecs/decode-outcome.js'
import { createJsonSchemaCodec } from '../../src/codecs/json-schema-codec.js'
import type { JsonSchemaEntry } from '../../src/codecs/json-schema-registry.js'
import { generateIncident, loadOrderSchemas } from '../../src/fixtures/index.js'

const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => Ajv

const ITEM = {
  type: 'object',
  properties: { sku: { type: 'string' }, quantity: { type: 'integer', minimum: 1 }, unit_price_cents: { type: 'integer', minimum: 0 } },
  required: ['sku', 'quantity', 'unit_price_cents'],
}
const COMMON = {
  order_id: { type: 'string', pattern: '^ord-[0-9]+$' },
  amount_cents: { type: 'integer', minimum: 0 },
  currency: { type: 'string', enum: ['EUR', 'USD', 'GBP'] },
  status: { type: 'string' },
  created_at: { type: 'integer' },
  items: { type: 'array', items: ITEM },
}
const SCHEMAS: Record<number, object> = {
  1: {
    $schema: 'http://json-schema.org/draft-07/schema#',
    type: 'object',
    properties: { ...COMMON, customer_id: { type: 'string' } },
    required: ['order_id', 'customer_id', 'amount_cents', 'currency', 'status', 'created_at', 'items'],
  },
  2: {
    $schema: 'http://json-schema.org/draft-07/schema#',
    type: 'object',
    properties: { ...COMMON, customer: { type: 'string' }, channel: { type: 'string' } },
    required: ['order_id', 'customer', 'amount_cents', 'currency', 'status', 'created_at', 'items'],
  },
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
  const count = Number(positionals[0] ?? 300_000)
  const rounds = Number(values.rounds)

  const avro = loadOrderSchemas()
  const inputs: Buffer[] = []
  for (const r of generateIncident({ count }).records) {
    if ((r.kind !== 'order' && r.kind !== 'bad-deploy') || !r.value) continue
    const id = r.value.readUInt32BE(1)
    inputs.push(frameConfluent(id, Buffer.from(JSON.stringify(avro.byId.get(id)!.fromBuffer(r.value.subarray(5))))))
  }
  console.log(
    `input: ${fmt(inputs.length)} Confluent-framed JSON orders (${(inputs.reduce((n, b) => n + b.length, 0) / inputs.length).toFixed(0)} B on average)`,
  )

  const entries = new Map<number, JsonSchemaEntry>(
    Object.entries(SCHEMAS).map(([id, schema]) => [Number(id), { ok: true, document: { schema, label: `id ${id}` } }]),
  )
  const codec = createJsonSchemaCodec({
    ids: { label: 'bench', cached: (id) => entries.get(id), load: (id) => Promise.resolve(entries.get(id)!) },
  })
  await codec.prepare(inputs.slice(0, 10))

  const ajv = new Ajv({ strict: false, allErrors: false, validateFormats: true })
  addFormats(ajv)
  const validators = new Map(Object.entries(SCHEMAS).map(([id, schema]) => [Number(id), ajv.compile(schema)]))
  const anchor = (b: Buffer) => {
    const value = JSON.parse(b.subarray(5).toString('utf8'))
    if (!validators.get(b.readUInt32BE(1))!(value)) throw new Error('invalid')
    return value
  }
  const pairs = [
    { name: 'json-schema codec.decode', run: (b: Buffer) => codec.decode(b) },
    { name: 'json-schema tryDecode', run: (b: Buffer) => tryDecode(codec, b) },
  ]
  console.log(`${rounds} rounds each, alternating, median round:`)
  for (const pair of pairs) {
    timeRound(pair.run, inputs.slice(0, 20_000))
    timeRound(anchor, inputs.slice(0, 20_000))
    const codecRates: number[] = []
    const anchorRates: number[] = []
    for (let i = 0; i < rounds; i++) {
      if (i % 2 === 0) {
        codecRates.push(timeRound(pair.run, inputs))
        anchorRates.push(timeRound(anchor, inputs))
      } else {
        anchorRates.push(timeRound(anchor, inputs))
        codecRates.push(timeRound(pair.run, inputs))
      }
    }
    const ours = median(codecRates)
    const theirs = median(anchorRates)
    const ratio = ours / theirs
    console.log(
      `  ${pair.name.padEnd(26)} ${fmt(ours).padStart(10)} records/s   anchor JSON.parse + Ajv validate ${fmt(theirs).padStart(10)} records/s   ratio ${ratio.toFixed(2)} (overhead ${((1 / ratio - 1) * 100).toFixed(0)}%)`,
    )
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
