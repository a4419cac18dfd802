import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import protobuf from 'protobufjs'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { envelopeLine } from '../../src/files/envelope.js'
import type { KafkaRecord } from '../../src/kafka/kafka-record.js'
import { quarantineHeaders } from '../../src/quarantine/quarantine.js'
import { openQuarantine } from '../../src/services/quarantine.js'
import { TriageController } from '../../src/triage/triage-controller.js'
import { startFakeRegistry } from '../support/fake-schema-registry.js'

/**
 * Triage's detail with its default formats (auto) and a registry: a dead letter framed with a
 * PROTOBUF schema id shows as Protobuf (key and value), not as Avro's schema-resolution.
 */
const PROTO = `syntax = "proto3";
package shop;
message Order {
  string order_id = 1;
  int64 amount_cents = 2;
}
message OrderKey {
  string order_id = 1;
}
`
const root = protobuf.parse(PROTO, { keepCase: true }).root

function framed(id: number, indexes: number[], type: string, object: Record<string, unknown>): Buffer {
  const message = root.lookupType(type)
  const header = Buffer.alloc(5)
  header.writeUInt32BE(id, 1)
  const idx = indexes.length === 1 && indexes[0] === 0 ? [0] : [indexes.length * 2, ...indexes.map((i) => i * 2)]
  return Buffer.concat([header, Buffer.from(idx), Buffer.from(message.encode(message.fromObject(object)).finish())])
}

test('triage detail, auto with --registry: a Protobuf dead letter shows its decoded key and value', async () => {
  const registry = await startFakeRegistry({ ids: { 3: { schema: PROTO, schemaType: 'PROTOBUF' } } })
  try {
    const dir = mkdtempSync(join(tmpdir(), 'recover-triage-protobuf-'))
    const record: KafkaRecord = {
      topic: 'orders',
      partition: 0,
      offset: 7n,
      timestampMs: Date.UTC(2018, 2, 21),
      timestampType: 'create',
      key: framed(3, [1], 'shop.OrderKey', { order_id: 'ord-7' }),
      value: framed(3, [0], 'shop.Order', { order_id: 'ord-7', amount_cents: '9007199254740993' }),
      headers: [],
    }
    const error = Object.assign(new Error('refused'), { name: 'TypeError' })
    const path = join(dir, 'q.jsonl')
    writeFileSync(path, envelopeLine({ ...record, headers: quarantineHeaders({ record, stage: 'transform', error }, new Date()) }))
    const ctx = openQuarantine({ kind: 'file', path }, undefined)
    const controller = new TriageController({ ctx, actor: { by: 'tester', host: 'ci' }, formats: { schemas: { registry: registry.url } } }, 20)
    controller.dispatch({ type: 'resize', height: 20, width: 110 })
    await controller.load()
    await controller.handleKey('j') // past the group's row, onto the record
    await controller.handleKey('', { return: true })
    const detail = controller.getState().detail
    assert.is(detail?.error, undefined)
    const { key, value } = detail!.shown!
    assert.equal([key.format, key.schemaId, key.value], ['protobuf', 3, { orderId: 'ord-7' }])
    assert.equal([value.format, value.schemaId, value.value], ['protobuf', 3, { orderId: 'ord-7', amountCents: '9007199254740993' }])
    // auto asks Avro, then JSON Schema, then Protobuf about id 3: the registry is asked once.
    assert.equal(
      registry.requests.filter((p) => p === '/schemas/ids/3'),
      ['/schemas/ids/3'],
    )
  } finally {
    await registry.close()
  }
})

test.run()
