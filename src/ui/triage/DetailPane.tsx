import { Text } from 'ink'
import { showPreview } from '../../render/quarantine.js'
import { currentSummary, selectedIds, type TriageState } from '../../triage/triage-state.js'

/** Right pane: the record under the cursor (summary), or in full after enter. */
export function DetailPane({ state, width }: { state: TriageState; width: number }) {
  const lines: Array<{ text: string; color?: string; bold?: boolean }> = []
  const detail = state.mode === 'detail' ? state.detail : undefined
  const summary = currentSummary(state)
  if (detail) {
    const r = detail.shown
    if (detail.error) lines.push({ text: detail.error, color: 'red' })
    else if (!r) lines.push({ text: `Reading ${detail.id}…` })
    else {
      lines.push({ text: `${r.id} (${r.dialect})`, bold: true })
      lines.push({
        text: `original  ${r.original.topic === undefined ? '(unknown)' : `${r.original.topic}-${r.original.partition ?? '?'}@${r.original.offset ?? '?'}`}`,
      })
      lines.push({ text: `error     ${r.errorClass}${r.kind ? ` (${r.kind})` : ''}`, color: 'red' })
      if (r.message) lines.push({ text: `message   ${r.message}` })
      lines.push({ text: `stage     ${r.stage}   failed ${r.failedAt}` })
      if (r.state) lines.push({ text: `state     ${r.state.outcome} by ${r.state.by}${r.state.reason ? ` (${r.state.reason})` : ''}`, color: 'yellow' })
      lines.push({ text: `key (${r.key.format}): ${showPreview(r.key).split('\n')[0]}` })
      lines.push({ text: `value (${r.value.format}${r.value.error ? `; ${r.value.kind ?? r.value.error}` : ''})`, bold: true })
      for (const l of showPreview(r.value).split('\n')) lines.push({ text: l })
      const context = r.headers.filter((h) => h.context).length
      lines.push({ text: `headers${context ? ` (+${context} failure-context headers, stripped on redrive)` : ''}`, bold: true })
      for (const h of r.headers) if (!h.context) lines.push({ text: `  ${h.key}: ${h.value ?? 'null'}` })
      if (r.stack) {
        lines.push({ text: 'stack', bold: true })
        for (const l of r.stack.split('\n')) lines.push({ text: l, color: 'gray' })
      }
    }
  } else if (summary) {
    lines.push({ text: `${summary.id} (${summary.dialect})`, bold: true })
    lines.push({
      text: `original  ${summary.original.topic === undefined ? '(unknown)' : `${summary.original.topic}-${summary.original.partition ?? '?'}@${summary.original.offset ?? '?'}`}`,
    })
    lines.push({ text: `error     ${summary.errorClass}${summary.kind ? ` (${summary.kind})` : ''}`, color: 'red' })
    if (summary.message) lines.push({ text: `message   ${summary.message}` })
    lines.push({ text: `stage     ${summary.stage}` })
    lines.push({ text: `failed    ${new Date(summary.failedAtMs).toISOString()}` })
    lines.push({ text: `key       ${summary.key ?? 'null'}` })
    lines.push({ text: `value     ${summary.valueBytes} bytes` })
    if (summary.redriveCount > 0) lines.push({ text: `redriven  ${summary.redriveCount} time(s)` })
    const st = state.states.get(summary.id)
    if (st) lines.push({ text: `state     ${st}`, color: 'yellow' })
    lines.push({ text: 'enter: headers, value and stack', color: 'gray' })
  } else if (state.rows[state.cursor]?.kind === 'group') {
    const row = state.rows[state.cursor] as Extract<TriageState['rows'][number], { kind: 'group' }>
    lines.push({ text: row.errorClass, bold: true })
    lines.push({ text: `stage ${row.stage}: ${row.count} record(s), ${row.open} open` })
    lines.push({ text: `r / R / d / x act on all ${selectedIds(state).length} record(s) of this group`, color: 'gray' })
  }
  const max = Math.max(3, state.height)
  const shown = lines.slice(0, max)
  return (
    <>
      {shown.map((l, i) => (
        <Text key={i} color={l.color} bold={l.bold} wrap="truncate">
          {l.text.length > width ? `${l.text.slice(0, Math.max(0, width - 1))}…` : l.text || ' '}
        </Text>
      ))}
      {lines.length > max ? (
        <Text dimColor>
          … {lines.length - max} more lines (recover quarantine show {state.detail?.id ?? summary?.id})
        </Text>
      ) : null}
    </>
  )
}
