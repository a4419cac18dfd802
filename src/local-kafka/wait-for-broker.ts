/**
 * Polls a broker with a real Kafka metadata request (kafkajs admin describeCluster) until
 * it answers, the deadline passes, or `isAlive` says the process died.
 * Returns undefined on success, else the reason it gave up.
 */
export async function waitForBroker(brokers: string, options: { deadline: number; isAlive: () => boolean }): Promise<string | undefined> {
  // Imported here, not at the top, so `recover --help` and friends never load kafkajs.
  const { Kafka, logLevel } = await import('kafkajs')
  let lastError = 'no attempt made'
  while (Date.now() < options.deadline) {
    if (!options.isAlive()) return 'the broker process exited'
    const kafka = new Kafka({
      clientId: 'recover-local-kafka-probe',
      brokers: [brokers],
      logLevel: logLevel.NOTHING,
      connectionTimeout: 1_000,
      requestTimeout: 2_000,
      retry: { retries: 0 },
    })
    const admin = kafka.admin()
    try {
      await admin.connect()
      const cluster = await admin.describeCluster()
      if (cluster.brokers.length > 0 && cluster.controller !== null) return undefined
      lastError = 'the cluster has no broker or controller yet'
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error)
    } finally {
      await admin.disconnect().catch(() => undefined)
    }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  return `no answer before the deadline (last error: ${lastError})`
}
