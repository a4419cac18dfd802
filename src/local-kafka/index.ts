/**
 * A real single-node Apache Kafka (KRaft) broker that the project starts itself, for tests,
 * benchmarks, demos and `npm run kafka`. Jars come from Maven Central on first use.
 */
export { startLocalKafka, type BrokerExit, type LocalKafka, type StartLocalKafkaOptions } from './broker.js'
export type { LocalKafkaEvent, OnLocalKafkaEvent } from './events.js'
export { ensureKafkaJars, type EnsureKafkaJarsOptions, type KafkaJars } from './jars.js'
export type { ProcessOutput } from './run-process.js'
export { runKafkaTool, type RunKafkaToolOptions } from './tools.js'
export { DEFAULT_KAFKA_VERSION, KAFKA_3_VERSION, resolveKafkaVersion } from './versions.js'
export { LOCAL_SASL_USERS, LOCAL_SECURE_USERS } from './server-properties.js'
export { LOCAL_TLS_CLIENT, makeUnrelatedCa, type LocalSecureListeners } from './tls-certificates.js'
export { describeLocalKafkaEvent } from './describe-event.js'
export { startLocalKafkaCluster, type LocalKafkaCluster, type PartitionPlacement, type StartLocalKafkaClusterOptions } from './cluster.js'
export type { ClusterNode } from './cluster-node.js'
