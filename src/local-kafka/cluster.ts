import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { RecoveryError } from '../errors.js'
import { ClusterNode } from './cluster-node.js'
import { ensureKafkaJars } from './jars.js'
import { ensureJava } from './java.js'
import { freeLoopbackPorts } from './ports.js'
import { randomClusterId } from './server-properties.js'
import { runKafkaTool } from './tools.js'
import type { ProcessOutput } from './run-process.js'

export interface StartLocalKafkaClusterOptions {
  /** Defaults to env RECOVER_KAFKA_VERSION, else DEFAULT_KAFKA_VERSION. */
  version?: string
  /** Nodes (each controller and broker); default 3. */
  nodes?: number
  /** How long to wait for every node to answer; default 120 s. */
  startTimeoutMs?: number
}

/** Where one partition is: its leader (-1 when it has none), replicas and in-sync replicas. */
export interface PartitionPlacement {
  partition: number
  leader: number
  replicas: number[]
  isr: number[]
}

/**
 * A real three-node KRaft cluster on 127.0.0.1 (every node controller and broker, replication
 * factor 3, min.insync.replicas=2), for the fault tests that need leaders to move. Its JVMs
 * are killed and its data removed when this Node process exits.
 */
export interface LocalKafkaCluster {
  /** Every node's address, comma-separated: the value for --brokers. */
  readonly brokers: string
  readonly version: string
  readonly nodes: readonly ClusterNode[]
  node(id: number): ClusterNode
  /** The addresses of the nodes whose JVM runs (a frozen one included). */
  runningBrokers(): string
  placement(topic: string): Promise<PartitionPlacement[]>
  /** The node id leading the partition, waiting (up to 30 s) until it has a leader on a running node. */
  leaderOf(topic: string, partition: number): Promise<number>
  /** The node that coordinates a consumer group (leader of its __consumer_offsets partition). */
  coordinatorOf(group: string): Promise<number>
  /** Waits until every partition of the topic has all its replicas in sync (a restarted node caught up). */
  waitForFullIsr(topic: string, timeoutMs?: number): Promise<void>
  /** Moves a partition to a new replica set with Kafka's reassign tool; resolves when it completed. */
  reassign(topic: string, partition: number, replicas: number[], timeoutMs?: number): Promise<ProcessOutput>
  /** Kafka's LeaderElectionCommand, preferred election for every partition. */
  electPreferredLeaders(): Promise<ProcessOutput>
  stop(): Promise<void>
}

const DEFAULT_START_TIMEOUT_MS = 120_000

export async function startLocalKafkaCluster(options: StartLocalKafkaClusterOptions = {}): Promise<LocalKafkaCluster> {
  const { version, libDir } = await ensureKafkaJars({ version: options.version })
  const java = await ensureJava()
  const count = options.nodes ?? 3
  const ports = await freeLoopbackPorts(count * 2)
  const root = await mkdtemp(join(tmpdir(), `recover-kafka-cluster-${version}-`))
  const voters = Array.from({ length: count }, (_, i) => ({ nodeId: i + 1, controllerPort: ports[count + i]! }))
  const clusterId = randomClusterId()
  const startTimeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS
  const nodes: ClusterNode[] = []
  for (let i = 0; i < count; i++) {
    const dataDir = join(root, `node-${i + 1}`)
    await mkdir(dataDir, { recursive: true })
    nodes.push(
      new ClusterNode({
        java,
        version,
        libDir,
        clusterId,
        nodeId: i + 1,
        port: ports[i]!,
        controllerPort: voters[i]!.controllerPort,
        voters,
        dataDir,
        startTimeoutMs,
      }),
    )
  }
  const cluster = new Cluster(version, root, nodes)
  try {
    await Promise.all(nodes.map((n) => n.prepare()))
    for (const n of nodes) n.spawn()
    await Promise.all(nodes.map((n) => n.waitUntilAnswering()))
    await cluster.waitForRegisteredBrokers(count, startTimeoutMs)
  } catch (error) {
    await cluster.stop()
    throw error
  }
  return cluster
}

class Cluster implements LocalKafkaCluster {
  readonly brokers: string
  private stopping: Promise<void> | undefined

  constructor(
    readonly version: string,
    private readonly root: string,
    readonly nodes: readonly ClusterNode[],
  ) {
    this.brokers = nodes.map((n) => n.brokers).join(',')
  }

  node(id: number): ClusterNode {
    const node = this.nodes.find((n) => n.id === id)
    if (!node) throw new RecoveryError('INTERNAL', `The local Kafka cluster has no node ${id}.`)
    return node
  }

  runningBrokers(): string {
    return this.nodes
      .filter((n) => n.running)
      .map((n) => n.brokers)
      .join(',')
  }

