import { createRequire } from 'node:module'
import type { GroupDescription } from './kafka-gateway.js'

const require = createRequire(import.meta.url)

const CONSUMER_GROUP_DESCRIBE = 69

interface Encoder {
  writeInt8(n: number): Encoder
  writeBoolean(b: boolean): Encoder
  writeUVarInt(n: number): Encoder
  writeUVarIntString(s: string | null): Encoder
}

interface Decoder {
  readInt8(): number
  readInt16(): number
  readInt32(): number
  readBoolean(): boolean
  readUVarIntString(): string | null
  readUVarIntArray<T>(read: (d: Decoder) => T): T[] | null
  readTaggedFields(): unknown
  readBytes(n: number): Buffer
}

/** What a broker connection offers for a request kafkajs does not know. */
export interface DescribeBroker {
  versions: Record<number, { minVersion: number; maxVersion: number } | undefined>
  connectionPool: { send(request: unknown): Promise<unknown> }
}

interface ConsumerGroup {
  errorCode: number
  groupId: string
  state: string
  assignor: string
  members: Array<{ memberId: string; clientId: string; host: string; assignments: Array<{ topic: string; partitions: number[] }>; topics: string[] | null }>
}

/**
 * ConsumerGroupDescribe (KIP-848), which kafkajs predates: the state and members of a group on
 * the new consumer protocol, the default from Kafka 4.0, which the classic DescribeGroups
 * reports as Dead. A flexible-version request: its header's empty tagged fields are written as
 * the first byte of the body, which is where they fall after kafkajs's v1 header. Returns
 * undefined when the broker does not offer the API.
 */
export async function describeConsumerProtocolGroup(broker: DescribeBroker, groupId: string): Promise<GroupDescription | undefined> {
  const offered = broker.versions[CONSUMER_GROUP_DESCRIBE]
  if (!offered || offered.maxVersion < 0) return undefined
  const apiVersion = 0
  const Encoder = require('kafkajs/src/protocol/encoder') as new () => Encoder
  const Decoder = require('kafkajs/src/protocol/decoder') as new (b: Buffer) => Decoder
  const request = {
    apiKey: CONSUMER_GROUP_DESCRIBE,
    apiVersion,
    apiName: 'ConsumerGroupDescribe',
    encode: async () =>
      new Encoder()
        .writeUVarInt(0) // request header tagged fields
        .writeUVarInt(2) // one group id (compact array: n + 1)
        .writeUVarIntString(groupId)
        .writeBoolean(false) // include authorized operations
        .writeUVarInt(0), // tagged fields
  }
  const response = {
    decode: async (data: Buffer) => {
      const d = new Decoder(data)
      d.readTaggedFields() // response header tagged fields
      d.readInt32() // throttle time
      const groups = d.readUVarIntArray((g): ConsumerGroup => {
        const errorCode = g.readInt16()
        g.readUVarIntString() // error message
        const id = g.readUVarIntString() ?? ''
        const state = g.readUVarIntString() ?? ''
        g.readInt32() // group epoch
        g.readInt32() // assignment epoch
        const assignor = g.readUVarIntString() ?? ''
        const members =
          g.readUVarIntArray((m) => {
            const memberId = m.readUVarIntString() ?? ''
            m.readUVarIntString() // instance id
            m.readUVarIntString() // rack id
            m.readInt32() // member epoch
            const clientId = m.readUVarIntString() ?? ''
            const host = m.readUVarIntString() ?? ''
            const topics = (m.readUVarIntArray((t) => t.readUVarIntString() ?? '') ?? []).sort()
            m.readUVarIntString() // subscribed topic regex
            const assignments = readAssignment(m)
            readAssignment(m) // target assignment
            m.readTaggedFields()
            return { memberId, clientId, host: host.replace(/^\//, ''), assignments, topics }
          }) ?? []
        g.readInt32() // authorized operations
        g.readTaggedFields()
        return { errorCode, groupId: id, state, assignor, members }
      })
      return { groups: groups ?? [] }
    },
    parse: async (x: unknown) => x,
  }
  const result = (await broker.connectionPool.send({ request, response, requestTimeout: 10_000 })) as { groups: ConsumerGroup[] }
  const group = result.groups.find((g) => g.groupId === groupId)
  // GROUP_ID_NOT_FOUND (69): no such group; any other error: the classic answer stands.
  if (group?.errorCode !== 0) return undefined
  return { groupId, state: capitalise(group.state), protocolType: 'consumer', rebalanceProtocol: 'consumer', assignor: group.assignor, members: group.members }
}

/** An Assignment: [topic id (uuid), topic name, [partition]], then tagged fields. */
function readAssignment(d: Decoder): Array<{ topic: string; partitions: number[] }> {
  const topics =
    d.readUVarIntArray((t) => {
      t.readBytes(16) // topic id
      const topic = t.readUVarIntString() ?? ''
      const partitions = (t.readUVarIntArray((p) => p.readInt32()) ?? []).sort((a, b) => a - b)
      t.readTaggedFields()
      return { topic, partitions }
    }) ?? []
  d.readTaggedFields()
  return topics
}

/** Kafka names consumer-protocol states in lower case (stable, empty, …); classic ones are capitalised. */
function capitalise(state: string): string {
  if (state === '') return 'Unknown'
  return state
    .split(/[_\s]+/)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase())
    .join('')
}
