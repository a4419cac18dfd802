import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import type { Command, Interfaces } from '@oclif/core'

/**
 * What `--help` and `--version` need from oclif's Config, taken from the real Config when the
 * CLI is built (src/cli/write-start-up-files.ts) so that bin/run.js can answer them without
 * loading oclif's config machinery (src/cli/fast-help.ts). The help text itself is still
 * rendered by oclif's own Help class.
 */
export interface HelpSnapshot {
  /** What the snapshot was taken from; a snapshot whose stamp differs from the files now is not used. */
  stamp: string
  pjson: { name: string; version: string; description?: string; helpOptions?: Interfaces.HelpOptions; oclif: Interfaces.PJSON['oclif'] }
  name: string
  version: string
  bin: string
  dirname: string
  topicSeparator: ' ' | ':'
  flexibleTaxonomy: boolean
  isSingleCommandCLI: boolean
  /** Config's command map: ids and aliases to the (cached) command. */
  commands: Array<[string, Command.Cached]>
  topics: Array<[string, Interfaces.Topic]>
  /** Permutation -> canonical id, for ids given in another order (only with flexible taxonomy). */
  commandPermutations: Array<[string, string]>
  topicPermutations: Array<[string, string]>
  plugins: Array<{ name: string; version: string; state?: string; hooks: number; root: boolean }>
}

export const HELP_SNAPSHOT_FILE = join('dist', 'help-snapshot.json')

/**
 * oclif's Help class and what it imports, bundled from node_modules when the snapshot is taken:
 * one file loads in a fraction of the time of its 65 modules. The snapshot's stamp holds the
 * @oclif/core version it was bundled from, so a different oclif is never mixed with it.
 */
export const HELP_BUNDLE_FILE = join('dist', 'oclif-help.cjs')

/** All of oclif that commands use, bundled the same way (src/cli/oclif.ts). */
export const OCLIF_BUNDLE_FILE = join('dist', 'oclif.cjs')

/**
 * The files and versions the help depends on: our package.json and command manifest, and the
 * versions of @oclif/core and of each plugin. Undefined when one of them cannot be found.
 */
export function helpSnapshotStamp(root: string, plugins: Array<{ name: string; root: boolean }>): string | undefined {
  try {
    const require = createRequire(join(root, 'package.json'))
    const hash = createHash('sha256')
    hash.update(readFileSync(join(root, 'package.json')))
    hash.update(readFileSync(join(root, 'oclif.manifest.json')))
    const core = JSON.parse(readFileSync(require.resolve('@oclif/core/package.json'), 'utf8')) as { version: string }
    hash.update(`\n@oclif/core@${core.version}`)
    for (const plugin of plugins) {
      if (plugin.root) continue
      const main = require.resolve(plugin.name)
      const at = main.lastIndexOf(`/node_modules/${plugin.name}/`)
      if (at < 0) return undefined
      const pjson = JSON.parse(readFileSync(join(main.slice(0, at), 'node_modules', plugin.name, 'package.json'), 'utf8')) as { version: string }
      hash.update(`\n${plugin.name}@${pjson.version}`)
    }
    return hash.digest('hex')
  } catch {
    return undefined
  }
}
