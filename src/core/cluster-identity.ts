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
export function assertSameCluster(
  recorded: RecordedCluster,
  current: ClusterIdentity,
  what: string,
  options: { nextSteps?: string[]; details?: Record<string, unknown> } = {},
): void {
  if (recorded.id === current.id) return
  const message = recorded.id
    ? `${what} was recorded on cluster ${recorded.id}${recorded.bootstrap?.length ? ` (${recorded.bootstrap.join(',')})` : ''}, but this command is connected to ${describeCluster(current)}; nothing was changed.`
    : `${what} does not say which cluster it was recorded on (it was written before recover recorded clusters), so it cannot be matched with ${describeCluster(current)}; nothing was changed.`
  throw new RecoveryError('CLUSTER_MISMATCH', message, {
    nextSteps: options.nextSteps ?? [
      'Point recover at the cluster the change was made on (--brokers, --cluster or RECOVER_BROKERS), then run the same command again.',
    ],
    details: {
      recordedClusterId: recorded.id ?? null,
      recordedBootstrap: recorded.bootstrap ?? null,
      clusterId: current.id,
      bootstrap: current.bootstrap,
      ...options.details,
    },
  })
}
