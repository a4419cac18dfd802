/**
 * What the synchronous-hang guard costs (issue 9): the first-party fix-bad-deploy transform
 * over N records in batches of 5000, called directly in a loop (the anchor, no way to stop a
 * hang) vs TransformRunner.applyAll (calls chunked under node:vm's timeout), and an async
 * variant of the same transform through applyAll (one guarded call per record). Rounds
 * alternate; the median counts. No broker needed.
 *
 *   node dist/test/bench/transform-guard.bench.js [N=200000] [--rounds 5]
 */
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { DefinedTransform, PluginContext, ReplayRecord } from '../../src/plugin-api.js'
import { loadTransformPlugin } from '../../src/plugin-host/load-plugin.js'
import { TransformRunner } from '../../src/plugin-host/run-transform.js'
import { repoRoot } from '../support/paths.js'

const BATCH = 5_000
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US')

function records(n: number): ReplayRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    key: `ord-${i}`,
    value: { order_id: `ord-${i}`, amount_cents: 1_234_500 + i * 100, currency: 'EUR' },
    headers: [{ key: 'app-version', value: Buffer.from(i % 3 === 0 ? '1.6.0' : '1.5.0') }],
    timestamp: 1_521_590_400_000 + i,
    timestampType: 'create' as const,
    source: { topic: 'orders', partition: 0, offset: BigInt(i) },
  }))
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { rounds: { type: 'string', default: '5' } } })
  const n = Number(positionals[0] ?? 200_000)
  const rounds = Number(values.rounds)
  const ctx: PluginContext = { signal: new AbortController().signal, log: () => undefined, plugin: { name: 'bench', version: '0' } }
  const { plugin } = await loadTransformPlugin(join(repoRoot(), 'plugins', 'fix-bad-deploy.ts'))
  const asyncPlugin: DefinedTransform = { ...plugin, transform: async (r, c) => plugin.transform(r, c) }
  const runner = new TransformRunner(plugin, ctx, 5_000)
  const asyncRunner = new TransformRunner(asyncPlugin, ctx, 5_000)
  const input = records(n)
  const batches: ReplayRecord[][] = []
  for (let i = 0; i < n; i += BATCH) batches.push(input.slice(i, i + BATCH))

  const unguarded = async (): Promise<number> => {
    let ok = 0
    for (const batch of batches)
      for (const r of batch) {
        const o = runner.apply(r)
        if (!(o instanceof Promise) && o.ok) ok++
      }
    return ok
  }
  const guarded = async (): Promise<number> => {
    let ok = 0
    for (const batch of batches) for (const o of await runner.applyAll(batch)) if (o.ok) ok++
    return ok
  }
  const guardedAsync = async (): Promise<number> => {
    let ok = 0
    for (const batch of batches.slice(0, 2)) for (const o of await asyncRunner.applyAll(batch)) if (o.ok) ok++
    return ok
  }
  const variants = [
    { name: 'direct calls (anchor, unguarded)', run: unguarded, records: n },
    { name: 'applyAll, sync transform (guarded)', run: guarded, records: n },
    { name: 'applyAll, async transform (guarded)', run: guardedAsync, records: Math.min(n, 2 * BATCH) },
  ]
  const rates = new Map<string, number[]>(variants.map((v) => [v.name, []]))
  for (let round = 0; round < rounds; round++) {
    for (const v of variants) {
      const started = performance.now()
      const ok = await v.run()
      const ms = performance.now() - started
      if (ok !== v.records) throw new Error(`${v.name}: ${ok} of ${v.records} ok`)
      rates.get(v.name)!.push((v.records / ms) * 1000)
    }
  }
  const anchor = median(rates.get(variants[0]!.name)!)
  console.log(`transform guard, ${fmt(n)} records in batches of ${BATCH}, median of ${rounds} rounds:`)
  for (const v of variants) {
    const rate = median(rates.get(v.name)!)
    console.log(`  ${v.name.padEnd(40)} ${fmt(rate).padStart(12)} records/s  ${(1e6 / rate).toFixed(2).padStart(7)} µs/record  ${(rate / anchor).toFixed(2)}x`)
  }
}

await main()
