import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { recoverStateDir } from '../config/state-dir.js'
import { DuckAppendTable, literal, type AppendValue, type DuckColumn } from '../duckdb/append-table.js'
import { RecoveryError } from '../errors.js'
import { formatCsvRows } from '../files/csv.js'
import { envelopeLine } from '../files/envelope.js'
import { objectName, parseObjectName, topicPrefix } from '../s3/object-names.js'
import { isTransientS3Error, ObjectStore, translateS3Error } from '../s3/object-store.js'
import type { S3Location } from '../s3/s3-location.js'
import { DUCK_TYPES, duckConverter } from './duckdb-sink.js'
import { csvColumnsOf, csvRowBuilder, decodedOf, type FileSinkFormats } from './file-sinks.js'
import { inferColumns, rowBuilder } from './value-columns.js'
import type { CommittedProgress, ReplayIdentity, Sink, SinkOpenResult, SinkRecord, SinkRejection, SinkState } from './sink.js'

/** The staging table: the rows of objects not uploaded yet. */
const STAGED = 'staged'
/** A staged row's key and value bytes, which the object rollover by size counts; not written to the objects. */
const BYTES_COLUMN = 'recover_bytes'
/**
 * The JSONL format stages each record as its envelope line; CSV as its cells (a JSON array),
 * which become CSV text when an object is written (one fast-csv call per object, not per record).
 */
const LINE_COLUMNS: DuckColumn[] = [
  { name: 'source_partition', type: 'BIGINT' },
  { name: 'source_offset', type: 'BIGINT' },
  { name: 'line', type: 'VARCHAR' },
]

/** The CSV columns (a JSON array, one row), fixed by the first batch and kept for a resumed replay: every object has the same header. */
const CSV_HEADER = 'csv_header'

const CONTENT_TYPES = { parquet: 'application/vnd.apache.parquet', jsonl: 'application/x-ndjson', csv: 'text/csv' } as const

/** Objects uploaded at the same time (each a multipart upload of up to 4 parts in flight). */
const UPLOADS_AT_ONCE = 4

/** The records of a partition's next object: its first and last offset, how many, and their bytes. */
interface ObjectCut {
  first: bigint
  last: bigint
  records: number
  bytes: number
}

/**
 * `s3://bucket/prefix`: one object per partition per offset range,
 * `prefix/topic/p=2/<first>-<last>.parquet` (or .jsonl, or .csv with the columns and dialect of the CSV file sink). Records are staged in a local DuckDB
 * file and the replay's progress is committed in the same transaction (as the Parquet file
 * sink does); once a partition has `max_records` records or `max_bytes` bytes staged, its
 * first ones become an object: written locally (Parquet by DuckDB), uploaded whole (S3 shows an
 * object only when its upload completed), then removed from staging. The cut is decided by the
 * records alone, so a kill -9 at any point, a resume, or the same replay run again make the same
 * objects with the same names: an object is overwritten, never duplicated or torn. When the range
 * is done, the rest of each partition becomes its last object and the staging file goes.
 */
export class S3Sink implements Sink {
  readonly mayDuplicateOnResume = false
  readonly transactional = true
  /** Made by open() (a replay that waited out a Kafka outage closes and opens the sink again). */
  private storeClient: ObjectStore | undefined
  private db: DuckAppendTable | undefined
  private staging: string | undefined
  private columns: DuckColumn[] | undefined
  private rowOf: ((r: SinkRecord) => AppendValue[]) | undefined
  /** format=csv: the header row of every object. */
  private csvColumns: string[] | undefined
  private replay: ReplayIdentity | undefined
  private inTransaction = false
  private tmp: string | undefined
  private createdStaging = false
  /** Per partition, the records and bytes staged and not uploaded: the rollover is looked for only once one is due. */
  private staged = new Map<number, { records: number; bytes: number }>()
  /** Per partition, the last offset of the last object this run wrote: later objects start after it. */
  private uploadedTo = new Map<number, bigint>()

  constructor(
    private readonly location: S3Location,
    private readonly formats: FileSinkFormats,
    private readonly options: { reconnectMs?: number } = {},
  ) {}

