/**
 * docs/benchmarks.md, written by `npm run bench`: each benchmark's own report (its figures and
 * their ratio to the anchor measured in the same run), with when and where it ran. Running
 * some benchmarks (`npm run bench -- seek`) replaces their sections and keeps the others.
 */

export interface BenchRun {
  /** e.g. "seek.bench.js" */
  file: string
  output: string
  exitCode: number
  ms: number
  /** ISO date-time of the run. */
  at: string
}

export interface BenchMachine {
  cpus: number
  cpuModel: string
  memoryGb: number
  node: string
  kafka: string
  os: string
}

const HEADER = `# Benchmarks

<!-- Written by \`npm run bench\` (test/bench/run-benches.ts); each section is replaced when its benchmark runs again. -->

Every benchmark measures \`recover\` side by side with its anchor in the same run, on the same
machine and broker, and prints the ratio; the figures below are their own reports. The README's
table summarises them. Reproduce with \`npm run bench\` (all; long) or \`npm run bench -- NAME\`
(one, e.g. \`seek\`).
`

export function renderBenchmarksDoc(existing: string | undefined, runs: BenchRun[], machine: BenchMachine): string {
  const sections = new Map(existing === undefined ? [] : parseSections(existing))
  for (const run of runs) sections.set(sectionName(run.file), renderSection(run, machine))
  const ordered = [...sections.keys()].sort()
  return `${HEADER}\n${ordered.map((name) => sections.get(name)!.trimEnd()).join('\n\n')}\n`
}

export function sectionName(file: string): string {
  return file.replace(/\.bench\.(js|ts)$/, '')
}

function renderSection(run: BenchRun, m: BenchMachine): string {
  const status = run.exitCode === 0 ? '' : ` — **failed (exit ${run.exitCode})**`
  return [
    `## ${sectionName(run.file)}`,
    '',
    `${run.at}, ${(run.ms / 1000).toFixed(0)} s${status}. ${m.cpus} × ${m.cpuModel}, ${m.memoryGb} GB, ${m.os}, Node ${m.node}, Kafka ${m.kafka}.`,
    '',
    '```text',
    // Progress lines redraw with \r; keep what a terminal would show last.
    run.output
      .split('\n')
      .map((line) => line.split('\r').at(-1)!.trimEnd())
      .join('\n')
      .trim(),
    '```',
  ].join('\n')
}

function parseSections(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = []
  const parts = text.split(/^(?=## )/m).filter((p) => p.startsWith('## '))
  for (const part of parts) out.push([/^## (\S+)/.exec(part)![1]!, part])
  return out
}
