/**
 * Writes what makes the CLI start fast (run by `npm run build`, after `oclif manifest`, in the
 * package folder): dist/oclif.cjs, oclif bundled into one file for the commands and bin/run.js
 * (src/cli/oclif.ts); and for --help and --version (src/cli/fast-help.ts) dist/oclif-help.cjs,
 * oclif's Help class bundled the same way, and dist/help-snapshot.json, from oclif's own Config.
 *
 *   node dist/src/cli/write-start-up-files.js
 */
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildSync } from 'esbuild'
import { HELP_BUNDLE_FILE, HELP_SNAPSHOT_FILE, OCLIF_BUNDLE_FILE } from './help-snapshot.js'
import { takeHelpSnapshot } from './take-help-snapshot.js'

const root = process.cwd()

/** One CommonJS file holding `contents` and everything it requires from node_modules. */
function bundle(contents: string, file: string): void {
  buildSync({
    stdin: { contents, resolveDir: root, loader: 'js', sourcefile: 'bundle-entry.cjs' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // Only loaded for TypeScript sources in development, never by the built CLI.
    external: ['typescript'],
    outfile: join(root, file),
    legalComments: 'eof',
    logLevel: 'warning',
  })
}

bundle(
  "module.exports = { Command: require('@oclif/core/command').Command, Flags: require('@oclif/core/flags'), Args: require('@oclif/core/args'), execute: require('@oclif/core/execute').execute }",
  OCLIF_BUNDLE_FILE,
)

const snapshot = await takeHelpSnapshot(root)
if (snapshot === undefined) {
  rmSync(join(root, HELP_SNAPSHOT_FILE), { force: true })
  rmSync(join(root, HELP_BUNDLE_FILE), { force: true })
  process.stderr.write('No help snapshot (a file it depends on was not found): --help and --version run through oclif.\n')
} else {
  writeFileSync(join(root, HELP_SNAPSHOT_FILE), `${JSON.stringify(snapshot)}\n`)
  bundle("module.exports = require('@oclif/core/help')", HELP_BUNDLE_FILE)
}
