import type { LocalKafkaEvent } from './events.js'

/** One plain line per progress event, for renderers that print lines (the kafka CLI, the test runner). */
export function describeLocalKafkaEvent(event: LocalKafkaEvent): string {
  switch (event.type) {
    case 'jars-downloading':
      return `Downloading the Kafka ${event.version} jars with Maven into ${event.libDir} (first use only)…`
    case 'jars-ready':
      return event.downloaded ? `Kafka ${event.version} jars ready in ${seconds(event.ms)}.` : `Kafka ${event.version} jars found in ${event.libDir}.`
    case 'storage-formatted':
      return `Formatted KRaft storage in ${event.dataDir} (${seconds(event.ms)}).`
    case 'broker-starting':
      return `Starting Kafka ${event.version} on ${event.brokers} (pid ${event.pid})…`
    case 'broker-ready':
      return `Kafka ${event.version} answers on ${event.brokers} (after ${seconds(event.ms)}).`
    case 'broker-stopping':
      return `Stopping the broker (pid ${event.pid})…`
    case 'broker-stopped':
      return `Broker stopped in ${seconds(event.ms)}${event.forced ? ' (killed: it did not shut down within the grace period)' : ''}.`
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`
}
