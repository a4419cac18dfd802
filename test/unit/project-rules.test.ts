import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ERROR_CODES } from '../../src/errors.js'
import { repoRoot } from '../support/paths.js'

const root = repoRoot()

function sources(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) out.push(...sources(path))
    else if (/\.tsx?$/.test(name)) out.push(path)
  }
  return out
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const found: string[] = []
  for (const m of text.matchAll(/(?:import|export)[^'"`]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    found.push((m[1] ?? m[2] ?? m[3])!)
  }
  return found
}

/** Which library may be imported (at runtime) from where: adapters are the only doors. */
const ADAPTER_ONLY: Array<{ library: RegExp; allowed: RegExp }> = [
  { library: /^kafkajs(\/|$)/, allowed: /^src\/(kafka|local-kafka)\// },
  { library: /^@duckdb\//, allowed: /^src\/duckdb\// },
  { library: /^pg(\/|$)/, allowed: /^src\/postgres\// },
  { library: /^(ink|react)(\/|$)/, allowed: /^src\/ui\// },
]

test('heavy libraries are imported only by their adapters (type-only imports excepted)', () => {
  const offenders: string[] = []
  for (const file of [...sources(join(root, 'src')), ...sources(join(root, 'commands'))]) {
    const rel = relative(root, file)
    const text = readFileSync(file, 'utf8')
    for (const spec of importsOf(file)) {
      const rule = ADAPTER_ONLY.find((r) => r.library.test(spec))
      if (!rule || rule.allowed.test(rel)) continue
      const typeOnly = new RegExp(`import\\s+type\\s+[^;]*from\\s+['"]${spec.replace(/[/.]/g, '\\$&')}['"]`).test(text)
      if (!typeOnly) offenders.push(`${rel} imports ${spec}`)
    }
  }
  assert.equal(offenders, [])
})

test('src/core is pure: it imports no I/O modules and no adapters', () => {
  const offenders: string[] = []
  for (const file of sources(join(root, 'src', 'core'))) {
    for (const spec of importsOf(file)) {
      if (/^node:(fs|net|child_process|http|https)/.test(spec) || /\/(kafka|postgres|duckdb|ui|services)\//.test(spec)) offenders.push(`${relative(root, file)} imports ${spec}`)
    }
  }
  assert.equal(offenders, [])
})

test('commands do not import kafkajs or adapters directly: they call services', () => {
  const offenders: string[] = []
  for (const file of sources(join(root, 'commands'))) {
    for (const spec of importsOf(file)) if (/src\/(kafka|postgres|duckdb)\//.test(spec) && !/import\s+type/.test(readFileSync(file, 'utf8'))) offenders.push(`${relative(root, file)} imports ${spec}`)
  }
  assert.equal(offenders, [])
})

test('every error code has an entry in docs/errors.md, and every entry is a code', () => {
  const doc = readFileSync(join(root, 'docs', 'errors.md'), 'utf8')
  const documented = [...doc.matchAll(/^## ([A-Z_]+)$/gm)].map((m) => m[1])
  assert.equal(documented.sort(), Object.keys(ERROR_CODES).sort())
})

test.run()
