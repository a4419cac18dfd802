import type { ConnectorDetail, ConnectorList } from '../services/connect-describe.js'
import type { ConnectorSeekPlan, ConnectorSeekResult } from '../services/seek-connector.js'
import { describeOffset, describePartition } from '../core/connect-offsets.js'
import { describeCluster } from '../core/cluster-identity.js'
import { describeMode } from '../core/seek-plan.js'
import { renderTable } from './table.js'
import { formatAge } from './age.js'
import { renderSeekPlan } from './seek.js'
import { PLAIN_WIDTH, widestLine, wrapBlock, wrapWords } from './fit-width.js'

export function renderConnectorList(list: ConnectorList): string {
  const head = `Kafka Connect ${list.version} at ${list.connectUrl}, on Kafka cluster ${list.kafkaClusterId}.`
  if (list.connectors.length === 0) return `${head}\nNo connectors.`
  return `${head}\n\n${renderTable(
    [
      { header: 'CONNECTOR' },
      { header: 'TYPE' },
      { header: 'STATE' },
      { header: 'TASKS', align: 'right' },
      { header: 'FAILED', align: 'right' },
      { header: 'WORKER' },
    ],
    list.connectors.map((c) => [c.name, c.type, c.state, `${c.tasks.running}/${c.tasks.total} running`, c.tasks.failed, c.workerId]),
  )}`
}

/**
 * `recover connect describe`, laid out for 80 columns: the name and state first, prose wrapped,
 * tables that would be wider split per topic, long words (URLs, maps) folded rather than cut.
 */
export function renderConnectorDetail(d: ConnectorDetail): string {
  const lines = [
    `Connector ${d.name}: ${d.state} (${d.type}).`,
    `Class ${d.connectorClass}.`,
    `On worker ${d.workerId}, through Kafka Connect at ${d.connectUrl}.`,
  ]
  if (d.trace) lines.push('', 'Connector failure:', indent(d.trace))
  lines.push(
    '',
    renderTable(
      [{ header: 'TASK', align: 'right' }, { header: 'STATE' }, { header: 'WORKER' }],
      d.tasks.map((t) => [t.id, t.state, t.workerId]),
    ),
  )
  if (d.tasks.length === 0) lines.push('(no tasks)')
  for (const t of d.tasks.filter((x) => x.trace)) lines.push('', `Task ${t.id} failed:`, indent(t.trace!))
  lines.push('')
  if (d.type === 'sink') {
    lines.push(`Reads: ${d.topics.join(', ') || (d.topicsRegex ? `topics matching ${d.topicsRegex}` : '-')}. Consumer group: ${d.consumerGroup}.`)
    if (d.lag) {
      lines.push(`Lag: ${d.lag.records} record${d.lag.records === 1n ? '' : 's'}; oldest unread record ${formatAge(d.lag.maxLagMs)} old.`, '')
      lines.push(renderLag(d.lag.partitions))
    } else lines.push('Lag: unknown (the consumer group has no committed offsets yet).')
  } else if (d.topics.length > 0) lines.push(`Writes: ${d.topics.join(', ')}.`)
  lines.push('', `Errors: errors.tolerance=${d.errors.tolerance}; dead-letter topic: ${d.errors.deadLetterTopic ?? 'none'}.`)
  if (d.errors.deadLetters) {
    const dl = d.errors.deadLetters
    lines.push(`Dead letters: ${dl.total}${dl.total > 0 ? ` (recover quarantine list --dlq kafka:${d.errors.deadLetterTopic})` : ''}.`)
    if (dl.byError.length > 0)
      lines.push(
        renderTable(
          [{ header: 'COUNT', align: 'right' }, { header: 'STAGE' }, { header: 'ERROR' }],
          dl.byError.map((e) => [e.count, e.stage, e.errorClass]),
        ),
      )
  } else if (d.errors.deadLettersUnreadable) lines.push(`Dead letters: not counted (${d.errors.deadLettersUnreadable}).`)
  if (d.type !== 'sink') {
    lines.push('')
    if (d.offsets === null) lines.push(`Offsets: unavailable (${d.offsetsUnavailable ?? 'unknown'}).`)
    else if (d.offsets.length === 0) lines.push('Offsets: none yet.')
    else {
      lines.push('Offsets (export with --export FILE, edit, then recover seek --connector NAME --from-file FILE):')
      const table = renderTable(
        [{ header: 'PARTITION' }, { header: 'OFFSET' }],
        d.offsets.map((o) => [describePartition(o.partition), describeOffset(o.offset)]),
      )
      // Partition maps are often file paths or table names: one per line when side by side is too wide.
      lines.push(
        widestLine(table) <= PLAIN_WIDTH
          ? table
          : d.offsets.map((o) => `- partition ${describePartition(o.partition)}\n  offset ${describeOffset(o.offset)}`).join('\n'),
      )
    }
  }
  return wrapBlock(lines.join('\n'))
}

