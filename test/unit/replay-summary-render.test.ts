import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { freshCounts, totalsOf, type PartitionCounts } from '../../src/core/replay-counts.js'
import { renderGroupReplaySummary, renderPartitionTable, renderReplaySummary } from '../../src/render/replay.js'
import type { GroupReplaySummary } from '../../src/services/replay-group.js'
import type { ReplaySummary } from '../../src/services/replay.js'

const cluster = { id: 'c1', bootstrap: ['127.0.0.1:9092'], source: '--brokers' }
const partitions: PartitionCounts[] = [
  { ...freshCounts({ partition: 0, start: 0n, end: 40n }, 40n), read: 40, written: 37, dropped: 1, quarantined: 2, outputs: 74, bytes: 4_000 },
  { ...freshCounts({ partition: 1, start: 5n, end: 25n }, 25n), read: 20, written: 20, outputs: 40, bytes: 2_000 },
]
const totals = totalsOf(partitions)

test('a replay and a --scale-out replay show their partitions in the one table: range, next, read, written, dropped, quarantined, out, and the totals', () => {
  const table = renderPartitionTable(partitions, totals)
  assert.equal(
    table.split('\n').map((l) => l.trim().split(/\s{2,}/)),
    [
      ['PARTITION', 'RANGE', 'NEXT', 'READ', 'WRITTEN', 'DROPPED', 'QUARANTINED', 'OUT'],
      ['0', '[0, 40)', '40', '40', '37', '1', '2', '74'],
      ['1', '[5, 25)', '25', '20', '20', '0', '0', '40'],
      ['total', '60', '57', '1', '2', '114'],
    ],
  )
  const single = {
    topic: 'orders',
    cluster,
    sink: 'kafka:orders.fixed',
    quarantine: 'kafka:orders.quarantine',
    transform: null,
    checkpoint: null,
    dryRun: false,
    resumed: false,
    resumes: 0,
    finished: true,
    interrupted: false,
    resent: 0,
    duplicatesPossible: false,
    batchSize: 5_000,
    partitions,
    totals,
    quarantinedByStage: { decode: 2, transform: 0, sink: 0 },
    alreadyQuarantined: 0,
    reconciled: true,
    readThisRun: 60,
    outages: 0,
    outageWaitedMs: 0,
    longestOutageMs: 0,
    outageSpans: [],
    elapsedMs: 1_000,
    recordsPerSecond: 60,
    warnings: [],
  } satisfies ReplaySummary
  const group = {
    group: 'recover-replay.fix',
    cluster,
    topic: 'orders',
    sink: 'kafka:orders.fixed',
    quarantine: 'kafka:orders.quarantine',
    partitions,
    totals,
    reconciled: true,
    finished: true,
    interrupted: false,
    assignments: 1,
    duplicatesPossible: false,
    outages: 0,
    outageWaitedMs: 0,
    longestOutageMs: 0,
    elapsedMs: 1_000,
  } satisfies GroupReplaySummary
  assert.ok(renderReplaySummary(single).includes(table))
  assert.ok(renderGroupReplaySummary(group).includes(table))
})

test.run()
