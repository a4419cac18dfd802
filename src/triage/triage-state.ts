import { matcher } from '../quarantine/quarantine-filter.js'
import type { QuarantineSummary } from '../quarantine/quarantined-record.js'
import type { RecordState } from '../quarantine/audit-trail.js'
import type { ShownRecord } from '../services/quarantine.js'
import type { GroupOverview } from '../services/list-groups.js'

/**
 * The triage TUI's whole state, and the pure reducer over it. Components render this; the
 * controller turns keys into actions and calls services. Only summaries are kept per record
 * (no payloads), and the list is a flat array of rows of which only a window is rendered.
 */
export type Row =
  | { kind: 'group'; key: string; errorClass: string; stage: string; count: number; open: number }
  | { kind: 'record'; index: number; group: string }

export type Mode = 'list' | 'filter' | 'drop-reason' | 'export-path' | 'confirm' | 'help' | 'groups' | 'detail'

export interface PendingConfirm {
  action: 'redrive' | 'retry'
  ids: string[]
  text: string
}

export interface TriageState {
  source: string
  loading: boolean
  loaded: number
  summaries: QuarantineSummary[]
  states: Map<string, RecordState['outcome']>
  filter: string
  rows: Row[]
  /** Records that match the filter. */
  matching: number
  cursor: number
  scroll: number
  /** List rows visible at once (the window): the rows between the header and the footer. */
  height: number
  /** Terminal columns the screen is laid out for. */
  width: number
  /** First line of the full detail (enter) on screen. */
  detailScroll: number
  mode: Mode
  /** Text being typed (filter, drop reason, export path). */
  input: string
  detail?: { id: string; shown?: ShownRecord; error?: string }
  confirm?: PendingConfirm
  groupsView?: { loading: boolean; groups: GroupOverview[]; error?: string }
  message?: { text: string; level: 'info' | 'error' }
  busy?: string
}

export type TriageAction =
  | { type: 'loading'; loaded: number }
  | { type: 'loaded'; summaries: QuarantineSummary[]; states: Map<string, RecordState['outcome']> }
  | { type: 'move'; delta: number }
  | { type: 'move-to'; where: 'top' | 'bottom' }
  | { type: 'mode'; mode: Mode; input?: string }
  | { type: 'input'; text: string }
  | { type: 'apply-filter'; filter: string }
  | { type: 'detail'; id: string; shown?: ShownRecord; error?: string }
  | { type: 'confirm'; confirm: PendingConfirm }
  | { type: 'states'; ids: readonly string[]; outcome: RecordState['outcome'] }
  | { type: 'groups'; loading: boolean; groups?: GroupOverview[]; error?: string }
  | { type: 'message'; text: string; level?: 'info' | 'error' }
  | { type: 'busy'; what?: string }
  | { type: 'resize'; height: number; width?: number }
  | { type: 'detail-scroll'; to: number }

export function initialState(source: string, height = 20, width = 120): TriageState {
  return {
    source,
    loading: true,
    loaded: 0,
    summaries: [],
    states: new Map(),
    filter: '',
    rows: [],
    matching: 0,
    cursor: 0,
    scroll: 0,
    height,
    width,
    detailScroll: 0,
    mode: 'list',
    input: '',
  }
}

/** Groups by error class and stage (largest first), each followed by its records, oldest first. */
export function buildRows(summaries: readonly QuarantineSummary[], filter: string, states: ReadonlyMap<string, string>): { rows: Row[]; matching: number } {
  const matches = filter.trim() === '' ? undefined : matcher({ text: filter.trim() })
  const groups = new Map<string, { errorClass: string; stage: string; indexes: number[]; open: number }>()
  let matching = 0
  for (let i = 0; i < summaries.length; i++) {
    const s = summaries[i]!
    if (matches && !matches(s)) continue
    matching++
    const key = `${s.errorClass}\u0000${s.stage}`
    let g = groups.get(key)
    if (!g) {
      g = { errorClass: s.errorClass, stage: s.stage, indexes: [], open: 0 }
      groups.set(key, g)
    }
    g.indexes.push(i)
    if (isOpen(states, s.id)) g.open++
  }
  const rows: Row[] = []
  const ordered = [...groups.entries()].sort((a, b) => b[1].indexes.length - a[1].indexes.length || a[0].localeCompare(b[0]))
  for (const [key, g] of ordered) {
    rows.push({ kind: 'group', key, errorClass: g.errorClass, stage: g.stage, count: g.indexes.length, open: g.open })
    for (const index of g.indexes) rows.push({ kind: 'record', index, group: key })
  }
  return { rows, matching }
}

