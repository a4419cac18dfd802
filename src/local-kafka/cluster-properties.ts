import { isKafka3 } from './versions.js'

export interface ClusterNodePropertiesInput {
  version: string
  nodeId: number
  port: number
  controllerPort: number
  /** Every node's id and controller port: all are KRaft voters. */
  voters: Array<{ nodeId: number; controllerPort: number }>
  logDir: string
}

/**
 * server.properties for one node of a three-node test cluster: each node is controller and
 * broker (so any one can die and the quorum of the other two carries on); replication factor
 * 3 and min.insync.replicas=2 everywhere, internal topics included, as production runs them.
 */
export function renderClusterNodeProperties(input: ClusterNodePropertiesInput): string {
  const voters = input.voters.map((v) => `${v.nodeId}@127.0.0.1:${v.controllerPort}`).join(',')
  const lines = [
    '# Written by src/local-kafka/cluster.ts for a three-node test cluster; rewritten at every start.',
    'process.roles=broker,controller',
    `node.id=${input.nodeId}`,
    `controller.quorum.voters=${voters}`,
    `listeners=PLAINTEXT://127.0.0.1:${input.port},CONTROLLER://127.0.0.1:${input.controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${input.port}`,
    'inter.broker.listener.name=PLAINTEXT',
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${input.logDir}`,
    'num.partitions=3',
    'default.replication.factor=3',
    'min.insync.replicas=2',
    'auto.create.topics.enable=true',
    'offsets.topic.replication.factor=3',
    'offsets.topic.num.partitions=3',
    'transaction.state.log.replication.factor=3',
    'transaction.state.log.min.isr=2',
    'transaction.state.log.num.partitions=3',
    'group.initial.rebalance.delay.ms=0',
    // Test records carry old timestamps; keep everything (see server-properties.ts).
    'log.retention.ms=-1',
    // A killed node is fenced (its leaderships moved, it leaves every ISR) 3 s after its last
    // heartbeat instead of 9 s: failover tests wait for that.
    'broker.session.timeout.ms=3000',
    'broker.heartbeat.interval.ms=500',
    // A restarted node takes its preferred leaderships back by itself after this long; the
    // tests also trigger the election explicitly.
    'leader.imbalance.check.interval.seconds=30',
    // Two cores for three JVMs: few threads each.
    'num.network.threads=2',
    'num.io.threads=2',
    'num.replica.fetchers=1',
    'background.threads=2',
  ]
  if (!isKafka3(input.version)) {
    lines.push('share.coordinator.state.topic.replication.factor=3', 'share.coordinator.state.topic.min.isr=2')
  }
  return `${lines.join('\n')}\n`
}
