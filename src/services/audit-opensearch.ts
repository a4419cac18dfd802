import type { KeySelector } from '../core/audit-key.js'
import { planSinkColumns, type SinkColumnPlan } from '../core/audit-sink.js'
import type { OpenSearchLocation } from '../core/opensearch-location.js'
import type { AuditDatabase } from '../duckdb/audit-db.js'
import { RecoveryError } from '../errors.js'
import { OpenSearchIndexReader } from '../opensearch/index-reader.js'

/**
 * Fills `sink_rows` from an OpenSearch (or Elasticsearch) index: the key is the document id
 * for `--key key` (the sink writes each record under its key), else the --key field (or
 * --sink-key); provenance from source_partition/source_offset (provenance=true), or from ids
 * written with id=offset.
 */
export async function loadOpenSearchSink(
  db: AuditDatabase,
  sink: OpenSearchLocation,
  request: { topic: string; key: KeySelector; sinkKey?: string; sinkProvenance?: string },
): Promise<SinkColumnPlan> {
  const reader = await OpenSearchIndexReader.open(sink)
  try {
    const sinkKey = request.sinkKey ?? (request.key.kind === 'record-key' ? '_id' : undefined)
    const plan = planSinkColumns(await reader.columns(), request.key, { sinkKey, provenance: request.sinkProvenance })
    if (plan.key.kind !== 'column') throw new RecoveryError('UNKNOWN_KEY_FIELD', `Name the field of ${sink.index} that holds the key with --sink-key FIELD.`)
    const writer = await db.createSinkRows()
    const offsetIds = sink.id === 'offset' && plan.provenance === null
    try {
      for await (const rows of reader.rows({
        key: plan.key.path,
        partition: plan.provenance?.partition,
        offset: plan.provenance?.offset,
        topic: request.topic,
      })) {
        for (const [key, partition, offset] of rows) writer.append(key, partition, offset)
      }
    } finally {
      writer.close()
    }
    return offsetIds ? { ...plan, provenance: { partition: '_id', offset: '_id' } } : plan
  } finally {
    await reader.close()
  }
}
