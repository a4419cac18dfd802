import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { KafkaGateway } from '../kafka/kafka-gateway.js'
import type { RecoveryError } from '../errors.js'
import { parsePositionId } from '../quarantine/quarantined-record.js'
import {
  dropQuarantined,
  exportQuarantine,
  loadSummaries,
  readTrail,
  showQuarantined,
  type Actor,
  type QuarantineContext,
  type ShowFormats,
} from '../services/quarantine.js'
import { redriveQuarantined, type RedriveRequest } from '../services/quarantine-redrive.js'
import { retryQuarantined, type RetryRequest } from '../services/quarantine-retry.js'
import { locationText } from '../core/location.js'
import { listGroups } from '../services/list-groups.js'
import { clampDetailScroll } from './triage-layout.js'
import { currentSummary, initialState, reduce, selectedIds, type TriageAction, type TriageState } from './triage-state.js'

/** The keys the TUI reacts to (Ink's key object, or a test's). */
export interface TriageKey {
  upArrow?: boolean
  downArrow?: boolean
  pageUp?: boolean
  pageDown?: boolean
  home?: boolean
  end?: boolean
  return?: boolean
  escape?: boolean
  backspace?: boolean
  delete?: boolean
  ctrl?: boolean
}

export interface TriageDeps {
  ctx: QuarantineContext
  actor: Actor
  /** Kafka on demand (a file quarantine needs it only for redrive, retry and the lag view). */
  connect?: () => Promise<KafkaGateway>
  /** Where `r` and `e` send records; without it they say how to start triage with --sink. */
  retry?: Omit<RetryRequest, 'filter' | 'all' | 'valueOverrides' | 'dryRun'>
  redrive?: Pick<RedriveRequest, 'samePartition' | 'maxRedrives' | 'parking'>
  formats?: ShowFormats
  /** Opens the file in $EDITOR and returns when the editor exits. */
  runEditor?: (path: string) => void
  exportDir?: string
  onExit?: () => void
}

export const HELP: Array<[string, string]> = [
  ['↑ ↓ / k j', 'move (PgUp/PgDn: a page)'],
  ['Home gg', 'first line; End G: last line'],
  ['/', 'filter: error class, message, key, topic, stage, or a position (orders-2@1750)'],
  ['enter', 'the record in full (headers, value, stack): ↑↓ PgUp PgDn scroll it, esc closes'],
  ['r', 'retry the record (or the group under the cursor) into --sink'],
  ['R', 'redrive the record or group to its original topic (asks first)'],
  ['d', 'drop with a reason'],
  ['e', 'edit the value in $EDITOR, then retry the edited record'],
  ['x', 'export the record or group to a JSONL file'],
  ['l', 'consumer groups and lag'],
  ['?', 'this help'],
  ['q', 'quit'],
]

/**
 * The TUI's controller: owns the state, turns keys into reducer actions and service calls
 * (the same services the quarantine commands use). Components subscribe and render.
 */
export class TriageController {
  private state: TriageState
  private readonly listeners = new Set<() => void>()

  constructor(
    private readonly deps: TriageDeps,
    height = 20,
  ) {
    this.state = initialState(deps.ctx.source.uri, height)
  }

  getState = (): TriageState => this.state

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  dispatch(action: TriageAction): void {
    this.state = reduce(this.state, action)
    for (const l of this.listeners) l()
  }

  /** Reads every summary (no payloads) and the audit trail's states. */
  async load(): Promise<void> {
    const trail = await readTrail(this.deps.ctx)
    let last = 0
    const { summaries } = await loadSummaries(this.deps.ctx, {}, (n) => {
      // Progress at most every 10,000 records: a re-render per batch would slow the read.
      if (n - last >= 10_000) {
        last = n
        this.dispatch({ type: 'loading', loaded: n })
      }
    })
    this.dispatch({ type: 'loaded', summaries, states: new Map([...trail.states].map(([id, s]) => [id, s.outcome])) })
  }

  /**
   * Reads the summaries again: a retry that fails again (or a redrive that parks into this
   * quarantine) adds dead letters, and the counts must show them without a restart.
   */
  private async reloadSummaries(): Promise<void> {
    const trail = await readTrail(this.deps.ctx)
    const { summaries } = await loadSummaries(this.deps.ctx, {})
    this.dispatch({ type: 'loaded', summaries, states: new Map([...trail.states].map(([id, s]) => [id, s.outcome])) })
  }

