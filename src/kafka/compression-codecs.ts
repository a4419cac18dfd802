import { createRequire } from 'node:module'
import { RecoveryError } from '../errors.js'

const require = createRequire(import.meta.url)

/**
 * kafkajs 2.2.4 decodes only GZIP itself; production topics also use Snappy, LZ4 and ZSTD,
 * and a recovery tool must read them all. The codecs here are pure JavaScript (nothing to
 * compile): kafkajs-snappy (snappyjs, with xerial framing), lz4js for LZ4 frames, fzstd for
 * ZSTD (a decompressor only: writing ZSTD is refused with a clear error). Each package is
 * loaded on first use, so a missing one names itself instead of breaking every fetch.
 */

/** What kafkajs calls on a codec: compress gets its Encoder (whose .buffer is the records). */
interface KafkaCodec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>
  decompress(buffer: Buffer): Promise<Buffer>
}

type CodecFactory = () => KafkaCodec

interface Lz4js {
  compress(src: Uint8Array): Uint8Array
  decompress(src: Uint8Array, maxSize?: number): Uint8Array
}

export const COMPRESSION_CODEC_PACKAGES = { Snappy: 'kafkajs-snappy', LZ4: 'lz4js', ZSTD: 'fzstd' } as const
export type CompressionName = keyof typeof COMPRESSION_CODEC_PACKAGES

let registered = false

/** Registers Snappy, LZ4 and ZSTD with kafkajs, once per process. */
export function registerCompressionCodecs(): void {
  if (registered) return
  const { CompressionTypes, CompressionCodecs } = require('kafkajs') as typeof import('kafkajs')
  const codecs = CompressionCodecs as unknown as Record<number, CodecFactory>
  codecs[CompressionTypes.Snappy] = compressionCodec('Snappy', () => (require('kafkajs-snappy') as () => KafkaCodec)())
  codecs[CompressionTypes.LZ4] = compressionCodec('LZ4', () => lz4Codec(require('lz4js') as Lz4js))
  codecs[CompressionTypes.ZSTD] = compressionCodec('ZSTD', () => zstdCodec(require('fzstd') as typeof import('fzstd')))
  registered = true
}

/**
 * A kafkajs codec factory that loads its package on first use, names the codec when it
 * cannot, and names it when a batch does not decompress.
 */
export function compressionCodec(name: CompressionName, load: () => KafkaCodec): CodecFactory {
  let codec: KafkaCodec | undefined
  return () => {
    if (!codec) {
      let loaded: KafkaCodec
      try {
        loaded = load()
      } catch (error) {
        throw new RecoveryError(
          'COMPRESSION_CODEC_UNAVAILABLE',
          `Records compressed with ${name} cannot be read: the ${name} codec (npm package ${COMPRESSION_CODEC_PACKAGES[name]}) could not be loaded (${(error as Error).message.split('\n')[0]}); reinstall with npm ci.`,
          { cause: error, details: { codec: name, package: COMPRESSION_CODEC_PACKAGES[name] } },
        )
      }
      codec = {
        compress: (encoder) => loaded.compress(encoder),
        async decompress(buffer) {
          try {
            return await loaded.decompress(buffer)
          } catch (error) {
            if (error instanceof RecoveryError) throw error
            throw new Error(`A ${name}-compressed record batch (${buffer.length} bytes) could not be decompressed: ${(error as Error).message}`, {
              cause: error,
            })
          }
        },
      }
    }
    return codec
  }
}

const LZ4_MAX_SINGLE_BLOCK = 4 << 20

function lz4Codec(lz4: Lz4js): KafkaCodec {
  const xxh32 = require('lz4js/xxh32.js') as { hash(seed: number, src: Uint8Array, index: number, length: number): number }
  return {
    async compress(encoder) {
      const frame = lz4.compress(encoder.buffer)
      // lz4js leaves the block-independence flag off. Kafka's Java reader only accepts
      // independent blocks; a frame of one block (lz4js blocks are 4 MB) is independent.
      if (encoder.buffer.length <= LZ4_MAX_SINGLE_BLOCK) {
        frame[4] = frame[4]! | 0x20
        frame[6] = (xxh32.hash(0, frame, 4, 2) >> 8) & 0xff
      }
      return Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength)
    },
    async decompress(buffer) {
      const out = lz4.decompress(buffer)
      return Buffer.from(out.buffer, out.byteOffset, out.byteLength)
    },
  }
}

function zstdCodec(fzstd: typeof import('fzstd')): KafkaCodec {
  return {
    async compress() {
      throw new RecoveryError(
        'COMPRESSION_CODEC_UNAVAILABLE',
        'ZSTD can be read but not written here (the pure-JS fzstd only decompresses); write with compression gzip, snappy or lz4 instead.',
        {
          details: { codec: 'ZSTD', package: COMPRESSION_CODEC_PACKAGES.ZSTD },
        },
      )
    },
    async decompress(buffer) {
      const out = fzstd.decompress(buffer)
      return Buffer.from(out.buffer, out.byteOffset, out.byteLength)
    },
  }
}
