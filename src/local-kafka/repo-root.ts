import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { RecoveryError } from '../errors.js'

let cachedRoot: string | undefined

/**
 * The folder holding the package.json named "recover", found by walking up from this
 * module. Works from src/ under tsx, from dist/src/ after a build, and from an installed copy.
 */
export function findRepoRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const manifest = join(dir, 'package.json')
    if (existsSync(manifest) && readPackageName(manifest) === 'recover') {
      cachedRoot = dir
      return dir
    }
    const parent = dirname(dir)
    if (parent === dir) {
      throw new RecoveryError('INTERNAL', `No package.json named "recover" above ${fileURLToPath(import.meta.url)}.`)
    }
    dir = parent
  }
}

function readPackageName(manifest: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(readFileSync(manifest, 'utf8'))
    if (typeof parsed === 'object' && parsed !== null && 'name' in parsed && typeof parsed.name === 'string') return parsed.name
  } catch {
    // An unreadable or broken package.json is not ours; keep walking up.
  }
  return undefined
}
