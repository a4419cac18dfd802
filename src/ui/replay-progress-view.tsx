import { Box, Static, Text } from 'ink'
import type { PartitionProgress, ProgressState } from '../core/replay-progress.js'
import { formatLag, formatLagTime } from '../core/follow.js'
import { count, progressFigures } from '../render/progress-figures.js'

export interface ReplayProgressViewProps {
  state: ProgressState
  /** The terminal's width: no line of the view is longer. Default 80. */
  columns?: number
  /** The terminal's height: the live part stays shorter, so Ink redraws it in place. Default 24. */
  rows?: number
  /** Partitions listed one per line at most; the rest are summed on one line. Default 12. */
  maxPartitionRows?: number
  /** Messages of the replay (retries, warnings), printed once above the live part. */
  notes?: readonly string[]
  /** --follow: the time the lag in time is measured at (default: now, at every frame). */
  now?: number
}

const MAX_BAR = 24
const MIN_BAR = 6
/** The lines of the live part besides the partition rows: title, figures ×2, gap, header, "… more". */
const FIXED_ROWS = 6

/**
 * The live view of `recover replay` on a terminal: a total line with a bar, records, MB, rate,
 * ETA and quarantined, then one line per partition. It only renders the reduced progress
 * state (the plain progress line prints the same figures); the reporter feeds it.
 */
export function ReplayProgressView({ state, columns = 80, rows = 24, maxPartitionRows = 12, notes = [], now }: ReplayProgressViewProps) {
  if (state.follow) return <FollowView state={state} columns={columns} rows={rows} maxPartitionRows={maxPartitionRows} notes={notes} now={now} />
  const f = progressFigures(state)
  const t = state.totals
  const partitionRows = Math.max(1, Math.min(maxPartitionRows, rows - 1 - FIXED_ROWS))
  const shown = state.partitions.slice(0, partitionRows)
  const hidden = state.partitions.slice(partitionRows)
  const figures = ` ${f.percent.padStart(6)}  ${f.read} read  ${f.mb} MB  ${f.rate} rec/s  ${f.eta}`
  const totalBar = barWidthFor(columns - figures.length)
  const widths = columnWidths(shown)
  // The numbers are whole; the bar gets the cells they leave.
  const rowBar = barWidthFor(columns - (widths.part + widths.read + widths.mb + widths.quarantined + widths.position + 10))
  const title = `${state.done ? 'Replayed' : 'Replaying'} ${state.topic} → ${state.sink}${state.scaleOut ? ` in group ${state.scaleOut.group}` : ''}`
  return (
    <Box flexDirection="column" width={columns}>
      <Static items={notes.map((text, i) => ({ text, i }))}>{(n) => <Text key={n.i}>{n.text}</Text>}</Static>
      <Text wrap="truncate-end">
        <Text bold>{title}</Text>
        {state.resumed ? <Text dimColor> (resumed)</Text> : null}
      </Text>
      <Text wrap="truncate-end">
        {bar(fraction(Number(t.rangeSize - t.remaining), Number(t.rangeSize)), totalBar)}
        {figures}
      </Text>
      <Text wrap="truncate-end">
        {`${f.written} written  ${f.dropped} dropped  `}
        <Text color={t.quarantined > 0 ? 'yellow' : undefined}>{f.quarantined} quarantined</Text>
      </Text>
      {shown.length > 0 ? (
        <Box flexDirection="column" marginTop={1}>
          <Text dimColor wrap="truncate-end">
            {[
              'PART'.padStart(widths.part),
              'PROGRESS'.padEnd(rowBar),
              'READ'.padStart(widths.read),
              'MB'.padStart(widths.mb),
              'QUAR.'.padStart(widths.quarantined),
              'NEXT / END',
            ].join('  ')}
          </Text>
          {shown.map((p) => (
            <PartitionLine key={p.partition} p={p} barWidth={rowBar} widths={widths} />
          ))}
          {hidden.length > 0 ? (
            <Text
              dimColor
              wrap="truncate-end"
            >{`  … ${hidden.length} more partition${hidden.length === 1 ? '' : 's'}: ${count(sum(hidden, 'read'))} read, ${count(sum(hidden, 'quarantined'))} quarantined, ${hidden.filter(isDone).length} done`}</Text>
          ) : null}
        </Box>
      ) : null}
    </Box>
  )
}

/**
 * replay --follow: no end to fill a bar towards, so the lag instead: the totals with the
 * records behind the log ends and the age of the newest record written, then per partition
 * how far behind its log end it is.
 */
