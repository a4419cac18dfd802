import type { Admin, Consumer } from 'kafkajs'
import { RecoveryError } from '../errors.js'
import type { KafkaGateway } from './kafka-gateway.js'
import { replayAssigner } from './replay-assigner.js'
import { translateKafkaError } from './translate-error.js'

/** A partition's shared state in the group: the next offset to replay, and the metadata committed with it. */
export interface GroupPosition {
  partition: number
  offset: bigint | null
  metadata: string | null
}

export interface GroupMemberOptions {
  /** How long the coordinator waits for a member that stopped heartbeating (killed) before moving its partitions. */
  sessionTimeoutMs?: number
}

/**
 * Membership in a consumer group, used only to split a topic's partitions between replay
 * processes (Kafka's consumer-group protocol does the assignment and the rebalancing). The
 * member never lets kafkajs fetch: every partition stays paused, and the replay reads its
 * ranges with the range reader. Offsets are committed through the member, so the broker
 * refuses a commit from a member that lost the partition in a rebalance (the generation
 * fences it). The member offers only the replay assignor, so Kafka refuses it into a group of
 * any other consumers (NOT_A_REPLAY_GROUP) instead of rebalancing them.
 */
export class GroupMember {
  private assigned: number[] = []
  private generation = 0
  private listeners: Array<(partitions: number[]) => void> = []
  private crashed: Error | undefined

  private constructor(
    private readonly gateway: KafkaGateway,
    private readonly consumer: Consumer,
    private readonly admin: Admin,
    readonly groupId: string,
    readonly topic: string,
  ) {}

  static async join(gateway: KafkaGateway, groupId: string, topic: string, options: GroupMemberOptions = {}): Promise<GroupMember> {
    const session = options.sessionTimeoutMs ?? 10_000
    const consumer = gateway.kafka.consumer({
      groupId,
      partitionAssigners: [replayAssigner],
      sessionTimeout: session,
      rebalanceTimeout: session,
      heartbeatInterval: Math.max(500, Math.floor(session / 10)),
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 500,
    })
    const admin = gateway.kafka.admin()
    const member = new GroupMember(gateway, consumer, admin, groupId, topic)
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      // Pause before anything is fetched for the new assignment: this member only coordinates.
      consumer.pause([{ topic }])
      member.generation++
      member.assigned = [...(event.payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b)
      for (const l of member.listeners) l(member.assigned)
    })
    consumer.on(consumer.events.CRASH, (event) => {
      member.crashed = event.payload.error
      for (const l of member.listeners) l([])
    })
    try {
      await admin.connect()
      await consumer.connect()
      await consumer.subscribe({ topics: [topic], fromBeginning: true })
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        // Nothing is fetched while paused; should a batch slip in before the pause, it is ignored.
        eachBatch: async () => {
          consumer.pause([{ topic }])
        },
      })
      // kafkajs reports a failed first join as a crash (the consumer disconnected), not as an error of run().
      if (member.crashed) throw member.crashed
      consumer.pause([{ topic }])
    } catch (error) {
      await consumer.disconnect().catch(() => undefined)
      await admin.disconnect().catch(() => undefined)
      if (hasKafkaErrorType(error, 'INCONSISTENT_GROUP_PROTOCOL')) throw notAReplayGroupMember(groupId, error)
      throw translateKafkaError(error, gateway.settings, `joining consumer group ${groupId}`)
    }
    return member
  }

  /** The partitions this member holds now (empty before the first assignment). */
  get partitions(): number[] {
    if (this.crashed) throw this.failure()
    return this.assigned
  }

  /** Counts assignments: a new one means a rebalance happened. */
  get generationSeen(): number {
    return this.generation
  }

  /** Called with every new assignment. */
  onAssignment(listener: (partitions: number[]) => void): void {
    this.listeners.push(listener)
    // The first assignment may have arrived while join() was returning.
    if (this.generation > 0) listener(this.assigned)
  }

  /** The group's committed positions for every partition of the topic. */
  async positions(): Promise<GroupPosition[]> {
    try {
      const [entry] = await this.admin.fetchOffsets({ groupId: this.groupId, topics: [this.topic] })
      return (entry?.partitions ?? []).map((p) => ({
        partition: p.partition,
        offset: Number(p.offset) < 0 ? null : BigInt(p.offset),
        metadata: p.metadata ?? null,
      }))
    } catch (error) {
      throw translateKafkaError(error, this.gateway.settings, `reading the offsets of group ${this.groupId}`)
    }
  }

  /**
   * Commits positions as this member, in its generation. Returns false when the broker refuses
   * because the group rebalanced (the partitions may belong to another member now).
   */
  async commit(positions: Array<{ partition: number; offset: bigint; metadata: string }>): Promise<boolean> {
    const deadline = Date.now() + COORDINATOR_MOVE_WAIT_MS
    for (;;) {
      try {
        await this.consumer.commitOffsets(
          positions.map((p) => ({ topic: this.topic, partition: p.partition, offset: p.offset.toString(), metadata: p.metadata })),
        )
        return true
      } catch (error) {
        const translated = translateKafkaError(error, this.gateway.settings, `committing offsets for group ${this.groupId}`, { groupCommit: true })
        const next = afterRefusedCommit(translated, Date.now(), deadline)
        if (next === 'fenced') return false
        if (next === 'give-up') throw translated
        await new Promise((resolve) => setTimeout(resolve, COORDINATOR_MOVE_POLL_MS))
      }
    }
  }

  private failure(): RecoveryError {
    if (hasKafkaErrorType(this.crashed, 'INCONSISTENT_GROUP_PROTOCOL')) return notAReplayGroupMember(this.groupId, this.crashed)
    return translateKafkaError(this.crashed, this.gateway.settings, `staying in consumer group ${this.groupId}`)
  }

  /** Leaves the group (its partitions move to the other members at once). */
  async leave(): Promise<void> {
    await this.consumer.disconnect().catch(() => undefined)
    await this.admin.disconnect().catch(() => undefined)
  }
}

