import { RecoveryError } from '../errors.js'

/**
 * Which Kafka cluster a command acts on: Kafka's own cluster id (from metadata, the same for
 * every broker of a cluster and different for every cluster, even two with the same topic and
 * group names) and the bootstrap servers it was reached through, with where they came from.
 */
export interface ClusterIdentity {
  id: string
  bootstrap: string[]
  /** "--brokers", "RECOVER_BROKERS", 'cluster "prod"'…: why this cluster. */
  source: string
}

/** "cluster 4L6g3nShT-eMCtK--X86sw (127.0.0.1:9092, from RECOVER_BROKERS)" */
export function describeCluster(cluster: ClusterIdentity): string {
  return `cluster ${cluster.id} (${cluster.bootstrap.join(',')}, from ${cluster.source})`
}

/** What a journal, checkpoint or quarantine entry remembers of the cluster it was written on. */
export interface RecordedCluster {
  id?: string
  bootstrap?: string[]
}

/**
 * Refuses (exit 4, nothing changed) to act on state recorded on another cluster: an undo, a
 * rollback, a resume or a redrive must land where the original change happened. State from
 * before clusters were recorded (no id) is refused too, since nothing proves where it belongs.
 */
export function assertSameCluster(recorded: RecordedCluster, current: ClusterIdentity, what: string, options: { nextSteps?: string[]; details?: Record<string, unknown> } = {}): void {
  if (recorded.id === current.id) return
  const where = recorded.id ? `cluster ${recorded.id}${recorded.bootstrap?.length ? ` (${recorded.bootstrap.join(',')})` : ''}` : 'a cluster it did not record (written before recover recorded clusters)'
  throw new RecoveryError('CLUSTER_MISMATCH', `${what} was recorded on ${where}, but this command is connected to ${describeCluster(current)}; nothing was changed.`, {
    nextSteps: options.nextSteps ?? ['Point recover at the cluster the change was made on (--brokers, --cluster or RECOVER_BROKERS), then run the same command again.'],
    details: { recordedClusterId: recorded.id ?? null, recordedBootstrap: recorded.bootstrap ?? null, clusterId: current.id, bootstrap: current.bootstrap, ...options.details },
  })
}
