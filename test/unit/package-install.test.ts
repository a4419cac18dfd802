import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { PACKAGE_NAME, findRepoRoot, isInstalledCopy, recoverCacheDir } from '../../src/local-kafka/repo-root.js'
import { repoRoot } from '../support/paths.js'

test('the npm package is kafka-recover (recover on npm is another package) and its command is still recover', () => {
  const pkg = JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as { name: string; bin: Record<string, string>; oclif: { bin: string } }
  assert.is(pkg.name, PACKAGE_NAME)
  assert.equal(Object.keys(pkg.bin), ['recover'])
  assert.is(pkg.oclif.bin, 'recover')
  assert.is(findRepoRoot(), repoRoot())
})

test('a clone caches downloads in its own .cache folder', () => {
  assert.is(recoverCacheDir('/home/me/src/recover', {}), '/home/me/src/recover/.cache')
  assert.not.ok(isInstalledCopy('/home/me/src/recover'))
})

test('an installed copy caches in XDG_CACHE_HOME or ~/.cache, never in its own (maybe read-only) folder', () => {
  const installed = '/usr/lib/node_modules/kafka-recover'
  assert.ok(isInstalledCopy(installed))
  assert.is(recoverCacheDir(installed, {}), join(homedir(), '.cache', 'recover'))
  assert.is(recoverCacheDir(installed, { XDG_CACHE_HOME: '/var/cache/me' }), '/var/cache/me/recover')
})

test('the tsx loader for TypeScript plugins is a runtime dependency, not a dev one', () => {
  const pkg = JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as { dependencies: Record<string, string> }
  assert.ok(pkg.dependencies.tsx, 'tsx must be in dependencies: an installed recover loads .ts plugins with it')
})

test.run()
