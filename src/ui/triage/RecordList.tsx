import { Text } from 'ink'
import type { TriageState } from '../../triage/triage-state.js'

const MARK: Record<string, string> = { redriven: '↺', parked: 'P', dropped: '✗', retried: '✓', failed: '!' }

/** Only the visible window of rows is rendered, whatever the number of records. */
export function RecordList({ state, width }: { state: TriageState; width: number }) {
  if (state.loading && state.summaries.length === 0) return <Text>Reading the quarantine… {state.loaded}</Text>
  if (state.rows.length === 0) return <Text>{state.filter ? `Nothing matches "${state.filter}".` : 'The quarantine is empty.'}</Text>
  const end = Math.min(state.rows.length, state.scroll + state.height)
  const lines = []
  for (let i = state.scroll; i < end; i++) {
    const row = state.rows[i]!
    const selected = i === state.cursor
    if (row.kind === 'group') {
      const label = `${row.errorClass} · ${row.stage}`
      lines.push(
        <Text key={`g${i}`} bold inverse={selected} wrap="truncate">
          {fit(`${String(row.count).padStart(6)} ${label}${row.open < row.count ? ` (${row.open} open)` : ''}`, width)}
        </Text>,
      )
    } else {
      const s = state.summaries[row.index]!
      const mark = MARK[state.states.get(s.id) ?? ''] ?? ' '
      const from = s.original.topic === undefined ? '(unknown)' : `${s.original.topic}-${s.original.partition ?? '?'}@${s.original.offset ?? '?'}`
      lines.push(
        <Text key={`r${i}`} inverse={selected} wrap="truncate">
          {fit(`  ${mark} ${s.id.padEnd(9)} ${from} ${s.key ?? 'null'}`, width)}
        </Text>,
      )
    }
  }
  return <>{lines}</>
}

function fit(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, Math.max(0, width - 1))}…` : text
}
