import type { Client } from '@opensearch-project/opensearch'
import { causeOf, isTransient, openSearchClient, reasonOf, RetryLater, statusOf } from '../opensearch/client.js'
import { RecoveryError } from '../errors.js'
import { bulkItems, bulkRequests, DEFAULT_BULK_LIMITS, documentError, type BulkItem, type BulkLimits } from './opensearch-bulk.js'
import type { OpenSearchLocation } from '../core/opensearch-location.js'
import type { CommittedProgress, ReplayIdentity, Sink, SinkOpenResult, SinkRecord, SinkRejection, SinkState } from './sink.js'

/** Where a replay's progress is kept, in the cluster of the index it writes. */
export const PROGRESS_INDEX = 'recover-progress'

export interface OpenSearchSinkOptions {
  /** How long to keep retrying a server that went away, or answers 429/503, before giving up (default 120 s). */
  reconnectMs?: number
  limits?: BulkLimits
}

/**
 * `opensearch://HOST:9200/INDEX` (or elasticsearch://): each batch goes in bulk requests
 * (bounded in bytes and documents) whose document ids come from the record keys (or
 * TOPIC-PARTITION-OFFSET), so writing a record again overwrites its document. After the
 * acknowledged bulks of a commit, the replay's progress is written to PROGRESS_INDEX in the same
 * cluster; a resumed replay continues from it and writes again only what came after, over the
 * same ids: each record's document exactly once. Documents the server refuses (a mapping
 * error) are quarantined with its reason; 429 and 503 are retried with back-off, and a server
 * that went away is waited for.
 */
export class OpenSearchSink implements Sink {
  readonly mayDuplicateOnResume = false
  /** The progress comes with checkpoint(): written after the batches' bulks were acknowledged (ids make a redo harmless). */
  readonly transactional = true
  private client: Client | undefined
  private replay: ReplayIdentity | undefined
  private batches = 0

  constructor(
    private readonly target: OpenSearchLocation,
    private readonly options: OpenSearchSinkOptions = {},
  ) {}

  get uri(): string {
    return this.target.display
  }

  private get progressId(): string {
    return `${this.target.index}:${this.replay!.runId}`
  }

  async open(_resume: SinkState | undefined, replay: ReplayIdentity): Promise<SinkOpenResult> {
    this.replay = replay
    this.client = openSearchClient(this.target)
    // A server that is not there at the start is a wrong URL more often than a restart: say so at once.
    const stored = await this.retrying('reading the replay progress', 0, async (client) => {
      // A GET rather than HEAD: a refusal (401, 403) then comes with the server's reason.
      const found = await client.get({ index: PROGRESS_INDEX, id: this.progressId }, { ignore: [404] })
      const body = found.body as { _source?: { progress?: string }; error?: { type?: string } }
      if (body.error?.type === 'index_not_found_exception') await createProgressIndex(client)
      return found.statusCode === 404 ? undefined : body._source?.progress
    })
    const committed = stored === undefined ? undefined : (JSON.parse(stored) as CommittedProgress)
    this.batches = committed?.batches ?? 0
    const warnings = replay.freshRanges ? await this.documentsAlreadyThere() : []
    return { resent: 0, committed, warnings }
  }

  /**
   * An index that already holds documents (the live index the pipeline feeds, an earlier
   * replay): writing there is what the sink is for, but a document whose id is one this replay
   * writes is replaced, whoever wrote it. The plan and the summary say so, with the count.
   */
  private async documentsAlreadyThere(): Promise<string[]> {
    const count = await this.retrying('counting the documents already in the index', 0, async (client) => {
      const found = await client.count({ index: this.target.index }, { ignore: [404] })
      return found.statusCode === 404 ? 0 : Number((found.body as { count?: number }).count ?? 0)
    })
    if (count === 0) return []
    const ids =
      this.target.id === 'key'
        ? 'each record replaces the document whose id is its key (a record without a key: TOPIC-PARTITION-OFFSET)'
        : 'each record replaces the document whose id is TOPIC-PARTITION-OFFSET'
    return [
      `${this.target.index} already holds ${count.toLocaleString('en-US')} document(s): ${ids}, whoever wrote it; documents with other ids stay as they are. Replay into a new index to keep them apart.`,
    ]
  }

  async write(records: SinkRecord[]): Promise<SinkRejection[]> {
    const { items, rejected } = bulkItems(records, this.target.index, { id: this.target.id, provenance: this.target.provenance })
    for (const request of bulkRequests(items, this.options.limits ?? DEFAULT_BULK_LIMITS)) rejected.push(...(await this.sendBulk(request)))
    return rejected.sort((a, b) => a.index - b.index)
  }

