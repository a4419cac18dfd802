import { execFileSync } from 'node:child_process'
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as assert from 'uvu/assert'
import { uniqueName } from '../support/kafka.js'
import { readEnvelopeValues, runCliTo, seedTopic, startCli, tally, waitForProgress, type FaultScenario, type ScenarioResult } from './fault-support.js'

const RECORDS = 20_000
const BATCH = 500

/** A tmpfs of `size` at `dir` (needs root), unmounted by the returned function. */
function mountTmpfs(dir: string, size: string): () => void {
  mkdirSync(dir, { recursive: true })
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir])
  return () => execFileSync('umount', [dir])
}

/** Writes zeros until the file system is full. */
function fill(path: string): void {
  const fd = openSync(path, 'w')
  const chunk = Buffer.alloc(64 * 1024)
  try {
    for (;;) writeSync(fd, chunk)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error
  } finally {
    closeSync(fd)
  }
}

interface Checkpoint {
  finished: boolean
  sinkState: { bytes?: number }
  partitions: Array<{ read: number; written: number }>
}

/**
 * What was durable must be at least what the checkpoint claims: its sink length is within the
 * file, and the lines up to that length are exactly the records it counts as written.
 */
function checkNotAhead(cpPath: string, sinkPath: string, log: (line: string) => void): Checkpoint {
  const cp = JSON.parse(readFileSync(cpPath, 'utf8')) as Checkpoint
  const size = statSync(sinkPath).size
  const claimed = Number(cp.sinkState.bytes ?? 0)
  const written = cp.partitions.reduce((n, p) => n + p.written, 0)
  const lines = readFileSync(sinkPath)
    .subarray(0, claimed)
    .toString('utf8')
    .split('\n')
    .filter((l) => l !== '')
  log(`  checkpoint: ${written} written, sink ${claimed} bytes; the file has ${size} bytes, ${lines.length} whole lines up to the checkpoint`)
  assert.ok(claimed <= size, 'the checkpoint claims more bytes than the file has')
  assert.is(lines.length, written, 'lines up to the checkpoint = records it counts as written')
  for (const l of lines) JSON.parse(l)
  return cp
}

function notRoot(log: (line: string) => void): ScenarioResult | undefined {
  if (process.getuid?.() === 0) return undefined
  log('  skipped: mounting a small tmpfs needs root')
  return { faults: 0, recordsIn: 0, recordsOut: 0, lost: 0, duplicated: 0, notes: [], skipped: 'needs root (mount -t tmpfs)' }
}

