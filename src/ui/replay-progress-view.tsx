import { Box, Static, Text } from 'ink'
import { formatDuration } from '../core/duration.js'
import type { PartitionProgress, ProgressState } from '../core/replay-progress.js'

export interface ReplayProgressViewProps {
  topic: string
  sink: string
  state: ProgressState
  /** Partitions listed one per line; the rest are summed on one line. Default 12. */
  maxPartitionRows?: number
  /** Width of the progress bars in cells. Default 24. */
  barWidth?: number
  /** Messages of the replay (retries, warnings), printed once above the live part. */
  notes?: readonly string[]
}

/**
 * The live view of `recover replay` on a terminal: a total line with a bar, records, MB, rate,
 * ETA and quarantined, then one line per partition. It only renders the reduced progress
 * state; the command feeds it events.
 */
export function ReplayProgressView({ topic, sink, state, maxPartitionRows = 12, barWidth = 24, notes = [] }: ReplayProgressViewProps) {
  const t = state.totals
  const shown = state.partitions.slice(0, maxPartitionRows)
  const hidden = state.partitions.slice(maxPartitionRows)
  const eta = state.done ? 'done' : state.etaMs === undefined ? 'ETA –' : `ETA ${formatDuration(Math.max(1000, Math.round(state.etaMs / 1000) * 1000))}`
  return (
    <Box flexDirection="column">
      <Static items={notes.map((text, i) => ({ text, i }))}>{(n) => <Text key={n.i}>{n.text}</Text>}</Static>
      <Text>
        <Text bold>{state.done ? 'Replayed' : 'Replaying'} {topic}</Text> → {sink}
        {state.resumed ? <Text dimColor> (resumed)</Text> : null}
      </Text>
      <Text>
        {bar(fraction(Number(t.rangeSize - t.remaining), Number(t.rangeSize)), barWidth)} {pct(state.percent)}  {count(t.read)} read  {mb(t.bytes)} MB  {count(Math.round(state.rate))} rec/s  {eta}
      </Text>
      <Text>
        {count(t.written)} written  {count(t.dropped)} dropped  <Text color={t.quarantined > 0 ? 'yellow' : undefined}>{count(t.quarantined)} quarantined</Text>
      </Text>
      {shown.length > 0 ? (
        <Box flexDirection="column" marginTop={1}>
          <Text dimColor>{'PART'.padStart(5)}  {'PROGRESS'.padEnd(barWidth)}  {'READ'.padStart(10)}  {'MB'.padStart(8)}  {'QUAR.'.padStart(7)}  NEXT / END</Text>
          {shown.map((p) => (
            <PartitionLine key={p.partition} p={p} barWidth={barWidth} />
          ))}
          {hidden.length > 0 ? <Text dimColor>{`  … ${hidden.length} more partition${hidden.length === 1 ? '' : 's'}: ${count(sum(hidden, 'read'))} read, ${count(sum(hidden, 'quarantined'))} quarantined, ${hidden.filter(isDone).length} done`}</Text> : null}
        </Box>
      ) : null}
    </Box>
  )
}

function PartitionLine({ p, barWidth }: { p: PartitionProgress; barWidth: number }) {
  const size = Number(p.end - p.start)
  const done = Number(p.next - p.start)
  return (
    <Text color={isDone(p) ? 'green' : undefined}>
      {String(p.partition).padStart(5)}  {bar(fraction(done, size), barWidth)}  {count(p.read).padStart(10)}  {mb(p.bytes).padStart(8)}  <Text color={p.quarantined > 0 ? 'yellow' : undefined}>{count(p.quarantined).padStart(7)}</Text>  {String(p.next)} / {String(p.end)}
    </Text>
  )
}

const isDone = (p: PartitionProgress) => p.next >= p.end
const sum = (ps: PartitionProgress[], field: 'read' | 'quarantined') => ps.reduce((n, p) => n + p[field], 0)
const count = (n: number) => n.toLocaleString('en-US')
const mb = (bytes: number) => (bytes / 1e6).toFixed(1)
const pct = (percent: number | undefined) => `${(percent ?? 0).toFixed(1).padStart(5)}%`

function fraction(done: number, size: number): number {
  return size > 0 ? Math.min(1, Math.max(0, done / size)) : 1
}

/** A bar of full and empty cells; eighths are not worth the fonts that lack them. */
export function bar(f: number, width: number): string {
  const full = Math.round(f * width)
  return `${'█'.repeat(full)}${'░'.repeat(width - full)}`
}
