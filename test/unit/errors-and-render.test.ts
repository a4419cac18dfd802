import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { RecoveryError, ERROR_CODES, EXIT_CODES, isFencedError, isRetriableError } from '../../src/errors.js'
import { toRecoveryError } from '../../src/cli/to-recovery-error.js'
import { jsonSafe, renderFailure } from '../../src/cli/base-command.js'
import { previewBytes } from '../../src/codecs/preview.js'
import { renderTable } from '../../src/render/table.js'
import { formatAge } from '../../src/render/age.js'
import { isMissing } from '../../src/services/describe-group.js'
import { isProducerFenced, translateKafkaError } from '../../src/kafka/translate-error.js'

test('every error code maps to one of the documented exit codes', () => {
  for (const [code, category] of Object.entries(ERROR_CODES)) {
    const error = new RecoveryError(code as keyof typeof ERROR_CODES, 'x')
    assert.is(error.exitCode, EXIT_CODES[category], code)
    assert.ok([1, 2, 3, 4, 5, 130].includes(error.exitCode))
  }
})

test('Ctrl-C at a prompt is exit 130 and one line, without "Error:" or a stack', () => {
  const interrupted = new RecoveryError('INTERRUPTED', 'Interrupted at the prompt: nothing was changed.')
  assert.is(interrupted.exitCode, 130)
  assert.is(renderFailure(interrupted, false), 'Interrupted at the prompt: nothing was changed.\n')
})

test('oclif parse errors become usage errors with exit 2', () => {
  const parseError = Object.assign(new Error('Nonexistent flag: --bogus\nSee more help with --help'), { oclif: { exit: 2 } })
  const e = toRecoveryError(parseError)
  assert.is(e.code, 'USAGE')
  assert.is(e.exitCode, 2)
  assert.is(e.message, 'Nonexistent flag: --bogus. See --help for the flags and examples.')
})

test('an unknown exception is a bug: exit 1 and a request to report it', () => {
  const e = toRecoveryError(new TypeError('x is undefined'))
  assert.is(e.exitCode, 1)
  assert.match(e.message, /bug/)
  assert.ok(e.nextSteps.some((s) => /report/.test(s)))
})

test('an error is said once: --verbose adds the stack frames, not the message again', () => {
  const count = (text: string, part: string) => text.split(part).length - 1
  const own = new RecoveryError('TOPIC_NOT_FOUND', 'Topic "t" does not exist on b:9092.', { nextSteps: ['recover groups'] })
  const plain = renderFailure(own, false)
  assert.is(plain, 'Error: Topic "t" does not exist on b:9092.\n  → recover groups\n')
  const verbose = renderFailure(own, true)
  assert.is(count(verbose, 'does not exist'), 1, verbose)
  assert.ok(verbose.startsWith(plain), verbose)
  assert.match(verbose, /\n {4}at /)
  // A cause says something of its own (what Kafka answered): its stack is shown with its message.
  const caused = new RecoveryError('KAFKA_ERROR', 'Kafka at b:9092 answered OFFSET_OUT_OF_RANGE while reading t-0.', {
    cause: new Error('The requested offset is not within the range'),
  })
  const withCause = renderFailure(caused, true)
  assert.is(count(withCause, 'answered OFFSET_OUT_OF_RANGE'), 1)
  assert.match(withCause, /\nError: The requested offset is not within the range\n {4}at /)
  // Bugs always show where they happened.
  assert.match(renderFailure(toRecoveryError(new TypeError('x is undefined')), false), /\nTypeError: x is undefined\n {4}at /)
})

test('JSON output carries offsets as decimal strings and bytes as base64', () => {
  assert.equal(jsonSafe({ offset: 9007199254740993n, key: Buffer.from('hi'), nested: [{ at: new Date(0) }], gone: undefined }), {
    offset: '9007199254740993',
    key: 'aGk=',
    nested: [{ at: '1970-01-01T00:00:00.000Z' }],
  })
})

test('preview shows JSON, then text, then hex, and null as null', () => {
  assert.equal(previewBytes(Buffer.from('{"a":1}')), { format: 'json', value: { a: 1 } })
  assert.equal(previewBytes(Buffer.from('plain words')), { format: 'string', value: 'plain words' })
  assert.equal(previewBytes(Buffer.from([0xff, 0xfe, 0x00])), { format: 'bytes', value: 'fffe00' })
  assert.equal(previewBytes(null), { format: 'null', value: null })
})

test('a forced format that cannot read the bytes says why and shows hex', () => {
  const p = previewBytes(Buffer.from('not json'), 'json')
  assert.is(p.format, 'bytes')
  assert.match(p.error ?? '', /not JSON/)
  assert.match(previewBytes(Buffer.from([0xc3, 0x28]), 'string').error ?? '', /invalid UTF-8/)
})

test('tables align numbers right and show missing values as "-"', () => {
  const text = renderTable(
    [{ header: 'TOPIC' }, { header: 'LAG', align: 'right' }],
    [
      ['orders', 5n],
      ['payments', null],
    ],
  )
  assert.is(text, 'TOPIC     LAG\norders      5\npayments    -')
})

test('ages read as people say them', () => {
  assert.is(formatAge(null), '-')
  assert.is(formatAge(42_000), '42s')
  assert.is(formatAge(312_000), '5m12s')
  assert.is(formatAge(3 * 3600_000 + 4 * 60_000), '3h04m')
  assert.is(formatAge(51 * 3600_000), '2d03h')
})

