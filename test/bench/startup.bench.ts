/**
 * Cold start of the CLI: `recover --help` and `recover groups --help` against `node -e 0`,
 * median of several runs each, interleaved so machine noise hits all three alike.
 *
 *   node dist/test/bench/startup.bench.js [runs=15]
 */
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { repoRoot } from '../support/paths.js'

const runs = Number(process.argv[2] ?? 15)
const bin = join(repoRoot(), 'bin', 'run.js')
const cases: Array<{ name: string; args: string[] }> = [
  { name: 'node -e 0 (anchor)', args: ['-e', '0'] },
  { name: 'recover --help', args: [bin, '--help'] },
  { name: 'recover groups --help', args: [bin, 'groups', '--help'] },
]

const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]))
for (let i = 0; i < runs; i++) {
  for (const c of cases) {
    const started = performance.now()
    const result = spawnSync(process.execPath, c.args, { stdio: 'ignore' })
    if (result.status !== 0) throw new Error(`${c.name} exited ${result.status}`)
    samples.get(c.name)!.push(performance.now() - started)
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}
const anchor = median(samples.get(cases[0]!.name)!)
console.log(`startup: median of ${runs} cold runs each`)
for (const c of cases) {
  const m = median(samples.get(c.name)!)
  console.log(`  ${c.name.padEnd(24)} ${m.toFixed(0).padStart(5)} ms   ${(m / anchor).toFixed(2)}x node -e 0`)
}