  private async withAdmin<T>(work: (admin: import('kafkajs').Admin) => Promise<T>): Promise<T> {
    const { Kafka, logLevel } = await import('kafkajs')
    const admin = new Kafka({
      clientId: 'recover-local-cluster',
      brokers: this.runningBrokers().split(','),
      logLevel: logLevel.NOTHING,
      connectionTimeout: 2_000,
      requestTimeout: 5_000,
      retry: { retries: 2 },
    }).admin()
    await admin.connect()
    try {
      return await work(admin)
    } finally {
      await admin.disconnect().catch(() => undefined)
    }
  }

  async waitForRegisteredBrokers(count: number, timeoutMs: number): Promise<void> {
    await poll(`${count} brokers to register`, timeoutMs, async () => {
      const described = await this.withAdmin((a) => a.describeCluster())
      return described.brokers.length >= count ? true : undefined
    })
  }

  async placement(topic: string): Promise<PartitionPlacement[]> {
    const metadata = await this.withAdmin((a) => a.fetchTopicMetadata({ topics: [topic] }))
    return metadata.topics[0]!.partitions.map((p) => ({ partition: p.partitionId, leader: p.leader, replicas: [...p.replicas], isr: [...p.isr] })).sort(
      (a, b) => a.partition - b.partition,
    )
  }

  async leaderOf(topic: string, partition: number): Promise<number> {
    return poll(`a leader of ${topic}-${partition}`, 30_000, async () => {
      const p = (await this.placement(topic)).find((x) => x.partition === partition)
      return p && p.leader >= 0 && this.nodes.some((n) => n.id === p.leader && n.running) ? p.leader : undefined
    })
  }

  async coordinatorOf(group: string): Promise<number> {
    // Kafka's GroupCoordinator: Utils.abs(groupId.hashCode()) % offsets.topic.num.partitions (3 here).
    let hash = 0
    for (let i = 0; i < group.length; i++) hash = (Math.imul(hash, 31) + group.charCodeAt(i)) | 0
    return this.leaderOf('__consumer_offsets', (hash & 0x7fffffff) % 3)
  }

  async waitForFullIsr(topic: string, timeoutMs = 120_000): Promise<void> {
    let last: PartitionPlacement[] = []
    await poll(`every replica of ${topic} in sync`, timeoutMs, async () => {
      last = await this.placement(topic)
      return last.every((p) => p.isr.length === p.replicas.length && p.leader >= 0) ? true : undefined
    }).catch((error: unknown) => {
      const where = last.map((p) => `${p.partition}: leader ${p.leader}, replicas [${p.replicas}], isr [${p.isr}]`).join('; ')
      throw new RecoveryError('INTERNAL', `${(error as Error).message} (${where || 'no metadata'})`)
    })
  }

  async reassign(topic: string, partition: number, replicas: number[], timeoutMs = 120_000): Promise<ProcessOutput> {
    const file = join(this.root, `reassign-${topic}-${partition}-${Date.now()}.json`)
    await writeFile(file, JSON.stringify({ version: 1, partitions: [{ topic, partition, replicas }] }))
    const output = await runKafkaTool(
      'org.apache.kafka.tools.reassign.ReassignPartitionsCommand',
      ['--bootstrap-server', this.runningBrokers(), '--reassignment-json-file', file, '--execute'],
      { version: this.version },
    )
    if (output.exitCode !== 0) {
      throw new RecoveryError('INTERNAL', `The reassignment of ${topic}-${partition} to [${replicas.join(',')}] failed (exit ${output.exitCode}).`, {
        details: { outputTail: lastLinesOf(output) },
      })
    }
    const wanted = [...replicas].sort().join(',')
    await poll(`${topic}-${partition} to move to [${replicas.join(',')}]`, timeoutMs, async () => {
      const p = (await this.placement(topic)).find((x) => x.partition === partition)
      return p && [...p.replicas].sort().join(',') === wanted && [...p.isr].sort().join(',') === wanted ? true : undefined
    })
    return output
  }

  electPreferredLeaders(): Promise<ProcessOutput> {
    return runKafkaTool(
      'org.apache.kafka.tools.LeaderElectionCommand',
      ['--bootstrap-server', this.runningBrokers(), '--election-type', 'PREFERRED', '--all-topic-partitions'],
      { version: this.version },
    )
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      // All at once: a controlled shutdown of one node waits for the others, which are stopping too.
      for (const n of this.nodes) n.kill('SIGKILL')
      await Promise.all(this.nodes.map((n) => n.whenExited()))
      for (const n of this.nodes) n.release()
      await rm(this.root, { recursive: true, force: true, maxRetries: 3 })
    })()
    return this.stopping
  }
}

function lastLinesOf(output: ProcessOutput): string[] {
  return `${output.stdout}\n${output.stderr}`
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-20)
}

async function poll<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await check()
      if (value !== undefined) return value
    } catch (error) {
      last = error
    }
    if (Date.now() >= deadline) {
      const why = last instanceof Error ? ` (last error: ${last.message})` : ''
      throw new RecoveryError('INTERNAL', `The local Kafka cluster: gave up waiting for ${what} after ${Math.round(timeoutMs / 1000)} s${why}.`)
    }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}
