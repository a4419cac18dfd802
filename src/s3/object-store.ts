import { createReadStream, createWriteStream } from 'node:fs'
import { pipeline } from 'node:stream/promises'
import type { Readable } from 'node:stream'
import { GetObjectCommand, HeadBucketCommand, ListObjectsV2Command, S3Client, S3ServiceException } from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { RecoveryError } from '../errors.js'
import type { S3Location } from './s3-location.js'

// recover supports Node 20 (package.json engines); the SDK's notice that its 2027 releases will
// not would otherwise print before every S3 command's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

/** Objects above this go up in parts of this size (S3's minimum part is 5 MiB). */
const PART_SIZE = 8 * 1024 * 1024

/**
 * One bucket of S3 or an S3-compatible store, through the AWS SDK v3: credentials from the
 * SDK's default chain (environment, shared config and credentials files with AWS_PROFILE, SSO,
 * container and instance roles), the endpoint from the location or AWS_ENDPOINT_URL. Checksums
 * only when an operation requires them: S3-compatible stores (S3Proxy, older MinIO) refuse the
 * CRC headers the SDK would otherwise add to every upload. Only this folder imports the SDK.
 */
export class ObjectStore {
  private readonly client: S3Client
  readonly endpoint: string | undefined

  constructor(readonly location: S3Location) {
    this.endpoint = location.endpoint ?? (process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL || undefined)
    this.client = new S3Client({
      ...(location.region ? { region: location.region } : process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION ? {} : { region: 'us-east-1' }),
      ...(this.endpoint ? { endpoint: this.endpoint } : {}),
      forcePathStyle: location.pathStyle ?? this.endpoint !== undefined,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    })
  }

  /** Whether the bucket is there and these credentials may use it: a wrong key fails here, before any record is read. */
  async check(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.location.bucket }))
  }

  /** Uploads a local file as one object: visible only once complete (multipart above PART_SIZE, aborted on failure). */
  async upload(key: string, file: string, contentType: string): Promise<void> {
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.location.bucket, Key: key, Body: createReadStream(file), ContentType: contentType },
      partSize: PART_SIZE,
      queueSize: 4,
      leavePartsOnError: false,
    })
    await upload.done()
  }

  /** Every object key under a prefix, with its size. */
  async list(prefix: string): Promise<Array<{ key: string; size: number }>> {
    const out: Array<{ key: string; size: number }> = []
    let token: string | undefined
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.location.bucket, Prefix: prefix, ContinuationToken: token }))
      for (const o of page.Contents ?? []) if (o.Key) out.push({ key: o.Key, size: o.Size ?? 0 })
      token = page.IsTruncated ? page.NextContinuationToken : undefined
    } while (token)
    return out
  }

  async download(key: string, file: string): Promise<void> {
    const object = await this.client.send(new GetObjectCommand({ Bucket: this.location.bucket, Key: key }))
    await pipeline(object.Body as Readable, createWriteStream(file))
  }

  close(): void {
    this.client.destroy()
  }
}

const CREDENTIAL_CODES = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'InvalidToken', 'ExpiredToken', 'Forbidden'])

/** Whether a wait may cure it: the store did not answer, or answered 5xx / slow down. */
export function isTransientS3Error(error: unknown): boolean {
  if (error instanceof S3ServiceException) return (error.$metadata.httpStatusCode ?? 0) >= 500 || error.name === 'SlowDown'
  const code = (error as { code?: string }).code ?? ''
  const name = (error as Error)?.name ?? ''
  return /^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN|UND_ERR_SOCKET)$/.test(code) || /Timeout|NetworkingError/.test(name)
}

/** An SDK error as recover's own: credentials (BUCKET_ACCESS_DENIED, with the fix), unreachable, or SINK_FAILED. */
export function translateS3Error(error: unknown, where: string, doing: string): RecoveryError {
  if (error instanceof RecoveryError) return error
  const name = (error as Error)?.name ?? ''
  const status = error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined
  const reason = ((error as Error)?.message || name || String(error)).replace(/\s+/g, ' ')
  if (CREDENTIAL_CODES.has(name) || status === 403 || name === 'CredentialsProviderError') {
    return new RecoveryError(
      'BUCKET_ACCESS_DENIED',
      `${where} refused recover's AWS credentials while ${doing} (${name || status}): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, to a key that may list, read and write the bucket.`,
      {
        details: { sink: where, reason },
        nextSteps: [
          'Check which identity the AWS SDK finds: aws sts get-caller-identity (the same environment and profile).',
          'An S3-compatible store (MinIO, S3Proxy, Ceph) has keys of its own: use those, with endpoint=URL or AWS_ENDPOINT_URL.',
        ],
        cause: error,
      },
    )
  }
  if (name === 'NoSuchBucket' || status === 404) {
    return new RecoveryError('SINK_FAILED', `${where} failed while ${doing}: the bucket does not exist; create it, or name another bucket.`, {
      details: { sink: where },
      cause: error,
    })
  }
  if (isTransientS3Error(error)) {
    return new RecoveryError(
      'SINK_UNREACHABLE',
      `${where} did not answer while ${doing} (${reason}); check the endpoint and the network, then run the same command with --resume.`,
      {
        details: { sink: where },
        retriable: true,
        summary: `${where} did not answer`,
        cause: error,
      },
    )
  }
  return new RecoveryError('SINK_FAILED', `${where} failed while ${doing}: ${reason}.`, { details: { sink: where }, cause: error })
}
