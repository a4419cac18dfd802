import { randomBytes } from 'node:crypto'

import { isKafka3 } from './versions.js'

export interface ServerPropertiesInput {
  version: string
  port: number
  controllerPort: number
  logDir: string
}

/** server.properties for one process that is both KRaft controller and broker, on loopback. */
export function renderServerProperties(input: ServerPropertiesInput): string {
  const lines = [
    '# Written by src/local-kafka for a single-node test broker; rewritten at every start.',
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${input.controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${input.port},CONTROLLER://127.0.0.1:${input.controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${input.port}`,
    'inter.broker.listener.name=PLAINTEXT',
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${input.logDir}`,
    'num.partitions=1',
    'auto.create.topics.enable=true',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=1',
    'group.initial.rebalance.delay.ms=0',
    // After a hard kill, the controller refuses the broker's new registration until the old
    // session times out (default 9 s), which made every kill-and-restart test wait 10 s.
    'broker.session.timeout.ms=3000',
    'broker.heartbeat.interval.ms=500',
  ]
  if (!isKafka3(input.version)) {
    lines.push(
      'share.coordinator.state.topic.replication.factor=1',
      'share.coordinator.state.topic.min.isr=1',
    )
  }
  return lines.join('\n') + '\n'
}

/**
 * A cluster id as Kafka's Uuid.randomUuid() makes it: 16 random bytes, base64url without
 * padding, never starting with "-" (it would read as a command-line option). Saves a JVM
 * start for `StorageTool random-uuid`.
 */
export function randomClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url')
    if (!id.startsWith('-')) return id
  }
}
