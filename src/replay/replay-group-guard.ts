import { RecoveryError } from '../errors.js'
import { foreignUseOf, isForeignUse, type ForeignUse } from '../core/replay-group-marker.js'
import type { KafkaGateway } from '../kafka/kafka-gateway.js'

const LISTED = 8

/**
 * Refuses (NOT_A_REPLAY_GROUP, exit 4) a group that anything but recover's replays of `topic`
 * uses: live members that are not replay processes of this topic, or offsets committed without
 * recover's marker. Runs before joining, so a refusal joins, commits and rebalances nothing.
 */
export async function assertReplayGroupIsOurs(gateway: KafkaGateway, groupId: string, topic: string): Promise<void> {
  const [description] = await gateway.describeGroups([groupId])
  const committed = await gateway.committedOffsets(groupId)
  const use = foreignUseOf(topic, description, committed)
  if (isForeignUse(use)) throw notAReplayGroup(groupId, topic, use)
}

export function notAReplayGroup(groupId: string, topic: string, use: ForeignUse): RecoveryError {
  const found: string[] = []
  if (use.members.length > 0) {
    const who = use.members.slice(0, LISTED).map((m) => `${m.clientId}@${m.host}: ${m.reason}`)
    if (use.members.length > LISTED) who.push(`${use.members.length - LISTED} more`)
    found.push(
      `${use.members.length} member${use.members.length === 1 ? '' : 's'} that ${use.members.length === 1 ? 'is' : 'are'} not a recover replay of ${topic} (${who.join('; ')})`,
    )
  }
  if (use.offsets.length > 0) {
    const where = use.offsets.slice(0, LISTED).map((o) => `${o.topic}:${o.partition}@${o.offset}`)
    if (use.offsets.length > LISTED) where.push(`${use.offsets.length - LISTED} more`)
    found.push(`offsets recover did not commit (${where.join(', ')})`)
  }
  return new RecoveryError(
    'NOT_A_REPLAY_GROUP',
    `Group ${groupId} is not one of recover's replay groups for ${topic}: it has ${found.join(' and ')}. recover never joins, commits to or rebalances such a group; nothing was joined or committed.`,
    {
      nextSteps: [
        'Pick another --scale-out NAME (the replay uses the group recover-replay.NAME).',
        "To rewind an application's consumer group, use: recover seek --group GROUP --to TIME (a plan, a journal and an undo).",
      ],
      details: {
        group: groupId,
        topic,
        members: use.members,
        offsets: use.offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset.toString() })),
      },
    },
  )
}
