/**
 * Loaded into the soak's `recover replay` with `--import` (RECOVER_SOAK_MEMORY_FILE set): every
 * 250 ms one JSON line of the process's memory, plus the heap still in use after the latest
 * full (mark-compact) garbage collection. RSS and heap used rise and fall with garbage V8 has
 * not collected yet; what survives a full collection is what the replay really holds, so a
 * leak shows there. Read from V8's own GC statistics: the sampler forces no collection, which
 * would flatten the very RSS the soak measures.
 */
import { appendFileSync } from 'node:fs'
import { GCProfiler, getHeapSpaceStatistics } from 'node:v8'

export interface MemorySample {
  atMs: number
  rssMb: number
  heapUsedMb: number
  heapTotalMb: number
  externalMb: number
  /** V8's young generation as sized now (new_space): it starts small and grows with the allocation rate. */
  newSpaceMb: number
  /** The old generation as sized now (old_space). */
  oldSpaceMb: number
  /** Heap in use right after the latest full collection (undefined before the first). */
  liveAfterFullGcMb: number | undefined
  /** The same by V8 heap space (old_space, code_space, large_object_space…), to tell data from compiled code. */
  liveBySpaceMb: Record<string, number> | undefined
}

const file = process.env.RECOVER_SOAK_MEMORY_FILE
const MB = 1024 * 1024

if (file) {
  let profiler = new GCProfiler()
  profiler.start()
  let liveAfterFullGcMb: number | undefined
  let liveBySpaceMb: Record<string, number> | undefined
  const timer = setInterval(() => {
    // A profiler keeps every collection's statistics until stopped: a fresh one per sample stays small.
    const { statistics } = profiler.stop()
    profiler = new GCProfiler()
    profiler.start()
    for (const gc of statistics) {
      if (gc.gcType !== 'MarkSweepCompact') continue
      liveAfterFullGcMb = gc.afterGC.heapStatistics.usedHeapSize / MB
      liveBySpaceMb = Object.fromEntries(gc.afterGC.heapSpaceStatistics.map((space) => [space.spaceName, Math.round((space.spaceUsedSize / MB) * 10) / 10]))
    }
    const m = process.memoryUsage()
    const spaces = getHeapSpaceStatistics()
    const spaceSizeMb = (name: string) => (spaces.find((space) => space.space_name === name)?.space_size ?? 0) / MB
    const sample: MemorySample = {
      atMs: Date.now(),
      rssMb: m.rss / MB,
      heapUsedMb: m.heapUsed / MB,
      heapTotalMb: m.heapTotal / MB,
      externalMb: m.external / MB,
      newSpaceMb: spaceSizeMb('new_space'),
      oldSpaceMb: spaceSizeMb('old_space'),
      liveAfterFullGcMb,
      liveBySpaceMb,
    }
    appendFileSync(file, `${JSON.stringify(sample)}\n`)
  }, 250)
  timer.unref()
}
