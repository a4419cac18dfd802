import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { repoRoot } from '../support/paths.js'

const root = repoRoot()

test('the code is formatted and passes the linter (biome check; fix with npm run format)', () => {
  const biome = join(root, 'node_modules', '@biomejs', 'biome', 'bin', 'biome')
  const run = spawnSync(process.execPath, [biome, 'check', '--error-on-warnings', '--colors=off', '--max-diagnostics=20', root], {
    cwd: root,
    encoding: 'utf8',
  })
  assert.is(run.status, 0, `${run.stdout}\n${run.stderr}`)
})

test.run()
