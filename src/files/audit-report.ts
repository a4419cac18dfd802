import { once } from 'node:events'
import { createWriteStream, mkdirSync, renameSync, rmSync } from 'node:fs'
import { dirname, extname, resolve } from 'node:path'
import { format } from 'fast-csv'
import { RecoveryError } from '../errors.js'

/** One finding of an audit, flat, for reports: a copy of a duplicate, a missing key, an undecodable record... */
export interface FindingRow {
  finding: string
  key: string | null
  copies: number | null
  kind: string | null
  partition: number | null
  offset: string | null
  /** ISO-8601, UTC. */
  timestamp: string | null
  detail: string | null
}

export const FINDING_COLUMNS = ['finding', 'key', 'copies', 'kind', 'partition', 'offset', 'timestamp', 'detail'] as const

export type ReportFormat = 'csv' | 'json'

/** `--report out.csv` or `out.json`: the format from the extension, refused before any work when unknown. */
export function reportFormatOf(path: string): ReportFormat {
  const ext = extname(path).toLowerCase()
  if (ext === '.csv') return 'csv'
  if (ext === '.json') return 'json'
  throw new RecoveryError('USAGE', `--report ${path}: the report format comes from the extension, .csv or .json.`)
}

export interface WrittenReport {
  path: string
  format: ReportFormat
  /** Finding rows written. */
  rows: number
}

/**
 * Writes every finding, streamed (a chunk of rows at a time, with back-pressure), to a temporary
 * file that replaces `path` only when complete. CSV: one row per finding with a header row
 * (fast-csv, RFC 4180 quoting). JSON: `{"audit": <the result>, "findings": [ ... ]}`.
 */
export async function writeAuditReport(path: string, summary: unknown, chunks: AsyncIterable<FindingRow[]>): Promise<WrittenReport> {
  const target = resolve(path)
  const fmt = reportFormatOf(target)
  const temp = `${target}.${process.pid}.tmp`
  let rows = 0
  try {
    mkdirSync(dirname(target), { recursive: true })
    const file = createWriteStream(temp)
    const opened = once(file, 'open')
    const failed = new Promise<never>((_, reject) => file.once('error', reject))
    failed.catch(() => undefined)
    await Promise.race([opened, failed])
    const write = async (stream: NodeJS.WritableStream, chunk: unknown): Promise<void> => {
      if (!stream.write(chunk as never)) await Promise.race([once(stream, 'drain'), failed])
    }
    if (fmt === 'csv') {
      const csv = format<FindingRow, FindingRow>({ headers: [...FINDING_COLUMNS], alwaysWriteHeaders: true, includeEndRowDelimiter: true })
      csv.pipe(file)
      for await (const chunk of chunks) {
        for (const row of chunk) {
          await write(csv, row)
          rows++
        }
      }
      csv.end()
    } else {
      const json = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x))
      await write(file, `{"audit":${json(summary)},"findings":[`)
      for await (const chunk of chunks) {
        for (const row of chunk) {
          await write(file, `${rows === 0 ? '\n' : ',\n'}${json(row)}`)
          rows++
        }
      }
      await write(file, ']}\n')
    }
    if (fmt === 'json') file.end()
    await Promise.race([once(file, 'finish'), failed])
    renameSync(temp, target)
    return { path: target, format: fmt, rows }
  } catch (error) {
    rmSync(temp, { force: true })
    if (error instanceof RecoveryError) throw error
    throw new RecoveryError('REPORT_FAILED', `The report ${target} could not be written: ${(error as Error).message}.`, {
      cause: error,
      details: { path: target },
    })
  }
}