  private get store(): ObjectStore {
    this.storeClient ??= new ObjectStore(this.location)
    return this.storeClient
  }

  get uri(): string {
    return this.location.display
  }

  async open(resume: SinkState | undefined, replay: ReplayIdentity): Promise<SinkOpenResult> {
    this.replay = replay
    await this.withRetry('opening the bucket', () => this.store.check())
    if (replay.freshRanges && !this.location.overwrite) await this.refuseOtherReplaysObjects(replay.topic, replay.freshRanges)
    const staging = typeof resume?.staging === 'string' ? resume.staging : join(recoverStateDir().dir, 's3-staging', `${replay.runId}.duckdb`)
    this.staging = staging
    // A resumed replay whose objects were all uploaded (finish() removed the staging file).
    if (resume !== undefined && !existsSync(staging)) return { resent: 0 }
    if (resume === undefined) for (const f of [staging, `${staging}.wal`]) rmSync(f, { force: true })
    this.staged.clear()
    this.uploadedTo.clear()
    try {
      mkdirSync(join(staging, '..'), { recursive: true })
      this.createdStaging = !existsSync(staging)
      this.db = await DuckAppendTable.open(staging)
      // The staging file lives only until its rows are uploaded: DuckDB's compression made each
      // progress commit about three times slower (measured, docs/benchmarks.md) to save disk
      // space that is given back at the end anyway.
      await this.db.run(`PRAGMA force_compression='uncompressed'`)
      this.csvColumns = undefined
      if (this.location.format === 'csv' && (await this.db.describe(CSV_HEADER)))
        this.csvColumns = JSON.parse(String((await this.db.rows(`SELECT cells FROM ${CSV_HEADER}`))[0]?.[0] ?? '[]')) as string[]
      this.useColumns(await this.db.describe(STAGED))
      if (this.columns) {
        for (const [p, n, b] of await this.db.rows(`SELECT source_partition, count(*), coalesce(sum(${BYTES_COLUMN}), 0) FROM ${STAGED} GROUP BY 1`))
          this.staged.set(Number(p), { records: Number(n), bytes: Number(b) })
      }
      await this.db.ensureProgressTable()
      const committed = (await this.db.loadProgress(replay.runId)) as CommittedProgress | undefined
      return { resent: 0, committed }
    } catch (error) {
      throw this.failed('opening its staging file', error)
    }
  }

  /**
   * A fresh replay would write over, or beside and overlapping, the objects another replay of
   * the topic left under the prefix (another range, an earlier run, another format): a reader of
   * the folder, and the audit, would then see records twice or the other replay's objects
   * replaced. Objects of other topics, and of this topic's offsets outside the ranges, are
   * never touched: the new objects go beside them.
   */
  private async refuseOtherReplaysObjects(topic: string, ranges: NonNullable<ReplayIdentity['freshRanges']>): Promise<void> {
    const folder = topicPrefix(this.location.prefix, topic)
    const objects = await this.withRetry(`listing ${folder}`, () => this.store.list(folder))
    const overlapping = objects.filter((o) => {
      const name = parseObjectName(o.key)
      const range = name && ranges.find((r) => r.partition === name.partition)
      return range !== undefined && name!.last >= range.start && name!.first < range.end
    })
    if (overlapping.length === 0) return
    const where = `s3://${this.location.bucket}/${folder}`
    throw new RecoveryError(
      'SINK_NOT_EMPTY',
      `${this.uri} already holds ${overlapping.length} object(s) of ${topic} with offsets this replay would write (${overlapping[0]!.key}), from another replay: write to another prefix, or move those objects away, or add overwrite=true to the location when this is the same replay run again.`,
      {
        details: { sink: this.uri, folder: where, objects: overlapping.length, examples: overlapping.slice(0, 5).map((o) => o.key) },
        nextSteps: [
          `See what is there: aws s3 ls ${where} --recursive`,
          'An interrupted replay continues with --resume and its checkpoint, which needs no overwrite=true.',
          'overwrite=true replaces objects of the same name and leaves the others, so objects of a different cut of the same offsets would stay beside the new ones.',
        ],
      },
    )
  }

