/**
 * Writes dist/help-snapshot.json from oclif's own Config (run by `npm run build`, after
 * `oclif manifest`, in the package folder): what bin/run.js needs to answer --help and
 * --version without loading oclif's config machinery.
 *
 *   node dist/src/cli/write-help-snapshot.js
 */
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { HELP_SNAPSHOT_FILE } from './help-snapshot.js'
import { takeHelpSnapshot } from './take-help-snapshot.js'

const root = process.cwd()
const file = join(root, HELP_SNAPSHOT_FILE)
const snapshot = await takeHelpSnapshot(root)
if (snapshot === undefined) {
  rmSync(file, { force: true })
  process.stderr.write('No help snapshot (a file it depends on was not found): --help and --version run through oclif.\n')
} else writeFileSync(file, `${JSON.stringify(snapshot)}\n`)
