/**
 * Cold start of the CLI: `recover --help`, `recover groups --help` and `recover --version`
 * against `node -e 0`, median of several runs each, interleaved so machine noise hits all alike.
 * Also counts the modules each one loads (one extra, untimed run with a loader hook), the
 * number that start-up time follows most closely. Goal: `recover --help` within 2x `node -e 0`.
 *
 *   node dist/test/bench/startup.bench.js [runs=15]
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { repoRoot } from '../support/paths.js'

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
  const modules = c === cases[0] ? '' : `   ${String(countModules(c.args)).padStart(4)} modules loaded`
  console.log(`  ${c.name.padEnd(24)} ${m.toFixed(0).padStart(5)} ms   ${(m / anchor).toFixed(2)}x node -e 0${modules}`)
}
const help = median(samples.get('recover --help')!) / anchor
console.log(`  recover --help: ${help.toFixed(2)}x node -e 0 (goal <= ${GOAL}x: ${help <= GOAL ? 'met' : 'missed'})`)

/**
 * Modules a run loads, node: builtins aside: ES modules as the loader hook sees them load
 * (CommonJS ones imported from ES modules among them), plus CommonJS modules in require.cache
 * at exit (those required by CommonJS code do not pass the hook on Node 20).
 */
function countModules(args: string[]): number {
  const dir = mkdtempSync(join(tmpdir(), 'recover-startup-bench-'))
  try {
    const list = join(dir, 'loaded.txt')
    const hooks = join(dir, 'hooks.mjs')
    const preload = join(dir, 'preload.mjs')
    writeFileSync(
      hooks,
      `import { appendFileSync } from 'node:fs'\nexport async function load(url, context, next) {\n  appendFileSync(${JSON.stringify(list)}, url + '\\n')\n  return next(url, context)\n}\n`,
    )
    writeFileSync(
      preload,
      [
        "import { appendFileSync } from 'node:fs'",
        "import { createRequire, register } from 'node:module'",
        "import { pathToFileURL } from 'node:url'",
        `register(${JSON.stringify(pathToFileURL(hooks).href)})`,
        'const require = createRequire(import.meta.url)',
        `process.on('exit', () => appendFileSync(${JSON.stringify(list)}, Object.keys(require.cache).map((f) => pathToFileURL(f).href + '\\n').join('')))`,
      ].join('\n'),
    )
    const result = spawnSync(process.execPath, ['--import', pathToFileURL(preload).href, ...args], { stdio: 'ignore' })
    if (result.status !== 0) throw new Error(`counting modules of ${args.join(' ')}: exited ${result.status}`)
    const loaded = new Set(readFileSync(list, 'utf8').split('\n'))
    for (const url of loaded) if (!url.startsWith('file:') || url.startsWith(pathToFileURL(dir).href)) loaded.delete(url)
    return loaded.size
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
