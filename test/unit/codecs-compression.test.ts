import { createRequire } from 'node:module'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { RecoveryError } from '../../src/errors.js'
import { compressionCodec, registerCompressionCodecs } from '../../src/kafka/compression-codecs.js'

const require = createRequire(import.meta.url)
const kafkajs = require('kafkajs') as typeof import('kafkajs')

type Factory = () => { compress(e: { buffer: Buffer }): Promise<Buffer>; decompress(b: Buffer): Promise<Buffer> }

registerCompressionCodecs()
const codecs = kafkajs.CompressionCodecs as unknown as Record<number, Factory>
const sample = Buffer.from(JSON.stringify(Array.from({ length: 200 }, (_, i) => ({ i, text: 'compressible words, again and again' }))))

test('Snappy, LZ4 and GZIP registered with kafkajs round-trip a record batch body', async () => {
  for (const type of [kafkajs.CompressionTypes.GZIP, kafkajs.CompressionTypes.Snappy, kafkajs.CompressionTypes.LZ4]) {
    const codec = codecs[type]!()
    const compressed = await codec.compress({ buffer: sample })
    assert.ok(compressed.length < sample.length / 2, `type ${type} did not compress`)
    assert.ok((await codec.decompress(compressed)).equals(sample))
  }
})

test('LZ4 frames we write declare independent blocks with a valid header checksum', async () => {
  const frame = await codecs[kafkajs.CompressionTypes.LZ4]!().compress({ buffer: sample })
  assert.is(frame.readUInt32LE(0), 0x184d2204)
  assert.is(frame[4]! & 0x20, 0x20)
  const xxh32 = require('lz4js/xxh32.js') as { hash(seed: number, src: Uint8Array, index: number, length: number): number }
  assert.is(frame[6], (xxh32.hash(0, frame, 4, 2) >> 8) & 0xff)
})

test('ZSTD decodes (fzstd) and refuses to write, naming the codec', async () => {
  // A zstd frame of "hello zstd\n" made by the zstd command-line tool.
  const frame = Buffer.from('28b52ffd045859000068656c6c6f207a7374640a6c57f951', 'hex')
  const codec = codecs[kafkajs.CompressionTypes.ZSTD]!()
  assert.is((await codec.decompress(frame)).toString(), 'hello zstd\n')
  try {
    await codec.compress({ buffer: sample })
    assert.unreachable('ZSTD compression should be refused')
  } catch (error) {
    assert.instance(error, RecoveryError)
    assert.is((error as RecoveryError).code, 'COMPRESSION_CODEC_UNAVAILABLE')
    assert.match((error as RecoveryError).message, /ZSTD/)
  }
})

test('a codec that cannot be loaded is a clear error naming it and its package', () => {
  const factory = compressionCodec('LZ4', () => {
    throw new Error("Cannot find module 'lz4js'\nRequire stack: ...")
  })
  try {
    factory()
    assert.unreachable('loading should fail')
  } catch (error) {
    assert.instance(error, RecoveryError)
    const e = error as RecoveryError
    assert.is(e.code, 'COMPRESSION_CODEC_UNAVAILABLE')
    assert.is(e.exitCode, 5)
    assert.match(e.message, /LZ4/)
    assert.match(e.message, /lz4js/)
    assert.not.match(e.message, /Require stack/)
  }
})

test('a batch that does not decompress names its codec', async () => {
  for (const [type, name] of [
    [kafkajs.CompressionTypes.Snappy, 'Snappy'],
    [kafkajs.CompressionTypes.LZ4, 'LZ4'],
    [kafkajs.CompressionTypes.ZSTD, 'ZSTD'],
  ] as const) {
    try {
      await codecs[type]!().decompress(Buffer.from('definitely not compressed data at all'))
      assert.unreachable(`${name} decompressed garbage`)
    } catch (error) {
      assert.match((error as Error).message, new RegExp(`${name}-compressed record batch`))
    }
  }
})

test.run()
