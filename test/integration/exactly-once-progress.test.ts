import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { countsToJson, freshCounts } from '../../src/core/replay-counts.js'
import { CHECKPOINT_TOPIC, KafkaSink, transactionalIdFor } from '../../src/sinks/kafka-sink.js'
import type { CommittedProgress, SinkRecord } from '../../src/sinks/sink.js'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RangeReader } from '../../src/kafka/range-reader.js'
import { replay } from '../../src/services/replay.js'
import { createTopic, produce, readTopic, testKafka, uniqueName, withGateway } from '../support/kafka.js'
import { withTimeout } from '../support/timeout.js'

/**
 * Every exactly-once replay keeps its progress in partition 0 of recover-replay-checkpoints. A
 * replay that takes its transactional id over (a resume, the next owner of a --scale-out
 * partition, a reconnect after an outage) must find the progress it committed last, also when
 * another replay's transaction was open in that partition before it: read_committed readers
 * stop at that transaction's first record until Kafka decides it.
 */
test(
  "an exactly-once replay reopened while another replay's transaction is open on the checkpoint topic finds the progress it committed after that transaction began",
  withTimeout(60_000, async () => {
    const sinkTopic = uniqueName('eos-progress-out')
    await createTopic(sinkTopic, 1)
    const runId = uniqueName('eos-progress-run')
    const progress: CommittedProgress = {
      partitions: [countsToJson({ ...freshCounts({ partition: 0, start: 0n, end: 10n }, 1n), read: 1, written: 1, outputs: 1 })],
      quarantineState: {},
      batches: 1,
    }
    const record: SinkRecord = {
      key: Buffer.from('k'),
      value: Buffer.from('{"n":0}'),
      decodedKey: null,
      decodedValue: null,
      headers: [],
      timestamp: Date.now(),
      timestampType: 'create',
      source: { topic: 'source', partition: 0, offset: 0n },
    }
    await withGateway(async (gateway) => {
      const first = new KafkaSink(gateway, sinkTopic, { createPartitions: 1, exactlyOnce: true })
      await first.open(undefined, { runId, topic: 'source' })
      // Another replay's transaction, open on the checkpoint partition before this one commits.
      const other = testKafka().producer({ transactionalId: uniqueName('eos-progress-other'), idempotent: true, maxInFlightRequests: 1 })
      await other.connect()
      const open = await other.transaction()
      await open.send({ topic: CHECKPOINT_TOPIC, acks: -1, messages: [{ partition: 0, key: 'other-replay', value: '{}' }] })
      try {
        assert.equal(await first.write([record]), [])
        await first.checkpoint(progress)
        await first.close()
        // The other transaction is still open (a replay killed mid-commit leaves one so until
        // Kafka's transaction timeout): the progress is found without waiting for it.
        const second = new KafkaSink(gateway, sinkTopic, { createPartitions: 1, exactlyOnce: true })
        const opened = await second.open(undefined, { runId, topic: 'source' })
        await second.close()
        assert.equal(opened.committed?.partitions, progress.partitions, 'the progress committed with the last batch')
        // A transaction of this replay's id that sent progress and was aborted: it never counts.
        const aborted = { ...progress, batches: 99, partitions: [{ ...progress.partitions[0]!, next: '9' }] }
        const same = testKafka().producer({
          transactionalId: transactionalIdFor({ runId, topic: 'source' }, sinkTopic),
          idempotent: true,
          maxInFlightRequests: 1,
        })
        await same.connect()
        const doomed = await same.transaction()
        await doomed.send({
          topic: CHECKPOINT_TOPIC,
          acks: -1,
          messages: [{ partition: 0, key: transactionalIdFor({ runId, topic: 'source' }, sinkTopic), value: JSON.stringify({ progress: aborted }) }],
        })
        await doomed.abort()
        await same.disconnect()
        const fourth = new KafkaSink(gateway, sinkTopic, { createPartitions: 1, exactlyOnce: true })
        const reopened = await fourth.open(undefined, { runId, topic: 'source' })
        await fourth.close()
        assert.equal(reopened.committed?.partitions, progress.partitions, 'still the committed progress')
        assert.not.equal(reopened.committed?.partitions, aborted.partitions)
        await open.commit()
      } finally {
        await other.disconnect()
      }
    })
    // What a read_committed reader sees: the committed record, not the aborted one.
    assert.equal(
      (await readTopic(sinkTopic)).map((r) => r.value?.toString()),
      ['{"n":0}'],
    )
  }),
)

test(
  'an exactly-once replay that says it is done is visible: right after it returns, no transaction of it is open on any partition of the sink topic',
  withTimeout(60_000, async () => {
    const topic = uniqueName('eos-visible')
    const sinkTopic = `${topic}.out`
    await createTopic(topic, 3)
    await produce(
      topic,
      Array.from({ length: 300 }, (_, i) => ({ partition: i % 3, key: `k${i}`, value: JSON.stringify({ n: i }), timestampMs: Date.now() })),
    )
    const dir = mkdtempSync(join(tmpdir(), 'recover-eos-visible-'))
    await withGateway(async (gateway) => {
      const summary = await replay(
        { topic, sink: `kafka:${sinkTopic}`, exactlyOnce: true, quarantine: `file:${join(dir, 'q.jsonl')}`, checkpoint: join(dir, 'cp.json'), batchSize: 50 },
        { gateway },
      )
      assert.is(summary.totals.written, 300)
      const reader = new RangeReader(gateway.kafka, gateway.settings, sinkTopic)
      try {
        const stable = await reader.partitionFacts([0, 1, 2])
        const ends = await gateway.logOffsets(sinkTopic)
        assert.equal(
          stable.map((f) => f.stableEnd),
          ends.map((e) => e.logEnd),
          'last stable offset = log end',
        )
      } finally {
        await reader.close()
      }
    })
  }),
)

test.run()
