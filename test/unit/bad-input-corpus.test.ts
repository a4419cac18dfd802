import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import {
  badInputCorpus,
  CORPUS_JSON_SCHEMA_FILE,
  CORPUS_PROTOBUF_FRAMED_DIR,
  CORPUS_PROTOBUF_MESSAGE,
  CORPUS_SECTIONS,
  serializeCorpus,
} from '../../src/fixtures/bad-input-corpus.js'
import { badInputCorpusDir, readBadInputCorpus } from '../../src/fixtures/bad-input-files.js'
import { createCodec, openSchemaSources } from '../../src/codecs/create-codecs.js'
import { isDecodeError } from '../../src/codecs/decode-error.js'
import { createOutputEncoder } from '../../src/codecs/output-encoder.js'

test('fixtures/bad-input/corpus.jsonl is what the generator makes (npm run fixtures:corpus rewrites it)', () => {
  assert.is(readFileSync(join(badInputCorpusDir(), 'corpus.jsonl'), 'utf8'), serializeCorpus(badInputCorpus()))
  assert.equal(serializeCorpus(readBadInputCorpus()), serializeCorpus(badInputCorpus()))
})

test('every decode-stage expectation in the corpus is what the codecs say, and nothing else fails to decode', async () => {
  const sources = openSchemaSources({ schema: join(badInputCorpusDir(), '..', 'schemas') })
  const codecs = {
    avro: await createCodec({ format: 'avro' }, sources),
    json: await createCodec({ format: 'json' }),
    string: await createCodec({ format: 'string' }),
    bytes: await createCodec({ format: 'bytes' }),
    'json-schema': await createCodec({ format: 'json-schema' }, openSchemaSources({ schema: join(badInputCorpusDir(), CORPUS_JSON_SCHEMA_FILE) })),
    protobuf: await createCodec(
      { format: 'protobuf' },
      openSchemaSources({ schema: join(badInputCorpusDir(), '..', 'protobuf', 'v1', 'orders.proto'), message: CORPUS_PROTOBUF_MESSAGE }),
    ),
  }
  // Framed Protobuf: schema ids from ids.json, no registry.
  const framedProtobuf = await createCodec({ format: 'protobuf' }, openSchemaSources({ schema: join(badInputCorpusDir(), CORPUS_PROTOBUF_FRAMED_DIR) }))
  for (const c of badInputCorpus()) {
    const how = CORPUS_SECTIONS[c.section]
    for (const r of c.records) {
      let failure: { side: string; kind: string } | undefined
      for (const [side, bytes, codec] of [
        ['key', r.key, codecs[how.keyFormat]],
        ['value', r.value, c.section === 'protobuf-framed' ? framedProtobuf : codecs[how.valueFormat]],
      ] as const) {
        if (failure || bytes === null) continue
        try {
          await codec.prepare([bytes])
          codec.decode(bytes)
        } catch (error) {
          if (!isDecodeError(error)) throw error
          failure = { side, kind: error.kind }
        }
      }
      const e = r.expect
      if (e.outcome === 'quarantined' && e.stage === 'decode') assert.equal(failure, { side: e.side, kind: e.kind }, c.name)
      else assert.is(failure, undefined, c.name)
    }
  }
})

test('an Avro output encoder does not fail a whole batch over one record with an unknown schema id', async () => {
  const sources = openSchemaSources({ schema: join(badInputCorpusDir(), '..', 'schemas') })
  const codec = await createCodec({ format: 'avro' }, sources)
  const encoder = await createOutputEncoder({ format: 'avro', codec, sources, side: 'value' })
  await encoder.prepare([Buffer.from([0, 0, 0, 3, 0xe7, 2])])
  assert.throws(() => encoder.encode({ x: 1 }, Buffer.from([0, 0, 0, 3, 0xe7, 2])), /schema id 999/)
})

test.run()
