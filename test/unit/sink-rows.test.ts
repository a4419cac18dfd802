import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import pg from 'pg'
import { copyFields, copyText, parseCopyText, textArray, upsertSql } from '../../src/postgres/upsert-table.js'
import { PgBatch } from '../../src/sinks/postgres-batch.js'
import { duckConverter } from '../../src/sinks/duckdb-sink.js'
import { copyConverter, pgConverter, pgText } from '../../src/sinks/postgres-sink.js'
import { columnValue, inferColumns, jsonText, numberText, rowBuilder } from '../../src/sinks/value-columns.js'
import type { SinkRecord } from '../../src/sinks/sink.js'

const record = (value: unknown, partition = 0, offset = 0n): SinkRecord => ({
  key: null,
  value: null,
  decodedKey: null,
  decodedValue: value,
  headers: [],
  timestamp: 0,
  timestampType: 'create',
  source: { topic: 'orders', partition, offset },
})

test('columns are inferred from the first batch: field order, widened types, provenance last', () => {
  const columns = inferColumns(
    [record({ id: 'a', n: 1, x: null, ok: true }), record({ id: 'b', n: 1.5, x: null, tags: ['t'], raw: Buffer.from('x'), at: new Date(0), big: 2n })],
    ['id'],
    'fields',
  )
  assert.equal(columns, [
    { name: 'id', type: 'text' },
    { name: 'n', type: 'double' },
    { name: 'x', type: 'text' },
    { name: 'ok', type: 'boolean' },
    { name: 'tags', type: 'json' },
    { name: 'raw', type: 'bytes' },
    { name: 'at', type: 'timestamp' },
    { name: 'big', type: 'bigint' },
    { name: 'source_topic', type: 'text' },
    { name: 'source_partition', type: 'bigint' },
    { name: 'source_offset', type: 'bigint' },
  ])
})

test('layout jsonb, and values that are not objects, keep the whole value in one json column (key fields beside it)', () => {
  assert.equal(
    inferColumns([record({ id: 7, n: 1 })], ['id'], 'jsonb').map((c) => `${c.name}:${c.type}`),
    ['id:bigint', 'value:json', 'source_topic:text', 'source_partition:bigint', 'source_offset:bigint'],
  )
  assert.equal(
    inferColumns([record('plain text')], ['source_partition', 'source_offset'], 'fields').map((c) => c.name),
    ['value', 'source_topic', 'source_partition', 'source_offset'],
  )
  assert.is(columnValue(record('plain text'), 'value', false), 'plain text')
  assert.equal(columnValue(record({ value: 1, other: 2 }), 'value', false), 1)
  assert.equal(columnValue(record({ value: 1, other: 2 }), 'value', true), { value: 1, other: 2 })
  assert.is(columnValue(record({ a: 1 }, 3, 42n), 'source_offset', false), 42n)
  assert.is(columnValue(record({ a: 1 }), 'missing', false), null)
})

test('values become the text PostgreSQL casts: JSON with bigints and base64 bytes, bytea hex, epoch ms as timestamps', () => {
  assert.is(jsonText({ n: 5n, huge: 2n ** 64n, b: Buffer.from('hi') }), '{"n":5,"huge":"18446744073709551616","b":"aGk="}')
  assert.is(pgText({ a: 1 }, 'jsonb'), '{"a":1}')
  assert.is(pgText('plain', 'jsonb'), '"plain"')
  assert.is(pgText(Buffer.from([0, 255]), 'bytea'), '\\x00ff')
  assert.is(pgText(0, 'timestamp with time zone'), '1970-01-01T00:00:00.000Z')
  assert.is(pgText(12n, 'bigint'), '12')
  assert.is(pgText(null, 'text'), null)
  assert.is(pgText([1, 2], 'text'), '[1,2]')
})

