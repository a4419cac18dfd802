import { RecoveryError } from '../errors.js'
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
  /** Opens the sink; with the state of a checkpoint, continues from it. */
  open(resume?: SinkState): Promise<SinkOpenResult>
  /** Writes a batch; records the sink will not take are returned (they go to quarantine, stage sink). */
  write(records: SinkRecord[]): Promise<SinkRejection[]>
  /** Makes everything written so far durable and returns what the checkpoint keeps. */
  checkpoint(): Promise<SinkState>
  close(): Promise<void>
}

export type SinkUri =
  | { kind: 'kafka'; topic: string }
  | { kind: 'jsonl'; path: string }
  | { kind: 'csv'; path: string }
  | { kind: 'plugin'; path: string; target: string }

const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/

/** `kafka:TOPIC`, `file:PATH.jsonl`, `file:PATH.csv`, `plugin:PATH[#TARGET]`. */
export function parseSinkUri(uri: string, flag: '--sink' | '--quarantine'): SinkUri {
  const forms = flag === '--sink' ? 'kafka:TOPIC, file:PATH.jsonl, file:PATH.csv or plugin:PATH.ts#TARGET' : 'kafka:TOPIC or file:PATH.jsonl'
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
      throw bad('the file must end in .jsonl or .csv')
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
