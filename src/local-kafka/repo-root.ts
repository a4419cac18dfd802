import { existsSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

import { RecoveryError } from '../errors.js'

/** The npm package name (`recover` on npm is an unrelated package); the command stays `recover`. */
export const PACKAGE_NAME = 'kafka-recover'

let cachedRoot: string | undefined

/**
 * The folder holding recover's package.json, found by walking up from this module. Works from
 * src/ under tsx, from dist/src/ after a build, and from an installed copy.
 */
export function findRepoRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const manifest = join(dir, 'package.json')
    if (existsSync(manifest) && readPackageName(manifest) === PACKAGE_NAME) {
      cachedRoot = dir
      return dir
    }
    const parent = dirname(dir)
    if (parent === dir) {
      throw new RecoveryError('INTERNAL', `No package.json named "${PACKAGE_NAME}" above ${fileURLToPath(import.meta.url)}.`)
    }
    dir = parent
  }
}

/**
 * Where downloads (the local broker's Kafka jars) are cached. A source checkout keeps them in its
 * own ignored `.cache/`; an installed copy lives under node_modules, which may be read-only and is
 * replaced on every upgrade, so it uses the user's cache folder instead (XDG_CACHE_HOME, else
 * ~/.cache), under `recover/`.
 */
export function recoverCacheDir(root: string = findRepoRoot(), env: NodeJS.ProcessEnv = process.env): string {
  if (!isInstalledCopy(root)) return join(root, '.cache')
  const xdg = env.XDG_CACHE_HOME?.trim()
  return join(xdg ? xdg : join(homedir(), '.cache'), 'recover')
}

/** True for a copy npm installed (a dependency or `npm install -g`), false for a clone. */
export function isInstalledCopy(root: string): boolean {
  return root.split(sep).includes('node_modules')
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
