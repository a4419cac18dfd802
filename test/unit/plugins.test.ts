import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { RecoveryError } from '../../src/errors.js'
import { defineTransform, headerText, setHeader, type PluginContext, type ReplayRecord } from '../../src/plugin-api.js'
import { loadTransformPlugin } from '../../src/plugin-host/load-plugin.js'
import { TransformRunner, TransformTimeoutError, type TransformOutcome } from '../../src/plugin-host/run-transform.js'
import { callWithTimeout, PluginTimeoutError } from '../../src/plugin-host/guarded-call.js'
import { repoRoot } from '../support/paths.js'

const dir = mkdtempSync(join(tmpdir(), 'recover-plugins-'))
const ctx: PluginContext = { signal: new AbortController().signal, log: () => undefined, plugin: { name: 't', version: '0' } }

function record(value: unknown, headers: Record<string, string> = {}): ReplayRecord {
  return {
    key: 'k',
    value,
    headers: Object.entries(headers).map(([key, v]) => ({ key, value: Buffer.from(v) })),
    timestamp: 1_521_590_400_000,
    timestampType: 'create',
    source: { topic: 'orders', partition: 2, offset: 41n },
  }
}

async function loadError(path: string): Promise<RecoveryError> {
  try {
    await loadTransformPlugin(path)
  } catch (error) {
    assert.instance(error, RecoveryError)
    return error as RecoveryError
  }
  throw new Error(`${path} loaded`)
}

const run = async (runner: TransformRunner, r: ReplayRecord): Promise<TransformOutcome> => runner.apply(r)

test('the first-party TypeScript plugins load without a build step', async () => {
  for (const name of ['fix-bad-deploy', 'redact-fields', 'filter-app-version']) {
    const { plugin } = await loadTransformPlugin(join(repoRoot(), 'plugins', `${name}.ts`))
    assert.is(plugin.name, name)
    assert.is(plugin.version, '1.0.0')
  }
})

test('fix-bad-deploy divides 1.6.0 amounts by 100, passes the rest, and refuses amounts the bug cannot have written', async () => {
  const { plugin } = await loadTransformPlugin(join(repoRoot(), 'plugins', 'fix-bad-deploy.ts'))
  const runner = new TransformRunner(plugin, ctx, 1000)
  const fixed = await run(runner, record({ order_id: 'o1', amount_cents: 1_234_500 }, { 'app-version': '1.6.0' }))
  assert.equal(fixed.ok && fixed.outputs.map((o) => o.value), [{ order_id: 'o1', amount_cents: 12_345 }])
  const untouched = await run(runner, record({ order_id: 'o2', amount_cents: 999 }, { 'app-version': '1.5.0' }))
  assert.equal(untouched.ok && untouched.outputs.map((o) => o.value), [{ order_id: 'o2', amount_cents: 999 }])
  const odd = await run(runner, record({ order_id: 'o3', amount_cents: 1_234_501 }, { 'app-version': '1.6.0' }))
  assert.is(odd.ok, false)
  assert.match(!odd.ok ? odd.error.message : '', /not a multiple of 100/)
})

test('redact and filter plugins', async () => {
  const redact = new TransformRunner((await loadTransformPlugin(join(repoRoot(), 'plugins', 'redact-fields.ts'))).plugin, ctx, 1000)
  const r = await run(redact, record({ customer: 'cust-00042', amount_cents: 5 }))
  const value = r.ok ? (r.outputs[0]!.value as { customer: string; amount_cents: number }) : undefined
  assert.match(value!.customer, /^redacted:[0-9a-f]{16}$/)
  assert.is(value!.amount_cents, 5)
  const filter = new TransformRunner((await loadTransformPlugin(join(repoRoot(), 'plugins', 'filter-app-version.ts'))).plugin, ctx, 1000)
  const kept = await run(filter, record({}, { 'app-version': '1.6.0' }))
  const dropped = await run(filter, record({}, { 'app-version': '1.6.1' }))
  assert.is(kept.ok && kept.outputs.length, 1)
  assert.is(dropped.ok && dropped.outputs.length, 0)
})