  async write(records: SinkRecord[]): Promise<SinkRejection[]> {
    const db = this.db!
    try {
      if (!this.columns) {
        const columns: DuckColumn[] =
          this.location.format === 'parquet' ? inferColumns(records, [], 'fields').map((c) => ({ name: c.name, type: DUCK_TYPES[c.type] })) : LINE_COLUMNS
        if (this.location.format === 'csv') {
          // Before the staging table: open() takes a staging table as proof that the header is there.
          this.csvColumns = csvColumnsOf(records)
          await db.run(`CREATE OR REPLACE TABLE ${CSV_HEADER} AS SELECT ${literal(JSON.stringify(this.csvColumns))} AS cells`)
        }
        await db.createTable(STAGED, [...columns, { name: BYTES_COLUMN, type: 'BIGINT' }])
        this.useColumns(await db.describe(STAGED))
      }
    } catch (error) {
      throw this.failed('creating its staging table', error)
    }
    const rowOf = this.rowOf!
    const rows: AppendValue[][] = []
    const rejected: SinkRejection[] = []
    records.forEach((r, index) => {
      try {
        const row = rowOf(r)
        const bytes = (r.key?.length ?? 0) + (r.value?.length ?? 0)
        row.push(BigInt(bytes))
        rows.push(row)
        const tally = this.staged.get(r.source.partition) ?? { records: 0, bytes: 0 }
        tally.records++
        tally.bytes += bytes
        this.staged.set(r.source.partition, tally)
      } catch (error) {
        // A CSV column error names the sink already, and keeps its class (as the CSV file sink's).
        const e = error as Error
        rejected.push({ index, error: e.name === 'CsvColumnError' ? e : Object.assign(new Error(`${e.message} (${this.uri})`), { name: 'S3RowError' }) })
      }
    })
    try {
      if (!this.inTransaction) {
        await db.begin()
        this.inTransaction = true
      }
      await db.append(STAGED, this.columns!, rows)
    } catch (error) {
      throw this.failed('staging a batch', error)
    }
    return rejected
  }

  private useColumns(described: DuckColumn[] | undefined): void {
    if (!described) return
    this.columns = described
    const valueColumns = described.filter((c) => c.name !== BYTES_COLUMN)
    if (this.location.format === 'jsonl') {
      this.rowOf = (r) => [
        BigInt(r.source.partition),
        BigInt(r.source.offset),
        envelopeLine(
          { ...r.source, timestampMs: r.timestamp, timestampType: r.timestampType, key: r.key, value: r.value, headers: r.headers },
          decodedOf(r, this.formats),
        ),
      ]
    } else if (this.location.format === 'csv') {
      const cellsOf = csvRowBuilder(this.csvColumns ?? [], this.uri)
      this.rowOf = (r) => [BigInt(r.source.partition), BigInt(r.source.offset), JSON.stringify(cellsOf(r))]
    } else
      this.rowOf = rowBuilder(
        valueColumns.map((c) => c.name),
        false,
        valueColumns.map(duckConverter),
      )
  }

  /** Commits the staged batches with the progress, then uploads every object that is full. */
  async checkpoint(progress?: CommittedProgress): Promise<SinkState> {
    if (progress === undefined || !this.db) return { staging: this.staging }
    try {
      if (!this.inTransaction) await this.db.begin()
      await this.db.saveProgress(this.replay!.runId, this.replay!.topic, STAGED, progress)
      await this.db.commit()
      this.inTransaction = false
    } catch (error) {
      throw this.failed('committing a batch to its staging file', error)
    }
    await this.uploadObjects(false)
    return { staging: this.staging }
  }

  /** The whole range is written: the rest of every partition goes up, and the staging file is removed. */
  async finish(): Promise<void> {
    if (!this.db) return
    await this.uploadObjects(true)
    this.db.close()
    this.db = undefined
    for (const f of [this.staging!, `${this.staging}.wal`]) rmSync(f, { force: true })
  }

