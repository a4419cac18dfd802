import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { whileLeadersMove } from '../../src/kafka/leader-retry.js'

const kafkaError = (type: string) => Object.assign(new Error(type), { type })

async function failure(work: () => Promise<unknown>): Promise<Error> {
  try {
    await work()
  } catch (error) {
    return error as Error
  }
  throw new Error('expected a failure')
}

test('a moving leader is asked again after a metadata refresh; other errors are not retried', async () => {
  let refreshed = 0
  const cluster = { refreshMetadata: async () => void refreshed++ }
  let calls = 0
  const value = await whileLeadersMove(cluster, async () => {
    if (++calls < 3) throw kafkaError('NOT_LEADER_FOR_PARTITION')
    return 'offsets'
  })
  assert.is(value, 'offsets')
  assert.is(calls, 3)
  assert.is(refreshed, 2)

  let other = 0
  assert.match(
    (
      await failure(() =>
        whileLeadersMove(cluster, async () => {
          other++
          throw kafkaError('TOPIC_AUTHORIZATION_FAILED')
        }),
      )
    ).message,
    /TOPIC_AUTHORIZATION_FAILED/,
  )
  assert.is(other, 1)

  let always = 0
  assert.match(
    (
      await failure(() =>
        whileLeadersMove(
          cluster,
          async () => {
            always++
            throw kafkaError('LEADER_NOT_AVAILABLE')
          },
          3,
        ),
      )
    ).message,
    /LEADER_NOT_AVAILABLE/,
  )
  assert.is(always, 3)
})

test.run()
