import type { AnyLocation } from '../../src/core/location.js'
import { registerSink, type SinkKind } from '../../src/sinks/registry.js'

/** The hooks of a test suite (uvu's `test` or a `suite(…)`): not a test file itself, so no uvu import here. */
interface SuiteHooks {
  before(hook: () => void): void
  after(hook: () => void): void
}

/**
 * Registers a test's own kind of sink for the run of `suite` only: uvu imports every test file
 * before it runs any, and a kind registered at import would change the sink lists in the
 * messages other files assert.
 */
export function registerSinkWhileRunning<L extends AnyLocation>(suite: SuiteHooks, kind: SinkKind<L>): void {
  let unregister: () => void = () => undefined
  suite.before(() => {
    unregister = registerSink(kind)
  })
  suite.after(() => unregister())
}
