import { redactUrl } from '../core/audit-sink.js'
import type { RecordedCluster } from '../core/cluster-identity.js'
import { RecoveryError } from '../errors.js'
import type { PartitionCountsJson } from '../core/replay-counts.js'
import type { SinkRecord, SinkRejection } from '../plugin-api.js'

export type { SinkRecord, SinkRejection } from '../plugin-api.js'

/**
 * What a sink remembers in the checkpoint, JSON-safe: for files the byte length that is
 * durable, for Kafka the log end after our last acknowledged write per partition.
 */
export type SinkState = Record<string, unknown>

export interface SinkOpenResult {
  /** Records written after the checkpoint by the interrupted run, which this run writes again (at most one batch). */
  resent?: number
  /** Files: bytes after the checkpoint that were cut off (they are written again, so nothing is duplicated). */
  truncatedBytes?: number
  /**
   * Transactional sinks: the progress committed together with the data by the last batch of
   * this replay. It wins over the checkpoint file, which is written after the commit and so may
   * be one batch behind after a crash.
   */
  committed?: CommittedProgress
}

/** The replay's progress as a transactional sink commits it with each batch (JSON-safe). */
export interface CommittedProgress {
  partitions: PartitionCountsJson[]
  quarantineState: SinkState
  batches: number
  /** The source cluster: progress committed on another cluster is never continued (absent before recover recorded it). */
  cluster?: RecordedCluster
}

/** Which replay a sink writes for: transactional sinks key their stored progress (and Kafka its transactional id) by it. */
export interface ReplayIdentity {
  /** The checkpoint's runId: the same across --resume. */
  runId: string
  topic: string
}

/**
 * The one small interface every sink implements (file, Kafka, plugin): open, write batches,
 * make them durable at a checkpoint, close. The replay writes one batch at a time, and
 * checkpoints its read positions only after `checkpoint()` resolved, so a crash re-sends at most
 * the batch that was in flight.
 */
export interface Sink {
  /** For messages and the summary: `kafka:orders.fixed`, `file:/tmp/out.jsonl`. */
  readonly uri: string
  /** True when a resumed run may write some records a second time (no transaction with the checkpoint). */
  readonly mayDuplicateOnResume: boolean
  /**
   * True when each batch and the replay's progress are committed in one transaction
   * (PostgreSQL, DuckDB, Kafka with --exactly-once): checkpoint() then gets the progress.
   */
  readonly transactional?: boolean
  /** Opens the sink; with the state of a checkpoint, continues from it. */
  open(resume: SinkState | undefined, replay: ReplayIdentity): Promise<SinkOpenResult>
  /** Writes a batch; records the sink will not take are returned (they go to quarantine, stage sink). */
  write(records: SinkRecord[]): Promise<SinkRejection[]>
  /**
   * Makes everything written so far durable and returns what the checkpoint keeps. A
   * transactional sink commits `progress` (the replay's positions after this batch) in the
   * same transaction as the batch; without `progress` it commits nothing.
   */
  checkpoint(progress?: CommittedProgress): Promise<SinkState>
  /** Called once when the whole range has been written (Parquet writes its file then). */
  finish?(): Promise<void>
  /**
   * Closes, and removes what open() created (a new file, a new database file): called when the
   * replay fails before writing any record, so a refused run leaves nothing behind.
   */
  discard?(): Promise<void>
  close(): Promise<void>
}

export type SinkUri =
  | { kind: 'kafka'; topic: string }
  | { kind: 'jsonl'; path: string }
  | { kind: 'csv'; path: string }
  | { kind: 'plugin'; path: string; target: string }
  | PostgresSinkUri
  | { kind: 'duckdb'; path: string; table: string }
  | { kind: 'parquet'; path: string }

export interface PostgresSinkUri {
  kind: 'postgres'
  /** The connection string without our own parameters (table, key, layout). */
  connection: string
  table: string
  /** The conflict key: value fields or provenance columns. */
  key: string[]
  /** fields: a column per value field (default); jsonb: the whole value in one `value` JSONB column. */
  layout: 'fields' | 'jsonb'
  /** For messages and the checkpoint: the URL with its password replaced by ***. */
  display: string
}

const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/

