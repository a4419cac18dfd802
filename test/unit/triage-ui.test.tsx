import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { render } from 'ink-testing-library'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { envelopeLine } from '../../src/files/envelope.js'
import type { KafkaRecord } from '../../src/kafka/kafka-record.js'
import { quarantineHeaders } from '../../src/quarantine/quarantine.js'
import { openQuarantine } from '../../src/services/quarantine.js'
import { TriageController } from '../../src/triage/triage-controller.js'
import { buildRows, initialState, reduce } from '../../src/triage/triage-state.js'
import type { QuarantineSummary } from '../../src/quarantine/quarantined-record.js'
import { TriageApp, TriageScreen } from '../../src/ui/triage/TriageApp.js'
import { cellWidth } from '../../src/core/terminal-text.js'

const T = Date.parse('2018-03-21T00:00:00Z')
const dir = mkdtempSync(join(tmpdir(), 'recover-triage-ui-'))
let n = 0

/** A file quarantine as replay writes it: 3 decode failures, 2 transform failures, one Spring dead letter. */
function quarantineFile(): string {
  const path = join(dir, `q-${n++}.jsonl`)
  const lines: string[] = []
  const add = (offset: number, stage: 'decode' | 'transform', name: string, value: string) => {
    const record: KafkaRecord = {
      topic: 'orders',
      partition: offset % 2,
      offset: BigInt(offset),
      timestampMs: T + offset,
      timestampType: 'create',
      key: Buffer.from(`ord-${offset}`),
      value: Buffer.from(value),
      headers: [{ key: 'trace', value: Buffer.from(`t${offset}`) }],
    }
    lines.push(
      envelopeLine({
        ...record,
        headers: quarantineHeaders({ record, stage, error: Object.assign(new Error(`${name} at ${offset}`), { name }) }, new Date(T + offset)),
      }),
    )
  }
  add(1, 'decode', 'DecodeError', '{bad')
  add(2, 'decode', 'DecodeError', '{"amount": 12, "currency": "EUR"}')
  add(3, 'decode', 'DecodeError', '{bad3')
  add(4, 'transform', 'TypeError', '{"x":1}')
  add(5, 'transform', 'TypeError', '{"x":2}')
  lines.push(
    envelopeLine({
      topic: 'orders-dlt',
      partition: 0,
      offset: 9n,
      timestampMs: T,
      timestampType: 'create',
      key: Buffer.from('spring-1'),
      value: Buffer.from('{"s":1}'),
      headers: [
        { key: 'kafka_dlt-original-topic', value: Buffer.from('payments') },
        { key: 'kafka_dlt-exception-fqcn', value: Buffer.from('org.springframework.kafka.listener.ListenerExecutionFailedException') },
      ],
    }),
  )
  writeFileSync(path, lines.join(''))
  return path
}

