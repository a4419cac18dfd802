import type { ScanEvent } from '../services/audit-scan.js'
import type { MirrorExtra, MirrorPairing, ProblemRecord, RecordPosition } from '../core/audit-types.js'
import type { DuplicatesAuditResult } from '../services/audit-duplicates.js'
import type { AuditHistoryResult } from '../services/audit-history.js'
import type { CompareAuditResult } from '../services/audit-compare.js'
import { renderTable } from './table.js'

const MAX_KEY_CHARS = 40
const MAX_MESSAGE_CHARS = 90

export function renderDuplicatesAudit(r: DuplicatesAuditResult, options: { top: number }): string {
  const t = r.totals
  const lines: string[] = []
  const range = r.partitions.map((p) => `p${p.partition} ${p.start}..${p.end}`).join(', ')
  lines.push(
    `Duplicates audit of ${r.topic} by ${r.key === 'key' ? 'record key' : `value field ${r.key}`}${r.within ? `, copies within ${r.within}` : ''} (${range || 'no partitions'}).`,
  )
  lines.push('')
  if (t.records === 0) {
    lines.push('The range is empty: no records to audit.')
    return lines.join('\n')
  }
  if (r.duplicates.length > 0) {
    lines.push(`Top ${r.duplicates.length} of ${t.duplicateGroups} duplicate ${t.duplicateGroups === 1 ? 'group' : 'groups'} (most copies first):`)
    lines.push(
      renderTable(
        [
          { header: 'KEY' },
          { header: 'COPIES', align: 'right' },
          { header: 'KIND' },
          { header: 'FIRST' },
          { header: 'LAST' },
          { header: 'SPREAD', align: 'right' },
        ],
        r.duplicates.map((g) => [clip(g.key, MAX_KEY_CHARS), g.copies, g.kind, at(g.first), at(g.last), formatSpread(g.spreadMs)]),
      ),
    )
    lines.push('')
  }
  if (r.valueDuplicates.length > 0) {
    lines.push(`Identical values under different keys (top ${r.valueDuplicates.length} of ${t.valueDuplicates}):`)
    lines.push(
      renderTable(
        [
          { header: 'VALUE-HASH' },
          { header: 'COPIES', align: 'right' },
          { header: 'KEYS', align: 'right' },
          { header: 'SAMPLE-KEYS' },
          { header: 'FIRST' },
          { header: 'LAST' },
        ],
        r.valueDuplicates.map((v) => [v.valueHash, v.copies, v.keys, clip(v.sampleKeys.slice(0, 3).join(', '), MAX_KEY_CHARS), at(v.first), at(v.last)]),
      ),
    )
    lines.push('')
  }
  if (r.undecodable.length > 0) {
    lines.push(
      ...renderProblems(
        `Undecodable records (${t.undecodable}; ${Object.entries(r.undecodableByKind)
          .map(([k, n]) => `${k} ${n}`)
          .join(', ')}):`,
        r.undecodable,
        t.undecodable,
        options.top,
      ),
    )
  }
  if (r.noKey.length > 0) lines.push(...renderProblems(`Records without a key (${t.noKey}):`, r.noKey, t.noKey, options.top))
  lines.push(
    `Totals: ${t.records} records (${t.keyed} keyed, ${t.undecodable} undecodable, ${t.noKey} without a key), ${t.distinctKeys} distinct keys; ` +
      `${plural(t.duplicateKeys, 'duplicate key')} in ${plural(t.duplicateGroups, 'group')} with ${plural(t.extraCopies, 'extra copy', 'extra copies')} (${t.identical} identical, ${t.sameValue} same value with other headers, ${t.changed} changed); ` +
      `${plural(t.valueDuplicates, 'value')} under several keys.`,
  )
  for (const w of r.warnings) lines.push(`Warning: ${w}`)
  if (r.report) lines.push(`Report: ${r.report.rows} findings written to ${r.report.path}.`)
  if (r.history) lines.push(`Recorded in ${r.history.db} (recover audit history).`)
  if (r.failOn)
    lines.push(
      r.failOn.exceeded.length === 0
        ? `Fail-on ${r.failOn.conditions.join(',')}: within limits.`
        : `Fail-on exceeded: ${r.failOn.exceeded.map((e) => `${e.metric} ${e.actual} (${e.metric}${e.op}${e.limit})`).join(', ')}.`,
    )
  lines.push(`Scanned at ${r.recordsPerSecond} records/s; ${(r.elapsedMs / 1000).toFixed(1)} s in all.`)
  return lines.join('\n')
}

