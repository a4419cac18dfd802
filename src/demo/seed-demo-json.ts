import type { Kafka } from 'kafkajs'

/**
 * The demo's JSON Schema scene (`recover demo --json-schema`): a few orders in plain JSON, as a
 * checkout service writes them, one of which breaks fixtures/json-schema/order.schema.json (an
 * item with quantity 0), so that the replay quarantines it with the failing path and rule.
 */
export const DEMO_JSON_ORDERS: ReadonlyArray<Record<string, unknown>> = [
  { order_id: 'ord-1001', amount_cents: 2_490, items: [{ sku: 'mug', qty: 1 }] },
  { order_id: 'ord-1002', amount_cents: 12_900, currency: 'USD', items: [{ sku: 'kettle', qty: 1 }] },
  { order_id: 'ord-1003', amount_cents: 4_980, items: [{ sku: 'mug', qty: 2 }] },
  // Breaks the schema: /items/1/qty must be >= 1 (rule minimum).
  {
    order_id: 'ord-1004',
    amount_cents: 1_500,
    items: [
      { sku: 'tea', qty: 3 },
      { sku: 'spoon', qty: 0 },
    ],
  },
  { order_id: 'ord-1005', amount_cents: 990, items: [{ sku: 'tea', qty: 1 }] },
]

/** The one record of DEMO_JSON_ORDERS the schema rejects. */
export const DEMO_JSON_INVALID = { orderId: 'ord-1004', field: '/items/1/qty', rule: 'minimum' }

export async function seedDemoJsonOrders(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true })
  } finally {
    await admin.disconnect()
  }
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false })
  await producer.connect()
  try {
    await producer.send({
      topic,
      acks: -1,
      messages: DEMO_JSON_ORDERS.map((order) => ({ key: String(order.order_id), value: JSON.stringify(order), partition: 0 })),
    })
  } finally {
    await producer.disconnect()
  }
  return DEMO_JSON_ORDERS.length
}
