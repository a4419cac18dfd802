import { appendFile, open as openFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { RecoveryError } from '../errors.js'
import { envelopeLine } from '../files/envelope.js'
import type { QuarantineFilter } from '../quarantine/quarantine-filter.js'
import { type QuarantineContext, scanMatching } from './quarantine.js'

export interface ExportResult {
  source: string
  file: string
  exported: number
  bytes: number
}

/**
 * The matching dead letters, exactly as stored (headers included), as envelope lines: read back
 * with --dlq file:PATH.jsonl, or replayed with the file's bytes. Refuses to overwrite a file.
 */
export async function exportQuarantine(ctx: QuarantineContext, filter: QuarantineFilter, path: string): Promise<ExportResult> {
  const file = resolve(path)
  let fh
  try {
    fh = await openFile(file, 'wx')
  } catch (cause) {
    const exists = (cause as NodeJS.ErrnoException).code === 'EEXIST'
    throw new RecoveryError(
      'SINK_FAILED',
      `The export file ${file} ${exists ? 'already exists' : `cannot be created (${(cause as Error).message})`}; choose another path${exists ? ' or remove it' : ''}.`,
      { cause, details: { path: file } },
    )
  }
  let exported = 0
  let bytes = 0
  try {
    await scanMatching(ctx, filter, async (batch) => {
      const text = batch.map((q) => envelopeLine(q.record)).join('')
      await fh.write(text)
      bytes += Buffer.byteLength(text)
      exported += batch.length
    })
    await fh.sync()
  } finally {
    await fh.close()
  }
  return { source: ctx.source.uri, file, exported, bytes }
}

/** Appends envelope lines (the parking "topic" of a file quarantine). */
export async function appendEnvelopes(path: string, lines: string): Promise<void> {
  await appendFile(path, lines)
}