test('a Dead group with no members and no offsets does not exist; Dead with offsets is treated as Empty', () => {
  assert.ok(isMissing({ state: 'Dead', members: [] }, 0))
  assert.not.ok(isMissing({ state: 'Dead', members: [] }, 3))
  assert.not.ok(isMissing({ state: 'Empty', members: [] }, 0))
})

test('a fenced transactional producer is recognised however kafkajs wraps it, and never read as an unreachable broker', () => {
  const protocol = (type: string, message: string) => Object.assign(new Error(message), { name: 'KafkaJSProtocolError', type })
  const epoch = protocol(
    'INVALID_PRODUCER_EPOCH',
    "Producer attempted an operation with an old epoch. Either there is a newer producer with the same transactionalId, or the producer's transaction has been expired by the broker",
  )
  const wrapped = Object.assign(new Error(epoch.message), { name: 'KafkaJSNonRetriableError', originalError: epoch })
  const newerCode = protocol('KAFKAJS_UNKNOWN_ERROR_CODE', 'Unknown error code 90')
  for (const e of [epoch, wrapped, newerCode]) assert.ok(isProducerFenced(e), e.message)
  assert.not.ok(isProducerFenced(protocol('FENCED_LEADER_EPOCH', 'The leader epoch in the request is older than the epoch on the broker')))
  assert.not.ok(isProducerFenced(protocol('KAFKAJS_UNKNOWN_ERROR_CODE', 'Unknown error code 900')))
  // A commit Kafka could not decide (another producer took the id mid-commit) is settled by opening
  // the id again, as fencing is; outside a commit the same answers are not fencing.
  const unknown = protocol('UNKNOWN', 'The server experienced an unexpected error when processing the request')
  for (const type of ['UNKNOWN', 'INVALID_TXN_STATE', 'CONCURRENT_TRANSACTIONS']) {
    assert.ok(isProducerFenced(protocol(type, 'x'), { committing: true }), type)
    assert.not.ok(isProducerFenced(protocol(type, 'x')), type)
  }
  assert.ok(isProducerFenced(Object.assign(new Error(unknown.message), { name: 'KafkaJSNonRetriableError', originalError: unknown }), { committing: true }))
  const settings = { brokers: ['127.0.0.1:9092'], source: 'test' } as unknown as Parameters<typeof translateKafkaError>[1]
  assert.is.not(translateKafkaError(wrapped, settings, 'writing').code, 'BROKER_UNREACHABLE')
})

test('Kafka errors are translated with typed fields: an unreachable broker or a moving leader is retriable, TLS and SASL failures are not, a fenced producer or a stale group generation is fenced', () => {
  const settings = { brokers: ['127.0.0.1:9092'], source: 'test' } as unknown as Parameters<typeof translateKafkaError>[1]
  const named = (name: string, message: string, extra: object = {}) => Object.assign(new Error(message), { name, ...extra })
  const protocol = (type: string, message: string) => named('KafkaJSProtocolError', message, { type })

  const down = translateKafkaError(named('KafkaJSConnectionError', 'Connection error: connect ECONNREFUSED 127.0.0.1:9092'), settings, 'reading orders')
  assert.is(down.code, 'BROKER_UNREACHABLE')
  assert.ok(down.retriable && isRetriableError(down))
  assert.is(down.summary, 'Could not reach Kafka at 127.0.0.1:9092 (from test) while reading orders', 'the summary leaves out the advice')
  const tls = translateKafkaError(named('KafkaJSConnectionError', 'Connection error: write EPROTO wrong version number'), settings, 'reading orders')
  assert.is(tls.code, 'BROKER_UNREACHABLE')
  assert.not.ok(tls.retriable, 'no wait cures a TLS mismatch')
  assert.not.ok(translateKafkaError(named('KafkaJSSASLAuthenticationError', 'SASL PLAIN authentication failed'), settings, 'connecting').retriable)
  assert.ok(
    translateKafkaError(protocol('NOT_LEADER_OR_FOLLOWER', 'This server is not the leader for that topic-partition'), settings, 'reading orders').retriable,
  )
  assert.not.ok(translateKafkaError(protocol('CORRUPT_MESSAGE', 'This message has failed its CRC checksum'), settings, 'reading orders').retriable)

  const epoch = protocol('INVALID_PRODUCER_EPOCH', 'Producer attempted an operation with an old epoch')
  const fenced = translateKafkaError(epoch, settings, 'writing', { transactional: true })
  assert.ok(fenced.fenced && isFencedError(fenced) && !fenced.retriable)
  assert.is(fenced.details.fenced, true, '--json shows it')
  assert.not.ok(translateKafkaError(epoch, settings, 'writing').fenced, 'only a transactional producer is fenced')
  const rebalanced = protocol('REBALANCE_IN_PROGRESS', 'The group is rebalancing, so a rejoin is needed')
  assert.ok(translateKafkaError(rebalanced, settings, 'committing offsets', { groupCommit: true }).fenced)
  assert.not.ok(translateKafkaError(rebalanced, settings, 'describing a group').fenced)
  assert.not.ok(isFencedError(new RecoveryError('SINK_FAILED', 'fenced, says the message, but not the field')))
})

test.run()
