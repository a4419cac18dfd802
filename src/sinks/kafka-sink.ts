import { createHash } from 'node:crypto'
import { planReplayRanges } from '../core/replay-range.js'
import { retentionCutoff, retentionWarning } from '../core/retention.js'
import type { KafkaGateway } from '../kafka/kafka-gateway.js'
import { KafkaWriter } from '../kafka/kafka-writer.js'
import { RangeReader } from '../kafka/range-reader.js'
import type { BatchFacts, RecordView } from '../kafka/record-batch-walker.js'
import type { CommittedProgress, ReplayIdentity, Sink, SinkOpenResult, SinkRecord, SinkRejection, SinkState } from './sink.js'

/** Where exactly-once replays keep their progress: compacted, one record per replay (the latest). */
export const CHECKPOINT_TOPIC = 'recover-replay-checkpoints'

export interface KafkaSinkOptions {
  /** Partitions for the topic when it has to be created: the source topic's count. */
  createPartitions: number
  /** Write the time of writing instead of each record's original timestamp. */
  newTimestamps?: boolean
  /** A transactional producer: each batch and the replay's progress in one transaction. */
  exactlyOnce?: boolean
  /** 'key': every keyed record where Kafka's default partitioner puts its key; default 'auto' (keep the source partition when the topic has enough). */
  partitioning?: 'auto' | 'key'
}

/** The transactional id of a replay: stable across --resume (same runId), distinct between replays. */
export function transactionalIdFor(replay: ReplayIdentity, sinkTopic: string): string {
  return `recover-replay-${createHash('sha256').update(`${replay.topic}\u0000${sinkTopic}\u0000${replay.runId}`).digest('hex').slice(0, 24)}`
}

/**
 * `kafka:TOPIC`: an idempotent producer (acks=all), keys and headers (order, repeats, nulls)
 * kept, each record's original timestamp unless --new-timestamps, batches compressed as the
 * topic's compression.type asks (gzip, snappy, lz4). A record keeps its source
 * partition when the topic has enough partitions. The checkpoint keeps the topic's log end
 * after our last acknowledged batch: on resume, what lies beyond it was written by the
 * interrupted batch and is counted as re-sent (Kafka has no transaction with a checkpoint
 * file, so at most that one batch is duplicated).
 */
export class KafkaSink implements Sink {
  readonly mayDuplicateOnResume: boolean
  readonly transactional: boolean
  private writer: KafkaWriter | undefined
  private state = new Map<number, bigint>()
  private transactionalId: string | undefined

  constructor(
    private readonly gateway: KafkaGateway,
    readonly topic: string,
    private readonly options: KafkaSinkOptions,
  ) {
    this.transactional = options.exactlyOnce === true
    this.mayDuplicateOnResume = !this.transactional
  }

  get uri(): string {
    return `kafka:${this.topic}`
  }

  async open(resume: SinkState | undefined, replay: ReplayIdentity): Promise<SinkOpenResult> {
    if (this.transactional) return this.openTransactional(replay)
    this.writer = await KafkaWriter.open(this.gateway, this.topic, {
      createPartitions: this.options.createPartitions,
      byKey: this.options.partitioning === 'key',
      idempotent: true,
      errorCode: 'SINK_FAILED',
      role: 'sink',
      compression: 'topic',
    })
    const ends = await this.writer.logEnds()
    let resent = 0
    if (resume !== undefined) {
      const checkpointed = (resume.logEnds ?? {}) as Record<string, string>
      for (const [partition, end] of ends) {
        const at = checkpointed[String(partition)]
        if (at !== undefined && end > BigInt(at)) resent += Number(end - BigInt(at))
      }
    }
    this.state = ends
    // After a reopen, the log may still grow by a write of the run before that timed out while
    // the partition's ISR was short: the first write now shows where the log really ended.
    this.endsAtOpen = resume !== undefined ? new Map(ends) : undefined
    return { resent }
  }

  private endsAtOpen: Map<number, bigint> | undefined

  takeLateResent(): number {
    if (!this.endsAtOpen || !this.writer) return 0
    let late = 0
    for (const [partition, first] of this.writer.firstWrittenOffsets()) {
      const end = this.endsAtOpen.get(partition)
      if (end === undefined) continue
      if (first > end) late += Number(first - end)
      this.endsAtOpen.delete(partition)
    }
    return late
  }

  async write(records: SinkRecord[]): Promise<SinkRejection[]> {
    const now = Date.now()
    if (this.transactional) await this.writer!.begin()
    const rejected = await this.writer!.write(
      records.map((r) => ({
        sourcePartition: r.source.partition,
        key: r.key,
        value: r.value,
        headers: r.headers,
        timestampMs: this.options.newTimestamps ? now : r.timestamp,
      })),
    )
    for (const [p, o] of this.writer!.writtenOffsets()) this.state.set(p, o)
    return rejected.map((index) => ({
      index,
      error: Object.assign(new Error(`Kafka refused the record as too large for topic ${this.topic} (max.message.bytes).`), { name: 'RecordTooLargeError' }),
    }))
  }

  /**
   * Idempotent producer: writes were acknowledged by all in-sync replicas when write()
   * resolved, nothing to flush. Transactional: the progress record joins the batch's
   * transaction, and the commit makes both visible at once.
   */
  async checkpoint(progress?: CommittedProgress): Promise<SinkState> {
    if (this.transactional && progress !== undefined) {
      const value = Buffer.from(JSON.stringify({ kind: 'recover-replay-progress', transactionalId: this.transactionalId, sink: this.uri, progress }))
      await this.writer!.commit({ topic: CHECKPOINT_TOPIC, partition: 0, key: Buffer.from(this.transactionalId!), value })
    }
    return {
      logEnds: Object.fromEntries([...this.state].map(([p, o]) => [String(p), o.toString()])),
      ...(this.transactionalId ? { transactionalId: this.transactionalId } : {}),
    }
  }

