import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { renderBenchmarksDoc } from '../bench/benchmarks-doc.js'

const machine = { cpus: 2, cpuModel: 'CPU', memoryGb: 24, node: 'v20', kafka: '4.4.0', os: 'linux' }
const run = (file: string, output: string, exitCode = 0) => ({ file, output, exitCode, ms: 12_000, at: '2026-11-26 01:00 UTC' })

test('npm run bench replaces the sections of the benchmarks it ran and keeps the others', () => {
  const first = renderBenchmarksDoc(undefined, [run('seek.bench.js', 'seek 1'), run('audit.bench.js', 'audit 1')], machine)
  assert.match(first, /## audit\n[\s\S]*audit 1[\s\S]*## seek\n[\s\S]*seek 1/)
  const second = renderBenchmarksDoc(first, [run('seek.bench.js', 'progress 10%\rseek 2', 1)], machine)
  assert.match(second, /audit 1/)
  assert.match(second, /## seek\n\n2026-11-26 01:00 UTC, 12 s — \*\*failed \(exit 1\)\*\*/)
  assert.match(second, /```text\nseek 2\n```/)
  assert.not.match(second, /seek 1/)
  assert.is(second.match(/^# Benchmarks/gm)!.length, 1)
})

test.run()
