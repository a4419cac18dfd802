import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { headersForMessage, installOrderedHeaders } from '../../src/kafka/ordered-headers.js'
import type { KafkaRecord } from '../../src/kafka/kafka-record.js'
import { quarantineHeaders } from '../../src/quarantine/quarantine.js'
import { createTopic, testBrokers, testKafka, uniqueName } from '../support/kafka.js'
import { TerminalSession } from '../support/terminal.js'
import { waitFor, withTimeout } from '../support/timeout.js'

installOrderedHeaders()

// Recent timestamps: the test broker's retention (7 days) would delete older dead letters.
const T = Date.now() - 3_600_000
const LETTERS = 30

/** A quarantine topic of dead letters as an incident leaves them: long topic, long keys, long messages, deep stacks. */
async function quarantineTopic(): Promise<{ original: string; quarantine: string }> {
  const original = uniqueName('orders-with-a-rather-long-topic-name')
  const quarantine = `${original}.quarantine`
  await createTopic(original, 3)
  await createTopic(quarantine, 1)
  const messages = Array.from({ length: LETTERS }, (_, i) => {
    const record: KafkaRecord = {
      topic: original,
      partition: 2,
      offset: BigInt(1750 + i),
      timestampMs: T + i,
      timestampType: 'create',
      key: Buffer.from(`ord-${String(5123 + i).padStart(7, '0')}-customer-4711-invoice-with-a-very-long-suffix`),
      value: Buffer.from(JSON.stringify({ i, items: Array.from({ length: 6 }, (_, n) => ({ sku: `sku-${n}`, note: 'x'.repeat(50) })) })),
      headers: [{ key: 'app-version', value: Buffer.from('1.6.0') }],
    }
    const error = Object.assign(new Error(`Not Confluent-framed Avro: byte 0 is 0x6f, not the magic byte 0 (it looks like text), record ${i}`), {
      name: 'DecodeError',
    })
    error.stack = [
      `DecodeError: ${error.message}`,
      ...Array.from({ length: 30 }, (_, f) => `    at frame${f} (file:///opt/recover/dist/src/deeply/nested/module-${f}.js:${f}:7)`),
    ].join('\n')
    return {
      partition: 0,
      key: record.key,
      value: record.value,
      timestamp: String(record.timestampMs),
      headers: headersForMessage(quarantineHeaders({ record, stage: 'decode', error }, new Date(T + i))) as Record<string, Buffer>,
    }
  })
  const producer = testKafka().producer({ idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  await producer.send({ topic: quarantine, acks: -1, messages })
  await producer.disconnect()
  return { original, quarantine }
}

function openTriage(quarantine: string, size: { columns: number; rows: number }, extra: (cwd: string) => string[] = () => []): TerminalSession {
  const cwd = mkdtempSync(join(tmpdir(), 'recover-triage-sizes-'))
  return new TerminalSession(['triage', '--dlq', `kafka:${quarantine}`, ...extra(cwd)], {
    cwd,
    env: { RECOVER_BROKERS: testBrokers(), RECOVER_HOME: join(cwd, 'home') },
    size,
  })
}

/**
 * The whole frame is on screen and nothing wrapped: the title is the top row, the key legend
 * (or a prompt) is one row, and no row holds the start of a line that went on in the next.
 */
async function fitsOnScreen(session: TerminalSession, size: { columns: number; rows: number }, bottom: string): Promise<string[]> {
  return waitFor(
    `one frame of ${size.columns}x${size.rows} with "${bottom}" at its bottom`,
    () => {
      const rows = session.rows()
      const last = rows.map((r) => r.trimEnd()).findLastIndex((r) => r !== '')
      const fits =
        rows.length <= size.rows &&
        rows[0]!.startsWith('recover triage ') &&
        rows.filter((r) => r.includes('recover triage ')).length === 1 &&
        rows[last]!.includes(bottom) &&
        rows.every((r) => r.length <= size.columns)
      return fits ? rows : undefined
    },
    30_000,
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n--- screen ---\n${session.rows().join('\n')}`)
  })
}

test(
  'triage at 80x24: one header row, one legend row, keys cut with …, the detail scrolls (G, gg), End/Home jump, a position filter',
  withTimeout(150_000, async () => {
    const { original, quarantine } = await quarantineTopic()
    const size = { columns: 80, rows: 24 }
    const session = openTriage(quarantine, size)
    try {
      await session.shows(`${LETTERS} of ${LETTERS} records`, 60_000)
      const list = await fitsOnScreen(session, size, '? all keys  q quit')
      assert.ok(
        list.some((r) => /-2@1750 ord-0005123-cust\S*…/.test(r)),
        `the key column shows the key's start and ends with …\n${list.join('\n')}`,
      )

      session.keys('j', 'Enter')
      await session.shows('lines 1–')
      await fitsOnScreen(session, size, 'esc back')
      assert.not.match(session.screen(), 'frame29')
      session.keys('G')
      await session.shows('frame29')
      await fitsOnScreen(session, size, 'esc back')
      session.keys('g', 'g')
      await session.shows('lines 1–')
      session.keys('Escape')

      session.keys('End')
      await session.shows('0@29 (recover)')
      session.keys('Home', 'd')
      await session.shows(`Drop ${LETTERS} records: all of DecodeError`)
      session.keys('Escape')

      session.keys('/')
      session.keys('-l', `${original}-2@1755`)
      session.keys('Enter')
      await session.shows(`1 of ${LETTERS} records matching`)
      assert.match(session.screen(), '0@5')
      await fitsOnScreen(session, size, 'q quit')
      session.keys('q')
      assert.is(await session.exitStatus(), 0)
    } finally {
      session.close()
    }
  }),
)

