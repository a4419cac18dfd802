import { Box, Text, useInput } from 'ink'
import { useSyncExternalStore } from 'react'
import type { TriageController } from '../../triage/triage-controller.js'
import { HELP } from '../../triage/triage-controller.js'
import type { TriageState } from '../../triage/triage-state.js'
import { DetailPane } from './DetailPane.js'
import { RecordList } from './RecordList.js'

/** The whole screen. Renders the controller's state; keys go to the controller. */
export function TriageApp({ controller, width = 120 }: { controller: TriageController; width?: number }) {
  const state = useSyncExternalStore(controller.subscribe, controller.getState)
  useInput((input, key) => {
    void controller.handleKey(input, key)
  })
  return <TriageScreen state={state} width={width} />
}

export function TriageScreen({ state, width }: { state: TriageState; width: number }) {
  const left = Math.max(30, Math.floor(width * 0.45))
  return (
    <Box flexDirection="column" width={width}>
      <Header state={state} />
      {state.mode === 'help' ? (
        <HelpView />
      ) : state.mode === 'groups' ? (
        <GroupsView state={state} />
      ) : (
        <Box flexDirection="row">
          <Box width={left} flexDirection="column" borderStyle="single" borderRight borderTop={false} borderBottom={false} borderLeft={false}>
            <RecordList state={state} width={left - 2} />
          </Box>
          <Box flexDirection="column" flexGrow={1} paddingLeft={1}>
            <DetailPane state={state} width={width - left - 2} />
          </Box>
        </Box>
      )}
      <Footer state={state} />
    </Box>
  )
}

function Header({ state }: { state: TriageState }) {
  const handled = [...state.states.values()].filter((s) => s !== 'failed').length
  return (
    <Box>
      <Text bold>recover triage </Text>
      <Text>{state.source} </Text>
      <Text dimColor>
        {state.loading
          ? `loading… ${state.loaded} records`
          : `${state.matching} of ${state.summaries.length} records${state.filter ? ` matching "${state.filter}"` : ''}, ${handled} handled`}
      </Text>
    </Box>
  )
}

function Footer({ state }: { state: TriageState }) {
  if (state.mode === 'filter')
    return (
      <Text>
        /{state.input}
        <Text inverse> </Text> <Text dimColor>(enter: apply, esc: cancel)</Text>
      </Text>
    )
  if (state.mode === 'drop-reason')
    return (
      <Text>
        Drop reason: {state.input}
        <Text inverse> </Text> <Text dimColor>(enter: drop, esc: cancel)</Text>
        {state.message?.level === 'error' ? <Text color="red"> {state.message.text}</Text> : null}
      </Text>
    )
  if (state.mode === 'export-path')
    return (
      <Text>
        Export to: {state.input}
        <Text inverse> </Text> <Text dimColor>(enter: write, esc: cancel)</Text>
      </Text>
    )
  if (state.mode === 'confirm' && state.confirm) return <Text color="yellow">{state.confirm.text} [y/N]</Text>
  if (state.busy) return <Text color="cyan">{state.busy}</Text>
  if (state.message) return <Text color={state.message.level === 'error' ? 'red' : 'green'}>{state.message.text}</Text>
  return <Text dimColor>{'↑↓/jk move  / filter  enter detail  r retry  R redrive  d drop  e edit  x export  g groups  ? help  q quit'}</Text>
}

function HelpView() {
  return (
    <Box flexDirection="column" paddingY={1}>
      <Text bold>Keys</Text>
      {HELP.map(([k, what]) => (
        <Text key={k}>
          <Text color="cyan">{k.padEnd(12)}</Text> {what}
        </Text>
      ))}
      <Text dimColor>
        Actions apply to the record under the cursor, or to the whole group when the cursor is on a group line. Every retry, redrive and drop is recorded in the
        audit trail.
      </Text>
    </Box>
  )
}

function GroupsView({ state }: { state: TriageState }) {
  const view = state.groupsView
  return (
    <Box flexDirection="column" paddingY={1}>
      <Text bold>
        Consumer groups and lag <Text dimColor>(esc to go back)</Text>
      </Text>
      {!view || view.loading ? <Text>loading…</Text> : null}
      {view?.error ? <Text color="red">{view.error}</Text> : null}
      {view && !view.loading && !view.error && view.groups.length === 0 ? <Text>No consumer groups.</Text> : null}
      {view?.groups.slice(0, state.height).map((g) => (
        <Text key={g.groupId} wrap="truncate">
          {`${g.groupId.padEnd(32)} ${g.state.padEnd(12)} ${String(g.members).padStart(3)} members  lag ${g.totalLag === null ? '-' : g.totalLag.toString()}  ${g.topics.join(',')}`}
        </Text>
      ))}
    </Box>
  )
}
