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

test('decoding flags name every format they take: --value-format summaries that list formats list json-schema and protobuf, --schema summaries .proto', () => {
  const manifest = JSON.parse(readFileSync(join(root, 'oclif.manifest.json'), 'utf8')) as Manifest
  const gaps: string[] = []
  for (const c of Object.values(manifest.commands)) {
    const flags = (c.flags ?? {}) as Record<string, { summary?: string; options?: string[] }>
    const valueFormat = flags['value-format']
    if (!valueFormat?.options?.includes('protobuf')) continue
    // A summary that names formats (oclif lists the options anyway) names the newer ones too.
    const summary = (valueFormat.summary ?? '').toLowerCase()
    if (summary.includes('avro'))
      for (const format of [/json[- ]schema/, /protobuf/]) if (!format.test(summary)) gaps.push(`${c.id} --value-format: ${format.source}`)
    if (flags.schema && !flags.schema.summary?.includes('.proto')) gaps.push(`${c.id} --schema: .proto`)
  }
  assert.equal(gaps, [])
})

test.run()
