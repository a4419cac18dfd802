import fc from 'fast-check'
import { ux } from '@oclif/core'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { jsonSafe } from '../../src/cli/base-command.js'

// BaseCommand.logJson prints JSON.stringify(json, null, 2) itself when no JSON colour theme is
// set; oclif's logJson prints its colorizeJson of the same value: they must be the same text.

test('--json output is the text oclif printed: any JSON-safe result, pretty-printed with two spaces', () => {
  fc.assert(
    fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (result) => {
      const json = jsonSafe(result)
      assert.is(JSON.stringify(json, null, 2), ux.colorizeJson(json as object, { pretty: true }))
    }),
    { numRuns: 500 },
  )
})

test('offsets, buffers and dates print as oclif printed them once made JSON-safe', () => {
  const json = jsonSafe({ offset: 12n, key: Buffer.from('k'), at: new Date(0), rows: [{ a: null, b: undefined, c: 'é"\\\n' }], n: -1.5e-7 })
  assert.is(JSON.stringify(json, null, 2), ux.colorizeJson(json as object, { pretty: true }))
})

test.run()