test("a plugin anywhere on disk imports 'recover/plugin-api' and gets the host's own module", async () => {
  const source = `import { defineTransform, headerText } from 'recover/plugin-api'
export default defineTransform({ name: 'outside', version: '1.0.0', transform: (r) => ({ ...r, value: headerText(r, 'x') }) })
`
  mkdirSync(join(dir, 'esm'), { recursive: true })
  writeFileSync(join(dir, 'esm', 'package.json'), '{"type":"module"}')
  for (const file of ['outside.ts', 'outside.mjs', join('esm', 'outside.ts'), join('esm', 'outside.js')]) {
    writeFileSync(join(dir, file), source)
    const { plugin } = await loadTransformPlugin(join(dir, file))
    const out = await new TransformRunner(plugin, ctx, 100).apply(record(1, { x: 'from header' }))
    assert.equal(out.ok && out.outputs.map((o) => o.value), ['from header'], file)
  }
})

test('every way a plugin file can be wrong is a clear usage error', async () => {
  const missing = await loadError(join(dir, 'nope.ts'))
  assert.is(missing.code, 'PLUGIN_NOT_FOUND')
  assert.match(missing.message, /nope\.ts does not exist/)

  writeFileSync(join(dir, 'syntax.ts'), 'export default defineTransform({ name: "x", \n')
  const syntax = await loadError(join(dir, 'syntax.ts'))
  assert.is(syntax.code, 'BAD_PLUGIN')
  assert.match(syntax.message, /could not be loaded/)

  writeFileSync(join(dir, 'nodefault.ts'), 'export const x: number = 1\n')
  assert.match((await loadError(join(dir, 'nodefault.ts'))).message, /has no default export/)

  writeFileSync(join(dir, 'plain.mjs'), 'export default { name: "x", version: "1", transform: (r) => r }\n')
  assert.match((await loadError(join(dir, 'plain.mjs'))).message, /not a transform: make it with defineTransform/)

  writeFileSync(join(dir, 'throws.js'), 'throw new Error("top-level boom")\n')
  assert.match((await loadError(join(dir, 'throws.js'))).message, /top-level boom/)

  writeFileSync(join(dir, 'data.json'), '{}')
  assert.is((await loadError(join(dir, 'data.json'))).code, 'BAD_PLUGIN')
})

test('the runner turns throws, rejections, timeouts and malformed results into outcomes', async () => {
  const make = (transform: (r: ReplayRecord) => unknown) =>
    new TransformRunner(defineTransform({ name: 'x', version: '1', transform: transform as never }), ctx, 50)
  const threw = await run(
    make(() => {
      throw new TypeError('bad field')
    }),
    record(1),
  )
  assert.is(!threw.ok && threw.error.name, 'TypeError')
  const rejected = await run(
    make(async () => {
      throw new Error('async bad')
    }),
    record(1),
  )
  assert.is(!rejected.ok && rejected.error.message, 'async bad')
  const slow = await run(
    make(() => new Promise(() => undefined)),
    record(1),
  )
  assert.instance(!slow.ok && slow.error, TransformTimeoutError)
  const forgot = await run(
    make(() => undefined),
    record(1),
  )
  assert.match(!forgot.ok ? forgot.error.message : '', /returned undefined/)
  const notRecord = await run(
    make(() => 42),
    record(1),
  )
  assert.match(!notRecord.ok ? notRecord.error.message : '', /a number/)
  const nonError = await run(
    make(() => {
      throw 'a string'
    }),
    record(1),
  )
  assert.match(!nonError.ok ? nonError.error.message : '', /a string/)
})

test('outputs are completed from the input, keep its provenance, and may be several or none', async () => {
  const fanOut = new TransformRunner(
    defineTransform({
      name: 'x',
      version: '1',
      transform: (r) => [
        { value: 1 },
        { value: 2, key: null, timestamp: 5, headers: [{ key: 'h', value: 'v' }] },
        { ...r, value: 3, source: { topic: 'other', partition: 9, offset: 0n } },
      ],
    }),
    ctx,
    50,
  )
  const out = await run(fanOut, record(0, { a: '1' }))
  assert.ok(out.ok)
  const outputs = out.ok ? out.outputs : []
  assert.equal(
    outputs.map((o) => [
      o.key,
      o.value,
      o.timestamp,
      o.headers.map((h) => `${h.key}=${h.value}`),
      `${o.source.topic}-${o.source.partition}@${o.source.offset}`,
    ]),
    [
      ['k', 1, 1_521_590_400_000, ['a=1'], 'orders-2@41'],
      [null, 2, 5, ['h=v'], 'orders-2@41'],
      ['k', 3, 1_521_590_400_000, ['a=1'], 'orders-2@41'],
    ],
  )
  const none = await run(new TransformRunner(defineTransform({ name: 'x', version: '1', transform: () => [] }), ctx, 50), record(0))
  assert.is(none.ok && none.outputs.length, 0)
})