async function setup(options: { editor?: (path: string) => void; width?: number; height?: number; path?: string } = {}) {
  const path = options.path ?? quarantineFile()
  const ctx = openQuarantine({ kind: 'file', path }, undefined)
  const controller = new TriageController({ ctx, actor: { by: 'tester', host: 'ci' }, runEditor: options.editor, exportDir: dir }, options.height ?? 20)
  controller.dispatch({ type: 'resize', height: options.height ?? 20, width: options.width ?? 110 })
  await controller.load()
  const ui = render(<TriageApp controller={controller} />)
  // Without colours: assertions read the text a person sees.
  const frame = () => (ui.lastFrame() ?? '').replace(/\x1b\[[0-9;]*m/g, '')
  return { path, controller, ui, frame }
}

test('the list groups records by error with counts, largest group first, and shows the record under the cursor', async () => {
  const { controller, ui, frame } = await setup()
  assert.match(frame(), '6 of 6 records')
  const f = frame()
  const at = (text: string) => f.indexOf(text)
  assert.ok(at('3 DecodeError · decode') > 0)
  assert.ok(at('3 DecodeError · decode') < at('2 TypeError · transform'))
  assert.ok(at('2 TypeError · transform') < at('1 org.springframework'))
  // The key help keeps two spaces between keys, so they read as separate items.
  assert.match(f, '↑↓/jk move  / filter  enter detail  r retry')
  await controller.handleKey('j')
  assert.match(frame(), '0@0')
  assert.match(frame(), 'original  orders-1@1')
  assert.match(frame(), 'error     DecodeError')
  await controller.handleKey('', { downArrow: true })
  await controller.handleKey('k')
  assert.match(frame(), 'message   DecodeError at 1')
  ui.unmount()
})

test('/ filters across error, message, key and topic; esc cancels typing', async () => {
  const { controller, ui, frame } = await setup()
  await controller.handleKey('/')
  await controller.handleKey('pay')
  await controller.handleKey('ments')
  assert.match(frame(), '/payments')
  await controller.handleKey('', { return: true })
  assert.match(frame(), '1 of 6 records matching "payments"')
  assert.not.match(frame(), 'DecodeError')
  await controller.handleKey('/')
  await controller.handleKey('', { backspace: true })
  await controller.handleKey('', { escape: true })
  assert.match(frame(), 'matching "payments"')
  ui.unmount()
})

test('enter opens the detail: headers (context marked), value as pretty JSON, stack', async () => {
  const { controller, ui, frame } = await setup()
  await controller.handleKey('j')
  await controller.handleKey('j')
  await controller.handleKey('', { return: true })
  const f = frame()
  assert.match(f, '0@1 (recover)')
  assert.match(f, '  trace: t2')
  assert.match(f, 'failure-context headers, stripped on redrive')
  assert.match(f, '"currency": "EUR"')
  await controller.handleKey('', { escape: true })
  assert.match(frame(), 'enter: headers, value and stack')
  ui.unmount()
})

test('d asks for a reason, refuses an empty one, and drops the group under the cursor into the audit trail', async () => {
  const { path, controller, ui, frame } = await setup()
  await controller.handleKey('d')
  assert.match(frame(), 'Drop 3 records: all of DecodeError · decode. Reason:')
  await controller.handleKey('', { return: true })
  assert.match(frame(), 'A reason is required')
  for (const c of 'known bad deploy') await controller.handleKey(c)
  await controller.handleKey('', { return: true })
  assert.match(frame(), 'Dropped 3 record(s): "known bad deploy"')
  assert.match(frame(), '3 handled')
  assert.match(frame(), '(0 open)')
  const audit = readFileSync(path.replace(/\.jsonl$/, '.audit.jsonl'), 'utf8')
  assert.match(audit, '"reason":"known bad deploy"')
  assert.is(controller.getState().states.get('0@2'), 'dropped')
  ui.unmount()
})

test('r without --sink says how to start triage; ? shows the keys; x exports the record', async () => {
  const { controller, ui, frame } = await setup()
  await controller.handleKey('j')
  await controller.handleKey('r')
  assert.match(frame(), 'Retry needs a sink')
  await controller.handleKey('e')
  assert.match(frame(), 'Retry needs a sink')
  await controller.handleKey('?')
  assert.match(frame(), 'edit the value in $EDITOR')
  await controller.handleKey('', { escape: true })
  await controller.handleKey('x')
  assert.match(frame(), 'Export to:')
  await controller.handleKey('', { return: true })
  assert.match(frame(), 'Exported 1 record(s)')
  ui.unmount()
})

test('the redrive confirmation renders with [y/N], and n cancels it without acting', async () => {
  const state = reduce(initialState('file:q.jsonl', 5), {
    type: 'confirm',
    confirm: { action: 'redrive', ids: ['0@0'], text: 'Redrive 1 record(s) to orders?' },
  })
  const still = render(<TriageScreen state={state} width={100} />)
  assert.match(still.lastFrame() ?? '', 'Redrive 1 record(s) to orders? [y/N]')
  still.unmount()
  const { controller, ui, frame } = await setup()
  controller.dispatch({ type: 'confirm', confirm: { action: 'redrive', ids: ['0@0', '0@1', '0@2'], text: 'Redrive 3 record(s) to orders?' } })
  await new Promise((resolve) => setImmediate(resolve))
  assert.match(frame(), 'Redrive 3 record(s) to orders? [y/N]')
  await controller.handleKey('n')
  assert.match(frame(), 'Cancelled.')
  assert.is(controller.getState().states.size, 0)
  ui.unmount()
})

test('windowed: 100,000 records render only the visible rows, and moving a page keeps the cursor in the window', () => {
  const summaries: QuarantineSummary[] = []
  for (let i = 0; i < 100_000; i++)
    summaries.push({
      id: `0@${i}`,
      position: { partition: 0, offset: BigInt(i) },
      dialect: 'recover',
      original: { topic: 'orders', partition: 0, offset: BigInt(i) },
      errorClass: i % 3 === 0 ? 'DecodeError' : 'TypeError',
      message: 'm',
      stage: 'decode',
      failedAtMs: T,
      redriveCount: 0,
      key: `k${i}`,
      valueBytes: 10,
    })
  let state = reduce(initialState('kafka:q', 20), { type: 'loaded', summaries, states: new Map() })
  assert.is(state.rows.length, 100_002)
  for (let i = 0; i < 5; i++) state = reduce(state, { type: 'move', delta: state.height })
  assert.is(state.cursor, 100)
  assert.ok(state.scroll <= state.cursor && state.cursor < state.scroll + state.height)
  const ui = render(<TriageScreen state={state} width={100} />)
  const frame = ui.lastFrame() ?? ''
  assert.ok(frame.split('\n').length < 40, 'only the window is drawn')
  ui.unmount()
  assert.is(buildRows(summaries, 'k99999', new Map()).matching, 1)
})

/** A file quarantine with long keys, a CJK key, long messages and a 40-line stack. */
function longQuarantineFile(): string {
  const path = join(dir, `long-${n++}.jsonl`)
  const lines: string[] = []
  for (let offset = 0; offset < 30; offset++) {
    const record: KafkaRecord = {
      topic: 'orders-with-a-rather-long-topic-name',
      partition: 2,
      offset: BigInt(1750 + offset),
      timestampMs: T + offset,
      timestampType: 'create',
      key: Buffer.from(offset === 1 ? '注文-東京-0005748-ゆうびん-とても長いキー' : `ord-0005123-customer-4711-invoice-${offset}-with-a-very-long-suffix`),
      value: Buffer.from(JSON.stringify({ offset, items: Array.from({ length: 8 }, (_, i) => ({ sku: `sku-${i}`, note: 'x'.repeat(60) })) })),
      headers: [{ key: 'app-version', value: Buffer.from('1.6.0') }],
    }
    const error = Object.assign(
      new Error(`Not Confluent-framed Avro: byte 0 is 0x6f, not the magic byte 0 (it looks like text) at ${offset}; ${'more detail '.repeat(8)}`),
      {
        name: 'DecodeError',
      },
    )
    error.stack = [
      `DecodeError: ${error.message}`,
      ...Array.from({ length: 40 }, (_, i) => `    at frame${i} (file:///opt/recover/dist/src/some/deeply/nested/module-${i}.js:${i}:7)`),
    ].join('\n')
    lines.push(envelopeLine({ ...record, headers: quarantineHeaders({ record, stage: 'decode', error }, new Date(T + offset)) }))
  }
  writeFileSync(path, lines.join(''))
  return path
}

/** Every line of a frame fits in `width` terminal cells, and the frame in `rows` rows. */
function assertFits(frame: string, width: number, rows: number, what: string) {
  const lines = frame.split('\n')
  assert.ok(lines.length <= rows, `${what}: ${lines.length} lines for ${rows} rows\n${frame}`)
  const wide = lines.filter((l) => cellWidth(l) > width)
  assert.equal(wide, [], `${what}: lines wider than ${width} cells`)
}

test('at 80x24 every screen fits: one header line, no wrapped legend, long keys and messages cut with an ellipsis', async () => {
  const { controller, ui, frame } = await setup({ width: 80, height: 21, path: longQuarantineFile() })
  assertFits(frame(), 80, 23, 'the list')
  assert.match(frame().split('\n')[0]!, /^recover triage .*30 of 30 records, 0 handled/, frame())
  assert.match(frame(), '↑↓ move  / filter  enter detail')
  await controller.handleKey('j')
  // The key keeps more room than the topic, whose end (partition@offset) stays.
  assert.match(frame(), /0@0 +…[a-z-]*-2@1750 ord-0005123-custom[^\n]*…/)
  assert.match(frame(), /message +Not Confluent-framed[^\n]*…/)
  await controller.handleKey('j')
  assertFits(frame(), 80, 23, 'a CJK key')
  await controller.handleKey('', { return: true })
  await waitForFrame(frame, 'lines 1–')
  assertFits(frame(), 80, 23, 'the detail')
  assert.match(frame().split('\n')[0]!, /^recover triage /)
  for (const key of ['?', 'l']) {
    await controller.handleKey('', { escape: true })
    await controller.handleKey(key)
    assertFits(frame(), 80, 23, `after ${key}`)
  }
  await controller.handleKey('', { escape: true })
  await controller.handleKey('/')
  for (const c of 'a very long filter text that goes on and on past the edge of the terminal') await controller.handleKey(c)
  assertFits(frame(), 80, 23, 'a long filter being typed')
  assert.match(frame(), '(enter: apply, esc: cancel)')
  ui.unmount()
})

async function waitForFrame(frame: () => string, text: string) {
  for (let i = 0; i < 100 && !frame().includes(text); i++) await new Promise((resolve) => setTimeout(resolve, 10))
  assert.match(frame(), text)
}

test('the detail scrolls: down, a page, G to the end and gg back; the header stays', async () => {
  const { controller, ui, frame } = await setup({ width: 80, height: 21, path: longQuarantineFile() })
  await controller.handleKey('j')
  await controller.handleKey('', { return: true })
  await waitForFrame(frame, 'lines 1–20 of')
  assert.not.match(frame(), 'frame39')
  await controller.handleKey('j')
  assert.match(frame(), 'lines 2–21 of')
  await controller.handleKey('', { pageDown: true })
  assert.match(frame(), 'lines 22–41 of')
  await controller.handleKey('G')
  assert.match(frame(), 'frame39')
  const total = /lines \d+–\d+ of (\d+)/.exec(frame())![1]
  assert.match(frame(), `–${total} of ${total}`)
  await controller.handleKey('j')
  assert.match(frame(), `–${total} of ${total}`)
  await controller.handleKey('g')
  await controller.handleKey('g')
  assert.match(frame(), 'lines 1–20 of')
  assert.match(frame().split('\n')[0]!, /^recover triage /)
  assertFits(frame(), 80, 23, 'the scrolled detail')
  await controller.handleKey('', { escape: true })
  assert.match(frame(), 'enter: headers, value and stack')
  ui.unmount()
})

test('Home/End and gg/G jump to the first and last line of the list', async () => {
  const { controller, ui } = await setup()
  const rows = controller.getState().rows.length
  await controller.handleKey('', { end: true })
  assert.is(controller.getState().cursor, rows - 1)
  await controller.handleKey('', { home: true })
  assert.is(controller.getState().cursor, 0)
  await controller.handleKey('G')
  assert.is(controller.getState().cursor, rows - 1)
  await controller.handleKey('g')
  assert.is(controller.getState().cursor, rows - 1, 'one g waits for the second')
  await controller.handleKey('g')
  assert.is(controller.getState().cursor, 0)
  await controller.handleKey('g')
  await controller.handleKey('j')
  assert.is(controller.getState().cursor, 1, 'g then another key is that key')
  ui.unmount()
})

test('the drop prompt says how many records it drops: one, or the whole group', async () => {
  const { controller, ui, frame } = await setup()
  await controller.handleKey('j')
  await controller.handleKey('d')
  assert.match(frame(), 'Drop 1 record (0@0). Reason:')
  await controller.handleKey('', { escape: true })
  await controller.handleKey('', { home: true })
  await controller.handleKey('d')
  assert.match(frame(), 'Drop 3 records: all of DecodeError · decode. Reason:')
  ui.unmount()
})

test('/ matches a position: orders-1@3 exactly (not orders-1@30), and a quarantine position', async () => {
  const { controller, ui, frame } = await setup()
  await controller.handleKey('/')
  for (const c of 'orders-1@3') await controller.handleKey(c)
  await controller.handleKey('', { return: true })
  assert.match(frame(), '1 of 6 records matching "orders-1@3"')
  assert.match(frame(), 'orders-1@3 ord-3')
  await controller.handleKey('/')
  for (let i = 0; i < 'orders-1@3'.length; i++) await controller.handleKey('', { backspace: true })
  for (const c of '0@4') await controller.handleKey(c)
  await controller.handleKey('', { return: true })
  assert.match(frame(), '1 of 6 records matching "0@4"')
  assert.match(frame(), 'orders-1@5')
  ui.unmount()
})

test('a resize lays the screen out again for the new width and height', async () => {
  const { controller, ui, frame } = await setup({ width: 200, height: 47, path: longQuarantineFile() })
  assertFits(frame(), 200, 49, '200x50')
  assert.match(frame(), 'e edit  x export  l lag')
  controller.dispatch({ type: 'resize', width: 80, height: 21 })
  await waitForFrame(frame, 'all keys')
  assertFits(frame(), 80, 23, 'shrunk to 80x24')
  controller.dispatch({ type: 'resize', width: 200, height: 47 })
  await waitForFrame(frame, 'l lag')
  assertFits(frame(), 200, 49, 'back to 200x50')
  ui.unmount()
})

test.run()