function hasKafkaErrorType(error: unknown, type: string): boolean {
  for (let e = error as { type?: string; cause?: unknown; originalError?: unknown } | undefined, depth = 0; e && depth < 8; depth++) {
    if (e.type === type) return true
    e = (e.originalError ?? e.cause) as typeof e
  }
  return false
}

/** Kafka refused this member: the group's members do not all offer the replay assignor, so they are not replays. */
function notAReplayGroupMember(groupId: string, cause: unknown): RecoveryError {
  return new RecoveryError(
    'NOT_A_REPLAY_GROUP',
    `Kafka refused to add this replay to group ${groupId}: its members are consumers that do not offer recover's replay assignor (INCONSISTENT_GROUP_PROTOCOL), so they are not recover replays. Nothing was joined or committed.`,
    {
      cause,
      details: { group: groupId, kafkaError: 'INCONSISTENT_GROUP_PROTOCOL' },
    },
  )
}

/** Answers that mean the group's coordinator is moving to another broker. */
const COORDINATOR_MOVED = /^(NOT_COORDINATOR(_FOR_GROUP)?|(GROUP_)?COORDINATOR_NOT_AVAILABLE|(COORDINATOR|GROUP)_LOAD_IN_PROGRESS)$/
/** How long a commit asks again while the coordinator moves: another broker takes the group over within seconds. */
export const COORDINATOR_MOVE_WAIT_MS = 30_000
const COORDINATOR_MOVE_POLL_MS = 500

/**
 * What a member does with a refused offset commit (translated): `fenced` when the group
 * rebalanced past its generation (the partitions may be another member's now), `ask-again`
 * while the group's coordinator dies or moves (a broker of the cluster killed) and the
 * deadline has not passed, else `give-up` (the refusal is the replay's error).
 */
export function afterRefusedCommit(refusal: RecoveryError, nowMs: number, deadlineMs: number): 'fenced' | 'ask-again' | 'give-up' {
  if (refusal.fenced) return 'fenced'
  if (COORDINATOR_MOVED.test(String(refusal.details.kafkaError ?? '')) && nowMs < deadlineMs) return 'ask-again'
  return 'give-up'
}
