import { Box, Text, useInput } from 'ink'
import { useSyncExternalStore } from 'react'
import { cellWidth, fitText, wrapText } from '../../core/terminal-text.js'
import type { TriageController } from '../../triage/triage-controller.js'
import { HELP } from '../../triage/triage-controller.js'
import { triageLayout } from '../../triage/triage-layout.js'
import { selectedIds, type TriageState } from '../../triage/triage-state.js'
import { DetailPane } from './DetailPane.js'
import { RecordList } from './RecordList.js'

/** The whole screen. Renders the controller's state; keys go to the controller. */
export function TriageApp({ controller, width }: { controller: TriageController; width?: number }) {
  const state = useSyncExternalStore(controller.subscribe, controller.getState)
  useInput((input, key) => {
    void controller.handleKey(input, key)
  })
  return <TriageScreen state={state} width={width} />
}

/**
 * Exactly one header line, `state.height` body rows and one footer line, each cut to the width:
 * at 80x24 over SSH nothing may wrap, or the terminal scrolls the title away.
 */
export function TriageScreen({ state, width }: { state: TriageState; width?: number }) {
  const sized = width === undefined || width === state.width ? state : { ...state, width }
  const layout = triageLayout(sized)
  return (
    <Box flexDirection="column" width={sized.width}>
      <Header state={sized} />
      <Box height={layout.body} overflow="hidden" flexDirection="row">
        {sized.mode === 'help' ? (
          <HelpView width={sized.width} rows={layout.body} />
        ) : sized.mode === 'groups' ? (
          <GroupsView state={sized} rows={layout.body} />
        ) : layout.list === 0 ? (
          <Box flexDirection="column" width={layout.detail}>
            <DetailPane state={sized} layout={layout} />
          </Box>
        ) : (
          <>
            <Box width={layout.list} flexDirection="column" borderStyle="single" borderRight borderTop={false} borderBottom={false} borderLeft={false}>
              <RecordList state={sized} width={layout.list - 2} />
            </Box>
            <Box flexDirection="column" width={layout.detail + 1} paddingLeft={1}>
              <DetailPane state={sized} layout={layout} />
            </Box>
          </>
        )}
      </Box>
      <Footer state={sized} />
    </Box>
  )
}

function Header({ state }: { state: TriageState }) {
  const outcomes = [...state.states.values()]
  const handled = outcomes.filter((s) => s !== 'failed').length
  const failed = outcomes.length - handled
  const counts = state.loading
    ? `loading… ${state.loaded} records`
    : `${state.matching} of ${state.summaries.length} records${state.filter ? ` matching "${state.filter}"` : ''}, ${handled} handled${failed ? `, ${failed} failed again` : ''}`
  const title = 'recover triage '
  // The counts matter more than the quarantine's name: the name gives way first.
  const room = state.width - cellWidth(title) - cellWidth(counts) - 2
  const source = room >= 12 ? fitText(state.source, room) : ''
  return (
    <Text wrap="truncate-end">
      <Text bold>{title}</Text>
      {source ? `${source}  ` : ''}
      <Text dimColor>{counts}</Text>
    </Text>
  )
}

const LEGEND_WIDE = '↑↓/jk move  / filter  enter detail  r retry  R redrive  d drop  e edit  x export  l lag  ? help  q quit'
const LEGEND_NARROW = '↑↓ move  / filter  enter detail  r retry  R redrive  d drop  ? all keys  q quit'
const DETAIL_LEGEND = '↑↓ scroll  PgUp PgDn page  gg/G top/end  esc back  r R d act  ? all keys'

/** What a drop will touch, said before the reason is typed: one record, or every record of a group. */
function dropTarget(state: TriageState): string {
  const ids = selectedIds(state)
  const row = state.rows[state.cursor]
  const what = ids.length === 1 ? `1 record (${ids[0]})` : `${ids.length.toLocaleString('en-US')} records`
  return row?.kind === 'group' ? `${what}: ${ids.length === row.count ? 'all' : 'the open ones'} of ${row.errorClass} · ${row.stage}` : what
}

function Footer({ state }: { state: TriageState }) {
  if (state.mode === 'filter' || state.mode === 'drop-reason' || state.mode === 'export-path') {
    const [label, hint] =
      state.mode === 'filter'
        ? ['/', '(enter: apply, esc: cancel)']
        : state.mode === 'drop-reason'
          ? [`Drop ${dropTarget(state)}. Reason: `, '(enter: drop, esc: cancel)']
          : ['Export to: ', '(enter: write, esc: cancel)']
    const error = state.message?.level === 'error' ? ` ${state.message.text}` : ''
    // Long input scrolls left, so the cursor and what is being typed stay in view.
    const room = Math.max(8, state.width - cellWidth(label) - cellWidth(hint) - 3)
    const input = cellWidth(state.input) > room ? `…${state.input.slice(-(room - 1))}` : state.input
    return (
      <Text wrap="truncate-end">
        {label}
        {input}
        <Text inverse> </Text> <Text dimColor>{hint}</Text>
        {error ? <Text color="red">{error}</Text> : null}
      </Text>
    )
  }
  if (state.mode === 'confirm' && state.confirm)
    return (
      <Text color="yellow" wrap="truncate-end">
        {fitText(state.confirm.text, state.width - 6)} [y/N]
      </Text>
    )
  if (state.busy)
    return (
      <Text color="cyan" wrap="truncate-end">
        {state.busy}
      </Text>
    )
  if (state.message)
    return (
      <Text color={state.message.level === 'error' ? 'red' : 'green'} wrap="truncate-end">
        {state.message.text}
      </Text>
    )
  const legend = state.mode === 'detail' ? DETAIL_LEGEND : cellWidth(LEGEND_WIDE) < state.width ? LEGEND_WIDE : LEGEND_NARROW
  return (
    <Text dimColor wrap="truncate-end">
      {legend}
    </Text>
  )
}

function HelpView({ width, rows }: { width: number; rows: number }) {
  const lines = [
    ...HELP.map(([k, what]) => fitText(`${k.padEnd(12)} ${what}`, width)),
    ...wrapText(
      'Actions apply to the record under the cursor, or to the whole group when the cursor is on a group line. Every retry, redrive and drop is recorded in the audit trail.',
      width,
    ),
  ]
  return (
    <Box flexDirection="column">
      <Text bold>Keys</Text>
      {lines.slice(0, rows - 1).map((line, i) => (
        <Text key={i} wrap="truncate-end" dimColor={i >= HELP.length}>
          {line}
        </Text>
      ))}
    </Box>
  )
}

function GroupsView({ state, rows }: { state: TriageState; rows: number }) {
  const view = state.groupsView
  return (
    <Box flexDirection="column">
      <Text bold wrap="truncate-end">
        Consumer groups and lag <Text dimColor>(esc to go back)</Text>
      </Text>
      {!view || view.loading ? <Text>loading…</Text> : null}
      {view?.error ? <Text color="red">{fitText(view.error, state.width)}</Text> : null}
      {view && !view.loading && !view.error && view.groups.length === 0 ? <Text>No consumer groups.</Text> : null}
      {view?.groups.slice(0, rows - 1).map((g) => (
        <Text key={g.groupId} wrap="truncate-end">
          {fitText(
            `${g.groupId.padEnd(32)} ${g.state.padEnd(12)} ${String(g.members).padStart(3)} members  lag ${g.totalLag === null ? '-' : g.totalLag.toString()}  ${g.topics.join(',')}`,
            state.width,
          )}
        </Text>
      ))}
    </Box>
  )
}