  private async refreshStates(): Promise<void> {
    const trail = await readTrail(this.deps.ctx)
    this.dispatch({ type: 'loaded', summaries: this.state.summaries, states: new Map([...trail.states].map(([id, s]) => [id, s.outcome])) })
  }

  /** Handles one key press; resolves when what it started is finished (tests await it). */
  async handleKey(input: string, key: TriageKey = {}): Promise<void> {
    // Keys typed fast (or pasted) arrive as one chunk: take them one at a time.
    if (input.length > 1 && !key.ctrl) {
      for (const ch of input)
        await this.handleKey(
          ch === '\r' || ch === '\n' ? '' : ch === '\x7f' || ch === '\b' ? '' : ch,
          ch === '\r' || ch === '\n' ? { return: true } : ch === '\x7f' || ch === '\b' ? { backspace: true } : {},
        )
      return
    }
    const s = this.state
    try {
      switch (s.mode) {
        case 'filter':
        case 'drop-reason':
        case 'export-path':
          return await this.typing(input, key)
        case 'confirm':
          if (input === 'y' || input === 'Y') return await this.confirmed()
          if (input === 'n' || input === 'N' || key.escape) {
            this.dispatch({ type: 'mode', mode: 'list' })
            this.dispatch({ type: 'message', text: 'Cancelled.' })
          }
          return
        case 'help':
        case 'groups':
          if (key.escape || input === 'q' || input === '?' || input === 'l' || key.return) this.dispatch({ type: 'mode', mode: 'list' })
          return
        case 'detail':
          return await this.scrollingDetail(input, key)
        default:
          return await this.browsing(input, key)
      }
    } catch (error) {
      this.dispatch({ type: 'busy' })
      this.dispatch({ type: 'message', text: messageOf(error), level: 'error' })
    }
  }

  /** A first `g` waits for a second one (`gg`: to the top, as in less and vim). */
  private pendingG = false

  /** Home/End/gg/G, for the list and the detail alike; true when the key was one of them. */
  private jumpKey(input: string, key: TriageKey, jump: (where: 'top' | 'bottom') => void): boolean {
    const wasPending = this.pendingG
    this.pendingG = false
    if (key.home || (input === 'g' && wasPending)) jump('top')
    else if (key.end || input === 'G') jump('bottom')
    else if (input === 'g' && !key.ctrl) this.pendingG = true
    else return false
    return true
  }

  private async scrollingDetail(input: string, key: TriageKey): Promise<void> {
    const s = this.state
    const page = Math.max(1, s.height - 1)
    const scrollTo = (line: number) => this.dispatch({ type: 'detail-scroll', to: clampDetailScroll(s, line) })
    if (this.jumpKey(input, key, (where) => scrollTo(where === 'top' ? 0 : Number.MAX_SAFE_INTEGER))) return
    if (key.upArrow || input === 'k') return scrollTo(clampDetailScroll(s, s.detailScroll) - 1)
    if (key.downArrow || input === 'j') return scrollTo(clampDetailScroll(s, s.detailScroll) + 1)
    if (key.pageUp) return scrollTo(clampDetailScroll(s, s.detailScroll) - page)
    if (key.pageDown || input === ' ') return scrollTo(clampDetailScroll(s, s.detailScroll) + page)
    if (key.escape || key.return || input === 'q') return this.dispatch({ type: 'mode', mode: 'list' })
    // Actions (r, R, d, x, e, /, ?) work on the record shown, as from the list.
    return this.browsing(input, key)
  }

  private async browsing(input: string, key: TriageKey): Promise<void> {
    const s = this.state
    if (this.jumpKey(input, key, (where) => this.dispatch({ type: 'move-to', where }))) return
    if (key.upArrow || input === 'k') return this.dispatch({ type: 'move', delta: -1 })
    if (key.downArrow || input === 'j') return this.dispatch({ type: 'move', delta: 1 })
    if (key.pageUp) return this.dispatch({ type: 'move', delta: -s.height })
    if (key.pageDown) return this.dispatch({ type: 'move', delta: s.height })
    if (key.escape) return this.dispatch({ type: 'mode', mode: 'list' })
    if (key.return) return this.openDetail()
    switch (input) {
      case 'q':
        return this.deps.onExit?.()
      case '?':
        return this.dispatch({ type: 'mode', mode: 'help' })
      case '/':
        return this.dispatch({ type: 'mode', mode: 'filter', input: s.filter })
      case 'd':
        if (selectedIds(s).length === 0) return
        return this.dispatch({ type: 'mode', mode: 'drop-reason' })
      case 'x':
        if (selectedIds(s).length === 0) return
        return this.dispatch({
          type: 'mode',
          mode: 'export-path',
          input: join(this.deps.exportDir ?? '.', `quarantine-export-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`),
        })
      case 'r':
        return this.askRetry()
      case 'R':
        return this.askRedrive()
      case 'e':
        return this.editAndRetry()
      case 'l':
        return this.showGroups()
    }
  }