function FollowView({ state, columns = 80, rows = 24, maxPartitionRows = 12, notes = [], now = Date.now() }: ReplayProgressViewProps) {
  const f = progressFigures(state)
  // The age of the newest record keeps growing while nothing arrives: measured at every frame.
  const age = (writtenMs: number | undefined) => (writtenMs === undefined ? undefined : Math.max(0, now - writtenMs))
  const totalLag = state.lag ? formatLag({ behind: state.lag.behind, lagMs: age(state.lag.lastWrittenMs) }) : f.lag
  const partitionRows = Math.max(1, Math.min(maxPartitionRows, rows - 1 - FIXED_ROWS))
  const lags = new Map(state.lag?.partitions.map((p) => [p.partition, p]) ?? [])
  const rowsOf = state.partitions.map((p) => {
    const lag = lags.get(p.partition)
    return {
      part: String(p.partition),
      behind: lag ? count(Number(lag.behind)) : '–',
      read: count(p.read),
      mb: mb(p.bytes),
      quarantined: count(p.quarantined),
      quarantinedAny: p.quarantined > 0,
      lag: formatLagTime(age(lag?.lastWrittenMs)),
      position: `${p.next} / ${lag?.logEnd ?? '–'}`,
    }
  })
  const shown = rowsOf.slice(0, partitionRows)
  const hidden = state.partitions.slice(partitionRows)
  const header = { part: 'PART', behind: 'BEHIND', read: 'READ', mb: 'MB', quarantined: 'QUAR.', lag: 'LAG', position: 'NEXT / LOG END' }
  const width = (k: keyof typeof header) => Math.max(header[k].length, ...shown.map((r) => String(r[k]).length))
  const cells = (r: Record<keyof typeof header, string>) =>
    [r.part.padStart(width('part')), r.behind.padStart(width('behind')), r.read.padStart(width('read')), r.mb.padStart(width('mb'))].join('  ')
  const tail = (r: Record<keyof typeof header, string>) => `  ${r.lag.padStart(width('lag'))}  ${r.position}`
  const title = `${state.done ? 'Followed' : 'Following'} ${state.topic} → ${state.sink}`
  return (
    <Box flexDirection="column" width={columns}>
      <Static items={notes.map((text, i) => ({ text, i }))}>{(n) => <Text key={n.i}>{n.text}</Text>}</Static>
      <Text wrap="truncate-end">
        <Text bold>{title}</Text>
        {state.resumed ? <Text dimColor> (resumed)</Text> : null}
      </Text>
      <Text wrap="truncate-end">{`${totalLag}  ${f.read} read  ${f.mb} MB  ${f.rate} rec/s`}</Text>
      <Text wrap="truncate-end">
        {`${f.written} written  ${f.dropped} dropped  `}
        <Text color={state.totals.quarantined > 0 ? 'yellow' : undefined}>{f.quarantined} quarantined</Text>
      </Text>
      {shown.length > 0 ? (
        <Box flexDirection="column" marginTop={1}>
          <Text dimColor wrap="truncate-end">{`${cells(header)}  ${header.quarantined.padStart(width('quarantined'))}${tail(header)}`}</Text>
          {shown.map((r) => (
            <Text key={r.part} wrap="truncate-end">
              {`${cells(r)}  `}
              <Text color={r.quarantinedAny ? 'yellow' : undefined}>{r.quarantined.padStart(width('quarantined'))}</Text>
              {tail(r)}
            </Text>
          ))}
          {hidden.length > 0 ? (
            <Text
              dimColor
              wrap="truncate-end"
            >{`  … ${hidden.length} more partition${hidden.length === 1 ? '' : 's'}: ${count(sum(hidden, 'read'))} read`}</Text>
          ) : null}
        </Box>
      ) : null}
    </Box>
  )
}

function PartitionLine({ p, barWidth, widths }: { p: PartitionProgress; barWidth: number; widths: ColumnWidths }) {
  const size = Number(p.end - p.start)
  const done = Number(p.next - p.start)
  return (
    <Text color={isDone(p) ? 'green' : undefined} wrap="truncate-end">
      {`${[String(p.partition).padStart(widths.part), bar(fraction(done, size), barWidth), count(p.read).padStart(widths.read), mb(p.bytes).padStart(widths.mb)].join('  ')}  `}
      <Text color={p.quarantined > 0 ? 'yellow' : undefined}>{count(p.quarantined).padStart(widths.quarantined)}</Text>
      {`  ${position(p)}`}
    </Text>
  )
}

type ColumnWidths = ReturnType<typeof columnWidths>

/** Each column as wide as its header and its widest value. */
function columnWidths(partitions: readonly PartitionProgress[]) {
  const widest = (header: number, values: string[]) => Math.max(header, ...values.map((v) => v.length))
  return {
    part: widest(
      5,
      partitions.map((p) => String(p.partition)),
    ),
    read: widest(
      10,
      partitions.map((p) => count(p.read)),
    ),
    mb: widest(
      8,
      partitions.map((p) => mb(p.bytes)),
    ),
    quarantined: widest(
      7,
      partitions.map((p) => count(p.quarantined)),
    ),
    position: widest('NEXT / END'.length, partitions.map(position)),
  }
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(1)
const position = (p: PartitionProgress) => `${p.next} / ${p.end}`
const isDone = (p: PartitionProgress) => p.next >= p.end
const sum = (ps: PartitionProgress[], field: 'read' | 'quarantined') => ps.reduce((n, p) => n + p[field], 0)
const barWidthFor = (room: number) => Math.max(MIN_BAR, Math.min(MAX_BAR, room - 1))

function fraction(done: number, size: number): number {
  return size > 0 ? Math.min(1, Math.max(0, done / size)) : 1
}

/** A bar of full and empty cells; eighths are not worth the fonts that lack them. */
export function bar(f: number, width: number): string {
  const full = Math.round(f * width)
  return `${'█'.repeat(full)}${'░'.repeat(width - full)}`
}
