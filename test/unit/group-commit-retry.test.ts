import { createRequire } from 'node:module'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import kafkajs from 'kafkajs'
import { afterRefusedCommit, COORDINATOR_MOVE_WAIT_MS } from '../../src/kafka/group-member.js'
import { translateKafkaError } from '../../src/kafka/translate-error.js'

// The errors kafkajs makes from a broker's error code: what a commit to a dying coordinator gets.
const { createErrorFromCode } = createRequire(import.meta.url)('kafkajs/src/protocol/error') as { createErrorFromCode: (code: number) => Error }
type Settings = Parameters<typeof translateKafkaError>[1]
const cluster = { brokers: ['10.0.0.1:9092', '10.0.0.2:9092', '10.0.0.3:9092'], source: '--brokers' } as unknown as Settings
const refusedCommit = (error: unknown) => translateKafkaError(error, cluster, 'committing offsets for group replay-g', { groupCommit: true })
const now = 1_000_000
const deadline = now + COORDINATOR_MOVE_WAIT_MS

const NOT_COORDINATOR_FOR_GROUP = 16
const GROUP_LOAD_IN_PROGRESS = 14
const GROUP_COORDINATOR_NOT_AVAILABLE = 15
const ILLEGAL_GENERATION = 22
const UNKNOWN_MEMBER_ID = 25
const REBALANCE_IN_PROGRESS = 27
const TOPIC_AUTHORIZATION_FAILED = 29
const OFFSET_METADATA_TOO_LARGE = 12

test('a commit refused with NOT_COORDINATOR_FOR_GROUP (the coordinator broker was killed) is asked again, not the end of the replay', () => {
  assert.is(afterRefusedCommit(refusedCommit(createErrorFromCode(NOT_COORDINATOR_FOR_GROUP)), now, deadline), 'ask-again')
})

test('so is a coordinator that is not available yet or still loading the group, also when kafkajs wraps it after its own retries', () => {
  for (const code of [GROUP_LOAD_IN_PROGRESS, GROUP_COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR_FOR_GROUP]) {
    const broker = createErrorFromCode(code)
    assert.is(afterRefusedCommit(refusedCommit(broker), now, deadline), 'ask-again', broker.message)
    const wrapped = new kafkajs.KafkaJSNumberOfRetriesExceeded(broker, { retryCount: 5, retryTime: 3000 } as never)
    assert.is(afterRefusedCommit(refusedCommit(wrapped), now, deadline), 'ask-again', `wrapped: ${broker.message}`)
  }
})

test('a coordinator that has not come back within the wait ends the replay with the refusal', () => {
  const refusal = refusedCommit(createErrorFromCode(NOT_COORDINATOR_FOR_GROUP))
  assert.is(afterRefusedCommit(refusal, deadline - 1, deadline), 'ask-again')
  assert.is(afterRefusedCommit(refusal, deadline, deadline), 'give-up')
  assert.match(refusal.message, /NOT_COORDINATOR_FOR_GROUP while committing offsets for group replay-g/)
})

test('a refusal because the group rebalanced past this member is fencing, never asked again: the partitions may be another member now', () => {
  for (const code of [ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, REBALANCE_IN_PROGRESS]) {
    const broker = createErrorFromCode(code)
    assert.is(afterRefusedCommit(refusedCommit(broker), now, deadline), 'fenced', broker.message)
  }
})

test('any other refusal ends the replay at once, however much of the wait is left', () => {
  for (const code of [TOPIC_AUTHORIZATION_FAILED, OFFSET_METADATA_TOO_LARGE]) {
    const broker = createErrorFromCode(code)
    assert.is(afterRefusedCommit(refusedCommit(broker), now, deadline), 'give-up', broker.message)
  }
  assert.is(afterRefusedCommit(refusedCommit(new Error('socket hang up')), now, deadline), 'give-up')
})

test.run()