test(
  'triage at 200x50, resized to 80x24 while the detail is open and back: each size gets its own layout, no wrapped leftovers',
  withTimeout(150_000, async () => {
    const { quarantine } = await quarantineTopic()
    const big = { columns: 200, rows: 50 }
    const small = { columns: 80, rows: 24 }
    const session = openTriage(quarantine, big)
    try {
      await session.shows(`${LETTERS} of ${LETTERS} records`, 60_000)
      await fitsOnScreen(session, big, 'x export  l lag  ? help  q quit')
      session.keys('j', 'j', 'Enter')
      await session.shows('0@1 (recover)')

      session.resize(small.columns, small.rows)
      const shrunk = await fitsOnScreen(session, small, 'esc back')
      assert.ok(
        shrunk.some((r) => r.startsWith('0@1 (recover)')),
        `the detail takes the whole 80 columns\n${shrunk.join('\n')}`,
      )
      session.keys('Escape')
      await fitsOnScreen(session, small, '? all keys  q quit')

      session.resize(big.columns, big.rows)
      await fitsOnScreen(session, big, 'x export  l lag  ? help  q quit')
      session.keys('q')
      assert.is(await session.exitStatus(), 0)
    } finally {
      session.close()
    }
  }),
)

test(
  'a retry that fails again shows in the header counts at once, and its message leads with the failures',
  withTimeout(150_000, async () => {
    const { original, quarantine } = await quarantineTopic()
    const fixed = `${original}.fixed`
    await createTopic(fixed, 1)
    const size = { columns: 80, rows: 24 }
    const session = openTriage(quarantine, size, (cwd) => {
      const plugin = join(cwd, 'still-broken.ts')
      writeFileSync(
        plugin,
        `import { defineTransform } from 'recover/plugin-api'
export default defineTransform({ name: 'still-broken', version: '1.0.0', transform() { throw new Error('still broken') } })
`,
      )
      return ['--sink', `kafka:${fixed}`, '--transform', plugin]
    })
    try {
      await session.shows(`${LETTERS} of ${LETTERS} records, 0 handled`, 60_000)
      session.keys('j', 'r')
      await session.shows('Retry 1 record(s) into')
      session.keys('y')
      await session.shows('Retried 1: 1 failed again')
      // The dead letter stays (marked !), not quarantined twice: the header counts the failure.
      await session.shows(`${LETTERS} of ${LETTERS} records, 0 handled, 1 failed again`)
      assert.match(session.screen(), /! 0@0/)
      await fitsOnScreen(session, size, 'Retried 1: 1 failed again')
      session.keys('q')
      assert.is(await session.exitStatus(), 0)
    } finally {
      session.close()
    }
  }),
)

test.run()
