import { createServer } from 'node:http'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { loadSinkPlugin, loadTransformPlugin } from '../../src/plugin-host/load-plugin.js'
import { headerText, type PluginContext, type SinkRecord } from '../../src/plugin-api.js'
import { repoRoot } from '../support/paths.js'

/** The ```ts blocks of docs/plugins.md, by the file name their first comment gives. */
function examples(): Map<string, string> {
  const doc = readFileSync(join(repoRoot(), 'docs', 'plugins.md'), 'utf8')
  const out = new Map<string, string>()
  for (const m of doc.matchAll(/```ts\n([\s\S]*?)```/g)) {
    const name = /^\/\/ ([\w-]+\.ts):/.exec(m[1]!)?.[1]
    if (name) out.set(name, m[1]!)
  }
  return out
}

const dir = mkdtempSync(join(tmpdir(), 'recover-plugin-docs-'))
const logs: string[] = []
const ctx = (target = ''): PluginContext & { target: string } => ({
  signal: new AbortController().signal,
  log: (m) => logs.push(m),
  plugin: { name: 'x', version: '1' },
  target,
})
const header = (key: string, value: string) => ({ key, value: Buffer.from(value) })
const source = { topic: 'orders', partition: 1, offset: 42n }

test('docs/plugins.md has a transform and a sink example', () => {
  assert.equal([...examples().keys()].sort(), ['fix-currency.ts', 'http-sink.ts'])
})

test('the transform example fixes what 2.3.0 wrote, passes the rest, drops tombstones and throws on a missing field', async () => {
  const file = join(dir, 'fix-currency.ts')
  writeFileSync(file, examples().get('fix-currency.ts')!)
  const { plugin } = await loadTransformPlugin(file)
  const record = (value: unknown, version: string) => ({
    key: 'k',
    value,
    headers: [header('app-version', version)],
    timestamp: 1,
    timestampType: 'create' as const,
    source,
  })
  const fixed = (await plugin.transform(record({ order_id: 'o1', currency: 'eur' }, '2.3.0'), ctx())) as any
  assert.is(fixed.value.currency, 'EUR')
  assert.is(headerText(fixed, 'fixed-by'), 'fix-currency@1.0.0')
  const other = record({ order_id: 'o2', currency: 'usd' }, '2.2.0')
  assert.is(await plugin.transform(other, ctx()), other)
  assert.is(await plugin.transform(record(null, '2.3.0'), ctx()), null)
  assert.throws(() => plugin.transform(record({ order_id: 'o3' }, '2.3.0'), ctx()), /currency is missing/)
  assert.ok(logs.includes('fixing o1'))
})

test('the sink example posts a batch to its target and rejects tombstones by index', async () => {
  const file = join(dir, 'http-sink.ts')
  writeFileSync(file, examples().get('http-sink.ts')!)
  const { plugin } = await loadSinkPlugin(file)
  const bodies: unknown[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('end', () => {
      bodies.push(JSON.parse(body))
      res.end('ok')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/orders`
    await plugin.open?.(ctx(url))
    const rec = (decodedValue: unknown, offset: bigint): SinkRecord => ({
      key: null,
      value: null,
      decodedKey: null,
      decodedValue,
      headers: [],
      timestamp: 1,
      timestampType: 'create',
      source: { ...source, offset },
    })
    const result = await plugin.write([rec({ n: 1 }, 7n), rec(null, 8n)], ctx(url))
    assert.equal(
      (result as { rejected: Array<{ index: number }> }).rejected.map((r) => r.index),
      [1],
    )
    assert.equal(bodies, [[{ offset: '7', partition: 1, value: { n: 1 } }]])
  } finally {
    server.close()
  }
})

test.after(() => rmSync(dir, { recursive: true, force: true }))

test.run()
