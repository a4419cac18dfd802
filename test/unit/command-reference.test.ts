import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { renderCommandReference, type Manifest } from '../../src/docs/command-reference.js'
import { repoRoot } from '../support/paths.js'

const root = repoRoot()

test('docs/commands/README.md is the reference rendered from the current commands (run npm run docs)', () => {
  const manifestPath = join(root, 'oclif.manifest.json')
  assert.ok(existsSync(manifestPath), 'oclif.manifest.json exists after npm run build')
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest
  const expected = renderCommandReference(manifest)
  const actual = readFileSync(join(root, 'docs', 'commands', 'README.md'), 'utf8')
  assert.ok(actual === expected, 'docs/commands/README.md is stale: run `npm run docs` and commit it')
})

test('every command has a summary and at least one example', () => {
  const manifest = JSON.parse(readFileSync(join(root, 'oclif.manifest.json'), 'utf8')) as Manifest
  const missing = Object.values(manifest.commands)
    .filter((c) => !c.hidden && (!c.summary || !c.examples || c.examples.length === 0))
    .map((c) => c.id)
  assert.equal(missing, [])
})

test.run()
