import { createRequire } from 'node:module'
import type { PartitionAssigner } from 'kafkajs'
import { REPLAY_ASSIGNOR } from '../core/replay-group-marker.js'

const require = createRequire(import.meta.url)

/**
 * The partition assignor of scale-out replay members: round robin, each topic's partitions
 * among the members subscribed to it. Its name is the point: Kafka refuses a member into a
 * classic group unless every member offers a common assignor, so a replay member offering only
 * this one can never join (and rebalance) a group of an application's consumers, and an
 * application's consumer can never join a replay group.
 */
export const replayAssigner: PartitionAssigner = ({ cluster }) => {
  const { AssignerProtocol } = require('kafkajs') as typeof import('kafkajs')
  return {
    name: REPLAY_ASSIGNOR,
    version: 0,
    async assign({ members, topics }) {
      const memberIds = members.map((m) => m.memberId).sort()
      const subscribers = new Map<string, string[]>()
      for (const m of members) {
        for (const topic of AssignerProtocol.MemberMetadata.decode(m.memberMetadata)?.topics ?? [])
          subscribers.set(topic, [...(subscribers.get(topic) ?? []), m.memberId])
      }
      const assignment = new Map<string, Record<string, number[]>>(memberIds.map((id) => [id, {}]))
      for (const topic of [...topics].sort()) {
        const takers = (subscribers.get(topic) ?? []).sort()
        if (takers.length === 0) continue
        const partitions = cluster
          .findTopicPartitionMetadata(topic)
          .map((p) => p.partitionId)
          .sort((a, b) => a - b)
        partitions.forEach((partition, i) => {
          const taken = assignment.get(takers[i % takers.length]!)!
          ;(taken[topic] ??= []).push(partition)
        })
      }
      return memberIds.map((memberId) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 0, assignment: assignment.get(memberId)!, userData: Buffer.alloc(0) }),
      }))
    },
    protocol({ topics }) {
      return { name: REPLAY_ASSIGNOR, metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }) }
    },
  }
}