/** `kafka:TOPIC`, `file:PATH.jsonl`, `file:PATH.csv`, `plugin:PATH[#TARGET]`. */
export function parseSinkUri(uri: string, flag: '--sink' | '--quarantine'): SinkUri {
  const forms = flag === '--sink' ? 'kafka:TOPIC, postgres://USER@HOST/DB?table=T&key=COL, duckdb:FILE?table=T, file:PATH.jsonl|.csv|.parquet or plugin:PATH.ts#TARGET' : 'kafka:TOPIC or file:PATH.jsonl'
  const colon = uri.indexOf(':')
  const scheme = colon < 0 ? '' : uri.slice(0, colon).toLowerCase()
  const rest = colon < 0 ? '' : uri.slice(colon + 1)
  const bad = (why: string) => new RecoveryError('BAD_SINK_URI', `${flag} ${uri}: ${why}; use ${forms}.`, { details: { uri } })
  switch (scheme) {
    case 'kafka': {
      const topic = rest.replace(/^\/\//, '')
      if (!TOPIC_NAME.test(topic)) throw bad(`"${topic}" is not a Kafka topic name`)
      return { kind: 'kafka', topic }
    }
    case 'file': {
      const path = rest.replace(/^\/\/(?=\/)/, '')
      if (path === '') throw bad('the file path is empty')
      if (/\.jsonl$/i.test(path) || /\.ndjson$/i.test(path)) return { kind: 'jsonl', path }
      if (/\.csv$/i.test(path)) {
        if (flag === '--quarantine') throw bad('a quarantine must be lossless, and CSV is not')
        return { kind: 'csv', path }
      }
      if (/\.parquet$/i.test(path)) {
        if (flag === '--quarantine') throw bad('a quarantine must be lossless and appendable, and Parquet is neither')
        return { kind: 'parquet', path }
      }
      throw bad('the file must end in .jsonl, .csv or .parquet')
    }
    case 'postgres':
    case 'postgresql': {
      if (flag === '--quarantine') throw bad('a quarantine must be Kafka or a JSONL file')
      return parsePostgresUri(uri, bad)
    }
    case 'duckdb': {
      if (flag === '--quarantine') throw bad('a quarantine must be Kafka or a JSONL file')
      const q = rest.indexOf('?')
      const path = q < 0 ? rest : rest.slice(0, q)
      const params = new URLSearchParams(q < 0 ? '' : rest.slice(q + 1))
      const table = params.get('table')
      if (path === '') throw bad('the database file is empty')
      if (!table || !SQL_NAME.test(table)) throw bad('it needs ?table=NAME (letters, digits, _ and an optional schema.)')
      return { kind: 'duckdb', path, table }
    }
    case 'plugin': {
      if (flag === '--quarantine') throw bad('a quarantine cannot be a plugin')
      const hash = rest.indexOf('#')
      const path = hash < 0 ? rest : rest.slice(0, hash)
      if (path === '') throw bad('the plugin path is empty')
      return { kind: 'plugin', path, target: hash < 0 ? '' : rest.slice(hash + 1) }
    }
    default:
      throw bad(scheme === '' ? 'it has no scheme' : `"${scheme}:" is not a supported scheme`)
  }
}

/** A table name, optionally schema-qualified: the only names we splice into SQL (quoted). */
const SQL_NAME = /^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/
const COLUMN_NAME = /^[A-Za-z_][A-Za-z0-9_$]*$/

function parsePostgresUri(uri: string, bad: (why: string) => RecoveryError): PostgresSinkUri {
  let url: URL
  try {
    url = new URL(uri)
  } catch {
    throw bad('it is not a URL')
  }
  const table = url.searchParams.get('table')
  const key = (url.searchParams.get('key') ?? '').split(',').map((k) => k.trim()).filter(Boolean)
  const layout = url.searchParams.get('layout') ?? 'fields'
  if (!table || !SQL_NAME.test(table)) throw bad('it needs ?table=NAME (letters, digits, _ and an optional schema.)')
  if (key.length === 0) throw bad('it needs &key=COLUMN[,COLUMN] (the upsert key: value fields or source_topic, source_partition, source_offset)')
  const badKey = key.find((k) => !COLUMN_NAME.test(k))
  if (badKey !== undefined) throw bad(`"${badKey}" is not a plain column name`)
  if (layout !== 'fields' && layout !== 'jsonb') throw bad(`layout must be fields or jsonb, not "${layout}"`)
  for (const p of ['table', 'key', 'layout']) url.searchParams.delete(p)
  const connection = url.toString()
  const display = `${redactUrl(connection.replace(/\?$/, ''))}${connection.includes('?') ? '&' : '?'}table=${table}&key=${key.join(',')}${layout === 'jsonb' ? '&layout=jsonb' : ''}`
  return { kind: 'postgres', connection, table, key, layout: layout as 'fields' | 'jsonb', display }
}