  /**
   * Records replayed with their original (old) timestamps into a topic with time retention are
   * deleted by the broker minutes later: the replay says so when the first such record goes.
   */
  async retention(): Promise<{ cutoffMs: number; warning: string } | undefined> {
    if (this.options.newTimestamps) return undefined
    const configs = await this.gateway
      .topicConfigs(this.topic, ['retention.ms', 'cleanup.policy', 'message.timestamp.type'])
      .catch(() => new Map<string, string>())
    const cutoff = retentionCutoff(configs, Date.now())
    return cutoff && { cutoffMs: cutoff.cutoffMs, warning: retentionWarning(this.topic, cutoff.retentionMs) }
  }

  /**
   * Exactly once: Kafka answers a commit once it has decided it, and writes the markers that
   * make the records visible to read_committed readers just after (later still after a
   * failover). Waits for them, briefly, so that a replay that says it is done is done for the
   * audit or consumer run right after it.
   */
  async finish(): Promise<void> {
    if (!this.transactional || !this.writer) return
    const written = this.writer.writtenOffsets()
    if (written.size === 0) return
    const reader = new RangeReader(this.gateway.kafka, this.gateway.settings, this.topic)
    try {
      const giveUpAt = Date.now() + VISIBLE_WAIT_MS
      while (Date.now() < giveUpAt) {
        const facts = await reader.partitionFacts([...written.keys()])
        if (facts.every((f) => f.stableEnd >= written.get(f.partition)!)) return
        await new Promise((resolve) => setTimeout(resolve, VISIBLE_POLL_MS))
      }
    } catch {
      // The commit is decided: visibility follows without us.
    } finally {
      await reader.close()
    }
  }

  /** A checkpoint of an exactly-once replay keeps its transactional id: the modes must match to continue. */
  resumeMismatch(state: SinkState): string | undefined {
    const wasExactlyOnce = typeof state.transactionalId === 'string'
    if (wasExactlyOnce === this.transactional) return undefined
    return wasExactlyOnce ? 'it ran with --exactly-once (add it)' : 'it ran without --exactly-once (leave it out)'
  }

  /**
   * Exactly once: take over the replay's transactional id (which aborts whatever the
   * interrupted run had not committed), then read the progress it last committed, read_committed.
   */
  private async openTransactional(replay: ReplayIdentity): Promise<SinkOpenResult> {
    this.transactionalId = transactionalIdFor(replay, this.topic)
    const checkpoints = await KafkaWriter.open(this.gateway, CHECKPOINT_TOPIC, {
      createPartitions: 1,
      errorCode: 'SINK_FAILED',
      role: 'checkpoint',
      topicConfig: { 'cleanup.policy': 'compact' },
    })
    await checkpoints.close()
    this.writer = await KafkaWriter.open(this.gateway, this.topic, {
      createPartitions: this.options.createPartitions,
      byKey: this.options.partitioning === 'key',
      idempotent: true,
      errorCode: 'SINK_FAILED',
      role: 'sink',
      compression: 'topic',
      transactionalId: this.transactionalId,
    })
    await this.writer.fence()
    this.state = await this.writer.logEnds()
    return { resent: 0, committed: await this.readCommitted() }
  }

  /**
   * The progress this replay's transactional id committed last. Every exactly-once replay (every
   * partition of a --scale-out group) keeps its progress in partition 0 of the checkpoint topic,
   * so a read_committed reader would stop at the first record of any other replay's open
   * transaction there (the last stable offset) and miss this replay's latest progress after it:
   * the replay would continue from older progress and write records twice. So the partition is
   * read to its end, uncommitted, and this replay's records count once its own commit marker
   * follows them: after fence(), every transaction of this id is decided and its markers written.
   */
  private async readCommitted(): Promise<CommittedProgress | undefined> {
    const reader = new RangeReader(this.gateway.kafka, this.gateway.settings, CHECKPOINT_TOPIC, 'read_uncommitted')
    const key = Buffer.from(this.transactionalId!)
    let last: CommittedProgress | undefined
    /** Progress records of a transaction whose marker has not come yet, by producer id. */
    const pending = new Map<bigint, CommittedProgress>()
    let batch: BatchFacts | undefined
    try {
      const ranges = planReplayRanges({ kind: 'earliest' }, { kind: 'latest' }, await reader.partitionFacts([0]))
      const visit = (view: RecordView): void => {
        if (view.keyLength !== key.length || view.valueStart < 0 || !key.equals(view.bytes.subarray(view.keyStart, view.keyStart + view.keyLength))) return
        const progress = (JSON.parse(view.bytes.toString('utf8', view.valueStart, view.valueStart + view.valueLength)) as { progress: CommittedProgress })
          .progress
        if (batch?.transactional) pending.set(batch.producerId, progress)
        else last = progress
      }
      const onBatch = (facts: BatchFacts): void => {
        batch = facts
        if (!facts.control) return
        const progress = pending.get(facts.producerId)
        pending.delete(facts.producerId)
        if (progress && !facts.abort) last = progress
      }
      for await (const _ of reader.scan(ranges, visit, { onBatch })) {
        // The visitor and onBatch keep what counts.
      }
    } finally {
      await reader.close()
    }
    return last
  }

  async close(): Promise<void> {
    await this.writer?.close()
  }
}

const VISIBLE_POLL_MS = 100
/** How long a finished exactly-once replay waits for its last commit to become visible. */
const VISIBLE_WAIT_MS = 30_000
