import type { PartitionCounts, ReplayTotals } from '../core/replay-counts.js'
import type { ReplaySummary } from '../services/replay.js'
import type { GroupReplaySummary } from '../services/replay-group.js'
import { showRangeEnd, isFollowEnd } from '../core/follow.js'
import { renderTable } from './table.js'

/** Each partition's range, position and what became of its records, and the totals: the table of every replay summary. */
export function renderPartitionTable(partitions: readonly PartitionCounts[], totals: ReplayTotals): string {
  return renderTable(
    [
      { header: 'PARTITION', align: 'right' },
      { header: 'RANGE' },
      { header: 'NEXT', align: 'right' },
      { header: 'READ', align: 'right' },
      { header: 'WRITTEN', align: 'right' },
      { header: 'DROPPED', align: 'right' },
      { header: 'QUARANTINED', align: 'right' },
      { header: 'OUT', align: 'right' },
    ],
    [
      ...partitions.map((p) => [p.partition, `[${p.start}, ${showRangeEnd(p.end)})`, p.next, p.read, p.written, p.dropped, p.quarantined, p.outputs]),
      ['total', '', '', totals.read, totals.written, totals.dropped, totals.quarantined, totals.outputs],
    ],
  )
}

/** The --scale-out summary: this process's share, and whether the whole topic is done. */
export function renderGroupReplaySummary(s: GroupReplaySummary): string {
  const lines = [
    `Replay of ${s.topic} on cluster ${s.cluster.id} into ${s.sink} in group ${s.group}: ${s.interrupted ? 'INTERRUPTED (the group keeps the progress; run the same command to continue)' : 'every partition is done'}.`,
    '',
  ]
  lines.push(renderPartitionTable(s.partitions, s.totals))
  const t = s.totals
  lines.push(
    '',
    `This process: read ${t.read} = written ${t.written} + dropped ${t.dropped} + quarantined ${t.quarantined}${s.reconciled ? '' : '  ** DOES NOT RECONCILE **'}; ${s.assignments} assignment${s.assignments === 1 ? '' : 's'} in ${(s.elapsedMs / 1000).toFixed(1)} s.`,
  )
  if (s.outages > 0) lines.push(`${outagesWaitedOut(s, 'continued each partition from where it was checkpointed')}.`)
  if (s.duplicatesPossible)
    lines.push(`A batch in flight when a process was killed or lost its partitions may be in ${s.sink} twice (use --exactly-once for none).`)
  return lines.join('\n')
}

