import { writeFileDurably } from './durable-write.js'
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { RecoveryError } from '../errors.js'
import { assertSameCluster, type ClusterIdentity } from '../core/cluster-identity.js'
import type { ConnectOffsetEntry } from '../connect/connect-types.js'

/**
 * What a connector's offsets were before recover changed them through Kafka Connect, so that
 * `seek --connector NAME --undo` puts them back the same way. JSON, since a source connector's
 * partitions and offsets are whatever maps the connector chose.
 */
export interface ConnectorJournalSnapshot {
  connector: string
  type: 'sink' | 'source'
  /** The Connect REST URL the change went through (no credentials). */
  connectUrl: string
  /** The worker ids (host:port) the connector's status named then: which Connect cluster it was. */
  connectWorkers?: string[]
  /** Kafka's cluster id of the workers' cluster. */
  clusterId: string
  bootstrap: string[]
  /** Sink connectors: their consumer group. */
  group?: string
  runbookRun?: string
  time: string
  user: string
  host: string
  command: string
  mode: string
  /** GET /connectors/NAME/offsets before the change. */
  previous: ConnectOffsetEntry[]
  /** The PATCH body's entries. */
  next: ConnectOffsetEntry[]
}

export interface FoundConnectorSnapshot {
  path: string
  snapshot: ConnectorJournalSnapshot
}

function connectorDir(dir: string, connector: string): string {
  return join(dir, 'connectors', encodeURIComponent(connector))
}

/** Written and fsynced (temp file, rename, folder fsync) before the PATCH, as the group journal is. */
export function writeConnectorSnapshot(dir: string, snapshot: ConnectorJournalSnapshot): string {
  const folder = connectorDir(dir, snapshot.connector)
  try {
    mkdirSync(folder, { recursive: true })
  } catch (cause) {
    throw new RecoveryError('JOURNAL_FAILED', `Cannot create the journal folder ${folder}; nothing was changed. Pass a writable --journal DIR.`, { cause })
  }
  const stamp = snapshot.time.replace(/[-:]/g, '').replace('.', '')
  let path = join(folder, `${stamp}.json`)
  for (let n = 1; existsSync(path); n++) path = join(folder, `${stamp}-${n}.json`)
  try {
    writeFileDurably(path, `${JSON.stringify({ kind: 'recover-connector-journal', ...snapshot }, null, 2)}\n`)
  } catch (cause) {
    throw new RecoveryError(
      'JOURNAL_FAILED',
      `Cannot write the seek journal ${path} (${(cause as Error).message}); nothing was changed. Free disk space or pass a writable --journal DIR.`,
      { cause },
    )
  }
  return path
}

/**
 * An undo whose PATCH may not have landed (Connect stopped answering, or read back other
 * offsets): kept for the record, out of undo's way, so that running the same --undo again
 * finishes it (restores the change it was undoing) instead of undoing the half-done undo.
 */
export function markConnectorSnapshotUnconfirmed(path: string): string {
  const unconfirmed = path.replace(/\.json$/, '.unconfirmed')
  renameSync(path, unconfirmed)
  return unconfirmed
}

/** A PATCH Connect refused: kept for the record, out of undo's way. */
export function markConnectorSnapshotRefused(path: string): string {
  const refused = path.replace(/\.json$/, '.refused')
  renameSync(path, refused)
  return refused
}

/** The Connect workers a command goes through: its URL, and the worker ids the connector's status names there. */
export interface ConnectThrough {
  url: string
  workers: string[]
}

/**
 * The newest snapshot of the connector taken on this Kafka cluster through the same Connect
 * cluster. Snapshots from another Kafka cluster only: CLUSTER_MISMATCH; from this one but
 * through other Connect workers only: CONNECT_MISMATCH (two Connect clusters on one Kafka
 * cluster may both run a connector of that name, and a source connector's offsets live in its
 * own workers' topic); none at all: NO_JOURNAL.
 */
export function newestConnectorSnapshot(dir: string, connector: string, cluster: ClusterIdentity, through: ConnectThrough): FoundConnectorSnapshot {
  const all = connectorSnapshots(dir, connector)
  const mine = all.filter((f) => f.snapshot.clusterId === cluster.id)
  const here = mine.filter((f) => sameConnectCluster(f.snapshot, through))
  if (here.length > 0) return here.at(-1)!
  if (mine.length > 0) throw connectMismatch(connector, mine.at(-1)!, through)
  const newest = all.at(-1)
  if (!newest)
    throw new RecoveryError(
      'NO_JOURNAL',
      `No journal snapshot for connector "${connector}" in ${dir}; nothing to undo. Snapshots are written by seek --connector --execute (pass --journal DIR if they are elsewhere).`,
      { details: { connector, journal: dir } },
    )
  assertSameCluster(
    { id: newest.snapshot.clusterId, bootstrap: newest.snapshot.bootstrap },
    cluster,
    `The newest journal snapshot of connector "${connector}" (${newest.path})`,
    {
      nextSteps: [
        `Point recover at the Kafka cluster the change was made on (--brokers, --cluster or RECOVER_BROKERS) and at the Connect workers it went through (--connect-url ${newest.snapshot.connectUrl}), then run the same command again.`,
      ],
      details: { connector, journal: newest.path, recordedConnectUrl: newest.snapshot.connectUrl },
    },
  )
  return newest
}

