/**
 * Cold start of the CLI: `recover --help`, `recover groups --help` and `recover --version`
 * against `node -e 0`, median of several runs each, interleaved so machine noise hits all alike.
 * Also counts the module files each one loads (one extra, untimed run with a loader hook; the
 * build's bundles of oclif count as one file each), the number that start-up time follows most
 * closely. Goal: `recover --help` within 2x `node -e 0`.
 *
 *   node dist/test/bench/startup.bench.js [runs=15]
 */
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { repoRoot } from '../support/paths.js'
import { countModules } from './loaded-modules.js'

const GOAL = 2
const runs = Number(process.argv[2] ?? 15)
const bin = join(repoRoot(), 'bin', 'run.js')
const cases: Array<{ name: string; args: string[] }> = [
  { name: 'node -e 0 (anchor)', args: ['-e', '0'] },
  { name: 'recover --help', args: [bin, '--help'] },
  { name: 'recover groups --help', args: [bin, 'groups', '--help'] },
  { name: 'recover --version', args: [bin, '--version'] },
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
console.log(`startup: median of ${runs} cold runs each, interleaved`)
for (const c of cases) {
  const m = median(samples.get(c.name)!)
  const modules = c === cases[0] ? '' : `   ${String(countModules(c.args)).padStart(4)} module files loaded`
  console.log(`  ${c.name.padEnd(24)} ${m.toFixed(0).padStart(5)} ms   ${(m / anchor).toFixed(2)}x node -e 0${modules}`)
}
const help = median(samples.get('recover --help')!) / anchor
console.log(`  recover --help: ${help.toFixed(2)}x node -e 0 (goal <= ${GOAL}x: ${help <= GOAL ? 'met' : 'missed'})`)
