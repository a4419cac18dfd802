import type { Preview } from '../codecs/preview.js'
import { encodeJson } from '../codecs/json-codec.js'
import { describeCluster } from '../core/cluster-identity.js'
import type { DropResult, ExportResult, QuarantineListing, ShownRecord } from '../services/quarantine.js'
import type { RedriveResult } from '../services/quarantine-redrive.js'
import type { RetryResult } from '../services/quarantine-retry.js'
import { renderTable } from './table.js'

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z')

export function renderListing(l: QuarantineListing): string {
  const lines = [`${l.source}: ${l.matched} of ${l.scanned} records match${l.matched === 0 ? '.' : ', by error and stage:'}`]
  if (l.unreadable.count > 0)
    lines.push(`${l.unreadable.count} line(s) are not envelopes and were skipped (first: line ${l.unreadable.first[0]!.line}: ${l.unreadable.first[0]!.why}).`)
  if (l.groups.length > 0) {
    lines.push(
      '',
      renderTable(
        [
          { header: 'COUNT', align: 'right' },
          { header: 'ERROR' },
          { header: 'STAGE' },
          { header: 'FIRST (UTC)' },
          { header: 'LAST (UTC)' },
          { header: 'TOPICS' },
          { header: 'HANDLED', align: 'right' },
        ],
        l.groups.map((g) => [g.count, g.errorClass, g.stage, iso(g.firstMs), iso(g.lastMs), g.topics.join(',') || '-', g.handled]),
      ),
    )
  }
  const dialects = Object.entries(l.dialects)
    .map(([d, n]) => `${d} ${n}`)
    .join(', ')
  if (dialects) lines.push('', `Dialects: ${dialects}.`)
  const s = l.states
  lines.push(
    `State: ${s.open} open, ${s.redriven} redriven, ${s.parked} parked, ${s.retried} retried, ${s.dropped} dropped${s.failed ? `, ${s.failed} failed again` : ''} (audit trail ${l.auditTrail}).`,
  )
  if (l.records) {
    lines.push('')
    if (l.records.length === 0) lines.push('No records.')
    else {
      lines.push(
        renderTable(
          [
            { header: 'ID' },
            { header: 'FAILED (UTC)' },
            { header: 'ORIGINAL' },
            { header: 'KEY' },
            { header: 'ERROR' },
            { header: 'MESSAGE' },
            { header: 'STATE' },
          ],
          l.records.map((r) => [
            r.id,
            iso(r.failedAtMs),
            r.original.topic === undefined ? '(unknown)' : `${r.original.topic}-${r.original.partition ?? '?'}@${r.original.offset ?? '?'}`,
            r.key ?? 'null',
            short(r.errorClass, 48),
            short(r.message, 60),
            r.state ?? 'open',
          ]),
        ),
      )
      if (l.records.length < l.matched) lines.push(`… ${l.matched - l.records.length} more (raise --records).`)
    }
  }
  if (l.actions.length > 0) {
    lines.push('', 'Audit trail (newest last):')
    lines.push(
      renderTable(
        [
          { header: 'WHEN (UTC)' },
          { header: 'WHO' },
          { header: 'ACTION' },
          { header: 'RECORDS', align: 'right' },
          { header: 'SELECTION' },
          { header: 'RESULT' },
          { header: 'REASON' },
        ],
        l.actions.map((a) => [
          a.at.replace(/\.\d+Z$/, 'Z'),
          `${a.by}@${a.host}`,
          a.action,
          a.records,
          short(a.selection, 40),
          Object.entries(a.result)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ') + (a.unfinished ? ' (UNFINISHED: stopped before the end)' : a.ok ? '' : ' (FAILED)'),
          a.reason ?? '-',
        ]),
      ),
    )
  }
  return lines.join('\n')
}

