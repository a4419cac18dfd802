import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

/**
 * Modules a run loads, node: builtins aside: ES modules as the loader hook sees them load
 * (CommonJS ones imported from ES modules among them), plus CommonJS modules in require.cache
 * at exit (those required by CommonJS code do not pass the hook on Node 20).
 */
export function countModules(args: string[], env: NodeJS.ProcessEnv = process.env, okExitCodes: number[] = [0]): number {
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
    const result = spawnSync(process.execPath, ['--import', pathToFileURL(preload).href, ...args], { stdio: 'ignore', env })
    if (!okExitCodes.includes(result.status ?? -1)) throw new Error(`counting modules of ${args.join(' ')}: exited ${result.status}`)
    const loaded = new Set(readFileSync(list, 'utf8').split('\n'))
    for (const url of loaded) if (!url.startsWith('file:') || url.startsWith(pathToFileURL(dir).href)) loaded.delete(url)
    return loaded.size
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
