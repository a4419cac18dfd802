import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createCodec, openSchemaSources } from '../../src/codecs/create-codecs.js'
import { DecodeError, RECORD_DECODE_KINDS } from '../../src/codecs/decode-error.js'
import { createPreviewer } from '../../src/codecs/preview.js'
import type { Codec } from '../../src/codecs/codec.js'
import { findOrderSchemaDir, generateIncident } from '../../src/fixtures/index.js'

/**
 * Arbitrary bytes into every decoder: a value or a classified DecodeError, never another
 * throw, never a hang (each decode is timed; a loop over a corrupt count would blow it).
 */
const SCHEMA_DIR = findOrderSchemaDir()
const RUNS = 3_000
const MAX_DECODE_MS = 250

const orders = [...generateIncident({ count: 200, duplicates: { identical: 0, changed: 0 } }).records].filter((r) => r.kind === 'order').map((r) => r.value!)

/** Recursive, with maps, unions and arrays of zero-width items: the shapes where corrupt counts hurt. */
const TREE = {
  type: 'record',
  name: 'Node',
  fields: [
    { name: 'label', type: 'string' },
    { name: 'children', type: { type: 'array', items: 'Node' } },
    { name: 'attrs', type: { type: 'map', values: ['null', 'long', 'string'] } },
    { name: 'nothing', type: { type: 'array', items: 'null' } },
    { name: 'size', type: { type: 'fixed', name: 'Size', size: 2 } },
  ],
}

interface Subject {
  name: string
  codec: Codec
  /** Generates payloads shaped for this codec (framed Avro, text, ...). */
  payloads: fc.Arbitrary<Uint8Array>
}

const anyBytes = fc.uint8Array({ maxLength: 300 })
const framed = (ids: number[]) =>
  fc.tuple(fc.constantFrom(...ids), fc.uint8Array({ maxLength: 300 })).map(([id, body]) => {
    const out = new Uint8Array(5 + body.length)
    out[4] = id
    out.set(body, 5)
    return out
  })
/** Real fixture records with a few bytes flipped, cut or inserted: corrupt in plausible ways. */
const mutatedOrder = fc
  .tuple(fc.constantFrom(...orders), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.option(fc.nat()))
  .map(([order, flips, cut]) => {
    const copy = Uint8Array.from(order)
    for (const [at, value] of flips) copy[5 + (at % (copy.length - 5))] = value
    return cut === null ? copy : copy.subarray(0, 5 + (cut % (copy.length - 5)))
  })

let subjects: Subject[] = []

test.before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'recover-props-'))
  writeFileSync(join(dir, 'tree.avsc'), JSON.stringify(TREE))
  const fixture = openSchemaSources({ schema: SCHEMA_DIR })
  const evolving = openSchemaSources({ schema: SCHEMA_DIR, readerSchema: join(SCHEMA_DIR, 'orders-v2.avsc') })
  const tree = openSchemaSources({ schema: join(dir, 'tree.avsc') })
  subjects = [
    {
      name: 'json',
      codec: await createCodec({ format: 'json' }),
      payloads: fc.oneof(
        anyBytes,
        fc.json().map((s) => new TextEncoder().encode(s.slice(0, s.length - 1))),
      ),
    },
    {
      name: 'string',
      codec: await createCodec({ format: 'string' }),
      payloads: fc.oneof(
        anyBytes,
        fc.string({ unit: 'binary' }).map((s) => new TextEncoder().encode(s)),
      ),
    },
    { name: 'bytes', codec: await createCodec({ format: 'bytes' }), payloads: anyBytes },
    { name: 'avro (ids.json)', codec: await createCodec({ format: 'avro' }, fixture), payloads: fc.oneof(anyBytes, framed([1, 2, 3]), mutatedOrder) },
    { name: 'avro (v1 -> v2 reader)', codec: await createCodec({ format: 'avro' }, evolving), payloads: fc.oneof(framed([1, 2]), mutatedOrder) },
    { name: 'avro (raw, recursive schema)', codec: await createCodec({ format: 'avro' }, tree), payloads: anyBytes },
  ]
})

function check(codec: Codec, bytes: Uint8Array): void {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const started = performance.now()
  try {
    codec.decode(buffer)
  } catch (error) {
    if (!(error instanceof DecodeError))
      throw new Error(`an untyped ${(error as Error)?.name ?? typeof error} for ${buffer.toString('hex')}: ${(error as Error)?.message}`)
    if (!RECORD_DECODE_KINDS.includes(error.kind)) throw new Error(`unknown kind ${error.kind}`)
    if (error.position !== undefined && (error.position < 0 || error.position > buffer.length))
      throw new Error(`position ${error.position} outside ${buffer.length} bytes`)
  }
  const ms = performance.now() - started
  if (ms > MAX_DECODE_MS) throw new Error(`decoding ${buffer.length} bytes took ${ms.toFixed(0)} ms: ${buffer.toString('hex')}`)
}

test('arbitrary bytes into every decoder give a value or a classified DecodeError, quickly', async () => {
  for (const { name, codec, payloads } of subjects) {
    await codec.prepare([])
    try {
      fc.assert(
        fc.property(payloads, (bytes) => check(codec, bytes)),
        { numRuns: RUNS, seed: 4242 },
      )
    } catch (error) {
      assert.unreachable(`${name}: ${(error as Error).message}`)
    }
  }
})

test('a corrupt block count claiming billions of items fails fast as avro-truncated', async () => {
  const tree = subjects.find((s) => s.name.startsWith('avro (raw'))!.codec
  // label "" then children: a block count of 2^40 items with 3 bytes left.
  const varint = (n: number) => {
    const out: number[] = []
    let z = n * 2
    while (z >= 128) {
      out.push((z % 128) | 128)
      z = Math.floor(z / 128)
    }
    out.push(z)
    return out
  }
  for (const count of [2 ** 20, 2 ** 31, 2 ** 40]) {
    const started = performance.now()
    const bytes = Buffer.from([0, ...varint(count), 0, 0, 0])
    try {
      tree.decode(bytes)
      assert.unreachable('decoded')
    } catch (error) {
      assert.instance(error, DecodeError)
      assert.is((error as DecodeError).kind, 'avro-truncated')
    }
    assert.ok(performance.now() - started < MAX_DECODE_MS)
  }
  // Zero-width items may outnumber the bytes (an array of a thousand nulls is 4 bytes).
  const nulls = Buffer.from([0, 0, 0, ...varint(1000), 0, 0x61, 0x62])
  const value = tree.decode(nulls) as { nothing: unknown[] }
  assert.is(value.nothing.length, 1000)
})

test('previews never throw for arbitrary bytes, whatever the format', async () => {
  const avro = subjects.find((s) => s.name === 'avro (ids.json)')!.codec
  const previewers = (['auto', 'json', 'string', 'bytes', 'avro'] as const).map((format) => createPreviewer(format, avro))
  fc.assert(
    fc.property(fc.oneof(anyBytes, framed([1, 2, 9]), mutatedOrder), (bytes) => {
      for (const previewer of previewers) {
        const p = previewer.preview(Buffer.from(bytes))
        if (p.error !== undefined && p.format !== 'bytes' && p.format !== 'string') throw new Error(`a failure shown as ${p.format}`)
      }
    }),
    { numRuns: RUNS, seed: 7 },
  )
})

test.run()