export function renderReplaySummary(s: ReplaySummary): string {
  const lines: string[] = []
  const read = s.source ? `${s.topic} from ${s.source}` : `${s.topic} on cluster ${s.cluster.id}`
  const what = s.dryRun ? `Dry run of ${read}` : `Replay of ${read} into ${s.sink}`
  const following = s.partitions.some((p) => isFollowEnd(p.end))
  const state = s.stopped
    ? `STOPPED (${s.stopped.code}; see the error below)`
    : following && s.interrupted
      ? 'follow stopped (run the same command to continue from the checkpoint)'
      : s.interrupted
        ? 'INTERRUPTED'
        : s.finished
          ? 'finished'
          : s.dryRun
            ? 'sample only, nothing written'
            : 'not finished'
  lines.push(`${what}${s.transform ? ` through ${s.transform.name}@${s.transform.version}` : ''}: ${state}.`)
  lines.push('')
  lines.push(renderPartitionTable(s.partitions, s.totals))
  lines.push('')
  const t = s.totals
  const held = s.alreadyQuarantined > 0 ? ` (${s.alreadyQuarantined} of them already in the quarantine, not written again)` : ''
  lines.push(
    `Reconciled: read ${t.read} = written ${t.written} + dropped ${t.dropped} + quarantined ${t.quarantined}${held}${s.reconciled ? '' : '  ** DOES NOT RECONCILE **'}.`,
  )
  if (t.quarantined > 0) {
    const q = s.quarantinedByStage
    lines.push(`Quarantined in ${s.quarantine ?? '(dry run)'} this run: ${q.decode} at decode, ${q.transform} at transform, ${q.sink} at sink.`)
  }
  if (s.resumed) {
    const times = `Resumed (${s.resumes} time${s.resumes === 1 ? '' : 's'})`
    if (!s.duplicatesPossible)
      lines.push(
        `${times}: ${s.sink} continued from its last committed checkpoint (files are cut back to it; databases and --exactly-once commit it with each batch), so nothing is duplicated.`,
      )
    else if (s.resent === 0) lines.push(`${times}: nothing had been written after the last checkpoint, so nothing is duplicated.`)
    else
      lines.push(
        `${times}: ${s.resent} record${s.resent === 1 ? ' was' : 's were'} written by the interrupted batch and sent again, so ${s.sink} holds ${s.resent === 1 ? 'it' : 'them'} twice (at most one batch of ${s.batchSize} per interruption).`,
      )
  }
  const outages = renderOutages(s)
  if (outages) lines.push(outages)
  lines.push(
    `${t.read.toLocaleString('en-US')} records, ${(t.bytes / 1e6).toFixed(1)} MB${s.resumed ? ` (${s.readThisRun.toLocaleString('en-US')} this run)` : ''}; this run ${(s.elapsedMs / 1000).toFixed(1)} s at ${s.recordsPerSecond.toLocaleString('en-US')} records/s.`,
  )
  if (s.checkpoint && !s.dryRun) lines.push(`Checkpoint: ${s.checkpoint}`)
  if (s.resumeCommand) lines.push('', `Continue with:`, `  ${s.resumeCommand}`)
  if (s.sample) {
    lines.push('', `Sample (${s.sample.length} record${s.sample.length === 1 ? '' : 's'}):`)
    for (const x of s.sample) {
      lines.push(
        `  ${x.source.partition}@${x.source.offset} ${x.source.timestamp} → ${x.outcome}${x.quarantine ? ` (${x.quarantine.stage}: ${x.quarantine.errorClass}${x.quarantine.kind ? ` ${x.quarantine.kind}` : ''}: ${x.quarantine.message})` : ''}`,
      )
      if (x.before) lines.push(`    before: ${show(x.before.value)}`)
      for (const a of x.after) lines.push(`    after:  ${show(a.value)}`)
    }
  }
  return lines.join('\n')
}

/** "Waited out N Kafka outages (how long; --broker-wait) and <then>", the start of every outage line. */
function outagesWaitedOut(s: { outages: number; outageWaitedMs: number; longestOutageMs: number }, then: string): string {
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`
  return s.outages === 1
    ? `Waited out 1 Kafka outage (${seconds(s.outageWaitedMs)}; --broker-wait) and ${then}`
    : `Waited out ${s.outages} Kafka outages (${seconds(s.outageWaitedMs)} in all, the longest ${seconds(s.longestOutageMs)}; --broker-wait) and ${then} each time`
}

function show(value: unknown): string {
  let text: string
  if (Buffer.isBuffer(value)) text = `0x${value.subarray(0, 60).toString('hex')}${value.length > 60 ? '…' : ''}`
  else {
    try {
      text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? String(value)
    } catch {
      text = String(value)
    }
  }
  return text.length > 200 ? `${text.slice(0, 199)}…` : text
}

/**
 * The Kafka outages this run waited out (--broker-wait): how many, how long, and what they
 * cost a sink that can hold records twice; undefined when there were none.
 */
export function renderOutages(
  s: Pick<ReplaySummary, 'outages' | 'outageWaitedMs' | 'longestOutageMs' | 'resumed' | 'resent' | 'duplicatesPossible' | 'sink'>,
): string | undefined {
  if (s.outages === 0) return undefined
  const how = outagesWaitedOut(s, 'continued from the checkpoint')
  // A resumed run's line above already says what was sent again.
  if (s.resumed || !s.duplicatesPossible) return `${how}${s.duplicatesPossible ? '' : '; nothing is duplicated'}.`
  if (s.resent === 0) return `${how}; nothing had been written after the checkpoint, so nothing is duplicated.`
  return `${how}; ${s.resent} record${s.resent === 1 ? ' was' : 's were'} written after the checkpoint and sent again, so ${s.sink} holds ${s.resent === 1 ? 'it' : 'them'} twice.`
}