function renderProblems(title: string, list: ProblemRecord[], total: number, top: number): string[] {
  const shown = list.slice(0, Math.max(top, 10))
  const lines = [title]
  lines.push(
    renderTable(
      [{ header: 'PARTITION', align: 'right' }, { header: 'OFFSET', align: 'right' }, { header: 'TIMESTAMP' }, { header: 'KIND' }, { header: 'MESSAGE' }],
      shown.map((p) => [p.partition, p.offset, p.timestamp, p.kind, clip(p.message ?? '', MAX_MESSAGE_CHARS)]),
    ),
  )
  if (total > shown.length) lines.push(`… ${total - shown.length} more (all of them in --json up to 1000, and in --report).`)
  lines.push('')
  return lines
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`
}

function at(p: RecordPosition): string {
  return `p${p.partition}@${p.offset} ${p.timestamp}`
}

export function formatSpread(ms: number): string {
  if (ms < 1000) return `${ms}ms`
  const s = Math.round(ms / 1000)
  if (s < 120) return `${s}s`
  const m = Math.round(s / 60)
  if (m < 120) return `${m}m`
  const h = Math.round(m / 60)
  return h < 48 ? `${h}h` : `${Math.round(h / 24)}d`
}

function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ')
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat
}

export function renderAuditHistory(r: AuditHistoryResult): string {
  if (!r.exists) return `No audit history in ${r.db} yet: run recover audit duplicates or compare (with --db ${r.db}) first.`
  if (r.topics.length === 0) return `No audit runs recorded in ${r.db} for that topic.`
  const lines: string[] = [`Audit history in ${r.db}:`, '']
  for (const t of r.topics) {
    lines.push(
      `${t.topic}: ${t.runs} run${t.runs === 1 ? '' : 's'} from ${t.firstRunAt} to ${t.lastRunAt}${t.recent.length < t.runs ? ` (newest ${t.recent.length} shown)` : ''}`,
    )
    lines.push(
      renderTable(
        [
          { header: 'STARTED' },
          { header: 'FROM' },
          { header: 'TO' },
          { header: 'AUDIT' },
          { header: 'KEY' },
          { header: 'RECORDS', align: 'right' },
          { header: 'DUP-KEYS', align: 'right' },
          { header: 'COPIES', align: 'right' },
          { header: 'UNDECODABLE', align: 'right' },
          { header: 'MISSING', align: 'right' },
          { header: 'TWICE', align: 'right' },
          { header: 'ONLY-IN-SINK', align: 'right' },
          { header: 'LOST', align: 'right' },
          { header: 'FAIL-ON' },
        ],
        t.recent.map((run) => [
          run.startedAt,
          run.windowFrom ?? '-',
          run.windowTo ?? '-',
          run.audit,
          run.key,
          run.records,
          run.duplicateKeys,
          run.extraCopies,
          run.undecodable,
          run.missing,
          run.twice,
          run.onlyInSink,
          run.lost,
          run.exceeded.length > 0 ? `exceeded ${run.exceeded.join(',')}` : '',
        ]),
      ),
    )
    const trend = t.trend.map((f) => `${f.metric} ${f.latest}${f.change === null ? '' : ` (${f.change > 0 ? '+' : f.change < 0 ? '' : '±'}${f.change})`}`)
    if (trend.length > 0) lines.push(`Trend (latest run, change since the one before): ${trend.join(', ')}.`)
    lines.push('')
  }
  return lines.join('\n').trimEnd()
}

export function renderCompareAudit(r: CompareAuditResult, options: { top: number }): string {
  const t = r.totals
  const lines: string[] = []
  const range = r.partitions.map((p) => `p${p.partition} ${p.start}..${p.end}`).join(', ')
  lines.push(
    `Compare ${r.topic} (${range || 'no partitions'}) by ${r.key === 'key' ? 'record key' : `value field ${r.key}`} with ${r.sink}${r.mirror?.cluster ? ` on cluster ${r.mirror.cluster.id}` : ''} (key ${r.sinkKey}${r.provenance ? `, provenance ${r.provenance.partition}/${r.provenance.offset}` : r.mirror ? `, records paired by key and ${r.mirror.match === 'record' ? 'value and headers' : 'value'}` : ', no provenance'}).`,
  )
  lines.push('')
  const top = Math.max(options.top, 1)
  if (r.missing.length > 0) {
    lines.push(`Missing from the sink: ${plural(t.missing, 'key')} (${plural(t.missingRecords, 'source record')}), earliest first:`)
    lines.push(
      renderTable(
        [{ header: 'KEY' }, { header: 'COPIES', align: 'right' }, { header: 'FIRST' }, { header: 'LAST' }],
        r.missing.slice(0, top).map((m) => [clip(m.key, MAX_KEY_CHARS), m.copies, at(m.first), at(m.last)]),
      ),
    )
    if (t.missing > Math.min(top, r.missing.length)) lines.push(`… ${t.missing - Math.min(top, r.missing.length)} more (--json, --report).`)
    lines.push('')
  }
  if (r.lost && r.lost.length > 0) {
    // In a mirror, other records of a lost record's key arriving says nothing of staleness.
    const staleNote = r.mirror ? '' : t.stale ? ` (${t.stale} of them keys the sink holds from an older copy)` : ''
    lines.push(`Source offsets that never arrived: ${t.lost}${staleNote}:`)
    lines.push(
      renderTable(
        [{ header: 'PARTITION', align: 'right' }, { header: 'OFFSET', align: 'right' }, { header: 'TIMESTAMP' }, { header: 'KEY' }, { header: 'NOTE' }],
        r.lost
          .slice(0, top)
          .map((l) => [
            l.partition,
            l.offset,
            l.timestamp,
            l.key === null ? '(no key)' : clip(l.key, MAX_KEY_CHARS),
            l.keyInSink && !r.mirror ? 'stale: an older copy is in the sink' : '',
          ]),
      ),
    )
    if ((t.lost ?? 0) > Math.min(top, r.lost.length)) lines.push(`… ${(t.lost ?? 0) - Math.min(top, r.lost.length)} more (--json, --report).`)
    lines.push('')
  }
  if (r.mirror) lines.push(...renderMirrorExtras(r.mirror, top))
  // A mirror holds every update of a key: keys held more than once are its normal state, and
  // its real duplicates are listed above, record by record.
  if (r.twice.length > 0 && !r.mirror) {
    lines.push(`Held more than once by the sink: ${plural(t.twice, 'key')} (${plural(t.twiceExtraRows, 'extra row')}):`)
    lines.push(
      renderTable(
        [{ header: 'KEY' }, { header: 'ROWS', align: 'right' }, { header: 'PROVENANCE' }],
        r.twice.map((k) => [
          clip(k.key, MAX_KEY_CHARS),
          k.rows,
          k.provenance.some((p) => p.offset !== null) ? clip(k.provenance.map((p) => `p${p.partition ?? '?'}@${p.offset ?? '?'}`).join(' '), 60) : '-',
        ]),
      ),
    )
    if (t.twice > r.twice.length) lines.push(`… ${t.twice - r.twice.length} more (--top, --json, --report).`)
    lines.push('')
  }
  if (r.onlyInSink.length > 0) {
    lines.push(`Only in the sink: ${plural(t.onlyInSink, 'key')} (${plural(t.onlyInSinkRows, 'row')}):`)
    lines.push(
      renderTable(
        [{ header: 'KEY' }, { header: 'ROWS', align: 'right' }],
        r.onlyInSink.map((k) => [clip(k.key, MAX_KEY_CHARS), k.rows]),
      ),
    )
    if (t.onlyInSink > r.onlyInSink.length) lines.push(`… ${t.onlyInSink - r.onlyInSink.length} more (--top, --json, --report).`)
    lines.push('')
  }
  if (r.undecodable.length > 0) lines.push(...renderProblems(`Undecodable source records (${t.undecodable}):`, r.undecodable, t.undecodable, options.top))
  if (r.noKey.length > 0) lines.push(...renderProblems(`Source records without a key (${t.noKey}):`, r.noKey, t.noKey, options.top))
  lines.push(
    `Totals: source ${t.sourceRecords} records, ${t.sourceKeys} keys (${t.undecodable} undecodable, ${t.noKey} without a key); sink ${t.sinkRows} rows, ${t.sinkKeys} keys; ` +
      `${t.missing} missing, ${r.mirror ? `${r.mirror.duplicated} duplicated, ${r.mirror.unmatched} unmatched` : `${t.twice} twice`}, ${t.onlyInSink} only in the sink${t.lost === null ? '; lost offsets unknown (no provenance columns)' : `, ${t.lost} offsets lost`}.`,
  )
  for (const w of r.warnings) lines.push(`Warning: ${w}`)
  if (r.report) lines.push(`Report: ${r.report.rows} findings written to ${r.report.path}.`)
  if (r.history) lines.push(`Recorded in ${r.history.db} (recover audit history).`)
  if (r.failOn)
    lines.push(
      r.failOn.exceeded.length === 0
        ? `Fail-on ${r.failOn.conditions.join(',')}: within limits.`
        : `Fail-on exceeded: ${r.failOn.exceeded.map((e) => `${e.metric} ${e.actual} (${e.metric}${e.op}${e.limit})`).join(', ')}.`,
    )
  lines.push(`${(r.elapsedMs / 1000).toFixed(1)} s in all.`)
  return lines.join('\n')
}

function renderMirrorExtras(m: MirrorPairing, top: number): string[] {
  const lines: string[] = []
  const table = (rows: MirrorExtra[], note: (e: MirrorExtra) => string) =>
    renderTable(
      [{ header: 'MIRROR PARTITION', align: 'right' }, { header: 'OFFSET', align: 'right' }, { header: 'TIMESTAMP' }, { header: 'KEY' }, { header: 'NOTE' }],
      rows.slice(0, top).map((e) => [e.partition, e.offset, e.timestamp, e.key === null ? '(no key)' : clip(e.key, MAX_KEY_CHARS), note(e)]),
    )
  if (m.duplicates.length > 0) {
    lines.push(`Mirror records written more than once: ${m.duplicated}:`)
    lines.push(table(m.duplicates, (e) => (e.copyOf ? `copy of source ${e.copyOf.partition}@${e.copyOf.offset}` : '')))
    if (m.duplicated > Math.min(top, m.duplicates.length)) lines.push(`… ${m.duplicated - Math.min(top, m.duplicates.length)} more (--json, --report).`)
    lines.push('')
  }
  if (m.unmatchedRecords.length > 0) {
    lines.push(`Mirror records no source record matches by key and content: ${m.unmatched}:`)
    lines.push(table(m.unmatchedRecords, () => ''))
    if (m.unmatched > Math.min(top, m.unmatchedRecords.length))
      lines.push(`… ${m.unmatched - Math.min(top, m.unmatchedRecords.length)} more (--json, --report).`)
    lines.push('')
  }
  lines.push(`Mirror pairing: ${m.paired} source records paired, ${m.duplicated} duplicated, ${m.unmatched} unmatched in the mirror.`, '')
  return lines
}

/** The stderr line for a scan event of an audit (start and progress), or nothing. */
export function renderScanEvent(event: ScanEvent): string | undefined {
  if (event.type === 'scan-start')
    return `Scanning ${event.topic}: ${event.partitions.length} partition${event.partitions.length === 1 ? '' : 's'}, up to ${event.records} records.`
  if (event.type === 'scan-progress') return `  ${event.records} records, ${(event.bytes / 1e6).toFixed(1)} MB, ${(event.elapsedMs / 1000).toFixed(0)} s`
  return undefined
}
