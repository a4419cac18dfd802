import type { TopicList, TopicRetention } from '../services/list-topics.js'
import type { PartitionDetail, TopicDetail } from '../services/describe-topic.js'
import { renderTable } from './table.js'

/** `recover topics`: one line per topic, narrow enough for 80 columns with names up to about 40 characters. */
export function renderTopicList(list: TopicList): string {
  const lines: string[] = []
  if (list.topics.length === 0) lines.push(list.hiddenInternal > 0 ? 'No topics other than internal ones.' : 'No topics.')
  else
    lines.push(
      renderTable(
        [{ header: 'TOPIC' }, { header: 'PARTITIONS', align: 'right' }, { header: 'RF', align: 'right' }, { header: 'RETENTION' }, { header: 'CLEANUP' }],
        list.topics.map((t) => [t.name, t.partitions, t.replicationFactor, showRetention(t.retention, t.cleanupPolicy), t.cleanupPolicy]),
      ),
    )
  const notes: string[] = []
  if (list.hiddenInternal > 0)
    notes.push(
      `${list.hiddenInternal} internal topic${list.hiddenInternal === 1 ? '' : 's'} not shown (--internal shows ${list.hiddenInternal === 1 ? 'it' : 'them'}).`,
    )
  const unhealthy = list.topics.filter((t) => t.offlinePartitions > 0 || t.underReplicatedPartitions > 0)
  for (const t of unhealthy) notes.push(`Warning: ${t.name} has ${health(t.offlinePartitions, t.underReplicatedPartitions)}.`)
  if (list.configsUnavailable) notes.push(`Retention and cleanup policy unknown ("-"): ${list.configsUnavailable}`)
  if (notes.length > 0) lines.push('', ...notes)
  return lines.join('\n')
}

/**
 * `recover topics describe`: offsets and the first and last record's time per partition, then
 * leaders, replicas and sizes per partition, then what the log holds. Two tables rather than one
 * so each fits 80 columns with 12-digit offsets and times to the second (--json has milliseconds).
 */
export function renderTopicDetail(d: TopicDetail): string {
  const lines: string[] = []
  const partitionCount = `${d.partitions.length} partition${d.partitions.length === 1 ? '' : 's'}`
  lines.push(`Topic ${d.topic}${d.internal ? ' (internal)' : ''}: ${partitionCount}, replication factor ${d.replicationFactor}.`)
  const policy =
    d.cleanupPolicy === null
      ? 'Cleanup policy and retention unknown'
      : `Cleanup ${d.cleanupPolicy}, retention ${showRetention(d.retention, d.cleanupPolicy) ?? '-'}`
  lines.push(`${policy}; times ${d.timestampType ?? 'unknown'}, in UTC.`, `Measured at ${d.measuredAt}.`, '')
  lines.push(
    renderTable(
      [
        { header: 'PART', align: 'right' },
        { header: 'LOG-START', align: 'right' },
        { header: 'LOG-END', align: 'right' },
        { header: 'FIRST-RECORD' },
        { header: 'LAST-RECORD' },
      ],
      d.partitions.map((p) => [p.partition, p.logStartOffset, p.logEndOffset, recordTime(p, 'firstRecord'), recordTime(p, 'lastRecord')]),
    ),
    '',
  )
  lines.push(
    renderTable(
      [{ header: 'PART', align: 'right' }, { header: 'LEADER', align: 'right' }, { header: 'REPLICAS' }, { header: 'ISR' }, { header: 'SIZE', align: 'right' }],
      d.partitions.map((p) => [
        p.partition,
        p.leader ?? 'none',
        p.replicas.join(','),
        p.isr.join(',') + (p.isr.length < p.replicas.length ? ' (under)' : ''),
        p.sizeBytes === null ? null : formatBytes(p.sizeBytes),
      ]),
    ),
    '',
  )
  const h = d.holds
  if (h.from === null) lines.push('The log holds no records.')
  else {
    lines.push(`Holds records from ${toSecond(h.from)} to ${toSecond(h.to!)} (${formatLength(h.spanMs ?? 0)}).`)
    if (h.allPartitionsFrom !== h.from) lines.push(`All partitions with records reach back to ${toSecond(h.allPartitionsFrom!)}.`)
  }
  if (h.emptyPartitions > 0) lines.push(`${h.emptyPartitions} partition${h.emptyPartitions === 1 ? ' holds' : 's hold'} no records ("-").`)
  const t = d.totals
  lines.push(
    `Totals: ${t.partitions} partition${t.partitions === 1 ? '' : 's'}, ${t.offsets} offset${t.offsets === 1n ? '' : 's'} held${t.sizeBytes === null ? '' : `, ${formatBytes(t.sizeBytes)} on the leaders`}.`,
  )
  if (t.offlinePartitions > 0 || t.underReplicatedPartitions > 0) lines.push(`Warning: ${health(t.offlinePartitions, t.underReplicatedPartitions)}.`)
  if (t.sizeBytes === null) lines.push('Sizes not reported (DescribeLogDirs needs Describe on the cluster).')
  return lines.join('\n')
}

function recordTime(p: PartitionDetail, which: 'firstRecord' | 'lastRecord'): string | null {
  const edge = p[which]
  if (edge) return toSecond(edge.timestamp)
  return p.leader === null ? '(offline)' : null
}

/** 2018-03-21T00:00:01.234Z -> 2018-03-21T00:00:01Z: rounded down, so a seek to it still finds the record. */
export function toSecond(iso: string): string {
  return iso.replace(/\.\d{3}Z$/, 'Z')
}

function health(offline: number, under: number): string {
  const parts: string[] = []
  if (offline > 0) parts.push(`${offline} partition${offline === 1 ? '' : 's'} offline (no leader)`)
  if (under > 0) parts.push(`${under}${offline > 0 ? '' : ` partition${under === 1 ? '' : 's'}`} under-replicated (smaller ISR)`)
  return parts.join(', ')
}

/** "7d", "12h", "7d / 1 GiB" (whichever comes first), "forever"; "-" where retention does not delete (compact only) or is unknown. */
export function showRetention(retention: TopicRetention | null, cleanupPolicy: string | null): string | null {
  if (retention === null || cleanupPolicy === null) return null
  if (!cleanupPolicy.includes('delete')) return null
  const parts = [retention.ms === null ? null : formatLength(retention.ms), retention.bytes === null ? null : formatBytes(retention.bytes)].filter(
    (x): x is string => x !== null,
  )
  return parts.length === 0 ? 'forever' : parts.join(' / ')
}

/** A length of time in its two largest units: 7d, 1d12h, 1h30m, 45s, 250ms. */
export function formatLength(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`
  const units: Array<[string, number]> = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ]
  let rest = Math.floor(ms)
  const parts: string[] = []
  for (const [name, size] of units) {
    const n = Math.floor(rest / size)
    rest -= n * size
    if (n > 0 || parts.length > 0) parts.push(`${n}${name}`)
    if (parts.length === 2) break
  }
  return parts.filter((p) => !/^0\D/.test(p)).join('')
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`
}
