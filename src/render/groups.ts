import type { GroupOverview } from '../services/list-groups.js'
import type { GroupDetail } from '../services/describe-group.js'
import { renderTable } from './table.js'
import { formatAge } from './age.js'
import { bucketMax, sparkline } from '../core/sparkline.js'
import { formatDuration } from '../core/duration.js'
import type { LagSeries } from '../core/lag-trend.js'
import type { GroupHistoryResult } from '../services/lag-history.js'

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

/** What the watch screen shows: the newest sample and the series so far (oldest first). */
export interface LagWatchScreen {
  detail: GroupDetail
  sample: number
  intervalMs: number
  partitions: LagSeries[]
  total: LagSeries | null
  recordedTo: string | null
}

/**
 * The watch screen as lines no wider than `columns` (80 is the floor it is designed for): one
 * row per partition with lag in records and in time and a sparkline of the records behind.
 */
export function lagWatchLines(screen: LagWatchScreen, columns = 80): string[] {
  const width = Math.max(60, columns)
  const d = screen.detail
  const members = d.members.length === 0 ? 'no active members' : `${d.members.length} member${d.members.length === 1 ? '' : 's'}`
  const lines = [
    fit(`Group ${d.groupId}: ${d.state}, ${members}.`, width),
    fit(`Sample ${screen.sample} at ${d.measuredAt.replace(/\.\d+Z$/, 'Z')}, every ${formatDuration(screen.intervalMs)}. Ctrl-C to stop.`, width),
  ]
  if (screen.recordedTo) lines.push(fit(`Recording to ${screen.recordedTo}`, width))
  lines.push('')
  const sparkWidth = Math.min(40, width - 50)
  const nameWidth = width - 14 - 10 - 2 - sparkWidth - 3
  lines.push(fit(`${pad('TOPIC-PARTITION', nameWidth)} ${lpad('LAG', 14)} ${lpad('LAG-TIME', 10)}  TREND (records)`, width))
  const rows = [...screen.partitions, ...(screen.total && screen.partitions.length > 1 ? [screen.total] : [])]
  for (const s of rows) {
    // A long topic name is shortened, never the partition number.
    const suffix = s.partition === null ? '' : `-${s.partition}`
    const name = s.partition === null ? 'total' : `${ellipsis(s.topic, nameWidth - suffix.length)}${suffix}`
    lines.push(
      `${pad(name, nameWidth)} ${lpad(s.lag.last === null ? '-' : String(s.lag.last), 14)} ${lpad(formatAge(s.lagMs.last), 10)}  ${sparkline(
        s.points.map((p) => p.lag),
        sparkWidth,
      )}`,
    )
  }
  return lines
}

/** One line per sample for pipes and logs. */
export function lagSampleLine(d: GroupDetail): string {
  const parts = d.partitions.map((p) => `${p.topic}-${p.partition}=${p.lag ?? '-'}/${formatAge(p.lagMs)}`)
  return `${d.measuredAt} group ${d.groupId} ${d.state} lag ${d.totals.lag} records, oldest unread ${formatAge(d.totals.maxLagMs)}: ${parts.join(' ')}`
}

/** `recover groups history`: per partition and in total, min/max/last of lag in records and in time, and a sparkline. */
export function renderGroupHistory(h: GroupHistoryResult): string {
  const lines = [`Lag history of group ${h.groupId} from ${h.db}${h.since ? ` since ${h.since}` : ''}.`]
  if (h.samples === 0) {
    lines.push(`No samples recorded. Record them with: recover groups describe --group ${h.groupId} --watch --record (or --json --record from cron).`)
    return lines.join('\n')
  }
  lines.push(
    `${h.samples} samples from ${h.total?.firstAt ?? '?'} to ${h.total?.lastAt ?? '?'}${h.clusters.length > 1 ? ` on clusters ${h.clusters.join(', ')}` : ''}.`,
    '',
  )
  const rows = [...h.partitions, ...(h.total ? [h.total] : [])]
  lines.push(
    renderTable(
      [{ header: 'TOPIC-PARTITION' }, { header: 'LAG MIN/MAX/LAST', align: 'right' }, { header: 'TIME MIN/MAX/LAST', align: 'right' }, { header: 'TREND' }],
      rows.map((s) => [
        s.partition === null ? 'total' : `${s.topic}-${s.partition}`,
        `${s.lag.min ?? '-'}/${s.lag.max ?? '-'}/${s.lag.last ?? '-'}`,
        `${formatAge(s.lagMs.min)}/${formatAge(s.lagMs.max)}/${formatAge(s.lagMs.last)}`,
        sparkline(
          bucketMax(
            s.points.map((p) => p.lag),
            24,
          ),
        ),
      ]),
    ),
  )
  return lines.join('\n')
}

function fit(text: string, width: number): string {
  return ellipsis(text, width)
}

function ellipsis(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length)
}

function lpad(text: string, width: number): string {
  return text.length >= width ? text : ' '.repeat(width - text.length) + text
}