test('a row builder reads every column of a record: provenance from the source, fields by name, the whole value where the table keeps it', () => {
  const names = ['id', 'value', 'source_topic', 'source_partition', 'source_offset']
  const asIs = names.map(() => (v: unknown) => v)
  const fields = rowBuilder(names, false, asIs)
  assert.equal(fields(record({ id: 'a', value: 1, source_topic: 'not this', other: 2 }, 3, 42n)), ['a', 1, 'orders', 3, 42n])
  assert.equal(fields(record({ id: undefined })), [null, null, 'orders', 0, 0n])
  assert.equal(fields(record('plain text')), [null, 'plain text', 'orders', 0, 0n])
  assert.equal(fields(record(Buffer.from('x'))), [null, Buffer.from('x'), 'orders', 0, 0n])
  assert.equal(fields(record(undefined)), [null, null, 'orders', 0, 0n])
  assert.equal(rowBuilder(names, true, asIs)(record({ id: 'a', value: 1 })), ['a', { id: 'a', value: 1 }, 'orders', 0, 0n])
  const refuses = rowBuilder(['id'], false, [
    () => {
      throw new Error('no')
    },
  ])
  assert.throws(() => refuses(record({ id: 'a' })), /no/)
})

test('DuckDB converters: null stays null; integers, doubles and booleans are checked, with the column in the message; the rest is text or JSON', () => {
  const duck = (type: string, v: unknown) => duckConverter({ name: 'c', type })(v)
  for (const type of ['VARCHAR', 'BIGINT', 'INTEGER', 'DOUBLE', 'BOOLEAN', 'BLOB', 'TIMESTAMP WITH TIME ZONE', 'JSON']) {
    assert.is(duck(type, null), null)
    assert.is(duck(type, undefined), null)
  }
  assert.is(duck('JSON', { n: 5n }), '{"n":5}')
  assert.is(duck('JSON', 'x'), '"x"')
  assert.equal(duck('BLOB', 'hi'), Buffer.from('hi'))
  assert.equal(duck('BLOB', new Uint8Array([1])), new Uint8Array([1]))
  for (const type of ['BIGINT', 'INTEGER', 'TIMESTAMP WITH TIME ZONE']) {
    assert.is(duck(type, new Date(5)), 5n)
    assert.is(duck(type, 7), 7n)
    assert.is(duck(type, 8n), 8n)
    assert.is(duck(type, '-9'), -9n)
  }
  assert.throws(
    () => duck('BIGINT', 1.5),
    (e: Error) => e.message === 'column c is BIGINT and cannot hold "1.5"',
  )
  // Out of range: refused here (this row to quarantine), not by the Appender (the whole batch).
  assert.is(duck('BIGINT', 2n ** 63n - 1n), 2n ** 63n - 1n)
  assert.throws(() => duck('BIGINT', 2n ** 63n), /column c is BIGINT and cannot hold .*9223372036854775808/)
  assert.throws(() => duck('BIGINT', 1e20), /column c is BIGINT and cannot hold/)
  assert.is(duck('INTEGER', -(2 ** 31)), -(2n ** 31n))
  assert.throws(() => duck('INTEGER', 2 ** 31), /column c is INTEGER and cannot hold "2147483648"/)
  assert.throws(() => duck('TIMESTAMP WITH TIME ZONE', 2n ** 62n), /cannot hold/)
  assert.throws(
    () => duck('TIMESTAMP WITH TIME ZONE', 'soon'),
    (e: Error) => e.message === 'column c is TIMESTAMP WITH TIME ZONE and cannot hold "\\"soon\\""',
  )
  assert.is(duck('DOUBLE', 2n), 2)
  assert.is(duck('DOUBLE', 1.5), 1.5)
  assert.throws(
    () => duck('DOUBLE', '1.5'),
    (e: Error) => e.message === 'column c is DOUBLE and cannot hold "1.5"',
  )
  assert.throws(
    () => duck('DOUBLE', Number.NaN),
    (e: Error) => e.message === 'column c is DOUBLE and cannot hold null',
  )
  assert.is(duck('BOOLEAN', false), false)
  assert.throws(
    () => duck('BOOLEAN', 'true'),
    (e: Error) => e.message === 'column c is BOOLEAN and cannot hold "true"',
  )
  assert.is(duck('VARCHAR', 'x'), 'x')
  assert.is(duck('VARCHAR', 3n), '3')
  assert.is(duck('VARCHAR', true), 'true')
  assert.is(duck('VARCHAR', Buffer.from('hi')), 'aGk=')
  assert.is(duck('VARCHAR', [1, 2]), '[1,2]')
  // A date in a text column reads as the same ISO 8601 text PostgreSQL's text columns get, not a quoted JSON string.
  assert.is(duck('VARCHAR', new Date(0)), '1970-01-01T00:00:00.000Z')
  assert.is(duck('DECIMAL(10,2)', 1.5), '1.5')
})

