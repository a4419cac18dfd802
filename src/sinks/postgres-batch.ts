import { yieldToEventLoop } from '../core/yield.js'
import { parseCopyText } from '../postgres/upsert-table.js'
import type { DirectLines } from './json-copy-text.js'
import type { PreparedWrite, SinkRecord, SinkRejection } from './sink.js'

/** Fills `row` with a record's fields in COPY's text format (escaped, \N for NULL); throws when a column cannot hold its value. */
export type RowWriter = (r: SinkRecord, row: string[]) => void

/** A row's key, to tell which records of a batch share one; undefined when it has none (NULL). */
export type KeyId = (row: readonly string[]) => string | undefined

/** COPY text is handed on in chunks of about this many characters. */
const CHUNK = 1 << 14
/**
 * Lines made while the records were read (json-copy-text.ts) are handed on in larger views:
 * they cost nothing more to format, and each chunk is a write to the server's socket.
 */
const DIRECT_CHUNK = 1 << 17
/** format() lets the event loop run after this many chunks (about 1000 rows of 100 characters). */
const YIELD_EVERY_CHUNKS = 6

/** One upsert statement's rows, as COPY text (few objects, whatever the row count), and what the server refused of them. */
export interface TextRound {
  text: Array<string | Buffer>
  /** Row index in the round -> the server's refusal (already quarantined): left out when the round is redone. */
  refused: Map<number, Error & { code?: string }>
}

/**
 * One sink batch as PostgreSQL rows. ON CONFLICT cannot touch a row twice in one statement,
 * so the n-th record of a key in the batch goes in the n-th round: round 0 holds the first
 * record of every key (COPY's rows, when the keys are new), later rounds the repeats.
 *
 * Round 0 is formatted straight into COPY text, a chunk at a time as COPY asks for it, with
 * one row array reused for every record: no per-record row objects that outlive the record
 * (they would be copied by every young-generation GC the batch lives through). Rows as arrays
 * are made again from the text (parseCopyText) only when an upsert needs them. Once all of it
 * is formatted, the batch lets go of the records.
 */
export class PgBatch implements PreparedWrite {
  readonly records: number
  /** Round 0 as COPY text, as formatted so far: strings, and views of the direct lines' buffer. */
  readonly first: Array<string | Buffer> = []
  /** The batch index of each row of round 0. */
  readonly firstOwners: number[] = []
  /** Rounds 1, 2 …: COPY lines with the batch index each came from. */
  readonly later: Array<{ lines: string[]; owners: number[] }> = []
  /** Records no column could take (a converter threw), by batch index. */
  readonly rejected: SinkRejection[] = []
  private readonly row: string[]
  private seen = new Map<string, number>()
  private next = 0

  constructor(
    private input: readonly SinkRecord[],
    columns: number,
    private readonly writeRow: RowWriter,
    private readonly keyIdOf: KeyId,
    private direct?: DirectLines,
  ) {
    this.records = input.length
    this.row = new Array<string>(columns).fill('')
  }

  /** Round 0's COPY text from the start, formatting more as it is read. */
  *copyText(): Generator<string | Buffer> {
    for (let c = 0; ; c++) {
      while (c >= this.first.length && this.next < this.input.length) this.formatChunk()
      if (c >= this.first.length) return
      yield this.first[c]!
    }
  }

  /** Formats what is left: afterwards every round is complete. */
  finish(): void {
    while (this.next < this.input.length) this.formatChunk()
  }

  /**
   * finish(), letting the event loop run between chunks: formatting a batch takes milliseconds,
   * in which the write in flight (the batch before's COPY, its savepoint, a commit) would
   * otherwise wait for its answers to be read.
   */
  async format(): Promise<void> {
    for (let chunks = 1; this.next < this.input.length; chunks++) {
      this.formatChunk()
      if (chunks % YIELD_EVERY_CHUNKS === 0) await yieldToEventLoop()
    }
  }

  /** Round 0's rows (for an upsert). Call finish() first. */
  firstRows(): Array<Array<string | null>> {
    return parseCopyText(this.first)
  }

  /** Every round as COPY text, for redoing the transaction after a lost connection. Call finish() first. */
  rounds(): TextRound[] {
    return [{ text: this.first, refused: new Map() }, ...this.later.map((r) => ({ text: [`${r.lines.join('\n')}\n`], refused: new Map() }))]
  }

  private formatChunk(): void {
    const records = this.input
    const row = this.row
    const direct = this.direct
    // Lines joined once per chunk: appending field by field would make a string object per field.
    const lines: string[] = []
    // Direct lines of round 0 that lie next to each other in their buffer go as one view of it.
    let runFrom = -1
    let runTo = -1
    // The text keeps the order of firstOwners: a run and the joined lines are handed on whenever the other kind comes.
    const endRun = () => {
      if (runFrom < 0) return
      this.first.push(direct!.text.bytes(runFrom, runTo))
      runFrom = -1
    }
    const endLines = () => {
      if (lines.length === 0) return
      this.first.push(`${lines.join('\n')}\n`)
      lines.length = 0
    }
    let length = 0
    const chunk = direct ? DIRECT_CHUNK : CHUNK
    while (this.next < records.length && length < chunk) {
      const index = this.next++
      const line = direct ? direct.lineOf[index]! : -1
      let id: string | undefined
      if (line >= 0) {
        id = direct!.text.keys[line]
      } else {
        try {
          this.writeRow(records[index]!, row)
        } catch (error) {
          this.rejected.push({ index, error: error as Error })
          continue
        }
        id = this.keyIdOf(row)
      }
      const n = id === undefined ? 0 : (this.seen.get(id) ?? 0)
      if (id !== undefined) this.seen.set(id, n + 1)
      if (n === 0) {
        if (line >= 0) {
          endLines()
          if (runFrom >= 0 && runTo === line) runTo++
          else {
            endRun()
            runFrom = line
            runTo = line + 1
          }
          length += direct!.text.starts[line + 1]! - direct!.text.starts[line]!
        } else {
          endRun()
          const text = row.join('\t')
          lines.push(text)
          length += text.length + 1
        }
        this.firstOwners.push(index)
      } else {
        const round = (this.later[n - 1] ??= { lines: [], owners: [] })
        round.lines.push(line >= 0 ? direct!.text.lineText(line) : row.join('\t'))
        round.owners.push(index)
      }
    }
    endRun()
    endLines()
    if (this.next >= records.length) {
      // Everything is text now: the records (and their decoded values) can go.
      this.input = []
      this.next = 0
      this.seen = new Map()
      this.direct = undefined
    }
  }
}
