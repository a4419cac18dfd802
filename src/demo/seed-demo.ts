import { KafkaGateway } from '../kafka/kafka-gateway.js'
import { resolveConnection } from '../config/resolve-connection.js'
import { seedIncident } from '../fixtures/seed-incident.js'
import type { IncidentTruth } from '../fixtures/incident-truth.js'

export interface SeededDemo {
  topic: string
  group: string
  records: number
  truth: IncidentTruth
}

/**
 * The demo's starting point: the fixture incident in `topic` (orders in Avro, a bad-deploy
 * window, poison pills, duplicates), and a consumer group that has committed the log end of
 * every partition: it has processed the bad window and everything after it.
 */
export async function seedDemoIncident(brokers: string, options: { topic: string; group: string; count: number; jsonTopic?: string }): Promise<SeededDemo> {
  // Only --brokers or the demo's own broker: never the clusters of recover.config.json.
  const gateway = await KafkaGateway.open(resolveConnection({ brokers }, { clusters: {}, defaults: {} }))
  try {
    const seeded = await seedIncident({ kafka: gateway.kafka, topic: options.topic, count: options.count })
    await gateway.commitGroupOffsets(
      options.group,
      seeded.truth.perPartition.map((p) => ({ topic: options.topic, partition: p.partition, offset: p.logEndOffset })),
    )
    if (options.jsonTopic) {
      const { seedDemoJsonOrders } = await import('./seed-demo-json.js')
      await seedDemoJsonOrders(gateway.kafka, options.jsonTopic)
    }
    return { topic: options.topic, group: options.group, records: seeded.records, truth: seeded.truth }
  } finally {
    await gateway.close()
  }
}