test('PostgreSQL converters by column type: JSON text, bytea hex, epoch ms in timestamp and date columns, text for the rest', () => {
  assert.is(pgConverter('json')([1n]), '[1]')
  assert.is(pgConverter('bytea')('hi'), '\\x6869')
  assert.is(pgConverter('timestamp without time zone')(1000n), '1970-01-01T00:00:01.000Z')
  assert.is(pgConverter('date')(new Date(0)), '1970-01-01T00:00:00.000Z')
  assert.is(pgConverter('timestamp with time zone')('2018-03-20'), '2018-03-20')
  assert.throws(() => pgConverter('timestamp with time zone')(1e300), /Invalid time value/)
  assert.is(pgConverter('text')(new Date(0)), '1970-01-01T00:00:00.000Z')
  assert.is(pgConverter('text')(Buffer.from('hi')), 'aGk=')
  assert.is(pgConverter('boolean')(false), 'false')
  assert.is(pgConverter('bigint')(undefined), null)
})

test('the upsert is one unnest statement: casts to each column type, updates the non-key columns, DO NOTHING when all are key', () => {
  const sql = upsertSql(
    'public.orders',
    [
      { name: 'id', type: 'text' },
      { name: 'code', type: 'character(2)', castType: 'pg_catalog.bpchar' },
      { name: 'n', type: 'bigint' },
    ],
    ['id'],
  )
  assert.is(
    sql,
    'INSERT INTO "public"."orders" ("id", "code", "n") SELECT u.c0::text, u.c1::pg_catalog.bpchar, u.c2::bigint FROM unnest($1::text[], $2::text[], $3::text[]) AS u(c0, c1, c2) ON CONFLICT ("id") DO UPDATE SET "code" = EXCLUDED."code", "n" = EXCLUDED."n"',
  )
  assert.match(upsertSql('t', [{ name: 'id', type: 'text' }], ['id']), /ON CONFLICT \("id"\) DO NOTHING$/)
})

test('text[] literals are what pg sends for the same array of strings and nulls, for any text and any choice of rows', () => {
  const prepareValue = (pg as unknown as { utils: { prepareValue(v: unknown): unknown } }).utils.prepareValue
  fc.assert(
    fc.property(
      fc.array(fc.option(fc.string({ unit: fc.constantFrom('a', ' ', ',', '"', '\\', '{', '}', 'é', 'N', 'U', 'L') }))),
      fc.array(fc.nat()),
      (values, picks) => {
        const rows = values.map((v) => [v, 'x'])
        const indexes = values.length === 0 ? [] : picks.map((p) => p % values.length)
        assert.is(textArray(rows, 0, indexes), prepareValue(indexes.map((i) => values[i])))
      },
    ),
  )
})

test('COPY text reads back as the rows it was written from, for any text, NULL and the text \\N included', () => {
  const text = fc.string({ unit: fc.constantFrom('a', '\\', '\t', '\n', '\r', 'N', 'é', ' ', 't', 'n', 'r') })
  fc.assert(
    fc.property(fc.array(fc.array(fc.option(text), { minLength: 3, maxLength: 3 }), { maxLength: 2000 }), (rows) => {
      assert.equal(parseCopyText(copyText(rows)), rows)
    }),
  )
  assert.equal(parseCopyText(copyText([['\\N', null, '']])), [['\\N', null, '']])
})