test('defineTransform checks its definition, and header helpers read and replace headers', () => {
  assert.throws(() => defineTransform({ name: '', version: '1', transform: (r) => r }), /name/)
  assert.throws(() => defineTransform({ name: 'x', version: '', transform: (r) => r }), /version/)
  const headers = [
    { key: 'a', value: Buffer.from('1') },
    { key: 'b', value: null },
    { key: 'a', value: Buffer.from('2') },
  ]
  assert.is(headerText({ headers }, 'a'), '1')
  assert.is(headerText({ headers }, 'b'), null)
  assert.is(headerText({ headers }, 'c'), undefined)
  assert.equal(
    setHeader(headers, 'a', 'x').map((h) => `${h.key}=${h.value}`),
    ['a=x', 'b=null'],
  )
  assert.equal(
    setHeader(headers, 'c', 'y').map((h) => h.key),
    ['a', 'b', 'a', 'c'],
  )
})

test('applyAll stops a synchronous infinite loop: that record times out, the others before and after it pass, in order', async () => {
  const plugin = defineTransform({
    name: 'hangs',
    version: '1',
    transform(r) {
      if (r.value === 'hang') for (;;) {}
      if (r.value === 'throw') throw new TypeError('bad')
      return { ...r, value: `${String(r.value)}!` }
    },
  })
  const outcomes = await new TransformRunner(plugin, ctx, 1000).applyAll(['a', 'hang', 'b', 'throw', 'hang', 'c'].map((v) => record(v)))
  assert.equal(
    outcomes.map((o) => (o.ok ? o.outputs[0]!.value : o.error.name)),
    ['a!', 'TransformTimeoutError', 'b!', 'TypeError', 'TransformTimeoutError', 'c!'],
  )
  const timedOut = outcomes[1]!
  assert.instance(!timedOut.ok && timedOut.error, TransformTimeoutError)
  assert.match(!timedOut.ok ? timedOut.error.message : '', /within 1000 ms/)
})

test('applyAll times out an async transform whose promise never settles, and awaits async calls one at a time', async () => {
  let active = 0
  let most = 0
  const plugin = defineTransform({
    name: 'async',
    version: '1',
    async transform(r) {
      // The abandoned call never settles; count the others.
      if (r.value === 'never') await new Promise(() => undefined)
      active++
      most = Math.max(most, active)
      try {
        await new Promise((resolve) => setImmediate(resolve))
        return r
      } finally {
        active--
      }
    },
  })
  const outcomes = await new TransformRunner(plugin, ctx, 200).applyAll(['a', 'never', 'b'].map((v) => record(v)))
  assert.equal(
    outcomes.map((o) => (o.ok ? o.outputs[0]!.value : o.error.name)),
    ['a', 'TransformTimeoutError', 'b'],
  )
  assert.is(most, 1)
})

test('applyAll runs a batch of slow-but-finite synchronous calls to the end (chunks yield, no record is blamed for the others)', async () => {
  const plugin = defineTransform({
    name: 'slow',
    version: '1',
    transform(r) {
      const until = performance.now() + 3
      while (performance.now() < until) {}
      return r
    },
  })
  // 300 calls of 3 ms: several chunks of the 5 s timeout's 500 ms share.
  const outcomes = await new TransformRunner(plugin, ctx, 5000).applyAll(Array.from({ length: 300 }, (_, i) => record(i)))
  assert.ok(outcomes.every((o) => o.ok))
})

test('callWithTimeout returns values, passes throws on, and stops a sync loop or a promise that never settles', async () => {
  assert.is(await callWithTimeout('write', 1000, () => 42), 42)
  assert.is(await callWithTimeout('write', 1000, async () => 'later'), 'later')
  try {
    await callWithTimeout('write', 1000, () => {
      throw new TypeError('own')
    })
    assert.unreachable('should throw')
  } catch (error) {
    assert.is((error as Error).message, 'own')
  }
  for (const hang of [
    () => {
      for (;;) {}
    },
    () => new Promise(() => undefined),
  ]) {
    try {
      await callWithTimeout('write', 300, hang)
      assert.unreachable('should time out')
    } catch (error) {
      assert.instance(error, PluginTimeoutError)
      assert.match((error as Error).message, /write did not finish within 300 ms/)
    }
  }
})

test.run()