/**
 * The same Connect cluster: the same URL, or a worker in common (a worker belongs to one Connect
 * cluster; its id is the host:port it advertises, which is also its URL's when reached directly).
 * Another worker of the cluster, or a load balancer in front of it, is recognised once the
 * connector's status names a worker seen when the snapshot was written.
 */
export function sameConnectCluster(snapshot: Pick<ConnectorJournalSnapshot, 'connectUrl' | 'connectWorkers'>, through: ConnectThrough): boolean {
  if (canonicalUrl(snapshot.connectUrl) === canonicalUrl(through.url)) return true
  const then = new Set([...(snapshot.connectWorkers ?? []), hostPort(snapshot.connectUrl)])
  return [...through.workers, hostPort(through.url)].some((w) => then.has(w))
}

function canonicalUrl(url: string): string {
  try {
    return new URL(url).toString().replace(/\/$/, '')
  } catch {
    return url
  }
}

function hostPort(url: string): string {
  try {
    const u = new URL(url)
    return `${u.hostname}:${u.port || (u.protocol === 'https:' ? '443' : '80')}`
  } catch {
    return url
  }
}

function connectMismatch(connector: string, found: FoundConnectorSnapshot, through: ConnectThrough): RecoveryError {
  const then = found.snapshot.connectWorkers?.length ? ` (workers ${found.snapshot.connectWorkers.join(', ')})` : ''
  const now = through.workers.length ? ` (workers ${through.workers.join(', ')})` : ''
  return new RecoveryError(
    'CONNECT_MISMATCH',
    `The journal snapshot of connector "${connector}" (${found.path}) was written through Kafka Connect at ${found.snapshot.connectUrl}${then}, but this command goes through ${through.url}${now}, another Connect cluster as far as recover can tell; nothing was changed.`,
    {
      nextSteps: [`Run the same command with --connect-url ${found.snapshot.connectUrl} (the workers the change went through).`],
      details: { connector, journal: found.path, recordedConnectUrl: found.snapshot.connectUrl, connectUrl: through.url },
    },
  )
}

/**
 * A journal snapshot given as --from-file (the command printed when a PATCH answer was lost)
 * sets the offsets it planned only on the connector, Kafka cluster and Connect cluster it was
 * written for: the same name can exist on another cluster.
 */
export function assertSnapshotApplies(
  path: string,
  snapshot: ConnectorJournalSnapshot,
  connector: string,
  cluster: ClusterIdentity,
  through: ConnectThrough,
): void {
  if (snapshot.connector !== connector)
    throw new RecoveryError('USAGE', `${path} is a journal snapshot of connector "${snapshot.connector}", not "${connector}"; nothing was changed.`, {
      nextSteps: [`Give --connector ${snapshot.connector}, or a snapshot of ${connector}.`],
    })
  assertSameCluster({ id: snapshot.clusterId, bootstrap: snapshot.bootstrap }, cluster, `The journal snapshot ${path}`, {
    nextSteps: [
      `Point recover at the Kafka cluster it was written on (--brokers, --cluster or RECOVER_BROKERS) and at --connect-url ${snapshot.connectUrl}, then run the same command again.`,
    ],
    details: { connector, journal: path, recordedConnectUrl: snapshot.connectUrl },
  })
  if (!sameConnectCluster(snapshot, through)) throw connectMismatch(connector, { path, snapshot }, through)
}

/** Every snapshot of a connector, oldest first. */
export function connectorSnapshots(dir: string, connector: string): FoundConnectorSnapshot[] {
  const folder = connectorDir(dir, connector)
  if (!existsSync(folder)) return []
  return readdirSync(folder)
    .filter((f) => f.endsWith('.json'))
    .sort(byStampThenCounter)
    .map((f) => ({ path: join(folder, f), snapshot: readConnectorSnapshot(join(folder, f)) }))
}

/** The snapshots a runbook run wrote for a connector on this cluster, oldest first; through other Connect workers: CONNECT_MISMATCH. */
export function runbookRunConnectorSnapshots(
  dir: string,
  connector: string,
  cluster: ClusterIdentity,
  through: ConnectThrough,
  runId: string,
): FoundConnectorSnapshot[] {
  const run = connectorSnapshots(dir, connector).filter((f) => f.snapshot.runbookRun === runId && f.snapshot.clusterId === cluster.id)
  const elsewhere = run.find((f) => !sameConnectCluster(f.snapshot, through))
  if (elsewhere) throw connectMismatch(connector, elsewhere, through)
  return run
}

export function readConnectorSnapshot(path: string): ConnectorJournalSnapshot {
  let parsed: Record<string, unknown>
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>
  } catch (cause) {
    throw new RecoveryError('USAGE', `${path} is not a connector journal snapshot (not JSON); the journal file was edited or damaged.`, { cause })
  }
  if (parsed.kind !== 'recover-connector-journal' || !Array.isArray(parsed.previous) || !Array.isArray(parsed.next))
    throw new RecoveryError('USAGE', `${path} is not a connector journal snapshot; the journal file was edited or damaged.`)
  return parsed as unknown as ConnectorJournalSnapshot
}

function byStampThenCounter(a: string, b: string): number {
  const key = (f: string) => {
    const m = /^(.*?)(?:-(\d+))?\.json$/.exec(f)!
    return [m[1]!, Number(m[2] ?? 0)] as const
  }
  const [sa, na] = key(a)
  const [sb, nb] = key(b)
  return sa < sb ? -1 : sa > sb ? 1 : na - nb
}
