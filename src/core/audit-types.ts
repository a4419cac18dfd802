/** The shapes audits report (`--json`, reports, history). Offsets are bigint inside. */

export interface RecordPosition {
  partition: number
  offset: bigint
  /** ISO-8601, UTC. */
  timestamp: string
}

/**
 * - `identical`: every copy has the same value and headers, byte for byte (a producer retry);
 * - `same-value`: the values are identical but headers differ (the same result produced twice, e.g. reprocessing with a new trace id);
 * - `changed`: the values differ (processed twice, or a real update under the same key).
 */
export type DuplicateKind = 'identical' | 'same-value' | 'changed'

export interface DuplicateGroup {
  key: string
  copies: number
  kind: DuplicateKind
  first: RecordPosition
  last: RecordPosition
  /** last.timestamp - first.timestamp, in ms. */
  spreadMs: number
  /** Every copy in time order (up to 50; `copies` has the full count). */
  offsets: RecordPosition[]
}

export interface ValueDuplicateGroup {
  /** The 64-bit content hash of the value, in hex. */
  valueHash: string
  copies: number
  keys: number
  /** Up to 10 of the keys. */
  sampleKeys: string[]
  first: RecordPosition & { key: string }
  last: RecordPosition & { key: string }
}

export interface ProblemRecord extends RecordPosition {
  /** The decode failure kind (not-json, avro-truncated, ...) or `no-key`. */
  kind: string
  message: string | null
  key: string | null
}

export interface DuplicatesTotals {
  records: number
  /** Records with an audit key. */
  keyed: number
  /** Records whose value could not be decoded (listed in `undecodable`). */
  undecodable: number
  /** Records decoded but without a key: a null record key, or the field absent or null. */
  noKey: number
  distinctKeys: number
  /** Keys that have at least one group of copies. */
  duplicateKeys: number
  /** Groups of copies (one per key; with --within, one per cluster of copies close in time). */
  duplicateGroups: number
  /** Records beyond the first of each group: what deduplication would remove. */
  extraCopies: number
  identical: number
  sameValue: number
  changed: number
  /** Values carried by more than one key. */
  valueDuplicates: number
  valueDuplicateRecords: number
  bytes: number
}