  private async typing(input: string, key: TriageKey): Promise<void> {
    const s = this.state
    if (key.escape) return this.dispatch({ type: 'mode', mode: 'list' })
    if (key.backspace || key.delete) return this.dispatch({ type: 'input', text: s.input.slice(0, -1) })
    if (!key.return) {
      if (input && !key.ctrl) this.dispatch({ type: 'input', text: s.input + input })
      return
    }
    if (s.mode === 'filter') return this.dispatch({ type: 'apply-filter', filter: s.input })
    const ids = selectedIds(s)
    if (s.mode === 'drop-reason') {
      const reason = s.input.trim()
      if (reason === '') return this.dispatch({ type: 'message', text: 'A reason is required to drop records (esc to cancel).', level: 'error' })
      this.dispatch({ type: 'busy', what: `dropping ${ids.length} record(s)…` })
      const result = await dropQuarantined(this.deps.ctx, { filter: { ids }, reason }, this.deps.actor)
      await this.refreshStates()
      this.dispatch({ type: 'busy' })
      this.dispatch({ type: 'mode', mode: 'list' })
      return this.dispatch({
        type: 'message',
        text: `Dropped ${result.dropped} record(s): "${reason}"${result.alreadyHandled ? ` (${result.alreadyHandled} already handled, left as they are)` : ''}.`,
      })
    }
    const path = s.input.trim()
    this.dispatch({ type: 'busy', what: `exporting ${ids.length} record(s)…` })
    const result = await exportQuarantine(this.deps.ctx, { ids }, path)
    this.dispatch({ type: 'busy' })
    this.dispatch({ type: 'mode', mode: 'list' })
    this.dispatch({ type: 'message', text: `Exported ${result.exported} record(s) to ${result.file}.` })
  }

  private async openDetail(): Promise<void> {
    const summary = currentSummary(this.state)
    if (!summary) return
    this.dispatch({ type: 'detail', id: summary.id })
    try {
      const shown = await showQuarantined(this.deps.ctx, summary.id, this.deps.formats ?? {})
      if (this.state.detail?.id === summary.id) this.dispatch({ type: 'detail', id: summary.id, shown })
    } catch (error) {
      this.dispatch({ type: 'detail', id: summary.id, error: messageOf(error) })
    }
  }

  private needSink(): boolean {
    if (this.deps.retry) return false
    this.dispatch({ type: 'message', text: 'Retry needs a sink: start triage with --sink kafka:TOPIC (and --transform FILE for a fix).', level: 'error' })
    return true
  }

  private askRetry(): void {
    const ids = selectedIds(this.state)
    if (ids.length === 0 || this.needSink()) return
    const cluster = this.deps.ctx.gateway ? ` on cluster ${this.deps.ctx.gateway.cluster.id}` : ''
    this.dispatch({
      type: 'confirm',
      confirm: {
        action: 'retry',
        ids,
        text: `Retry ${ids.length} record(s) into ${locationText(this.deps.retry!.sink)}${cluster}${this.deps.retry!.transform ? ` through ${this.deps.retry!.transform.path}` : ''}?`,
      },
    })
  }

  private connected: Promise<KafkaGateway> | undefined

  private async kafkaCtx(): Promise<QuarantineContext> {
    if (this.deps.ctx.gateway) return this.deps.ctx
    if (!this.deps.connect) throw new Error('this action needs Kafka: start triage with --brokers')
    this.connected ??= this.deps.connect()
    return {
      ...this.deps.ctx,
      gateway: await this.connected.catch((error: unknown) => {
        this.connected = undefined
        throw error
      }),
    }
  }

