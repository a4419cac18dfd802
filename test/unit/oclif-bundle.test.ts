import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { OCLIF_BUNDLE_FILE } from '../../src/cli/help-snapshot.js'
import { Command, Flags, loadOclif } from '../../src/cli/oclif.js'
import { repoRoot } from '../support/paths.js'

// Commands run on the build's bundle of oclif (dist/oclif.cjs); a second copy of oclif in the
// same process would have its own Command class, errors and config cache.

test('the build bundles oclif, and commands extend the Command class of the bundle', async () => {
  assert.ok(existsSync(join(repoRoot(), OCLIF_BUNDLE_FILE)), `${OCLIF_BUNDLE_FILE} is missing: run npm run build`)
  const bundled = loadOclif()
  assert.is(Command, bundled.Command)
  assert.is(Flags, bundled.Flags)
  const { default: Seek } = (await import('../../commands/seek.js')) as { default: { prototype: object } }
  assert.ok(Seek.prototype instanceof bundled.Command)
})

test.run()
