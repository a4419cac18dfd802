import { writeFileDurably } from './durable-write.js'
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { RecoveryError } from '../errors.js'
import { assertSameCluster, type ClusterIdentity } from '../core/cluster-identity.js'

export interface JournalEntry {
  topic: string
  partition: number
  /** The committed offset before the change; null = the group had never committed it. */
  previousOffset: bigint | null
  newOffset: bigint
}

export interface JournalSnapshot {
  group: string
  /** Kafka's cluster id where the change was made; absent in snapshots written before it was recorded. */
  clusterId?: string
  /** The bootstrap servers the change was made through, for people. */
  bootstrap?: string[]
  /** The `recover runbook run` that made the change (its run id), so its rollback undoes exactly it. */
  runbookRun?: string
  time: string
  user: string
  host: string
  command: string
  mode: string
  entries: JournalEntry[]
}

/**
 * Writes the previous offsets of a group before anything changes: a temp file, fsynced, then
 * renamed into place and the folder fsynced, so a crash leaves either the whole snapshot or
 * none. Returns the file's path. One file per change, named by time, so none is overwritten.
 */
export function writeJournalSnapshot(dir: string, snapshot: JournalSnapshot): string {
  const groupDir = join(dir, encodeURIComponent(snapshot.group))
  try {
    mkdirSync(groupDir, { recursive: true })
  } catch (cause) {
    throw new RecoveryError('JOURNAL_FAILED', `Cannot create the journal folder ${groupDir}; nothing was changed. Pass a writable --journal DIR.`, { cause })
  }
  const stamp = snapshot.time.replace(/[-:]/g, '').replace('.', '')
  let path = join(groupDir, `${stamp}.csv`)
  for (let n = 1; existsSync(path); n++) path = join(groupDir, `${stamp}-${n}.csv`)
  const lines = [
    '# recover seek journal: the committed offsets before a change; restore with recover seek --undo',
    `# group: ${oneLine(snapshot.group)}`,
    ...(snapshot.clusterId ? [`# cluster-id: ${oneLine(snapshot.clusterId)}`] : []),
    ...(snapshot.bootstrap ? [`# bootstrap: ${oneLine(snapshot.bootstrap.join(','))}`] : []),
    ...(snapshot.runbookRun ? [`# runbook-run: ${oneLine(snapshot.runbookRun)}`] : []),
    `# time: ${snapshot.time}`,
    `# user: ${oneLine(snapshot.user)}`,
    `# host: ${oneLine(snapshot.host)}`,
    `# command: ${oneLine(snapshot.command)}`,
    `# mode: ${oneLine(snapshot.mode)}`,
    'group,topic,partition,offset,new_offset',
    ...snapshot.entries.map((e) => `${snapshot.group},${e.topic},${e.partition},${e.previousOffset ?? ''},${e.newOffset}`),
  ]
  try {
    writeFileDurably(path, `${lines.join('\n')}\n`)
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
 * A change the broker refused before any partition moved: the snapshot is kept for the
 * record, renamed so that undo does not pick a no-op over the last real change.
 */
export function markJournalSnapshotRefused(path: string): string {
  const refused = path.replace(/\.csv$/, '.refused')
  renameSync(path, refused)
  return refused
}

export interface FoundSnapshot {
  path: string
  snapshot: JournalSnapshot
}

/** Every snapshot of a group, oldest first (undefined when the group has none). */
export function journalSnapshots(dir: string, group: string): FoundSnapshot[] {
  const groupDir = join(dir, encodeURIComponent(group))
  if (!existsSync(groupDir)) return []
  return readdirSync(groupDir)
    .filter((f) => f.endsWith('.csv'))
    .sort(byStampThenCounter)
    .map((f) => ({ path: join(groupDir, f), snapshot: readJournalSnapshot(join(groupDir, f)) }))
}

/**
 * The newest snapshot of a group taken on this cluster, or undefined when the group has none
 * at all. Two clusters often share group names (staging and prod): a snapshot taken on
 * another cluster is never a candidate, and when only such snapshots exist this refuses with
 * CLUSTER_MISMATCH naming where the newest one was taken.
 */
export function newestJournalSnapshot(dir: string, group: string, cluster: ClusterIdentity): FoundSnapshot | undefined {
  const all = journalSnapshots(dir, group)
  const mine = all.filter((f) => f.snapshot.clusterId === cluster.id)
  if (mine.length > 0) return mine.at(-1)
  const newest = all.at(-1)
  if (!newest) return undefined
  assertSameCluster(
    { id: newest.snapshot.clusterId, bootstrap: newest.snapshot.bootstrap },
    cluster,
    `The newest journal snapshot of group "${group}" (${newest.path})`,
    {
      nextSteps: [
        'Point recover at the cluster the change was made on (--brokers, --cluster or RECOVER_BROKERS), then run the same command again.',
        `Or, to put those offsets on this cluster on purpose, review ${newest.path} and apply it with --from-file.`,
      ],
      details: { group, journal: newest.path },
    },
  )
  return undefined
}

/** The snapshots a runbook run wrote for a group on this cluster, oldest first. */
export function runbookRunSnapshots(dir: string, group: string, cluster: ClusterIdentity, runId: string): FoundSnapshot[] {
  return journalSnapshots(dir, group).filter((f) => f.snapshot.runbookRun === runId && f.snapshot.clusterId === cluster.id)
}

export function readJournalSnapshot(path: string): JournalSnapshot {
  const text = readFileSync(path, 'utf8')
  const meta: Record<string, string> = {}
  const entries: JournalEntry[] = []
  let group = ''
  text.split('\n').forEach((line, index) => {
    if (line.startsWith('# ')) {
      const m = /^# ([\w-]+): (.*)$/.exec(line)
      if (m) meta[m[1]!] = m[2]!
      return
    }
    if (line === '' || line.startsWith('group,')) return
    // Group ids may contain commas, topic names never do: the last four columns are fixed.
    const all = line.split(',')
    const cols = [all.slice(0, -4).join(','), ...all.slice(-4)]
    if (all.length < 5 || !/^\d+$/.test(cols[2]!) || !/^\d*$/.test(cols[3]!) || !/^\d+$/.test(cols[4]!)) {
      throw new RecoveryError(
        'USAGE',
        `${path} line ${index + 1} is not a journal line (group,topic,partition,offset,new_offset); the journal file was edited or damaged.`,
      )
    }
    group = cols[0]!
    entries.push({ topic: cols[1]!, partition: Number(cols[2]), previousOffset: cols[3] === '' ? null : BigInt(cols[3]!), newOffset: BigInt(cols[4]!) })
  })
  return {
    group: meta.group ?? group,
    ...(meta['cluster-id'] ? { clusterId: meta['cluster-id'] } : {}),
    ...(meta.bootstrap ? { bootstrap: meta.bootstrap.split(',') } : {}),
    ...(meta['runbook-run'] ? { runbookRun: meta['runbook-run'] } : {}),
    time: meta.time ?? '',
    user: meta.user ?? '',
    host: meta.host ?? '',
    command: meta.command ?? '',
    mode: meta.mode ?? '',
    entries,
  }
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ')
}

function byStampThenCounter(a: string, b: string): number {
  const key = (f: string) => {
    const m = /^(.*?)(?:-(\d+))?\.csv$/.exec(f)!
    return [m[1]!, Number(m[2] ?? 0)] as const
  }
  const [sa, na] = key(a)
  const [sb, nb] = key(b)
  return sa < sb ? -1 : sa > sb ? 1 : na - nb
}
