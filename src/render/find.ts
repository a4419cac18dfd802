import { formatInstant } from '../core/time-spec.js'
import type { FindEvent, FindResult, FoundRecord } from '../services/find.js'
import { renderTable } from './table.js'

/** Per partition the first and last match (offset and zoned time) and the count, then the totals. */
export function renderFind(result: FindResult, tz?: string): string {
  const at = (found: FoundRecord | null) => (found === null ? '-' : `${found.offset} ${zoned(found.timestampMs, tz)}`)
  const lines = [`${result.topic} where ${result.where}, from ${result.window.from} to ${result.window.to}:`, '']
  lines.push(
    renderTable(
      [
        { header: 'PARTITION', align: 'right' },
        { header: 'MATCHES', align: 'right' },
        { header: 'FIRST MATCH (OFFSET TIME)' },
        { header: 'LAST MATCH (OFFSET TIME)' },
        { header: 'READ', align: 'right' },
      ],
      result.partitions.map((p) => [p.partition, p.matches, at(p.first), at(p.last), `${p.scanned} of [${p.start}, ${p.end})`]),
    ),
  )
  const t = result.totals
  lines.push(
    '',
    `${t.matches} matching record${t.matches === 1 ? '' : 's'} in ${t.partitionsMatched} of ${t.partitions} partition${t.partitions === 1 ? '' : 's'}; ${t.scanned} records read in ${(result.elapsedMs / 1000).toFixed(1)} s.`,
  )
  if (t.undecodable > 0) lines.push(`${t.undecodable} values could not be decoded as ${result.valueFormat}: their value fields count as absent.`)
  if (t.matches > 0) {
    const first = result.partitions.filter((p) => p.first).map((p) => `${p.partition}=${p.first!.offset}`)
    const last = result.partitions.filter((p) => p.last).map((p) => `${p.partition}=${p.last!.offset + 1n}`)
    const matched = result.partitions.filter((p) => p.matches > 0).map((p) => p.partition)
    const only = matched.length < result.partitions.length ? `--partitions ${matched.join(',')} ` : ''
    lines.push(`The matching window as replay bounds: ${only}--from offset:${first.join(',')} --to offset:${last.join(',')}`)
  }
  return lines.join('\n')
}

/** A time as recover prints it: UTC ISO, or in --tz with the UTC instant. */
function zoned(ms: number, tz?: string): string {
  return tz === undefined ? new Date(ms).toISOString() : formatInstant(ms, tz).replace(/ \(.*$/, '')
}

/** One progress line: a bar of the offsets read so far. */
export function renderFindProgress(state: { scanned: number; matches: number; records: bigint; elapsedMs: number }, width = 30): string {
  const total = Number(state.records)
  const share = total > 0 ? Math.min(1, state.scanned / total) : 1
  const filled = Math.round(share * width)
  const rate = state.elapsedMs > 0 ? Math.round((state.scanned / state.elapsedMs) * 1000) : 0
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(share * 100).toFixed(0).padStart(3)}%  ${state.scanned}/${total} records, ${state.matches} matches, ${rate} records/s`
}

export function renderFindEvent(event: FindEvent): string | undefined {
  if (event.type === 'find-start')
    return `Reading ${event.records} offsets of ${event.topic} (partitions ${event.partitions.map((p) => p.partition).join(', ')}) for ${event.where}`
  return undefined
}