/** One table of every topic's partitions, or, when the topic names make it too wide, one per topic under its name. */
function renderLag(partitions: NonNullable<ConnectorDetail['lag']>['partitions']): string {
  const whole = renderTable(
    [
      { header: 'TOPIC' },
      { header: 'PARTITION', align: 'right' },
      { header: 'COMMITTED', align: 'right' },
      { header: 'LOG-END', align: 'right' },
      { header: 'LAG', align: 'right' },
      { header: 'LAG-TIME', align: 'right' },
    ],
    partitions.map((p) => [p.topic, p.partition, p.committedOffset, p.logEndOffset, p.lag, formatAge(p.lagMs)]),
  )
  if (widestLine(whole) <= PLAIN_WIDTH) return whole
  const topics = [...new Set(partitions.map((p) => p.topic))]
  return topics
    .map(
      (topic) =>
        `Topic ${topic}:\n${renderTable(
          [
            { header: 'PART', align: 'right' },
            { header: 'COMMITTED', align: 'right' },
            { header: 'LOG-END', align: 'right' },
            { header: 'LAG', align: 'right' },
            { header: 'LAG-TIME', align: 'right' },
          ],
          partitions.filter((p) => p.topic === topic).map((p) => [p.partition, p.committedOffset, p.logEndOffset, p.lag, formatAge(p.lagMs)]),
        )}`,
    )
    .join('\n\n')
}

export function renderConnectorSeekPlan(p: ConnectorSeekPlan, options: { execute: boolean }): string {
  const c = p.connector
  const lines = [...wrapWords(`Connector ${c.name} (${c.type}, ${c.state}) at ${c.connectUrl}${c.group ? `, consumer group ${c.group}` : ''}.`)]
  if (p.plan) lines.push(renderSeekPlan(p.plan, { execute: options.execute, connector: c.name }))
  else {
    lines.push(
      `Seek connector ${c.name} ${describeMode(p.mode)}${options.execute ? '' : ' (dry run: nothing changes)'}.`,
      `On ${describeCluster(p.cluster)}.`,
      '',
    )
    lines.push(
      renderTable(
        [{ header: 'PARTITION' }, { header: 'CURRENT' }, { header: 'NEW' }],
        (p.sourceRows ?? []).map((r) => [describePartition(r.partition), describeOffset(r.current), r.next === null ? '(removed)' : describeOffset(r.next)]),
      ),
    )
  }
  if (p.undoSnapshot) lines.push(...wrapWords(`Restoring from ${p.undoSnapshot}.`))
  for (const w of p.warnings.filter((x) => !p.plan?.warnings.includes(x))) lines.push(...wrapWords(`Note: ${w}`, PLAIN_WIDTH, '  '))
  if (c.state !== 'STOPPED')
    lines.push(
      ...wrapWords(
        `--execute stops the connector (it is ${c.state}), sets these offsets through Connect, reads them back, and resumes it (unless --no-resume).`,
      ),
    )
  return lines.join('\n')
}

export function renderConnectorSeekResult(r: ConnectorSeekResult): string {
  const t = r.timings
  const resumed = r.resumed ? `resumed, now ${r.state}` : 'left STOPPED (--no-resume)'
  const lines = r.notes.map((n) => `Note: ${n}`)
  if (r.alreadySet)
    lines.push(
      `Connector ${r.connector}: its offsets already read as planned, so this run changed no offset and wrote no journal snapshot; ${resumed}. (If an earlier run set them and lost Connect's answer, the undo command it printed still restores the offsets from before it.)`,
    )
  else
    lines.push(
      `Connector ${r.connector}: offsets set and read back; ${resumed}. Stop ${seconds(t.stopMs)}, patch and check ${seconds(t.patchMs)}, resume ${seconds(t.resumeMs)}: ${seconds(t.totalMs)} in all. Previous offsets saved in ${r.journal}.`,
    )
  return lines.join('\n')
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`
}

function indent(text: string): string {
  const lines = text.trimEnd().split('\n')
  const shown = lines.length > 12 ? [...lines.slice(0, 12), `… (${lines.length - 12} more lines; --json has the whole trace)`] : lines
  return shown.map((l) => `  ${l}`).join('\n')
}
