import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { quarantineHeaders } from '../../src/quarantine/quarantine.js'
import { originalHeaders, readFailureContext, springNumber, UNKNOWN } from '../../src/quarantine/dialects.js'
import { matcher } from '../../src/quarantine/quarantine-filter.js'
import { normalizeRecord, restoredHeaders, summarize } from '../../src/quarantine/quarantined-record.js'
import type { KafkaRecord } from '../../src/kafka/kafka-record.js'

const T = Date.parse('2018-03-21T00:00:00Z')
const h = (key: string, value: string | Buffer | null) => ({ key, value: typeof value === 'string' ? Buffer.from(value) : value })
const int32 = (n: number) => {
  const b = Buffer.alloc(4)
  b.writeInt32BE(n)
  return b
}
const int64 = (n: bigint) => {
  const b = Buffer.alloc(8)
  b.writeBigInt64BE(n)
  return b
}

function record(headers: KafkaRecord['headers'], over: Partial<KafkaRecord> = {}): KafkaRecord {
  return {
    topic: 'dlq',
    partition: 0,
    offset: 5n,
    timestampMs: T,
    timestampType: 'create',
    key: Buffer.from('ord-1'),
    value: Buffer.from('{bad'),
    headers,
    ...over,
  }
}

test("recover's own quarantine headers: original position, class, stage, kind, time, transform; its Connect copies do not make it Connect", () => {
  const original = record([h('app-version', '1.6.0')], { topic: 'orders', partition: 3, offset: 17n })
  const error = Object.assign(new Error('Unexpected token b'), { name: 'DecodeError' })
  const headers = quarantineHeaders({ record: original, stage: 'decode', error, kind: 'not-json', side: 'value' }, new Date('2018-03-21T01:00:00Z'))
  const c = readFailureContext(headers, T)
  assert.is(c.dialect, 'recover')
  assert.equal(c.original, { topic: 'orders', partition: 3, offset: 17n })
  assert.is(c.errorClass, 'DecodeError')
  assert.is(c.message, 'Unexpected token b')
  assert.is(c.stage, 'decode')
  assert.is(c.kind, 'not-json')
  assert.is(c.failedAtMs, Date.parse('2018-03-21T01:00:00Z'))
  assert.equal(c.extra, { side: 'value' })
  assert.ok(c.stack?.includes('DecodeError'))
  assert.equal(originalHeaders(headers, c.dialect), [h('app-version', '1.6.0')])
})

test('Kafka Connect: __connect.errors.* with its stage, connector and task; time is the dead letter timestamp', () => {
  const headers = [
    h('trace', 'abc'),
    h('__connect.errors.topic', 'payments'),
    h('__connect.errors.partition', '2'),
    h('__connect.errors.offset', '9007199254740993'),
    h('__connect.errors.connector.name', 'file-sink'),
    h('__connect.errors.task.id', '0'),
    h('__connect.errors.stage', 'VALUE_CONVERTER'),
    h('__connect.errors.class.name', 'org.apache.kafka.connect.json.JsonConverter'),
    h('__connect.errors.exception.class.name', 'org.apache.kafka.connect.errors.DataException'),
    h('__connect.errors.exception.message', 'Converting byte[] to Kafka Connect data failed due to serialization error'),
    h('__connect.errors.exception.stacktrace', 'org.apache.kafka.connect.errors.DataException: Converting…\n\tat …'),
  ]
  const c = readFailureContext(headers, T)
  assert.is(c.dialect, 'connect')
  assert.equal(c.original, { topic: 'payments', partition: 2, offset: 9007199254740993n })
  assert.is(c.errorClass, 'org.apache.kafka.connect.errors.DataException')
  assert.is(c.stage, 'VALUE_CONVERTER')
  assert.is(c.failedAtMs, T)
  assert.equal(c.extra, { connector: 'file-sink', task: '0', executingClass: 'org.apache.kafka.connect.json.JsonConverter' })
  assert.equal(originalHeaders(headers, c.dialect), [h('trace', 'abc')])
})

test('Kafka Streams (KIP-1034): __streams.errors.* ; no stage recorded', () => {
  const c = readFailureContext(
    [
      h('__streams.errors.exception', 'org.apache.kafka.common.errors.SerializationException'),
      h('__streams.errors.message', 'Size of data received by LongDeserializer is not 8'),
      h('__streams.errors.stacktrace', 'org.apache.kafka.common.errors.SerializationException: …'),
      h('__streams.errors.topic', 'clicks'),
      h('__streams.errors.partition', '1'),
      h('__streams.errors.offset', '42'),
    ],
    T,
  )
  assert.is(c.dialect, 'streams')
  assert.equal(c.original, { topic: 'clicks', partition: 1, offset: 42n })
  assert.is(c.errorClass, 'org.apache.kafka.common.errors.SerializationException')
  assert.is(c.message, 'Size of data received by LongDeserializer is not 8')
  assert.is(c.stage, UNKNOWN)
})

