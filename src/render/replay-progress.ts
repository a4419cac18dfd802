import type { PartitionProgress, ProgressState } from '../core/replay-progress.js'
import type { ReplayProgressEvent } from '../services/replay-events.js'
import { count, progressFigures } from './progress-figures.js'

/**
 * One plain progress line for stderr off a terminal (cron, CI, pipes): the figures of the live
 * view, and under --scale-out where each partition of this process is, e.g.
 * `replay: 12,100 read, …, 8,000 rec/s, 45.0%, ETA 3s; partition 0 45.0% (11,700 read), partition 3 done (100 read)`.
 */
export function renderProgressLine(state: ProgressState): string {
  const f = progressFigures(state)
  if (state.follow)
    return `replay --follow: ${f.read} read, ${f.written} written, ${f.dropped} dropped, ${f.quarantined} quarantined, ${f.mb} MB, ${f.rate} rec/s, ${f.lag}`
  const line = `replay: ${f.read} read, ${f.written} written, ${f.dropped} dropped, ${f.quarantined} quarantined, ${f.mb} MB, ${f.rate} rec/s, ${f.percent}, ${f.eta}`
  if (!state.scaleOut) return line
  return `${line}; ${state.partitions.map(partitionFigure).join(', ') || 'no partition yet'}`
}

function partitionFigure(p: PartitionProgress): string {
  const size = p.end - p.start
  const percent = size > 0n ? Number(((p.next - p.start) * 1000n) / size) / 10 : 100
  return `partition ${p.partition} ${p.next >= p.end ? 'done' : `${percent.toFixed(1)}%`} (${count(p.read)} read)`
}

/** What people read about an event as it happens (the figures are printed apart, every interval). */
export function renderReplayEventLines(event: ReplayProgressEvent, state: ProgressState): string[] {
  const scope = 'partition' in event && event.partition !== undefined ? `Partition ${event.partition}: ` : ''
  switch (event.type) {
    case 'start': {
      if (scope) return event.partitions.map((p) => `${scope}replaying [${p.start}, ${p.end}) from ${p.next}.`)
      if (state.follow && !event.dryRun) {
        const what = event.resumed ? 'Continuing to follow' : 'Following'
        // Where it starts, while that fits on a line.
        const from = event.partitions.length <= 4 ? `, from ${event.partitions.map((p) => `${p.partition}@${p.next}`).join(', ')}` : ''
        return [
          `${what} ${event.topic} (${plural(event.partitions.length, 'partition')}${from}) into ${event.sink}, quarantine ${event.quarantine}.`,
          'Stop with SIGTERM or Ctrl-C: the batch in flight is finished and checkpointed.',
        ]
      }
      const total = event.partitions.reduce((n, p) => n + (p.end - p.next), 0n)
      const what = event.dryRun ? 'Dry run of' : event.resumed ? 'Resuming replay of' : 'Replaying'
      const where = event.dryRun ? '' : ` into ${event.sink}, quarantine ${event.quarantine}`
      const from = event.source ? ` from ${event.source}` : ''
      const lines = [`${what} ${event.topic}${from} (${plural(event.partitions.length, 'partition')}, up to ${total} records)${where}.`]
      const resent = event.resent === 1 ? '1 record was' : `${event.resent} records were`
      if (event.resumed && event.resent > 0) lines.push(`${resent} written after the last checkpoint by the interrupted run; they are sent again.`)
      return lines
    }
    case 'warning':
      return [`${scope}Warning: ${event.message}`]
    case 'waiting':
      return [`${scope}${renderWaitingLine(event)}`]
    case 'reconnected':
      return [`${scope}${renderReconnectedLine(event)}`]
    case 'scale-out-joining':
      return [`Joining recover's replay group ${event.group} to replay a share of ${event.topic}…`]
    case 'scale-out-assigned': {
      const which = `${event.partitions.length === 1 ? 'partition' : 'partitions'} ${event.partitions.join(', ') || '(none)'}`
      return [`Group ${state.scaleOut?.group ?? '(unknown)'} assigned ${which} to this process.`]
    }
    case 'partition-stop': {
      const how = event.finished ? 'done' : event.fenced ? "taken over by another member (it fenced this one's writes)" : 'handed over'
      return [`Partition ${event.partition}: ${how} (${event.read} read).`]
    }
    default:
      return []
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}

const clock = (ms: number) => new Date(ms).toISOString().slice(11, 19)

/** Kafka (or the sink) stopped answering: said plainly, with how long the replay will wait. */
export function renderWaitingLine(e: { reason: string; sinceMs: number; giveUpAtMs: number | null }): string {
  if (e.giveUpAtMs === null) return `Waiting since ${clock(e.sinceMs)} UTC: ${e.reason}.`
  return `Waiting for Kafka since ${clock(e.sinceMs)} UTC, until ${clock(e.giveUpAtMs)} UTC (--broker-wait), then continuing from the last checkpoint: ${e.reason.replace(/[.]\s*$/, '')}.`
}

export function renderReconnectedLine(e: { waitedMs: number; resent: number }): string {
  const resent = e.resent > 0 ? `; ${e.resent} record${e.resent === 1 ? '' : 's'} written after the last checkpoint will be sent again` : ''
  return `Kafka answers again after ${(e.waitedMs / 1000).toFixed(1)} s; continuing${resent}.`
}