export function renderShown(r: ShownRecord): string {
  const lines = [`${r.id} in ${r.source} (${r.dialect} dialect)`]
  const original =
    r.original.topic === undefined
      ? '(unknown: no known dead-letter headers)'
      : `${r.original.topic}-${r.original.partition ?? '?'}@${r.original.offset ?? '?'}`
  lines.push(`  original:  ${original}`)
  lines.push(
    `  cluster:   ${r.sourceCluster ? `${r.sourceCluster.id}${r.sourceCluster.bootstrap ? ` (${r.sourceCluster.bootstrap.join(',')})` : ''}` : '(not recorded: a redrive or retry cannot check it)'}`,
  )
  lines.push(`  error:     ${r.errorClass}${r.kind ? ` (${r.kind})` : ''}`)
  if (r.message) lines.push(`  message:   ${r.message}`)
  lines.push(`  stage:     ${r.stage}`)
  lines.push(`  failed at: ${r.failedAt}   record timestamp: ${r.timestamp} (${r.timestampType})`)
  if (r.redriveCount > 0) lines.push(`  redriven:  ${r.redriveCount} time(s) before`)
  if (r.redrivenByHand) lines.push(`  redriven:  ${r.redrivenByHand} time(s) from this entry (audit trail)`)
  for (const [k, v] of Object.entries(r.extra)) lines.push(`  ${`${k}:`.padEnd(10)} ${v}`)
  if (r.state)
    lines.push(
      `  state:     ${r.state.outcome} by ${r.state.by} at ${r.state.at}${r.state.reason ? ` (${r.state.reason})` : ''}${r.state.target ? ` -> ${r.state.target}` : ''}`,
    )
  lines.push('', 'Headers:')
  if (r.headers.length === 0) lines.push('  (none)')
  for (const h of r.headers)
    if (
      h.key !== 'recover.error.stack' &&
      h.key !== '__connect.errors.exception.stacktrace' &&
      h.key !== '__streams.errors.stacktrace' &&
      h.key !== 'kafka_dlt-exception-stacktrace'
    )
      lines.push(`  ${h.context ? '*' : ' '} ${h.key}: ${h.value === null ? 'null' : short(h.value, 160)}`)
  lines.push('  (* failure context: stripped on redrive)')
  lines.push('', `Key (${describe(r.key)}):`, indent(showPreview(r.key)))
  lines.push('', `Value (${describe(r.value)}):`, indent(showPreview(r.value)))
  if (r.stack) lines.push('', 'Stack:', indent(r.stack))
  return lines.join('\n')
}

function describe(p: Preview): string {
  const base =
    (p.format === 'avro' || p.format === 'json-schema' || p.format === 'protobuf') && p.schemaId !== undefined
      ? `${p.format}, schema id ${p.schemaId}`
      : p.format
  return p.error ? `${base}; ${p.kind ?? 'not readable'}: ${p.error}` : base
}

/** Pretty JSON, decoded Avro as JSON, text as is, bytes as a hex dump. */
export function showPreview(p: Preview): string {
  if (p.format === 'null') return 'null'
  if (p.format === 'json' || p.format === 'avro' || p.format === 'json-schema' || p.format === 'protobuf') return prettyJson(p.value)
  if (p.format === 'bytes') return hexDump(Buffer.from(String(p.value), 'hex'))
  return String(p.value)
}

export function prettyJson(value: unknown): string {
  try {
    return JSON.stringify(JSON.parse(encodeJson(value).toString('utf8')), null, 2)
  } catch {
    return String(value)
  }
}

/** `xxd`-like: offset, 16 bytes in hex, printable ASCII. */
export function hexDump(bytes: Buffer, maxBytes = 4096): string {
  const out: string[] = []
  const n = Math.min(bytes.length, maxBytes)
  for (let i = 0; i < n; i += 16) {
    const row = bytes.subarray(i, Math.min(i + 16, n))
    const hex = [...row].map((b) => b.toString(16).padStart(2, '0')).join(' ')
    const ascii = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('')
    out.push(`${i.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${ascii}`)
  }
  if (bytes.length > n) out.push(`… ${bytes.length - n} more bytes`)
  return out.join('\n')
}

