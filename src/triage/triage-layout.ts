import { fitText, wrapText } from '../core/terminal-text.js'
import { showPreview } from '../render/quarantine.js'
import { currentSummary, selectedIds, type TriageState } from './triage-state.js'

/**
 * Where the triage screen's parts go for a terminal size, and the text of the right pane. Pure,
 * so the reducer can clamp the detail's scroll to what the renderer will really draw.
 */
export interface TriageLayout {
  /** Cells of the record list (left), 0 when the detail takes the whole width. */
  list: number
  /** Cells of the text in the detail pane (right, or the whole screen). */
  detail: number
  /** Rows between the header line and the footer line. */
  body: number
}

/** The full detail is at least this wide; narrower terminals show it alone, over the list. */
const DETAIL_MIN = 76

export function triageLayout(state: Pick<TriageState, 'width' | 'height' | 'mode'>): TriageLayout {
  const width = Math.max(20, state.width)
  // A narrow terminal gives the list more of the width: keys and positions are what it scans.
  const list = Math.max(24, Math.floor(width * (width >= 120 ? 0.45 : 0.55)))
  const beside = width - list - 2
  if (state.mode === 'detail' && beside < DETAIL_MIN) return { list: 0, detail: width, body: state.height }
  return { list, detail: Math.max(10, beside), body: state.height }
}

export interface PaneLine {
  text: string
  color?: string
  bold?: boolean
  dim?: boolean
}

function position(original: { topic?: string; partition?: number; offset?: bigint }): string {
  return original.topic === undefined ? '(unknown)' : `${original.topic}-${original.partition ?? '?'}@${original.offset ?? '?'}`
}

/** The full record after enter: every line, unwrapped. */
function fullDetail(state: TriageState): PaneLine[] {
  const detail = state.detail
  if (!detail) return []
  const r = detail.shown
  if (detail.error) return [{ text: detail.error, color: 'red' }]
  if (!r) return [{ text: `Reading ${detail.id}…` }]
  const lines: PaneLine[] = [
    { text: `${r.id} (${r.dialect})`, bold: true },
    { text: `original  ${position(r.original)}` },
    { text: `error     ${r.errorClass}${r.kind ? ` (${r.kind})` : ''}`, color: 'red' },
  ]
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
  return lines
}

/** The full detail wrapped to the pane: long messages and stack lines continue on the next line. */
export function detailLines(state: TriageState, width: number): PaneLine[] {
  return fullDetail(state).flatMap((line) => wrapText(line.text, width).map((text) => ({ ...line, text })))
}

/** The first line of the full detail the pane shows, kept so the last page is full. */
export function clampDetailScroll(state: TriageState, scroll: number): number {
  const layout = triageLayout(state)
  const total = detailLines(state, layout.detail).length
  const room = total > layout.body ? layout.body - 1 : layout.body
  return Math.max(0, Math.min(scroll, total - room))
}

/** The detail pane's rows: the window of the full detail, or a summary cut to the pane. */
export function paneLines(state: TriageState, layout: TriageLayout): PaneLine[] {
  const rows = layout.body
  if (state.mode === 'detail' && state.detail) {
    const all = detailLines(state, layout.detail)
    if (all.length <= rows) return all
    const from = clampDetailScroll(state, state.detailScroll)
    const shown = all.slice(from, from + rows - 1)
    const status = `lines ${from + 1}–${from + shown.length} of ${all.length} · ↑↓ PgUp PgDn gg G scroll · esc back`
    return [...shown, { text: fitText(status, layout.detail), dim: true }]
  }
  const lines = summaryLines(state)
  const cut = lines.map((l) => ({ ...l, text: fitText(l.text, layout.detail) }))
  if (cut.length <= rows) return cut
  return [...cut.slice(0, rows - 1), { text: fitText(`… ${cut.length - rows + 1} more lines: enter shows them all`, layout.detail), dim: true }]
}

function summaryLines(state: TriageState): PaneLine[] {
  const summary = currentSummary(state)
  if (summary) {
    const lines: PaneLine[] = [
      { text: `${summary.id} (${summary.dialect})`, bold: true },
      { text: `original  ${position(summary.original)}` },
      { text: `error     ${summary.errorClass}${summary.kind ? ` (${summary.kind})` : ''}`, color: 'red' },
    ]
    if (summary.message) lines.push({ text: `message   ${summary.message}` })
    lines.push({ text: `stage     ${summary.stage}` })
    lines.push({ text: `failed    ${new Date(summary.failedAtMs).toISOString()}` })
    lines.push({ text: `key       ${summary.key ?? 'null'}` })
    lines.push({ text: `value     ${summary.valueBytes} bytes` })
    if (summary.redriveCount > 0) lines.push({ text: `redriven  ${summary.redriveCount} time(s)` })
    const st = state.states.get(summary.id)
    if (st) lines.push({ text: `state     ${st}`, color: 'yellow' })
    lines.push({ text: 'enter: headers, value and stack', color: 'gray' })
    return lines
  }
  const row = state.rows[state.cursor]
  if (row?.kind !== 'group') return []
  return [
    { text: row.errorClass, bold: true },
    { text: `stage ${row.stage}: ${row.count} record(s), ${row.open} open` },
    {
      text: row.open > 0 ? `r / R / d / x act on its ${selectedIds(state).length} open record(s)` : 'all handled: select a record to act on it again',
      color: 'gray',
    },
  ]
}
