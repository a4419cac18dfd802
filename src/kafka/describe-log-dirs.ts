import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

const DESCRIBE_LOG_DIRS = 35
/** v1: the oldest version Kafka 4.x still answers (KIP-896 removed v0), non-flexible, so kafkajs's request header fits. */
const API_VERSION = 1

interface Encoder {
  writeInt32(n: number): Encoder
  writeString(s: string): Encoder
  writeArray(items: unknown[], type?: string): Encoder
  buffer: Buffer
}

interface Decoder {
  readInt16(): number
  readInt32(): number
  readInt64(): { toString(): string }
  readString(): string
  readBoolean(): boolean
  readArray<T>(read: (d: Decoder) => T): T[]
}

/** What a broker connection offers for a request kafkajs does not know. */
export interface LogDirsBroker {
  versions: Record<number, { minVersion: number; maxVersion: number } | undefined>
  connectionPool: { send(request: unknown): Promise<unknown> }
}

/** Bytes on disk of one replica of a partition, as its broker reports it. */
export interface ReplicaSize {
  topic: string
  partition: number
  sizeBytes: number
}

/**
 * DescribeLogDirs, which kafkajs predates: the size on disk of each of `broker`'s replicas of
 * these partitions (`kafka-log-dirs.sh --describe` sends the same). Future replicas (a replica
 * being moved between log dirs) are left out, so each partition counts once. Returns undefined
 * when the broker does not offer the API or answers with an error (e.g. no Describe on the
 * cluster, which Kafka answers with an empty list before v3): the size is then unknown.
 */
export async function replicaSizes(broker: LogDirsBroker, scope: Array<{ topic: string; partitions: number[] }>): Promise<ReplicaSize[] | undefined> {
  const offered = broker.versions[DESCRIBE_LOG_DIRS]
  if (!offered || offered.minVersion > API_VERSION || offered.maxVersion < API_VERSION) return undefined
  const Encoder = require('kafkajs/src/protocol/encoder') as new () => Encoder
  const Decoder = require('kafkajs/src/protocol/decoder') as new (b: Buffer) => Decoder
  const request = {
    apiKey: DESCRIBE_LOG_DIRS,
    apiVersion: API_VERSION,
    apiName: 'DescribeLogDirs',
    encode: async () =>
      new Encoder().writeArray(
        scope.map(({ topic, partitions }) => new Encoder().writeString(topic).writeArray(partitions, 'int32')),
        'object',
      ),
  }
  const response = {
    decode: async (data: Buffer) => {
      const d = new Decoder(data)
      d.readInt32() // throttle time
      const dirs = d.readArray((dir) => {
        const errorCode = dir.readInt16()
        dir.readString() // log dir path
        const topics = dir.readArray((t) => {
          const topic = t.readString()
          const partitions = t.readArray((p) => {
            const partition = p.readInt32()
            const size = p.readInt64().toString()
            p.readInt64() // offset lag
            const future = p.readBoolean()
            return { partition, sizeBytes: Number(size), future }
          })
          return { topic, partitions }
        })
        return { errorCode, topics }
      })
      return { dirs }
    },
    parse: async (x: unknown) => x,
  }
  const result = (await broker.connectionPool.send({ request, response, requestTimeout: 10_000 })) as {
    dirs: Array<{ errorCode: number; topics: Array<{ topic: string; partitions: Array<{ partition: number; sizeBytes: number; future: boolean }> }> }>
  }
  const healthy = result.dirs.filter((dir) => dir.errorCode === 0)
  if (healthy.length === 0) return undefined
  const sizes: ReplicaSize[] = []
  for (const dir of healthy)
    for (const t of dir.topics) for (const p of t.partitions) if (!p.future) sizes.push({ topic: t.topic, partition: p.partition, sizeBytes: p.sizeBytes })
  return sizes
}
