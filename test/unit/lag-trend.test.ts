import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { lagSeries } from '../../src/core/lag-trend.js'
import { bucketMax, sparkline } from '../../src/core/sparkline.js'
import { sinceInstant } from '../../src/core/since.js'
import { lagWatchLines } from '../../src/render/groups.js'
import type { GroupDetail } from '../../src/services/describe-group.js'

test('sparkline: scaled between the lowest and highest shown, flat when steady, a gap for not measured', () => {
  assert.is(sparkline([0, 7, 14]), '▁▅█')
  assert.is(sparkline([5, 5, 5]), '▁▁▁')
  assert.is(sparkline([1, null, 3]), '▁ █')
  assert.is(sparkline([1, 2, 3, 4], 2), '▁█')
  assert.is(sparkline([]), '')
})

test('bucketMax: a long history squeezed into the width, each bucket its worst lag', () => {
  assert.equal(bucketMax([1, 9, 2, 3, null, null, 4, 0], 4), [9, 3, null, 4])
  assert.equal(bucketMax([1, 2], 4), [1, 2])
})

test('lagSeries: per partition min/max/last, and a total summing records and keeping the oldest time', () => {
  const rows = [
    { sampledAt: '2026-12-06T10:00:00.000Z', topic: 'orders', partition: 1, lag: 4, lagMs: 1_000 },
    { sampledAt: '2026-12-06T10:00:00.000Z', topic: 'orders', partition: 0, lag: 10, lagMs: 60_000 },
    { sampledAt: '2026-12-06T10:01:00.000Z', topic: 'orders', partition: 0, lag: 2, lagMs: 5_000 },
    { sampledAt: '2026-12-06T10:01:00.000Z', topic: 'orders', partition: 1, lag: null, lagMs: null },
  ]
  const { partitions, total } = lagSeries(rows)
  assert.equal(
    partitions.map((p) => `${p.topic}-${p.partition}`),
    ['orders-0', 'orders-1'],
  )
  assert.equal(partitions[0]!.lag, { min: 2, max: 10, last: 2 })
  assert.equal(partitions[1]!.lag, { min: 4, max: 4, last: null })
  assert.equal(total!.lag, { min: 2, max: 14, last: 2 })
  assert.equal(total!.lagMs, { min: 5_000, max: 60_000, last: 5_000 })
  assert.is(total!.samples, 2)
})

test('sinceInstant: a bare duration is that long ago; times and -durations as time specs', () => {
  const now = Date.parse('2026-12-06T12:00:00Z')
  assert.is(sinceInstant('2h', { now }), Date.parse('2026-12-06T10:00:00Z'))
  assert.is(sinceInstant('-30m', { now }), Date.parse('2026-12-06T11:30:00Z'))
  assert.is(sinceInstant('2026-12-06T09:00Z', { now }), Date.parse('2026-12-06T09:00:00Z'))
})

test('the watch screen fits 80 columns and keeps partition numbers of long topic names', () => {
  const topic = 'payments.settlement.events.v2-with-a-very-long-name'
  const detail = {
    groupId: 'billing-consumers-of-the-settlement-pipeline-in-production-eu-west-1',
    state: 'Stable',
    protocolType: 'consumer',
    members: [{ memberId: 'm', clientId: 'c', host: 'h', partitions: 12 }],
    partitions: [],
    totals: { partitions: 12, lag: 0n, maxLagMs: 0, neverCommitted: 0 },
    measuredAt: '2026-12-06T10:00:00.000Z',
  } as GroupDetail
  const rows = []
  for (let s = 0; s < 100; s++)
    for (let p = 0; p < 12; p++)
      rows.push({ sampledAt: new Date(1_700_000_000_000 + s * 5_000).toISOString(), topic, partition: p, lag: 1_000_000_000 + s * p, lagMs: 3_600_000 * 30 })
  const { partitions, total } = lagSeries(rows)
  for (const columns of [80, 120, 40]) {
    const lines = lagWatchLines(
      { detail, sample: 100, intervalMs: 5_000, partitions, total, recordedTo: '/var/lib/recover/a/very/long/path/to/audit.duckdb' },
      columns,
    )
    for (const line of lines) assert.ok([...line].length <= Math.max(60, columns), `${[...line].length} > ${columns}: ${line}`)
    assert.ok(lines.some((l) => l.includes('…-11 ')))
    assert.ok(lines.some((l) => l.startsWith('total ')))
  }
})

test.run()
