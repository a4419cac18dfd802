import { startLocalKafka, type LocalKafka } from '../local-kafka/broker.js'
import type { LocalKafkaEvent } from '../local-kafka/events.js'

export interface DemoCluster {
  brokers: string
  /** Set when the demo started its own broker; undefined for --brokers. */
  own?: LocalKafka
}

/**
 * The cluster the demo runs on: the one named by --brokers, else a fresh local broker of the
 * project's own (never an existing cluster by accident: RECOVER_BROKERS alone is not enough).
 */
export async function openDemoCluster(options: { brokers?: string; onProgress?: (event: LocalKafkaEvent) => void }): Promise<DemoCluster> {
  if (options.brokers) return { brokers: options.brokers }
  const own = await startLocalKafka({ onProgress: options.onProgress })
  return { brokers: own.brokers, own }
}
