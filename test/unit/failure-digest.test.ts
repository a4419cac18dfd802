import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { collectFailures, describeFailures } from '../support/failure-digest.js'

// uvu's own output for two files, one failed assertion and one thrown error (captured from uvu 0.5).
const OUTPUT = [
  '\x1b[1m\x1b[4m\x1b[37ma.test.js\x1b[22m\x1b[24m\x1b[39m',
  '\x1b[90m• \x1b[39m\x1b[31m✘ \x1b[39m\x1b[31m  (1 / 2)',
  '\x1b[39m',
  '  \x1b[1m\x1b[41m FAIL \x1b[22m\x1b[49m \x1b[2m"\x1b[22m\x1b[31m\x1b[1mbad one\x1b[39m\x1b[22m\x1b[2m"\x1b[22m',
  '    one is two\x1b[3m\x1b[2m  (is)\x1b[23m\x1b[22m',
  '',
  '        \x1b[32m++2    \x1b[2m\x1b[3m(Expected)\x1b[22m\x1b[23m\x1b[39m',
  '        \x1b[31m--1    \x1b[2m\x1b[3m(Actual)\x1b[22m\x1b[23m\x1b[39m',
  '        \x1b[90m',
  '    at assert (/x/node_modules/uvu/assert/index.js:33:8)',
  '',
  '\x1b[1m\x1b[4m\x1b[37mok.test.js\x1b[22m\x1b[24m\x1b[39m',
  '\x1b[90m• \x1b[39m\x1b[32m  (1 / 1)',
  '\x1b[1m\x1b[4m\x1b[37mb.test.js\x1b[22m\x1b[24m\x1b[39m',
  '  \x1b[1m\x1b[41m FAIL \x1b[22m\x1b[49m \x1b[2m"\x1b[22m\x1b[31m\x1b[1mthrows\x1b[39m\x1b[22m\x1b[2m"\x1b[22m',
  '    boom',
  '\x1b[90m',
  '    at Object.handler (/tmp/uvt/b.test.js:2:26)',
  '\x1b[1m\x1b[4m\x1b[37mfenced.test.js\x1b[22m\x1b[24m\x1b[39m',
  '[test failure] RecoveryError: Committing a transaction failed',
  '  (0 / 1)',
  '  Total:     4',
].join('\n')

test('each FAIL block is named by its file and test, with the reason before the stack', () => {
  const failures = collectFailures(OUTPUT)
  assert.equal(failures, [
    { file: 'a.test.js', test: 'bad one', reason: ['one is two  (is)', '++2    (Expected)', '--1    (Actual)'] },
    { file: 'b.test.js', test: 'throws', reason: ['boom'] },
    { file: 'fenced.test.js', test: '1 test(s) without a FAIL report', reason: ['see the output above this summary'] },
  ])
  const text = describeFailures('integration', failures)
  assert.ok(text.includes('✘ integration/a.test.js › bad one'))
  assert.ok(text.includes('      boom'))
})

test('a passing run has no failures', () => {
  assert.equal(collectFailures('\x1b[1mok.test.js\x1b[22m\n• •  (2 / 2)\n  Total:     2\n  Passed:    2\n'), [])
})

test.run()
