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

/** A source key the sink does not have, with where its records are in the source. */
export interface MissingKey {
  key: string
  /** Source records with this key. */
  copies: number
  first: RecordPosition
  last: RecordPosition
}

/** A key the sink holds more than once; `provenance` lists the source offsets its rows name, when it keeps them. */
export interface TwiceKey {
  key: string
  rows: number
  provenance: Array<{ partition: number | null; offset: bigint | null }>
}

export interface OnlyInSinkKey {
  key: string
  rows: number
}

/** A source record that never arrived (by provenance) and was not superseded by a later copy of its key that did. */
export interface LostRecord extends RecordPosition {
  /** Null only for a Kafka mirror's source record without a key (paired by content alone). */
  key: string | null
  /** The sink holds the key from an older copy: the latest update never arrived (the sink is stale). */
  keyInSink: boolean
}

export interface CompareTotals {
  sourceRecords: number
  sourceKeyed: number
  sourceKeys: number
  undecodable: number
  noKey: number
  sinkRows: number
  sinkKeys: number
  /** Sink rows without a key (NULL). */
  sinkNullKeys: number
  /** Source keys the sink does not have. */
  missing: number
  /** Source records whose key the sink does not have. */
  missingRecords: number
  /** Keys the sink holds more than once. */
  twice: number
  /** Sink rows beyond the first of each such key. */
  twiceExtraRows: number
  /** Keys only the sink has. */
  onlyInSink: number
  onlyInSinkRows: number
  /** Source offsets that never arrived (null when the sink keeps no provenance). */
  lost: number | null
  /** Of those, records whose key the sink holds from an older copy. */
  stale: number | null
}

/** A record of a Kafka mirror that pairs with no source record by key and content. */
export interface MirrorExtra extends RecordPosition {
  key: string | null
  /** For a duplicate: the source record it is one more copy of (the last of its identical copies). */
  copyOf: { partition: number; offset: bigint } | null
}

/** How a Kafka mirror was paired with the source, and what in it has no source pair. */
export interface MirrorPairing {
  /** `record`: key, value and headers; `value`: key and value (a copier that adds headers). */
  match: 'record' | 'value'
  /** The sink's cluster when it is not the source's (--sink-cluster). */
  cluster: { id: string; bootstrap: string[]; source: string } | null
  /** Source records paired with a mirror record. */
  paired: number
  /** Mirror records beyond the copies the source has: written twice. */
  duplicated: number
  /** Mirror records whose key and content no source record in the range has. */
  unmatched: number
  duplicates: MirrorExtra[]
  unmatchedRecords: MirrorExtra[]
}