  private async askRedrive(): Promise<void> {
    const ids = selectedIds(this.state)
    if (ids.length === 0) return
    this.dispatch({ type: 'busy', what: 'planning the redrive…' })
    const { result } = await redriveQuarantined(
      await this.kafkaCtx(),
      { ...this.deps.redrive, filter: { ids }, only: new Set(ids), execute: false },
      this.deps.actor,
    )
    this.dispatch({ type: 'busy' })
    const targets = [...new Set(result.targets.map((t) => t.topic))]
    const skipped = Object.values(result.skipped).reduce((a, b) => a + b, 0)
    if (result.toRedrive + result.toPark === 0)
      return this.dispatch({
        type: 'message',
        text: `Nothing to redrive: ${skipped} record(s) skipped (already handled, or no original topic).`,
        level: 'error',
      })
    this.dispatch({
      type: 'confirm',
      confirm: {
        action: 'redrive',
        ids,
        text: `Redrive ${result.toRedrive} record(s) to ${targets.join(', ') || '-'} on cluster ${result.cluster.id}${result.toPark ? `, park ${result.toPark} in ${result.parking}` : ''}${skipped ? ` (${skipped} skipped)` : ''}${result.unknownCluster ? ` (${result.unknownCluster} of unknown cluster)` : ''}?`,
      },
    })
  }

  private async confirmed(): Promise<void> {
    const c = this.state.confirm
    this.dispatch({ type: 'mode', mode: 'list' })
    if (!c) return
    if (c.action === 'redrive') {
      this.dispatch({ type: 'busy', what: `redriving ${c.ids.length} record(s)…` })
      const { result } = await redriveQuarantined(
        await this.kafkaCtx(),
        { ...this.deps.redrive, filter: { ids: c.ids }, only: new Set(c.ids), execute: true },
        this.deps.actor,
      )
      if (result.parked > 0) await this.reloadSummaries()
      else await this.refreshStates()
      this.dispatch({ type: 'busy' })
      return this.dispatch({
        type: 'message',
        text: `Redriven ${result.redriven}, parked ${result.parked}${result.refused ? `, refused ${result.refused}` : ''}.`,
      })
    }
    return this.retry(c.ids)
  }

  private async retry(ids: string[], valueOverrides?: Map<string, Buffer | null>): Promise<void> {
    this.dispatch({ type: 'busy', what: `retrying ${ids.length} record(s)…` })
    const result = await retryQuarantined(
      await this.kafkaCtx(),
      { ...this.deps.retry!, filter: { ids }, ...(valueOverrides ? { valueOverrides } : {}) },
      this.deps.actor,
    )
    // A record that fails again stays where it is (marked failed); only a retry into another
    // spelling of this quarantine adds entries, which the counts must then include.
    if (result.totals.quarantined > result.alreadyQuarantined) await this.reloadSummaries()
    else await this.refreshStates()
    this.dispatch({ type: 'busy' })
    const t = result.totals
    this.dispatch({
      type: 'message',
      // Counts first: on an 80-column terminal the sink's name is what gets cut.
      text: `Retried ${t.read}: ${t.quarantined} failed again, ${t.dropped} dropped by the transform, ${t.written} written to ${result.sink}.`,
      level: t.quarantined > 0 ? 'error' : 'info',
    })
  }

  private async editAndRetry(): Promise<void> {
    const summary = currentSummary(this.state)
    if (!summary || this.needSink()) return
    if (!this.deps.runEditor) return this.dispatch({ type: 'message', text: 'No editor: set $EDITOR.', level: 'error' })
    const [q] = await this.deps.ctx.source.read([parsePositionId(summary.id)!])
    if (!q) return this.dispatch({ type: 'message', text: `${summary.id} is no longer in the quarantine.`, level: 'error' })
    const file = join(mkdtempSync(join(tmpdir(), 'recover-edit-')), `${summary.id.replace('@', '-')}.value`)
    writeFileSync(file, q.record.value ?? Buffer.alloc(0))
    this.deps.runEditor(file)
    const edited = readFileSync(file)
    if (q.record.value !== null && edited.equals(q.record.value)) return this.dispatch({ type: 'message', text: 'Value unchanged: nothing retried.' })
    return this.retry([summary.id], new Map([[summary.id, edited]]))
  }

  private async showGroups(): Promise<void> {
    this.dispatch({ type: 'groups', loading: true })
    try {
      const ctx = await this.kafkaCtx()
      const { groups } = await listGroups(ctx.gateway!)
      this.dispatch({ type: 'groups', loading: false, groups })
    } catch (error) {
      this.dispatch({ type: 'groups', loading: false, error: messageOf(error) })
    }
  }
}

function messageOf(error: unknown): string {
  return (error as RecoveryError).message ?? String(error)
}