export function renderRedrive(r: RedriveResult): string {
  const lines = [
    `Redrive from ${r.source} into ${describeCluster(r.cluster)}${r.executed ? '' : ' (dry run: nothing written)'}: ${r.matched} match, ${r.toRedrive} to their original topics, ${r.toPark} to parking ${r.parking} (redriven ${r.maxRedrives}+ times).`,
  ]
  if (r.redrivenBefore > 0)
    lines.push(`${r.redrivenBefore} record(s) were redriven from this quarantine before (--again); the loop guard counts those redrives too.`)
  lines.push(...unknownClusterNote(r.unknownCluster, r.cluster.id))
  const sk = r.skipped
  const skips = [
    sk.handled && `${sk.handled} already handled (--again to include)`,
    sk.noOriginalTopic && `${sk.noOriginalTopic} with no original topic`,
    sk.missingTopic && `${sk.missingTopic} whose topic no longer exists`,
    sk.missingPartition && `${sk.missingPartition} whose partition no longer exists`,
  ].filter(Boolean)
  if (skips.length > 0) lines.push(`Skipped: ${skips.join(', ')}.`)
  if (r.targets.length > 0) {
    lines.push(
      '',
      renderTable(
        [{ header: 'TOPIC' }, { header: 'PARTITION', align: 'right' }, { header: 'RECORDS', align: 'right' }],
        r.targets.map((t) => [t.topic, t.partition, t.records]),
      ),
    )
    lines.push(r.samePartition ? '(original partitions)' : "(partitioned by key like Kafka's default partitioner; --same-partition keeps the original ones)")
  }
  if (r.executed) {
    if (r.canary) lines.push(`Canary: ${r.canary.records} record(s) ${r.canary.ok ? 'acknowledged, then the rest' : 'REFUSED'}.`)
    lines.push(`Done: ${r.redriven} redriven, ${r.parked} parked${r.refused ? `, ${r.refused} refused` : ''}. Recorded in ${r.auditTrail}.`)
  }
  return lines.join('\n')
}

export function renderDrop(r: DropResult, reason: string): string {
  const skipped = r.alreadyHandled > 0 ? ` (${r.alreadyHandled} already handled, left as they are; --again to include)` : ''
  if (r.dryRun)
    return `Drop from ${r.source} (dry run: nothing recorded): ${r.dropped} of ${r.matched} matching records would be marked dropped${skipped}, reason "${reason}".`
  return `Marked ${r.dropped} of ${r.matched} matching records dropped${skipped}, reason "${reason}". Recorded in ${r.auditTrail}; the quarantine itself is unchanged.`
}

export function renderRetry(r: RetryResult): string {
  const note = unknownClusterNote(r.unknownCluster, r.cluster.id)
  if (r.dryRun)
    return [
      `Retry from ${r.source} on ${describeCluster(r.cluster)} (dry run: nothing written): ${r.matched} record(s) would go through ${r.sink}; failures to ${r.quarantine}.`,
      ...note,
    ].join('\n')
  const t = r.totals
  const held = r.alreadyQuarantined > 0 ? `; ${r.alreadyQuarantined} of them were still there, not added twice` : ''
  return [
    `Retried ${t.read} record(s) from ${r.source} on ${describeCluster(r.cluster)}${r.transform ? ` through ${r.transform.name}@${r.transform.version}` : ''} into ${r.sink}: ${t.written} written, ${t.dropped} dropped by the transform, ${t.quarantined} failed again (to ${r.quarantine}${held}). Recorded in ${r.auditTrail}.`,
    ...note,
  ].join('\n')
}

/** Dead letters of other dialects (and older recover ones) do not say where they were read from. */
function unknownClusterNote(count: number, clusterId: string): string[] {
  if (count === 0) return []
  return [
    `${count} record(s) do not say which cluster they were read from (Kafka Connect, Spring, Streams or Karafka dead letters, or recover's from before it recorded clusters): their cluster is unknown, check that they belong on cluster ${clusterId}.`,
  ]
}

export function renderExport(r: ExportResult): string {
  return `Exported ${r.exported} record(s) from ${r.source} to ${r.file} (${r.bytes} bytes, lossless envelope; read back with --dlq file:${r.file}).`
}

function short(s: string, n: number): string {
  const one = s.replace(/\s+/g, ' ')
  return one.length > n ? `${one.slice(0, n - 1)}…` : one
}

function indent(s: string): string {
  return s
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n')
}
