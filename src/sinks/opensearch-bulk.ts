import { recordKeyText } from '../core/audit-key.js'
import type { SinkRecord, SinkRejection } from './sink.js'
import { jsonText } from './value-columns.js'

/** One bulk action line and its document line (none for a delete), and the record it came from. */
export interface BulkItem {
  /** Index of the record in the batch. */
  owner: number
  id: string
  /** The NDJSON lines of this item, newline-terminated. */
  text: string
}

/** Bulk requests stay under both bounds (a single larger document goes alone). */
export interface BulkLimits {
  maxBytes: number
  maxDocs: number
}

export const DEFAULT_BULK_LIMITS: BulkLimits = { maxBytes: 5 * 1024 * 1024, maxDocs: 1_000 }

/** The server refuses longer ids. */
const MAX_ID_BYTES = 512

/** `TOPIC-PARTITION-OFFSET`: the id of a record without a key (or with ?id=offset). */
export function offsetId(source: SinkRecord['source']): string {
  return `${source.topic}-${source.partition}-${source.offset}`
}

/**
 * The document id of a record: its key as text (UTF-8, else 0x and hex, as the audits read
 * keys), so a record written again overwrites its document; a keyless record (or every record
 * with id=offset) gets `TOPIC-PARTITION-OFFSET`.
 */
export function documentId(record: SinkRecord, mode: 'key' | 'offset'): string {
  if (mode === 'key') {
    const key = recordKeyText(record.key)
    if (key !== null) return key
  }
  return offsetId(record.source)
}

/**
 * Turns a batch into bulk items: the decoded value is the document (a value that is not a JSON
 * object is kept under `value`), with the provenance fields when asked; a tombstone with a key
 * deletes its document. Records that cannot become a document are rejected with the reason.
 */
export function bulkItems(
  records: readonly SinkRecord[],
  index: string,
  options: { id: 'key' | 'offset'; provenance: boolean },
): { items: BulkItem[]; rejected: SinkRejection[] } {
  const items: BulkItem[] = []
  const rejected: SinkRejection[] = []
  const indexJson = JSON.stringify(index)
  for (const [owner, record] of records.entries()) {
    const id = documentId(record, options.id)
    if (Buffer.byteLength(id) > MAX_ID_BYTES) {
      rejected.push({
        index: owner,
        error: documentError(`its document id (the record key) is ${Buffer.byteLength(id)} bytes; OpenSearch takes at most ${MAX_ID_BYTES}`),
      })
      continue
    }
    const action = `{"_index":${indexJson},"_id":${JSON.stringify(id)}}`
    const value = record.decodedValue
    if (value === null || value === undefined) {
      if (record.key === null || options.id === 'offset') {
        rejected.push({ index: owner, error: documentError('a tombstone (null value) without a key document id has no document to write or delete') })
        continue
      }
      items.push({ owner, id, text: `{"delete":${action}}\n` })
      continue
    }
    if (Buffer.isBuffer(value) || value instanceof Uint8Array) {
      rejected.push({ index: owner, error: documentError('its value is bytes; decode it with --value-format json or avro so it becomes a JSON document') })
      continue
    }
    const fields = typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date) ? (value as Record<string, unknown>) : { value }
    const document = options.provenance
      ? { ...fields, source_topic: record.source.topic, source_partition: record.source.partition, source_offset: record.source.offset }
      : fields
    items.push({ owner, id, text: `{"index":${action}}\n${jsonText(document)}\n` })
  }
  return { items, rejected }
}

/** Splits items into bulk requests within the limits, in order. */
export function* bulkRequests(items: readonly BulkItem[], limits: BulkLimits): Generator<BulkItem[]> {
  let request: BulkItem[] = []
  let bytes = 0
  for (const item of items) {
    const size = Buffer.byteLength(item.text)
    if (request.length > 0 && (request.length >= limits.maxDocs || bytes + size > limits.maxBytes)) {
      yield request
      request = []
      bytes = 0
    }
    request.push(item)
    bytes += size
  }
  if (request.length > 0) yield request
}

/** A record the sink refuses: quarantined with this error (stage sink). */
export function documentError(reason: string): Error {
  return Object.assign(new Error(`OpenSearch refused the document: ${reason}`), { name: 'OpenSearchDocumentError' })
}
