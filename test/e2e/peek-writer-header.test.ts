import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import avro from 'avsc'
import { runCli } from '../support/cli.js'
import { createTopic, produce, uniqueName } from '../support/kafka.js'
import { repoRoot } from '../support/paths.js'
import { withTimeout } from '../support/timeout.js'

const T0 = Date.UTC(2018, 2, 21, 0, 0, 0)
const schemas = join(repoRoot(), 'fixtures', 'schemas')
const type = (file: string) => avro.Type.forSchema(JSON.parse(readFileSync(join(schemas, file), 'utf8')))

test(
  'peek reads raw Avro whose writer schema is named by a record header, and falls back to --writer-schema',
  withTimeout(60_000, async () => {
    const v1 = type('orders-v1.avsc')
    const v2 = type('orders-v2.avsc')
    const order = {
      order_id: 'o-1',
      customer_id: 'c-9',
      amount_cents: 1250,
      currency: 'EUR',
      status: 'PAID',
      created_at: T0,
      items: [{ sku: 's-1', quantity: 1, unit_price_cents: 1250 }],
    }
    const newer = { order_id: 'o-2', customer: 'c-8', amount_cents: 990, currency: 'EUR', status: 'PAID', created_at: T0, items: [], channel: 'app' }
    const topic = uniqueName('raw-avro')
    await createTopic(topic, 1)
    await produce(topic, [
      { partition: 0, key: 'o-1', value: v1.toBuffer(order), timestampMs: T0, headers: { 'schema.version': '1' } },
      { partition: 0, key: 'o-2', value: v2.toBuffer(newer), timestampMs: T0 + 1000, headers: { 'schema.version': '2' } },
      { partition: 0, key: 'o-3', value: v1.toBuffer({ ...order, order_id: 'o-3' }), timestampMs: T0 + 2000 },
    ])
    const run = await runCli([
      'peek',
      '--topic',
      topic,
      '--at',
      '2018-03-21',
      '--value-format',
      'avro',
      '--schema',
      schemas,
      '--writer-header',
      'schema.version',
      '--writer-schema',
      join(schemas, 'orders-v1.avsc'),
      '--json',
    ])
    assert.is(run.exitCode, 0, run.stderr)
    const values = run.json.records.map((r: { value: { value: { order_id: string } } }) => r.value.value.order_id)
    assert.equal(values, ['o-1', 'o-2', 'o-3'])
    assert.is(run.json.records[1].value.value.channel, 'app')

    const strict = await runCli([
      'peek',
      '--topic',
      topic,
      '--at',
      '2018-03-21',
      '--value-format',
      'avro',
      '--schema',
      schemas,
      '--writer-header',
      'schema.version',
      '--json',
    ])
    assert.is(strict.exitCode, 0, strict.stderr)
    assert.match(JSON.stringify(strict.json.records[2].value), /avro-unknown-schema-id/, 'no header and no fallback: a classified failure, shown, not a crash')
  }),
)

test.run()
