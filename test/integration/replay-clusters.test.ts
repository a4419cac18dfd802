import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { resolveConnection } from '../../src/config/resolve-connection.js'
import { RecoveryError } from '../../src/errors.js'
import { KafkaGateway } from '../../src/kafka/kafka-gateway.js'
import { replay, type ReplayRequest } from '../../src/services/replay.js'
import { createTopic, produce, uniqueName, withGateway } from '../support/kafka.js'
import { dropTestTables, PG_URL, query, testTable } from '../support/postgres.js'
import { withTimeout } from '../support/timeout.js'
import { testBrokersB as clusterBBrokers } from '../support/kafka.js'

/**
 * A transactional sink (PostgreSQL, DuckDB) keeps each replay's committed progress under the
 * replay's id. That progress records the source cluster: a replay with the same id on another
 * cluster (the same group and topic names there) must never take it over as its own, which
 * would skip records it never read. Cluster B is RECOVER_TEST_BROKERS_B.
 */
const dir = mkdtempSync(join(tmpdir(), 'recover-replay-clusters-'))
const COUNT = 30

const brokersB = clusterBBrokers

const values = (tag: string) =>
  Array.from({ length: COUNT }, (_, i) => ({ partition: 0, key: `k${i}`, value: JSON.stringify({ n: i, tag }), timestampMs: Date.UTC(2018, 2, 21) + i }))

/** The same topic name on cluster B, with other records at the same offsets. */
async function seedB(topic: string): Promise<void> {
  const kafka = new Kafka({ brokers: brokersB().split(','), clientId: 'recover-tests', logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true })
  } finally {
    await admin.disconnect()
  }
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  try {
    await producer.send({ topic, acks: -1, messages: values('B').map((r) => ({ partition: 0, key: r.key, value: r.value, timestamp: String(r.timestampMs) })) })
  } finally {
    await producer.disconnect()
  }
}

async function withGatewayB<T>(work: (g: KafkaGateway) => Promise<T>): Promise<T> {
  const gateway = await KafkaGateway.open(resolveConnection({ brokers: brokersB() }, { clusters: {}, defaults: {} }))
  try {
    return await work(gateway)
  } finally {
    await gateway.close()
  }
}

for (const kind of ['postgres', 'duckdb'] as const) {
  test(
    `${kind}: progress committed for a replay id on cluster A is refused (exit 4, nothing written) by a replay with that id on cluster B`,
    withTimeout(90_000, async () => {
      const topic = uniqueName('xc-progress')
      await createTopic(topic, 1)
      await produce(topic, values('A'))
      await seedB(topic)
      const table = testTable('xc_progress')
      const sink =
        kind === 'postgres' ? `${PG_URL}?table=${table}&key=source_topic,source_partition,source_offset` : `duckdb:${join(dir, `${table}.duckdb`)}?table=t`
      const request = (name: string): ReplayRequest => ({
        topic,
        valueFormat: 'json',
        sink,
        createTable: true,
        quarantine: `file:${join(dir, `${name}.q.jsonl`)}`,
        checkpoint: join(dir, `${name}.json`),
        // What --group does: one id for the replay of a partition, whoever runs it.
        runId: `shared-${table}`,
      })
      const onA = await withGateway((gateway) => replay(request(`${table}-a`), { gateway }))
      assert.ok(onA.finished)
      assert.is(onA.totals.written, COUNT)

      const refused = await withGatewayB((gateway) => replay(request(`${table}-b`), { gateway })).then(
        () => undefined,
        (error: unknown) => error,
      )
      assert.instance(refused, RecoveryError)
      assert.is((refused as RecoveryError).code, 'CLUSTER_MISMATCH')
      assert.is((refused as RecoveryError).exitCode, 4)
      assert.match((refused as RecoveryError).message, /^The progress of this replay in .* was recorded on cluster /)
      if (kind === 'postgres') {
        const tags = await query<{ tag: string; n: string }>(`SELECT tag, count(*)::text AS n FROM ${table} GROUP BY tag`)
        assert.equal(tags, [{ tag: 'A', n: String(COUNT) }], 'nothing from cluster B was written')
      }
    }),
  )
}

test.after(() => dropTestTables())

test.run()
