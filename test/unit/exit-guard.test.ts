import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { guardProcessExit, isPluginExitError } from '../../src/plugin-host/exit-guard.js'

test('while a guard is held, process.exit throws PluginExitError and every holder sees the attempt; the last release restores process.exit', () => {
  const original = process.exit
  const first = guardProcessExit()
  const second = guardProcessExit()
  assert.is.not(process.exit, original)
  let thrown: unknown
  try {
    process.exit(0)
  } catch (error) {
    thrown = error
  }
  assert.ok(isPluginExitError(thrown))
  assert.is((thrown as { exitCode: unknown }).exitCode, 0)
  assert.is(first.attempt, thrown)
  assert.is(second.attempt, thrown)
  first.release()
  first.release()
  assert.is.not(process.exit, original, 'still held by the second')
  second.release()
  assert.is(process.exit, original)
})

test('a holder taken after an attempt does not inherit it', () => {
  const a = guardProcessExit()
  try {
    process.exit(3)
  } catch {
    // expected
  }
  const b = guardProcessExit()
  assert.ok(a.attempt)
  assert.is(b.attempt, undefined)
  a.release()
  b.release()
})

test.run()
