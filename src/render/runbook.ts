import type { Runbook, RunbookStep } from '../core/runbook.js'
import type { RunbookRunResult } from '../runbooks/run-runbook.js'

export function renderRunbookList(runbooks: Array<{ name: string; title: string; summary: string }>): string {
  const width = Math.max(...runbooks.map((r) => r.name.length), 4)
  const lines = runbooks.map((r) => `${r.name.padEnd(width)}  ${r.title}`)
  lines.push('', 'Read one: recover runbook show NAME. Run it: recover runbook run NAME --var KEY=VALUE … (--dry-run first).')
  return lines.join('\n')
}

export function renderRunbook(runbook: Runbook): string {
  const lines = [runbook.title, '', runbook.summary, '', 'Variables (--var NAME=VALUE):']
  const width = Math.max(...runbook.variables.map((v) => v.name.length), 4)
  for (const v of runbook.variables) lines.push(`  ${v.name.padEnd(width)}  ${v.description}${v.default === undefined ? '' : ` (default: ${v.default})`}`)
  let section = ''
  lines.push('', 'Steps:')
  for (const step of runbook.steps) {
    if (step.section !== section) {
      section = step.section
      lines.push(`  ${section}`)
    }
    lines.push(`    ${step.number}. ${step.title}${markers(step)}`)
    lines.push(`       ${step.words.join(' ')}`)
  }
  return lines.join('\n')
}

function markers(step: RunbookStep): string {
  const m = [step.destructive ? 'destructive: asks first' : '', step.rollback ? 'rollback: only with --rollback' : ''].filter(Boolean)
  return m.length > 0 ? ` [${m.join('; ')}]` : ''
}

export function renderRunbookStepHeader(step: RunbookStep, index: number, total: number, command: string): string {
  return [
    '',
    `── ${index + 1}/${total} · step ${step.number} · ${step.section}: ${step.title}${step.destructive ? ' (destructive)' : ''}`,
    `$ ${command}`,
  ].join('\n')
}

export function renderRunbookPlan(result: RunbookRunResult): string {
  const lines = [`Runbook ${result.runbook}${result.rollback ? ' (rollback steps)' : ''}, dry run: these commands would run, in order. Nothing ran.`, '']
  for (const s of result.steps) lines.push(`  ${s.number}. ${s.section}: ${s.title}${s.destructive ? ' (destructive: asks first)' : ''}`, `     ${s.command}`)
  return lines.join('\n')
}

export function renderRunbookEnding(result: RunbookRunResult): string {
  const ran = result.steps.filter((s) => s.status === 'ran').length
  const lines = ['']
  if (result.stopped) lines.push(`Stopped: you answered no at step ${result.steps.at(-1)?.number}. ${ran} step(s) ran.`)
  else lines.push(`Runbook ${result.runbook}${result.rollback ? ' (rollback)' : ''}: all ${ran} step(s) ran and succeeded.`)
  if (result.log) lines.push(`Logged in ${result.log}.`)
  return lines.join('\n')
}
