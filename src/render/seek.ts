import type { SeekPlan } from '../services/seek.js'
import { describeMode } from '../services/seek.js'
import type { SeekNote, SeekPlanRow } from '../core/seek-plan.js'
import { renderTable } from './table.js'
import { describeCluster } from '../core/cluster-identity.js'

const NOTE_TEXT: Record<SeekNote, string> = {
  'no-record-at-or-after-time': 'no record at/after the time: log end',
  'clamped-to-log-start': 'clamped to log start',
  'clamped-to-log-end': 'clamped to log end',
  'never-committed': 'never committed',
  unchanged: 'unchanged',
}

function move(r: SeekPlanRow): string {
  if (r.delta === null) return '-'
  if (r.delta < 0n) return `replay ${-r.delta}`
  if (r.delta > 0n) return `skip ${r.delta}`
  return '0'
}

export function renderSeekPlan(plan: SeekPlan, options: { execute: boolean; connector?: string }): string {
  const multi = plan.groups.length > 1
  const names = plan.groups.map((g) => g.group).join(', ')
  const lines = [
    `Seek ${options.connector ? `connector ${options.connector}: group` : 'group'}${multi ? 's' : ''} ${names} ${describeMode(plan.mode)}${options.execute ? '' : ' (dry run: nothing changes)'}.`,
    `On ${describeCluster(plan.cluster)}.`,
  ]
  for (const [group, files] of Object.entries(plan.undoSnapshots ?? {}))
    lines.push(`Restoring ${group} from ${files.length === 1 ? files[0] : `${files.length} snapshots (${files.join(', ')})`}.`)
  lines.push('')
  const columns = [
    ...(multi ? [{ header: 'GROUP' }] : []),
    { header: 'TOPIC' },
    { header: 'PARTITION', align: 'right' as const },
    { header: 'CURRENT', align: 'right' as const },
    { header: 'NEW', align: 'right' as const },
    { header: 'MOVE', align: 'right' as const },
    { header: 'RECORD-AT-NEW-OFFSET' },
    { header: 'NOTE' },
  ]
  lines.push(
    renderTable(
      columns,
      plan.rows.map((r) => [
        ...(multi ? [r.group] : []),
        r.topic,
        r.partition,
        r.currentOffset,
        r.newOffset,
        move(r),
        r.newRecordTime ?? (r.newOffset >= r.logEndOffset ? '(log end)' : null),
        r.notes.map((n) => NOTE_TEXT[n]).join('; ') || '',
      ]),
    ),
  )
  const t = plan.totals
  lines.push(
    '',
    `Totals: ${t.partitions} partition${t.partitions === 1 ? '' : 's'}, ${t.changed} to change; ${t.replayed} record${t.replayed === 1n ? '' : 's'} to replay, ${t.skipped} to skip${t.neverCommitted ? `; ${t.neverCommitted} never committed` : ''}.`,
  )
  for (const w of plan.warnings) lines.push(`Note: ${w}`)
  // A connector's group is emptied by stopping the connector: that is what --execute does first.
  const active = options.connector ? [] : plan.groups.filter((g) => g.members.length > 0)
  for (const g of active)
    lines.push(
      `Warning: group ${g.group} has ${g.members.length} active member(s) (${g.members.map((m) => `${m.clientId}@${m.host}`).join(', ')}); --execute will refuse until it is empty.`,
    )
  return lines.join('\n')
}
