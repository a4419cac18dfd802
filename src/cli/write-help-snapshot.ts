/**
 * Writes what bin/run.js needs to answer --help and --version without loading oclif's config
 * machinery (run by `npm run build`, after `oclif manifest`, in the package folder):
 * dist/help-snapshot.json, from oclif's own Config, and dist/oclif-help.cjs, oclif's Help class
 * bundled into one file (loading it module by module took longer than rendering the help).
 *
 *   node dist/src/cli/write-help-snapshot.js
 */
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildSync } from 'esbuild'
import { HELP_BUNDLE_FILE, HELP_SNAPSHOT_FILE } from './help-snapshot.js'
import { takeHelpSnapshot } from './take-help-snapshot.js'

const root = process.cwd()
const file = join(root, HELP_SNAPSHOT_FILE)
const bundle = join(root, HELP_BUNDLE_FILE)
const snapshot = await takeHelpSnapshot(root)
if (snapshot === undefined) {
  rmSync(file, { force: true })
  rmSync(bundle, { force: true })
  process.stderr.write('No help snapshot (a file it depends on was not found): --help and --version run through oclif.\n')
} else {
  writeFileSync(file, `${JSON.stringify(snapshot)}\n`)
  buildSync({
    stdin: { contents: "module.exports = require('@oclif/core/help')", resolveDir: root, loader: 'js', sourcefile: 'oclif-help.cjs' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // Only loaded for TypeScript sources in development, never for help.
    external: ['typescript'],
    outfile: bundle,
    legalComments: 'eof',
    logLevel: 'warning',
  })
}
