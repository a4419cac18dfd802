import type { Test } from 'uvu'
import type { AnyLocation } from '../../src/core/location.js'
import { registerSink, type SinkKind } from '../../src/sinks/registry.js'

/**
 * Registers a test's own kind of sink for the run of `suite` only: uvu imports every test file
 * before it runs any, and a kind registered at import would change the sink lists in the
 * messages other files assert.
 */
export function registerSinkWhileRunning<L extends AnyLocation>(suite: Test, kind: SinkKind<L>): void {
  let unregister: () => void = () => undefined
  suite.before(() => {
    unregister = registerSink(kind)
  })
  suite.after(() => unregister())
}