test('a PostgreSQL batch: the first record of each key goes in COPY text (read again from the start on a retry), repeats in later rounds, refusals by index', () => {
  const records = Array.from({ length: 3000 }, (_, i) => record({ id: i % 1000 === 7 ? 'dup' : `k${i}`, n: i === 5 ? 'bad' : i }, 0, BigInt(i)))
  const writeRow = (r: SinkRecord, row: string[]) => {
    const v = r.decodedValue as { id: string; n: number | string }
    if (typeof v.n !== 'number') throw new Error('n is not a number')
    row[0] = v.id
    row[1] = String(v.n)
  }
  const batch = new PgBatch(records, 2, writeRow, (row) => row[0] ?? undefined)
  const copy = batch.copyText()
  const firstChunk = copy.next().value as string
  assert.ok(firstChunk.startsWith('k0\t0\nk1\t1\n'))
  // A retry reads round 0 from its start again, whatever the first attempt had read.
  const whole = [...batch.copyText()]
  assert.is(whole[0], firstChunk)
  batch.finish()
  assert.equal(
    batch.rejected.map((r) => [r.index, r.error.message]),
    [[5, 'n is not a number']],
  )
  const first = batch.firstRows()
  assert.is(first.length, 3000 - 1 - 2)
  assert.equal(first[6], ['dup', '7'], 'record 5 was refused')
  assert.is(batch.firstOwners[first.length - 1], 2999)
  assert.equal(
    batch.later.map((r) => [r.lines, r.owners]),
    [
      [['dup\t1007'], [1007]],
      [['dup\t2007'], [2007]],
    ],
  )
  assert.equal(
    batch.rounds().map((r) => parseCopyText(r.text).length),
    [2997, 1, 1],
  )
})

test('numbers print as String() prints them, whole numbers beyond 32 bits (split in two halves) included', () => {
  const edges = [
    0,
    -0,
    1,
    -1,
    2 ** 31 - 1,
    2 ** 31,
    -(2 ** 31),
    1e8,
    1e8 - 1,
    1e16 - 1,
    1521504000000,
    -1521504000000,
    99999999999999,
    Number.MAX_SAFE_INTEGER,
    -Number.MAX_SAFE_INTEGER,
    2 ** 53,
    1e21,
    1.5,
    -0.1,
    NaN,
    Infinity,
    -Infinity,
  ]
  for (const v of edges) assert.is(numberText(v), String(v), String(v))
  for (let k = 1; k < 90_000_000; k += 7_777_777) for (const d of [-1, 0, 1]) assert.is(numberText(k * 1e8 + d), String(k * 1e8 + d))
  fc.assert(fc.property(fc.oneof(fc.double(), fc.maxSafeInteger(), fc.integer()), (v) => assert.is(numberText(v), String(v))))
})

test('COPY converters give the converter text as COPY writes it: escaped, and \\N for NULL', () => {
  const value = fc.oneof(
    fc.constant(null),
    fc.string({ unit: fc.constantFrom('a', '\\', '\t', '\n', '\r', 'N', 'é') }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.maxSafeInteger(),
    fc.bigInt(),
    fc.boolean(),
    fc.dictionary(fc.string({ unit: fc.constantFrom('k', '\\', '\n') }), fc.string({ unit: fc.constantFrom('v', '\\', '\t', '"') })),
  )
  for (const type of ['text', 'bigint', 'double precision', 'jsonb', 'bytea', 'timestamp with time zone', 'boolean']) {
    fc.assert(
      fc.property(value, (v) => {
        let expected: string | null
        try {
          expected = copyFields([pgConverter(type)(v)])[0]!
        } catch {
          expected = null
        }
        let got: string | null
        try {
          got = copyConverter(type)(v)
        } catch {
          got = null
        }
        assert.is(got, expected, type)
      }),
    )
  }
})

test('field columns read the field of their name, whatever characters the name has', () => {
  const names = ['id', 'a"b', "it's", 'back\\slash', 'line\nbreak', 'ünï', '__proto__', 'constructor', '${x}', '`tick`']
  const value = Object.fromEntries(names.map((n, i) => [n, i]))
  const rows = rowBuilder(
    names,
    false,
    names.map(() => (v: unknown) => v),
  )(record(value))
  assert.equal(
    rows,
    names.map((n) => (value as Record<string, unknown>)[n] ?? null),
  )
  for (const n of names) assert.is(columnValue(record(value), n, false), (value as Record<string, unknown>)[n] ?? null)
})

test.run()
