import { Text } from 'ink'
import type { PaneLine, TriageLayout } from '../../triage/triage-layout.js'
import { paneLines } from '../../triage/triage-layout.js'
import type { TriageState } from '../../triage/triage-state.js'

/**
 * Right pane: the record under the cursor (summary), or in full after enter, scrolled by the
 * keys. Lines arrive cut or wrapped to the pane's width and never more than its rows.
 */
export function DetailPane({ state, layout }: { state: TriageState; layout: TriageLayout }) {
  return (
    <>
      {paneLines(state, layout).map((l: PaneLine, i) => (
        <Text key={i} color={l.color} bold={l.bold} dimColor={l.dim} wrap="truncate-end">
          {l.text || ' '}
        </Text>
      ))}
    </>
  )
}
