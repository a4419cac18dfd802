import { runInThisContext } from 'node:vm'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { installNegativeTimeoutFilter } from '../../src/kafka/negative-timeout-warning.js'

test("kafkajs's negative-timeout warning is dropped (Node 23+ prints it before recover's error); others pass, from kafkajs too", async () => {
  installNegativeTimeoutFilter()
  const seen: string[] = []
  const listener = (w: Error) => seen.push(`${w.name}: ${w.message}`)
  process.on('warning', listener)
  // A function whose frames carry a kafkajs path, as kafkajs's request queue does.
  const fromKafkajs = runInThisContext(
    '(type, message) => process.emitWarning(message, type)\n//# sourceURL=/app/node_modules/kafkajs/src/network/requestQueue/index.js',
  ) as (type: string, message: string) => void
  fromKafkajs('TimeoutNegativeWarning', '-1796627954588 is a negative number.')
  fromKafkajs('DeprecationWarning', 'kept')
  process.emitWarning('-5 is a negative number.', 'TimeoutNegativeWarning')
  await new Promise((resolve) => setImmediate(resolve))
  process.off('warning', listener)
  assert.equal(seen, ['DeprecationWarning: kept', 'TimeoutNegativeWarning: -5 is a negative number.'])
})

test.run()
