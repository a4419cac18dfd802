import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { repoRoot } from '../support/paths.js'

const root = repoRoot()

test('every recover row of docs/comparison.md names a test file that exists', () => {
  const doc = readFileSync(join(root, 'docs', 'comparison.md'), 'utf8')
  const rows = doc.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| Incident task') && !line.startsWith('|---'))
  assert.ok(rows.length >= 15, `only ${rows.length} rows`)
  for (const row of rows) {
    const cells = row.split(/(?<!\\)\|/).map((c) => c.trim())
    const tested = cells.at(-2) ?? ''
    assert.match(tested, /^test\/(unit|integration|e2e)\/[\w.-]+\.test\.tsx?$/, `row without a test: ${row}`)
    assert.ok(existsSync(join(root, tested)), `${tested} does not exist (row: ${cells[1]})`)
    assert.match(cells[2] ?? '', /recover /, `row without a recover command: ${row}`)
  }
})

test.run()