  /**
   * Uploads the full objects of every partition (with `all`, the partial last ones too): each is
   * written locally (DuckDB, one at a time) and starts going up at once, while the next is
   * written; at most UPLOADS_AT_ONCE are in flight. Their rows leave the staging table only
   * after every upload of the pass completed (a crash in between uploads the same objects
   * again, under the same names).
   */
  private async uploadObjects(all: boolean): Promise<void> {
    if (!this.columns) return
    const { maxRecords, maxBytes } = this.location
    const due = (t: { records: number; bytes: number }) => t.records > 0 && (all || t.records >= maxRecords || t.bytes >= maxBytes)
    const type = CONTENT_TYPES[this.location.format]
    const started: Array<{ partition: number; cut: ObjectCut; upload: Promise<void> }> = []
    const inFlight = new Set<Promise<void>>()
    let anUploadFailed = false
    try {
      for (const [partition, tally] of [...this.staged].sort(([x], [y]) => x - y)) {
        while (due(tally) && !anUploadFailed) {
          const cut = await this.nextObject(partition, tally, all)
          if (!cut) {
            this.staged.set(partition, { records: 0, bytes: 0 })
            break
          }
          while (inFlight.size >= UPLOADS_AT_ONCE) await Promise.race(inFlight)
          // The failure is thrown below, once the uploads under way have ended; no new one starts.
          if (anUploadFailed) break
          const { key, file } = await this.writeObject(partition, cut)
          const upload = this.withRetry(`uploading ${key}`, () => this.store.upload(key, file, type)).finally(() => rmSync(file, { force: true }))
          // Awaited below; a failure before then must not be an unhandled rejection.
          const settled = upload.then(
            () => undefined,
            () => {
              anUploadFailed = true
            },
          )
          inFlight.add(settled)
          void settled.then(() => inFlight.delete(settled))
          started.push({ partition, cut, upload })
          tally.records -= cut.records
          tally.bytes -= cut.bytes
          this.uploadedTo.set(partition, cut.last)
        }
      }
    } finally {
      await Promise.allSettled(started.map((o) => o.upload))
    }
    for (const o of started) await o.upload
    // At the end the staging file is removed whole.
    if (all || started.length === 0) return
    try {
      for (const o of started) await this.db!.run(`DELETE FROM ${STAGED} WHERE source_partition = ${o.partition} AND source_offset <= ${o.cut.last}`)
    } catch (error) {
      throw this.failed('removing uploaded rows from its staging file', error)
    }
  }

  /** The staged rows of a partition not uploaded yet by this run (those up to uploadedTo are, or are on their way). */
  private pending(partition: number): string {
    const after = this.uploadedTo.get(partition)
    return `source_partition = ${partition}${after === undefined ? '' : ` AND source_offset > ${after}`}`
  }

  /**
   * The offsets of the partition's next object: its first staged records up to max_records or
   * max_bytes (counted in offset order, so the cut depends on the records only), or, with
   * `all`, whatever is staged. Undefined when nothing is due.
   */
  private async nextObject(partition: number, tally: { records: number; bytes: number }, all: boolean): Promise<ObjectCut | undefined> {
    const { maxRecords, maxBytes } = this.location
    const db = this.db!
    if (tally.records < maxRecords && tally.bytes < maxBytes) {
      // The rest of the partition (at the end): no running count needed.
      if (!all) return undefined
      const [[first, last]] = (await db.rows(`SELECT min(source_offset), max(source_offset) FROM ${STAGED} WHERE ${this.pending(partition)}`)) as [
        [bigint | null, bigint | null],
      ]
      return first === null || last === null ? undefined : { first, last, records: tally.records, bytes: tally.bytes }
    }
    const [row] = await db.rows(
      `WITH r AS (SELECT source_offset, ${BYTES_COLUMN} AS size, row_number() OVER w AS n, sum(${BYTES_COLUMN}) OVER w AS b FROM ${STAGED} WHERE ${this.pending(partition)}
         WINDOW w AS (ORDER BY source_offset ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)),
       c AS (SELECT min(source_offset) FILTER (WHERE n >= ${maxRecords} OR b >= ${maxBytes}) AS last FROM r)
       SELECT min(r.source_offset), c.last, count(*) FILTER (WHERE r.source_offset <= c.last), coalesce(sum(r.size) FILTER (WHERE r.source_offset <= c.last), 0)
       FROM r, c GROUP BY c.last`,
    )
    const [first, last, records, bytes] = (row ?? []) as Array<bigint | null>
    if (first === null || first === undefined || last === null || last === undefined) return undefined
    return { first, last, records: Number(records), bytes: Number(bytes) }
  }

