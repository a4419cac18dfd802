import { LocationSyntaxError, type AnyLocation } from '../core/location.js'

/** What a replay writes as S3 objects: Parquet (DuckDB's writer), recover's lossless JSONL envelope, or CSV (as the file:PATH.csv sink writes it). */
export type S3ObjectFormat = 'parquet' | 'jsonl' | 'csv'

/**
 * `s3://BUCKET[/PREFIX][?format=parquet|jsonl|csv][&endpoint=URL][&path_style=true|false][&region=R]
 * [&max_records=N][&max_bytes=N][&overwrite=true]`. Credentials are never in the text: they come the AWS way
 * (environment, profile, instance role). The endpoint defaults to AWS_ENDPOINT_URL (an
 * S3-compatible store); with a custom endpoint, path-style addressing is the default.
 */
export interface S3Location extends AnyLocation {
  readonly kind: 's3'
  readonly bucket: string
  /** The key prefix, without a leading or trailing slash ('' for the bucket's root). */
  readonly prefix: string
  readonly format: S3ObjectFormat
  readonly endpoint?: string
  readonly pathStyle?: boolean
  readonly region?: string
  /** An object is closed once it holds this many records… */
  readonly maxRecords: number
  /** …or this many bytes of keys and values, whichever comes first. */
  readonly maxBytes: number
  /**
   * A fresh replay writes over objects of its topic that hold some of its offsets (the same
   * replay run again). Without it, such objects stop the replay before any record is read: they
   * were written by another replay, which recover does not overwrite or delete.
   */
  readonly overwrite: boolean
}

export const DEFAULT_MAX_RECORDS = 1_000_000
export const DEFAULT_MAX_BYTES = 256 * 1024 * 1024

const PARAMETERS = new Set(['format', 'endpoint', 'path_style', 'region', 'max_records', 'max_bytes', 'overwrite'])
/** S3's rule for new bucket names (lower case, digits, dots and hyphens, 3 to 63 characters). */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/

export function parseS3Location(text: string): S3Location {
  const match = /^s3:\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?$/i.exec(text.trim())
  if (!match) throw new LocationSyntaxError('an S3 location is s3://BUCKET/PREFIX')
  const bucket = match[1]!
  if (!BUCKET.test(bucket)) throw new LocationSyntaxError(`"${bucket}" is not an S3 bucket name (3 to 63 lower-case letters, digits, dots or hyphens)`)
  const prefix = match[2]!.replace(/^\/+|\/+$/g, '')
  const params = new URLSearchParams(match[3] ?? '')
  for (const name of params.keys())
    if (!PARAMETERS.has(name)) throw new LocationSyntaxError(`"${name}" is not a parameter of s3: (${[...PARAMETERS].join(', ')})`)
  const format = (params.get('format') ?? 'parquet').toLowerCase()
  if (format !== 'parquet' && format !== 'jsonl' && format !== 'csv')
    throw new LocationSyntaxError(`format=${format} is not one recover writes to S3 (parquet, jsonl or csv)`)
  const endpoint = params.get('endpoint') ?? undefined
  if (endpoint !== undefined && !/^https?:\/\/[^/]+/i.test(endpoint)) throw new LocationSyntaxError(`endpoint=${endpoint} is not an http(s):// URL`)
  const pathStyleText = params.get('path_style')
  if (pathStyleText !== null && pathStyleText !== 'true' && pathStyleText !== 'false') throw new LocationSyntaxError('path_style takes true or false')
  const overwriteText = params.get('overwrite')
  if (overwriteText !== null && overwriteText !== 'true' && overwriteText !== 'false') throw new LocationSyntaxError('overwrite takes true or false')
  const shown = new URLSearchParams([...params].filter(([k]) => k !== 'format' || format !== 'parquet'))
  const query = shown.toString()
  return {
    kind: 's3',
    bucket,
    prefix,
    format,
    ...(endpoint ? { endpoint } : {}),
    ...(pathStyleText !== null ? { pathStyle: pathStyleText === 'true' } : {}),
    ...(params.get('region') ? { region: params.get('region')! } : {}),
    maxRecords: positive(params.get('max_records'), 'max_records', DEFAULT_MAX_RECORDS),
    maxBytes: positive(params.get('max_bytes'), 'max_bytes', DEFAULT_MAX_BYTES),
    overwrite: overwriteText === 'true',
    display: `s3://${bucket}${prefix ? `/${prefix}` : ''}${query ? `?${decodeURIComponent(query)}` : ''}`,
  }
}

function positive(text: string | null, name: string, fallback: number): number {
  if (text === null) return fallback
  if (!/^[1-9]\d*$/.test(text)) throw new LocationSyntaxError(`${name}=${text} is not a positive whole number`)
  return Number(text)
}
