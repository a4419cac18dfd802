import type { Client } from '@opensearch-project/opensearch'
import { fieldAt, keyText } from '../core/audit-key.js'
import { RecoveryError } from '../errors.js'
import type { OpenSearchLocation } from '../core/opensearch-location.js'
import { openSearchClient } from './client.js'

/** One document as audit compare reads it: its key, and the source partition and offset when it keeps them. */
export type SinkRow = [key: string | null, partition: number | null, offset: bigint | null]

/**
 * Reads an index for `audit compare` (read-only): its field names, then every document as a
 * key (the document id, or a field) and its provenance (the source_partition and source_offset
 * fields, or, for ids written with id=offset, the id itself).
 */
export class OpenSearchIndexReader {
  private constructor(
    private readonly client: Client,
    private readonly target: OpenSearchLocation,
  ) {}

  static async open(target: OpenSearchLocation): Promise<OpenSearchIndexReader> {
    const reader = new OpenSearchIndexReader(openSearchClient(target), target)
    try {
      const exists = await reader.client.indices.exists({ index: target.index })
      if (!exists.body) {
        throw new RecoveryError('SINK_TABLE_INVALID', `Index ${target.index} does not exist in ${target.display}; name the index the replay wrote.`, {
          details: { sink: target.display },
        })
      }
    } catch (error) {
      await reader.close()
      if (error instanceof RecoveryError) throw error
      throw new RecoveryError('SINK_UNREACHABLE', `OpenSearch ${target.display} could not be read: ${(error as Error).message}.`, {
        nextSteps: [`Check that the cluster answers (curl ${target.node}/_cluster/health).`],
        details: { sink: target.display },
        cause: error,
      })
    }
    return reader
  }

  /** `_id` and the index's top-level fields, as audit compare plans columns from them. */
  async columns(): Promise<string[]> {
    const response = await this.client.indices.getMapping({ index: this.target.index })
    const fields = new Set<string>()
    for (const entry of Object.values(response.body as Record<string, { mappings?: { properties?: Record<string, unknown> } }>)) {
      for (const name of Object.keys(entry.mappings?.properties ?? {})) fields.add(name)
    }
    return ['_id', ...fields]
  }

  /** Every document, a page of rows at a time (a scroll in index order, cleared at the end: OpenSearch and Elasticsearch alike). */
  async *rows(plan: { key: string[]; partition?: string; offset?: string; topic?: string }): AsyncGenerator<SinkRow[]> {
    const idKey = plan.key.length === 1 && plan.key[0] === '_id'
    const offsetIds = this.target.id === 'offset' && plan.partition === undefined && plan.topic !== undefined
    const sourceFields = [...(idKey ? [] : [plan.key.join('.')]), ...(plan.partition ? [plan.partition, plan.offset!] : [])]
    // A search sees documents only after the index's next refresh (every second while it is
    // searched): an audit run right after a replay read none of the last bulks and called them
    // missing. Refreshing first makes every acknowledged document count. A user allowed to read
    // but not to refresh gets the index as its last refresh left it.
    await this.client.indices.refresh({ index: this.target.index }).catch(() => undefined)
    let response = await this.client.search({
      index: this.target.index,
      scroll: '2m',
      body: { size: 5_000, sort: ['_doc'], _source: sourceFields.length > 0 ? sourceFields : false },
    })
    let scrollId: string | undefined
    try {
      for (;;) {
        const body = response.body as { _scroll_id?: string; hits: { hits: Array<{ _id: string; _source?: Record<string, unknown> }> } }
        scrollId = body._scroll_id
        const hits = body.hits.hits
        if (hits.length === 0) return
        yield hits.map((h): SinkRow => {
          const key = idKey ? h._id : keyText(fieldAt(h._source ?? {}, plan.key).value)
          if (plan.partition) return [key, numberOrNull(h._source?.[plan.partition]), bigintOrNull(h._source?.[plan.offset!])]
          if (offsetIds) return [key, ...provenanceOfId(h._id, plan.topic!)]
          return [key, null, null]
        })
        response = await this.client.scroll({ scroll: '2m', body: { scroll_id: scrollId! } })
      }
    } finally {
      if (scrollId) await this.client.clearScroll({ body: { scroll_id: scrollId } }).catch(() => undefined)
    }
  }

  async close(): Promise<void> {
    await this.client.close()
  }
}

/** `TOPIC-PARTITION-OFFSET` of the audited topic: its partition and offset. */
function provenanceOfId(id: string, topic: string): [number | null, bigint | null] {
  const m = id.startsWith(`${topic}-`) ? /^(\d+)-(\d+)$/.exec(id.slice(topic.length + 1)) : null
  return m ? [Number(m[1]), BigInt(m[2]!)] : [null, null]
}

function numberOrNull(v: unknown): number | null {
  const n = typeof v === 'string' ? Number(v) : v
  return typeof n === 'number' && Number.isInteger(n) ? n : null
}

function bigintOrNull(v: unknown): bigint | null {
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v)
  if (typeof v === 'string' && /^\d+$/.test(v)) return BigInt(v)
  return null
}