/** Scenario 6: a full disk under the file sink, then under the checkpoint. */
export function diskFullScenarios(brokers: () => string): FaultScenario[] {
  return [
    {
      id: '6-sink',
      title: 'disk full under the file sink (1 MiB tmpfs), then grown, resumed',
      timeoutMs: 180_000,
      async run(log) {
        const skipped = notRoot(log)
        if (skipped) return skipped
        const dir = mkdtempSync(join(tmpdir(), 'recover-fault-6-sink-'))
        const mnt = join(dir, 'small')
        const umount = mountTmpfs(mnt, '1m')
        try {
          const topic = uniqueName('fault6-sink')
          await seedTopic(brokers(), topic, RECORDS)
          const sink = join(mnt, 'out.jsonl')
          const args = [
            'replay',
            '--topic',
            topic,
            '--sink',
            `file:${sink}`,
            '--quarantine',
            `file:${join(dir, 'q.jsonl')}`,
            '--checkpoint',
            join(dir, 'cp.json'),
            '--batch-size',
            String(BATCH),
          ]
          const full = await runCliTo(args, { cwd: dir, brokers: brokers(), timeoutMs: 120_000 })
          log(`  exit ${full.code}: ${full.stderr.split('\n').find((l) => l.startsWith('Error:')) ?? ''}`)
          assert.is(full.code, 5, full.stderr)
          assert.match(full.stderr, /^Error: The disk holding the sink file .*out\.jsonl is full \(ENOSPC\); free space there\.$/m)
          assert.match(full.stderr, /^ {2}→ Continue with: recover replay .* --resume$/m)
          checkNotAhead(join(dir, 'cp.json'), sink, log)
          execFileSync('mount', ['-o', 'remount,size=64m', mnt])
          log('  tmpfs grown to 64 MiB; resuming')
          const resumed = await runCliTo([...args, '--resume', '--json'], { cwd: dir, brokers: brokers(), timeoutMs: 120_000 })
          assert.is(resumed.code, 0, resumed.stderr)
          assert.ok(resumed.json.finished && resumed.json.reconciled)
          const t = tally(RECORDS, readEnvelopeValues(sink))
          log(`  found ${t.out} in the sink: ${t.lost} lost, ${t.duplicated} duplicated`)
          assert.is(t.lost, 0)
          assert.is(t.duplicated, 0)
          return { faults: 1, recordsIn: RECORDS, recordsOut: t.out, lost: t.lost, duplicated: t.duplicated, notes: [] }
        } finally {
          umount()
          rmSync(dir, { recursive: true, force: true })
        }
      },
    },
    {
      id: '6-checkpoint',
      title: 'disk full under the checkpoint mid-replay, space freed, resumed',
      timeoutMs: 180_000,
      async run(log) {
        const skipped = notRoot(log)
        if (skipped) return skipped
        const dir = mkdtempSync(join(tmpdir(), 'recover-fault-6-cp-'))
        const mnt = join(dir, 'small')
        const umount = mountTmpfs(mnt, '256k')
        try {
          const topic = uniqueName('fault6-cp')
          await seedTopic(brokers(), topic, RECORDS)
          const sink = join(dir, 'out.jsonl')
          const cpPath = join(mnt, 'cp.json')
          const args = [
            'replay',
            '--topic',
            topic,
            '--sink',
            `file:${sink}`,
            '--quarantine',
            `file:${join(dir, 'q.jsonl')}`,
            '--checkpoint',
            cpPath,
            '--batch-size',
            String(BATCH),
            '--rate',
            '4000',
          ]
          const run = startCli(args, { cwd: dir, brokers: brokers() })
          assert.is(await waitForProgress(cpPath, RECORDS / 4, run, 60_000), 'reached')
          fill(join(mnt, 'filler'))
          log('  checkpoint file system filled up mid-replay')
          const { code } = await run.done
          const firstLine =
            run
              .stderr()
              .trim()
              .split('\n')
              .find((l) => l.startsWith('Error:')) ?? ''
          log(`  exit ${code}: ${firstLine}`)
          assert.is(code, 5, run.stderr())
          assert.match(firstLine, /^Error: The disk holding the replay checkpoint .*cp\.json is full \(ENOSPC\); free space there\.$/)
          assert.match(run.stderr(), /^ {2}→ Continue with: recover replay .* --resume$/m)
          const cp = checkNotAhead(cpPath, sink, log)
          assert.not.ok(cp.finished)
          rmSync(join(mnt, 'filler'))
          log('  space freed; resuming')
          const resumed = await runCliTo([...args, '--resume', '--json'], { cwd: dir, brokers: brokers(), timeoutMs: 120_000 })
          assert.is(resumed.code, 0, resumed.stderr)
          assert.ok(resumed.json.finished && resumed.json.reconciled)
          const t = tally(RECORDS, readEnvelopeValues(sink))
          log(`  found ${t.out} in the sink: ${t.lost} lost, ${t.duplicated} duplicated`)
          assert.is(t.lost, 0)
          assert.is(t.duplicated, 0)
          return { faults: 1, recordsIn: RECORDS, recordsOut: t.out, lost: t.lost, duplicated: t.duplicated, notes: [] }
        } finally {
          umount()
          rmSync(dir, { recursive: true, force: true })
        }
      },
    },
  ]
}
