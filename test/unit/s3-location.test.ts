import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { parseAuditSink } from '../../src/core/audit-sink.js'
import { RecoveryError } from '../../src/errors.js'
import { objectName, parseObjectName } from '../../src/s3/object-names.js'
import { DEFAULT_MAX_BYTES, DEFAULT_MAX_RECORDS } from '../../src/s3/s3-location.js'
import { parseSinkLocation } from '../../src/sinks/registry.js'

test('s3://bucket/prefix is a sink and an audit location, the same text in both, with its parameters', () => {
  const text = 's3://replays/incident/2018/?format=jsonl&endpoint=http://127.0.0.1:9000&path_style=true&max_records=100'
  for (const location of [parseSinkLocation(text), parseAuditSink(text)]) {
    assert.equal(
      { ...location },
      {
        kind: 's3',
        bucket: 'replays',
        prefix: 'incident/2018',
        format: 'jsonl',
        endpoint: 'http://127.0.0.1:9000',
        pathStyle: true,
        maxRecords: 100,
        maxBytes: DEFAULT_MAX_BYTES,
        overwrite: false,
        display: 's3://replays/incident/2018?format=jsonl&endpoint=http://127.0.0.1:9000&path_style=true&max_records=100',
      },
    )
  }
  const plain = parseSinkLocation('s3://replays') as unknown as { prefix: string; format: string; maxRecords: number; display: string }
  assert.equal([plain.prefix, plain.format, plain.maxRecords, plain.display], ['', 'parquet', DEFAULT_MAX_RECORDS, 's3://replays'])
  const csv = parseSinkLocation('s3://replays/csv?format=csv') as unknown as { format: string; display: string }
  assert.equal([csv.format, csv.display], ['csv', 's3://replays/csv?format=csv'])
})

test('a bad S3 location is BAD_SINK_URI naming what is wrong', () => {
  for (const [text, why] of [
    ['s3://Bad_Bucket/x', /not an S3 bucket name/],
    ['s3://replays/x?format=tsv', /format=tsv is not one recover writes to S3 \(parquet, jsonl or csv\)/],
    ['s3://replays/x?max_records=0', /max_records=0 is not a positive whole number/],
    ['s3://replays/x?colour=blue', /"colour" is not a parameter of s3:/],
    ['s3://replays/x?endpoint=minio:9000', /not an http\(s\):\/\/ URL/],
    ['s3://replays/x?overwrite=yes', /overwrite takes true or false/],
  ] as const) {
    try {
      parseSinkLocation(text)
      assert.unreachable(text)
    } catch (error) {
      assert.instance(error, RecoveryError)
      assert.is((error as RecoveryError).code, 'BAD_SINK_URI')
      assert.match((error as RecoveryError).message, why)
    }
  }
})

test('object names: 20-digit offsets that sort as numbers do, and parse back', () => {
  const name = objectName('replays', 'orders', 2, 1690n, 2099n, 'parquet')
  assert.is(name, 'replays/orders/p=2/00000000000000001690-00000000000000002099.parquet')
  assert.equal(parseObjectName(name), { partition: 2, first: 1690n, last: 2099n, extension: 'parquet' })
  assert.is(objectName('', 'orders', 0, 0n, 9n, 'jsonl'), 'orders/p=0/00000000000000000000-00000000000000000009.jsonl')
  const names = [5n, 10n, 100n].map((o) => objectName('', 't', 0, o, o, 'jsonl'))
  assert.equal([...names].sort(), names)
  assert.is(parseObjectName('replays/orders/p=2/'), undefined)
  assert.is(parseObjectName('replays/orders/p=2/notes.txt'), undefined)
})

test.run()