  /**
   * Writes an object's rows to a local file (Parquet by DuckDB, the JSONL lines, or the CSV header and rows) in the order
   * they were staged, which is offset order (a partition is read in order, and a resumed run
   * stages after what the interrupted one committed): DuckDB keeps insertion order, and no sort
   * means the several records a transform made of one source record keep theirs too.
   */
  private async writeObject(partition: number, cut: ObjectCut): Promise<{ key: string; file: string }> {
    const extension = this.location.format
    const key = objectName(this.location.prefix, this.replay!.topic, partition, cut.first, cut.last, extension)
    this.tmp ??= mkdtempSync(join(tmpdir(), 'recover-s3-'))
    const file = join(this.tmp, `p${partition}-${cut.first}.${extension}`)
    const where = `source_partition = ${partition} AND source_offset BETWEEN ${cut.first} AND ${cut.last}`
    try {
      if (extension === 'parquet') {
        await this.db!.copyToParquet(`SELECT * EXCLUDE (${BYTES_COLUMN}) FROM ${STAGED} WHERE ${where}`, file)
      } else if (extension === 'csv') {
        const lines = await this.db!.rows(`SELECT line FROM ${STAGED} WHERE ${where}`)
        writeFileSync(file, await formatCsvRows([this.csvColumns ?? [], ...lines.map((l) => JSON.parse(String(l[0])) as string[])]))
      } else {
        const lines = await this.db!.rows(`SELECT line FROM ${STAGED} WHERE ${where}`)
        writeFileSync(file, lines.map((l) => String(l[0])).join(''))
      }
    } catch (error) {
      rmSync(file, { force: true })
      throw this.failed(`writing object ${key}`, error)
    }
    return { key, file }
  }

  /** Retries what a store that went away (restarting, overloaded) fails, until reconnectMs (default 60 s) has passed. */
  private async withRetry<T>(doing: string, work: () => Promise<T>): Promise<T> {
    const giveUpAt = Date.now() + (this.options.reconnectMs ?? 60_000)
    let waitMs = 250
    for (;;) {
      try {
        return await work()
      } catch (error) {
        if (!isTransientS3Error(error) || Date.now() + waitMs > giveUpAt) throw translateS3Error(error, this.uri, doing)
        await new Promise((r) => setTimeout(r, waitMs))
        waitMs = Math.min(waitMs * 2, 5_000)
      }
    }
  }

  async close(): Promise<void> {
    if (this.db) {
      if (this.inTransaction) await this.db.rollback()
      this.db.close()
      this.db = undefined
    }
    if (this.tmp) rmSync(this.tmp, { recursive: true, force: true })
    this.tmp = undefined
    this.storeClient?.close()
    this.storeClient = undefined
  }

  /** A replay that failed before its first record leaves no staging file behind (no object was made). */
  async discard(): Promise<void> {
    await this.close()
    if (this.createdStaging && this.staging) for (const f of [this.staging, `${this.staging}.wal`]) rmSync(f, { force: true })
  }

  private failed(doing: string, error: unknown): RecoveryError {
    if (error instanceof RecoveryError) return error
    const reason = (error as Error).message?.replace(/\s+/g, ' ') ?? String(error)
    return new RecoveryError('SINK_FAILED', `The S3 sink ${this.uri} failed while ${doing} (${this.staging}): ${reason}.`, {
      nextSteps: ['Fix the cause (disk space, the file locked by another process), then run the same command with --resume.'],
      details: { sink: this.uri, staging: this.staging },
      cause: error,
    })
  }
}