test('Spring Kafka: binary partition (int) and offset/timestamp (long), exception fqcn, cause, group', () => {
  const headers = [
    h('kafka_dlt-original-topic', 'orders'),
    h('kafka_dlt-original-partition', int32(4)),
    h('kafka_dlt-original-offset', int64(123456789012n)),
    h('kafka_dlt-original-timestamp', int64(BigInt(T))),
    h('kafka_dlt-original-timestamp-type', 'CreateTime'),
    h('kafka_dlt-original-consumer-group', 'billing'),
    h('kafka_dlt-exception-fqcn', 'org.springframework.kafka.listener.ListenerExecutionFailedException'),
    h('kafka_dlt-exception-cause-fqcn', 'java.lang.IllegalStateException'),
    h('kafka_dlt-exception-message', 'Listener failed; amount must be positive'),
    h('kafka_dlt-exception-stacktrace', 'org.springframework…'),
    h('b3', '1-2-3'),
  ]
  const c = readFailureContext(headers, T + 5000)
  assert.is(c.dialect, 'spring')
  assert.equal(c.original, { topic: 'orders', partition: 4, offset: 123456789012n })
  assert.is(c.errorClass, 'org.springframework.kafka.listener.ListenerExecutionFailedException')
  assert.is(c.message, 'Listener failed; amount must be positive')
  assert.equal(c.extra, { consumerGroup: 'billing', cause: 'java.lang.IllegalStateException', originalTimestamp: '2018-03-21T00:00:00.000Z' })
  assert.is(c.failedAtMs, T + 5000)
  assert.equal(originalHeaders(headers, c.dialect), [h('b3', '1-2-3')])
})

test('Spring Kafka key failures use kafka_dlt-key-exception-*; numbers written as text are read too', () => {
  const c = readFailureContext(
    [
      h('kafka_dlt-original-topic', 'orders'),
      h('kafka_dlt-original-partition', '0'),
      h('kafka_dlt-original-offset', '7'),
      h('kafka_dlt-key-exception-fqcn', 'org.apache.kafka.common.errors.SerializationException'),
      h('kafka_dlt-key-exception-message', 'bad key'),
    ],
    T,
  )
  assert.equal(c.original, { topic: 'orders', partition: 0, offset: 7n })
  assert.is(c.errorClass, 'org.apache.kafka.common.errors.SerializationException')
  assert.is(c.stage, 'key')
  assert.is(springNumber(int32(0x31)), 49n)
  assert.is(springNumber(Buffer.from([1, 2, 3])), undefined)
})

test('Karafka: source_* headers, no error recorded; they are stripped only from Karafka dead letters', () => {
  const headers = [
    h('source_topic', 'events'),
    h('source_partition', '5'),
    h('source_offset', '100'),
    h('source_consumer_group', 'etl'),
    h('source_attempts', '3'),
    h('tenant', 'acme'),
  ]
  const c = readFailureContext(headers, T)
  assert.is(c.dialect, 'karafka')
  assert.equal(c.original, { topic: 'events', partition: 5, offset: 100n })
  assert.is(c.errorClass, UNKNOWN)
  assert.equal(c.extra, { consumerGroup: 'etl', attempts: '3' })
  assert.equal(originalHeaders(headers, 'karafka'), [h('tenant', 'acme')])
  assert.equal(originalHeaders([h('source_topic', 'mine')], 'unknown'), [h('source_topic', 'mine')])
})

test('unknown dialect (no headers, binary header values): shown raw, nothing invented', () => {
  const c = readFailureContext([h('x', Buffer.from([0xff, 0xfe]))], T)
  assert.is(c.dialect, 'unknown')
  assert.equal(c.original, {})
  assert.is(c.errorClass, UNKNOWN)
  assert.is(c.stage, UNKNOWN)
  assert.is(readFailureContext([], T).dialect, 'unknown')
})

test('the loop guard count is read, and stripped with the other context headers', () => {
  const headers = [h('recover.redrive-count', '2'), h('kafka_dlt-original-topic', 'orders'), h('kafka_dlt-exception-fqcn', 'E'), h('k', 'v')]
  const q = normalizeRecord(record(headers), { partition: 1, offset: 8n })
  assert.is(q.redriveCount, 2)
  assert.is(q.id, '1@8')
  assert.equal(restoredHeaders(q), [h('k', 'v')])
  const s = summarize(q)
  assert.is(s.key, 'ord-1')
  assert.is(s.valueBytes, 4)
  assert.not.ok('record' in s)
})

test('filters: error substring, stage, window, key, original topic, ids, free text', () => {
  const q = summarize(
    normalizeRecord(
      record([
        h('__connect.errors.topic', 'payments'),
        h('__connect.errors.stage', 'VALUE_CONVERTER'),
        h('__connect.errors.exception.class.name', 'org.apache.kafka.connect.errors.DataException'),
        h('__connect.errors.exception.message', 'boom'),
      ]),
      { partition: 0, offset: 5n },
    ),
  )
  assert.ok(matcher({})(q))
  assert.ok(matcher({ error: 'dataexception', stage: 'value_converter', key: 'ord-1', topic: 'payments', ids: ['0@5'], sinceMs: T, untilMs: T + 1 })(q))
  assert.not.ok(matcher({ error: 'Json' })(q))
  assert.not.ok(matcher({ stage: 'TASK_PUT' })(q))
  assert.not.ok(matcher({ untilMs: T })(q))
  assert.not.ok(matcher({ sinceMs: T + 1 })(q))
  assert.not.ok(matcher({ key: 'ord-2' })(q))
  assert.not.ok(matcher({ topic: 'orders' })(q))
  assert.not.ok(matcher({ ids: ['0@6'] })(q))
  assert.ok(matcher({ text: 'BOOM' })(q))
  assert.not.ok(matcher({ text: 'nothing like it' })(q))
})

test.run()