/** The ids an action applies to: the record under the cursor, or every record of the group under it. */
/**
 * What an action acts on: the record under the cursor, or the open records of the group under it.
 * A group's retried, redriven or dropped records are left out: retrying the group again must not
 * send an already-fixed record through the failing path a second time (and redrive it twice).
 * A handled record is still acted on when it is selected on its own.
 */
export function selectedIds(state: TriageState): string[] {
  const row = state.rows[state.cursor]
  if (!row) return []
  if (row.kind === 'record') return [state.summaries[row.index]!.id]
  const ids: string[] = []
  for (let i = state.cursor + 1; i < state.rows.length; i++) {
    const r = state.rows[i]!
    if (r.kind === 'group') break
    const id = state.summaries[r.index]!.id
    if (isOpen(state.states, id)) ids.push(id)
  }
  return ids
}

/** Not handled yet: no outcome in the trail, or a retry that failed again. */
function isOpen(states: ReadonlyMap<string, string>, id: string): boolean {
  return !states.has(id) || states.get(id) === 'failed'
}

export function currentSummary(state: TriageState): QuarantineSummary | undefined {
  const row = state.rows[state.cursor]
  return row?.kind === 'record' ? state.summaries[row.index] : undefined
}

function clampCursor(state: TriageState, cursor: number): TriageState {
  const max = Math.max(0, state.rows.length - 1)
  const c = Math.min(Math.max(0, cursor), max)
  let scroll = state.scroll
  if (c < scroll) scroll = c
  if (c >= scroll + state.height) scroll = c - state.height + 1
  scroll = Math.max(0, Math.min(scroll, Math.max(0, state.rows.length - state.height)))
  return { ...state, cursor: c, scroll }
}

export function reduce(state: TriageState, action: TriageAction): TriageState {
  switch (action.type) {
    case 'loading':
      return { ...state, loading: true, loaded: action.loaded }
    case 'loaded': {
      const { rows, matching } = buildRows(action.summaries, state.filter, action.states)
      return clampCursor(
        { ...state, loading: false, loaded: action.summaries.length, summaries: action.summaries, states: action.states, rows, matching },
        state.cursor,
      )
    }
    case 'move':
      return clampCursor({ ...state, detail: undefined }, state.cursor + action.delta)
    case 'move-to':
      return clampCursor({ ...state, detail: undefined }, action.where === 'top' ? 0 : state.rows.length - 1)
    case 'mode':
      return { ...state, mode: action.mode, input: action.input ?? '', message: undefined, ...(action.mode === 'list' ? { confirm: undefined } : {}) }
    case 'input':
      return { ...state, input: action.text }
    case 'apply-filter': {
      const { rows, matching } = buildRows(state.summaries, action.filter, state.states)
      return clampCursor({ ...state, filter: action.filter, rows, matching, mode: 'list', input: '', cursor: 0, scroll: 0, detail: undefined }, 0)
    }
    case 'detail':
      return {
        ...state,
        mode: 'detail',
        detailScroll: state.detail?.id === action.id ? state.detailScroll : 0,
        detail: { id: action.id, ...(action.shown ? { shown: action.shown } : {}), ...(action.error ? { error: action.error } : {}) },
      }
    case 'confirm':
      return { ...state, mode: 'confirm', confirm: action.confirm }
    case 'states': {
      const states = new Map(state.states)
      for (const id of action.ids) states.set(id, action.outcome)
      const { rows, matching } = buildRows(state.summaries, state.filter, states)
      return clampCursor({ ...state, states, rows, matching }, state.cursor)
    }
    case 'groups':
      return {
        ...state,
        mode: 'groups',
        groupsView: { loading: action.loading, groups: action.groups ?? state.groupsView?.groups ?? [], ...(action.error ? { error: action.error } : {}) },
      }
    case 'message':
      return { ...state, message: { text: action.text, level: action.level ?? 'info' } }
    case 'busy':
      return action.what === undefined ? { ...state, busy: undefined } : { ...state, busy: action.what }
    case 'resize':
      return clampCursor({ ...state, height: Math.max(3, action.height), width: action.width ?? state.width }, state.cursor)
    case 'detail-scroll':
      return { ...state, detailScroll: Math.max(0, action.to) }
  }
}
