import type { DemoFigures } from '../demo/demo-figures.js'
import type { DemoStep } from '../demo/demo-steps.js'

/** The header printed before each demo step: its number and title, why, and the command line. */
export function renderDemoStepHeader(step: DemoStep, index: number, total: number, command: string): string {
  return ['', `── Step ${index + 1}/${total}: ${step.title}`, wrap(step.why, '   '), '', `$ ${command}`].join('\n')
}

export interface DemoEnding {
  topic: string
  group: string
  figures: DemoFigures
  sinkDescription: string
  brokers: string
  /** Whether the demo started the broker itself. */
  ownBroker: boolean
  /** Set when the demo leaves its own broker running (--keep). */
  kept?: { pid: number; dataDir: string }
  /** Commands to try next, already formatted. */
  explore: string[]
}

export function renderDemoEnding(e: DemoEnding): string {
  const f = e.figures
  const lines = ['', '── What happened', '']
  lines.push(
    `The fixture incident in ${e.topic}: ${f.seeded.recordsInWindow} records in the bad-deploy window, of which ${f.seeded.badDeployRecords} orders written by release 1.6.0 with amounts ×100, ${f.seeded.poisonPills} poison pills and ${f.seeded.duplicates} duplicates.`,
  )
  if (f.lagBefore !== null) lines.push(`- Group ${e.group} had ${f.lagBefore} records left to read: it had processed the whole window.`)
  if (f.rewound !== null)
    lines.push(
      `- seek moved it back to the window start: it will read ${f.rewound} records again (the window and everything after it) once it runs the fixed release; the undo command is in the seek output.`,
    )
  if (f.replayed)
    lines.push(
      `- replay read ${f.replayed.read} records of the window, wrote ${f.replayed.written} corrected ones and quarantined ${f.replayed.quarantined} it could not decode (dropped by the transform: ${f.replayed.dropped}).`,
    )
  if (f.sink)
    lines.push(
      `- audit compare found ${f.sink.keys} order ids in the sink (${f.sink.rows} ${f.sink.rows === 1 ? 'entry' : 'entries'}); ${f.sink.missing} of the window's order ids are missing from it.`,
    )
  if (f.jsonSchema)
    lines.push(
      `- The JSON orders: replay read ${f.jsonSchema.read}, wrote ${f.jsonSchema.written} and quarantined ${f.jsonSchema.quarantined} that broke the JSON Schema${f.jsonSchema.message ? ` (${f.jsonSchema.kind}: ${f.jsonSchema.message.replace(/\.$/, '')})` : ''}.`,
    )
  if (f.duplicates)
    lines.push(
      `- audit duplicates found ${f.duplicates.keys} order ids more than once (${f.duplicates.identical} identical re-sends, ${f.duplicates.changed} changed) and ${f.duplicates.undecodable} records it could not decode.`,
    )
  lines.push(`- The corrected records: ${e.sinkDescription}.`)
  lines.push('', '── Explore next', '')
  if (e.kept || !e.ownBroker) lines.push(`  export RECOVER_BROKERS=${e.brokers}`)
  for (const command of e.explore) lines.push(`  ${command}`)
  if (e.kept) {
    lines.push('', `Kafka keeps running on ${e.brokers} (pid ${e.kept.pid}, data in ${e.kept.dataDir}).`)
    lines.push(`Stop it with: kill ${e.kept.pid} && rm -rf ${e.kept.dataDir}`)
  } else if (e.ownBroker) {
    lines.push('', 'The demo stopped its broker; run `recover demo --keep` to keep it and try these.')
  }
  return lines.join('\n')
}

function wrap(text: string, indent: string, width = 96): string {
  const out: string[] = []
  let line = ''
  for (const word of text.split(/\s+/)) {
    if (line && line.length + word.length + 1 > width - indent.length) {
      out.push(indent + line)
      line = word
    } else line = line ? `${line} ${word}` : word
  }
  if (line) out.push(indent + line)
  return out.join('\n')
}
