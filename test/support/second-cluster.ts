import { Kafka, logLevel } from 'kafkajs'

/**
 * Cluster B: a second, independent Kafka cluster of the test run (run-tests starts it next to
 * the first), for tests that give both clusters the same group and topic names and check that
 * nothing recover does on one lands on the other.
 */
export function clusterBBrokers(): string {
  const brokers = process.env.RECOVER_TEST_BROKERS_B
  if (!brokers) throw new Error('RECOVER_TEST_BROKERS_B is not set: run the e2e tests through npm test')
  return brokers
}

export function clusterBKafka(): Kafka {
  return new Kafka({ brokers: clusterBBrokers().split(','), clientId: 'recover-tests-b', logLevel: logLevel.NOTHING })
}
