import type { FaultScenario, ScenarioResult } from './fault-support.js'

/** The suite's closing table: scenarios, faults injected, records in, out, lost, duplicated. */
export function renderFaultTable(rows: Array<{ scenario: FaultScenario; result?: ScenarioResult; error?: string }>): string {
  const header = ['scenario', 'faults injected', 'records in', 'records out', 'lost', 'duplicated', 'result']
  const body = rows.map(({ scenario, result, error }) => [
    `${scenario.id}: ${scenario.title}`,
    result ? String(result.faults) : '-',
    result ? String(result.recordsIn) : '-',
    result ? String(result.recordsOut) : '-',
    result ? String(result.lost) : '-',
    result ? String(result.duplicated) : '-',
    error ? `FAILED: ${error.split('\n')[0]!.slice(0, 80)}` : result?.skipped ? `skipped: ${result.skipped}` : 'ok',
  ])
  const total = rows
    .filter((r) => r.result)
    .reduce(
      (t, { result }) => ({
        faults: t.faults + result!.faults,
        in: t.in + result!.recordsIn,
        out: t.out + result!.recordsOut,
        lost: t.lost + result!.lost,
        dup: t.dup + result!.duplicated,
      }),
      { faults: 0, in: 0, out: 0, lost: 0, dup: 0 },
    )
  body.push([
    `${rows.length} scenarios`,
    String(total.faults),
    String(total.in),
    String(total.out),
    String(total.lost),
    String(total.dup),
    rows.every((r) => !r.error) ? 'all ok' : `${rows.filter((r) => r.error).length} failed`,
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)))
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`
  return [
    line(header),
    `|${widths.map((w, i) => (i === 0 || i === widths.length - 1 ? `-${'-'.repeat(w)}-` : `-${'-'.repeat(w)}:`)).join('|')}|`,
    ...body.map(line),
  ].join('\n')
}