  /**
   * One bulk request; items the server refuses for good (4xx: a mapping error, a bad document)
   * come back as rejections with its reason, items it could not take now (429, 5xx) are sent
   * again, with back-off, until the deadline.
   */
  private async sendBulk(request: BulkItem[]): Promise<SinkRejection[]> {
    const rejected: SinkRejection[] = []
    let pending = request
    await this.retrying('writing a batch', this.waitMs, async (client) => {
      // A string body goes out as it is: the NDJSON was made once, in bulkItems.
      const response = await client.bulk({ body: pending.map((i) => i.text).join('') as never })
      const body = response.body as BulkResponse
      if (!body.errors) {
        pending = []
        return
      }
      const again: BulkItem[] = []
      for (const [n, entry] of body.items.entries()) {
        const result = Object.values(entry)[0]!
        const item = pending[n]!
        if (result.error === undefined || (result.status === 404 && 'delete' in entry)) continue
        if (result.status === 429 || result.status >= 500) again.push(item)
        else
          rejected.push({
            index: item.owner,
            error: documentError(`${result.error.type}: ${result.error.reason ?? ''}${causeOf(result.error)} (HTTP ${result.status}, id ${item.id})`),
          })
      }
      pending = again
      if (again.length > 0) throw new RetryLater(`the server could not take ${again.length} document(s) now`)
    })
    return rejected
  }

  async checkpoint(progress?: CommittedProgress): Promise<SinkState> {
    if (progress === undefined) return { index: this.target.index, batches: this.batches }
    await this.retrying('saving the replay progress', this.waitMs, async (client) => {
      await client.index({
        index: PROGRESS_INDEX,
        id: this.progressId,
        body: {
          index: this.target.index,
          runId: this.replay!.runId,
          topic: this.replay!.topic,
          progress: JSON.stringify(progress),
          at: new Date().toISOString(),
        },
      })
    })
    this.batches = progress.batches
    return { index: this.target.index, batches: progress.batches }
  }

  async close(): Promise<void> {
    await this.client?.close()
    this.client = undefined
  }

  /**
   * Runs `work`; when the server is unreachable or answers 429/503 (or some items could not be
   * taken now), waits and runs it again, doubling the wait up to 5 s, until `waitMs` has
   * passed. Other failures become SINK_FAILED at once.
   */
  private get waitMs(): number {
    return this.options.reconnectMs ?? 120_000
  }

  private async retrying<T>(doing: string, waitMs: number, work: (client: Client) => Promise<T>): Promise<T> {
    const deadline = Date.now() + waitMs
    let delay = 200
    for (;;) {
      try {
        return await work(this.client!)
      } catch (error) {
        if (error instanceof RecoveryError) throw error
        if (!isTransient(error)) throw failed(this.target, doing, error)
        if (Date.now() + delay > deadline) throw unreachable(this.target, doing, error, waitMs)
        await new Promise((r) => setTimeout(r, delay))
        delay = Math.min(delay * 2, 5_000)
      }
    }
  }
}

interface BulkResponse {
  errors: boolean
  items: Array<Record<string, { status: number; error?: { type: string; reason?: string; caused_by?: { type: string; reason?: string } } }>>
}

async function createProgressIndex(client: Client): Promise<void> {
  // Nothing in it is searched: the progress is stored, not indexed. Another run may create it at the same time.
  await client.indices.create(
    { index: PROGRESS_INDEX, body: { settings: { number_of_shards: 1, auto_expand_replicas: '0-1' }, mappings: { enabled: false } } },
    { ignore: [400] },
  )
}

function failed(target: OpenSearchLocation, doing: string, error: unknown): RecoveryError {
  const status = statusOf(error)
  const fix =
    status === 401 || status === 403
      ? 'Check the credentials (user:password@ or ?api_key=) and that they may write the index and recover-progress.'
      : 'Fix the cause: the batch was not committed, so --resume writes it again.'
  return new RecoveryError('SINK_FAILED', `OpenSearch sink ${target.display} failed while ${doing}: ${reasonOf(error)}.`, {
    nextSteps: [fix],
    details: { sink: target.display, status },
    cause: error,
  })
}

function unreachable(target: OpenSearchLocation, doing: string, error: unknown, waitedMs: number): RecoveryError {
  return new RecoveryError(
    'SINK_UNREACHABLE',
    `OpenSearch sink ${target.display} ${waitedMs === 0 ? 'could not be reached' : `could not be reached or stayed overloaded for ${Math.round(waitedMs / 1000)} s`} while ${doing}: ${reasonOf(error)}; nothing after the last committed batch counts as written.`,
    {
      nextSteps: [`Check that the cluster answers (curl ${target.node}/_cluster/health), then run the same command with --resume.`],
      details: { sink: target.display },
      cause: error,
    },
  )
}
