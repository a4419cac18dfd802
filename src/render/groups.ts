import type { GroupOverview } from '../services/list-groups.js'
import type { GroupDetail } from '../services/describe-group.js'
import { renderTable } from './table.js'
import { formatAge } from './age.js'

export function renderGroups(groups: GroupOverview[]): string {
  if (groups.length === 0) return 'No consumer groups.'
  return renderTable(
    [{ header: 'GROUP' }, { header: 'STATE' }, { header: 'MEMBERS', align: 'right' }, { header: 'LAG', align: 'right' }, { header: 'TOPICS' }],
    groups.map((g) => [g.groupId, g.state, g.members, g.totalLag, g.topics.join(',') || '-']),
  )
}

export function renderGroupDetail(d: GroupDetail): string {
  const lines: string[] = []
  const members = d.members.length === 0 ? 'no active members' : `${d.members.length} member${d.members.length === 1 ? '' : 's'}`
  lines.push(`Group ${d.groupId}: ${d.state}, ${members}. Measured at ${d.measuredAt}.`, '')
  lines.push(
    renderTable(
      [
        { header: 'TOPIC' },
        { header: 'PARTITION', align: 'right' },
        { header: 'CURRENT-OFFSET', align: 'right' },
        { header: 'LOG-END-OFFSET', align: 'right' },
        { header: 'LAG', align: 'right' },
        { header: 'LAG-TIME', align: 'right' },
        { header: 'CLIENT-ID' },
        { header: 'HOST' },
      ],
      d.partitions.map((p) => [p.topic, p.partition, p.committedOffset, p.logEndOffset, p.lag, formatAge(p.lagMs), p.clientId, p.host]),
    ),
  )
  lines.push('', `Total lag: ${d.totals.lag} records over ${d.totals.partitions} partitions; oldest unread record ${formatAge(d.totals.maxLagMs)} old.`)
  if (d.state === 'Dead' && d.partitions.some((p) => p.committedOffset !== null)) {
    lines.push(
      'Kafka reports this group as Dead: it has no members on either group protocol (classic or KIP-848), and only its committed offsets remain, until they expire.',
    )
  }
  if (d.totals.neverCommitted > 0) lines.push(`${d.totals.neverCommitted} partition(s) were never committed by this group ("-").`)
  return lines.join('\n')
}
