import { open, rm, stat, type FileHandle } from 'node:fs/promises'
import { resolve } from 'node:path'
import { RecoveryError, type ErrorCode } from '../errors.js'

export interface AppendFileOptions {
  /** Continue a file a checkpoint knows: cut it back to this many bytes (what was durable) and write on. */
  resumeBytes?: number
  /** What the file is, for messages: "sink", "quarantine". */
  role: string
  errorCode: Extract<ErrorCode, 'SINK_FAILED' | 'QUARANTINE_FAILED'>
}

/**
 * A file written from the start, or continued from a checkpointed length. `sync()` makes what
 * was written durable (fsync) and returns the durable length, which a checkpoint keeps; on
 * resume the file is cut back to it, so bytes written after the last checkpoint (possibly half
 * a line, after a kill -9) are replaced, never duplicated. A fresh run refuses to overwrite a
 * file that already has content.
 */
export class AppendFile {
  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    private position: number,
    private readonly options: AppendFileOptions,
  ) {}

  /** The bytes cut off on resume. */
  truncatedBytes = 0
  /** True when this open created the file (it did not exist): only such a file is ever removed. */
  private created = false

  static async open(path: string, options: AppendFileOptions): Promise<AppendFile> {
    const abs = resolve(path)
    const fail = (error: unknown, doing: string) =>
      new RecoveryError(options.errorCode, `The ${options.role} file ${abs} could not be ${doing}: ${(error as Error).message}.`, {
        cause: error,
        details: { path: abs },
        nextSteps: ['Check that the directory exists and is writable, or choose another path.'],
      })
    if (options.resumeBytes !== undefined) {
      let size: number
      try {
        size = (await stat(abs)).size
      } catch (error) {
        throw new RecoveryError(
          'CHECKPOINT_MISMATCH',
          `The checkpoint continues the ${options.role} file ${abs} at byte ${options.resumeBytes}, but the file cannot be read (${(error as Error).message}); it was moved or deleted.`,
          { cause: error, details: { path: abs } },
        )
      }
      if (size < options.resumeBytes) {
        throw new RecoveryError(
          'CHECKPOINT_MISMATCH',
          `The checkpoint says ${options.resumeBytes} bytes of the ${options.role} file ${abs} were durable, but it has ${size}; it was changed since. Start a new replay into a new file.`,
          { details: { path: abs, size, checkpointBytes: options.resumeBytes } },
        )
      }
      let fh: FileHandle
      try {
        fh = await open(abs, 'r+')
        await fh.truncate(options.resumeBytes)
        await fh.sync()
      } catch (error) {
        throw fail(error, 'reopened')
      }
      const file = new AppendFile(abs, fh, options.resumeBytes, options)
      file.truncatedBytes = size - options.resumeBytes
      return file
    }
    const existing = await refuseExistingOutput(abs, options.role)
    try {
      const file = new AppendFile(abs, await open(abs, 'w'), 0, options)
      file.created = existing === undefined
      return file
    } catch (error) {
      throw fail(error, 'created')
    }
  }

  /**
   * Closes the file and removes it when this open created it and nothing was written to it:
   * a replay refused after opening its outputs leaves no empty file behind.
   */
  async discard(): Promise<void> {
    await this.close()
    if (!this.created || this.position > 0) return
    const now = await stat(this.path).catch(() => undefined)
    if (now && now.size === 0) await rm(this.path, { force: true }).catch(() => undefined)
  }

  /** The length written so far (durable or not). */
  get length(): number {
    return this.position
  }

  async append(data: string | Buffer): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data
    if (bytes.length === 0) return
    try {
      let done = 0
      while (done < bytes.length) {
        const { bytesWritten } = await this.fh.write(bytes, done, bytes.length - done, this.position + done)
        done += bytesWritten
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOSPC') {
        // What reached the disk past the last checkpoint is cut off again when the replay continues.
        throw new RecoveryError(this.options.errorCode, `The disk holding the ${this.options.role} file ${this.path} is full (ENOSPC); free space there.`, {
          cause: error,
          details: { path: this.path },
        })
      }
      throw new RecoveryError(this.options.errorCode, `Writing the ${this.options.role} file ${this.path} failed: ${(error as Error).message}.`, {
        cause: error,
        details: { path: this.path },
      })
    }
    this.position += bytes.length
  }

  /** fsync; returns the durable length. */
  async sync(): Promise<number> {
    try {
      await this.fh.sync()
    } catch (error) {
      throw new RecoveryError(this.options.errorCode, `Flushing the ${this.options.role} file ${this.path} to disk failed: ${(error as Error).message}.`, {
        cause: error,
        details: { path: this.path },
      })
    }
    return this.position
  }

  async close(): Promise<void> {
    await this.fh.close().catch(() => undefined)
  }
}

/**
 * A fresh replay never overwrites: a file-like output (JSONL, CSV, Parquet) that already has
 * content is refused, exit 2, the same way for every sink. Returns what is there (an empty
 * file is taken over), or undefined when there is nothing.
 */
export async function refuseExistingOutput(abs: string, role: string): Promise<Awaited<ReturnType<typeof stat>> | undefined> {
  const existing = await stat(abs).catch(() => undefined)
  if (existing && existing.size > 0) {
    throw new RecoveryError(
      'USAGE',
      `The ${role} file ${abs} already exists and is not empty; remove it, choose another path, or continue the replay that wrote it with --resume.`,
      { details: { path: abs } },
    )
  }
  return existing
}
