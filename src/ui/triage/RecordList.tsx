import { Text } from 'ink'
import { fitColumns, fitText, padText } from '../../core/terminal-text.js'
import type { TriageState } from '../../triage/triage-state.js'

const MARK: Record<string, string> = { redriven: '↺', parked: 'P', dropped: '✗', retried: '✓', failed: '!' }

/**
 * Only the visible window of rows is rendered, whatever the number of records. Every row is cut
 * to the pane (counted in terminal cells) so that nothing wraps: a long key or topic ends in "…".
 */
export function RecordList({ state, width }: { state: TriageState; width: number }) {
  if (state.loading && state.summaries.length === 0) return <Text>{fitText(`Reading the quarantine… ${state.loaded}`, width)}</Text>
  if (state.rows.length === 0) return <Text>{fitText(state.filter ? `Nothing matches "${state.filter}".` : 'The quarantine is empty.', width)}</Text>
  const end = Math.min(state.rows.length, state.scroll + state.height)
  // Ids as wide as the widest on screen: aligned, without spending cells a key could use.
  let idWidth = 3
  for (let i = state.scroll; i < end; i++) {
    const row = state.rows[i]!
    if (row.kind === 'record') idWidth = Math.max(idWidth, state.summaries[row.index]!.id.length)
  }
  const lines = []
  for (let i = state.scroll; i < end; i++) {
    const row = state.rows[i]!
    const selected = i === state.cursor
    if (row.kind === 'group') {
      const label = `${row.errorClass} · ${row.stage}`
      lines.push(
        <Text key={`g${i}`} bold inverse={selected} wrap="truncate-end">
          {fitText(`${String(row.count).padStart(6)} ${label}${row.open < row.count ? ` (${row.open} open)` : ''}`, width)}
        </Text>,
      )
    } else {
      const s = state.summaries[row.index]!
      const mark = MARK[state.states.get(s.id) ?? ''] ?? ' '
      const from = s.original.topic === undefined ? '(unknown)' : `${s.original.topic}-${s.original.partition ?? '?'}@${s.original.offset ?? '?'}`
      lines.push(
        <Text key={`r${i}`} inverse={selected} wrap="truncate-end">
          {fitColumns(
            [
              { text: `  ${mark} ${padText(s.id, idWidth)}` },
              // The topic is mostly the same on every line: it gives way first, keeping partition@offset.
              { text: from, flexible: true, min: 12, cut: 'start' },
              { text: s.key ?? 'null', flexible: true, min: 10 },
            ],
            width,
          )}
        </Text>,
      )
    }
  }
  return <>{lines}</>
}
