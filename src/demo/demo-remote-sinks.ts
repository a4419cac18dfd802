import { RecoveryError } from '../errors.js'
import type { DemoSink } from './demo-steps.js'

/**
 * The demo's replay destinations on servers a person names (--opensearch, --s3): the location
 * the replay writes to, derived from the topic so that two demo runs never share an index or
 * a prefix, and the `audit compare` flags that read it back.
 */

/** `--opensearch http(s)://[USER:PASSWORD@]HOST:PORT` → the index `<topic>-fixed` there, ids from order_id (the record key). */
export async function demoOpenSearchSink(topic: string, base: string): Promise<DemoSink> {
  let url: URL
  try {
    url = new URL(base)
  } catch {
    url = new URL('invalid:')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new RecoveryError('BAD_SINK_URI', `--opensearch ${base} is not an http(s):// URL; give the base URL of the server, e.g. http://127.0.0.1:9200.`)
  }
  if (!(await answers(url))) {
    throw new RecoveryError(
      'SINK_UNREACHABLE',
      `OpenSearch at ${url.host} (from --opensearch) did not answer; start it, or leave out --opensearch to replay into a Parquet file.`,
    )
  }
  const index = `${topic.toLowerCase().replace(/[^a-z0-9_-]/g, '-')}-fixed`
  const credentials = url.username ? `${url.username}${url.password ? `:${url.password}` : ''}@` : ''
  const scheme = url.protocol === 'https:' ? 'opensearchs' : 'opensearch'
  const sink = `${scheme}://${credentials}${url.host}/${index}`
  const shown = `${url.protocol}//${url.host}`
  return {
    uri: sink,
    describe: `index ${index} in ${shown}, one document per order_id (curl '${shown}/${index}/_search?size=5')`,
    compareArgs: ['--key', 'order_id', '--sink', sink],
    compareStep: true,
  }
}

/** `--s3 s3://BUCKET/PREFIX[?…]` → Parquet objects under PREFIX/<topic>-fixed, one per partition and offset range. */
export function demoS3Sink(topic: string, location: string): DemoSink {
  const match = /^s3:\/\/([^/?#]+)([^?#]*)(\?[^#]*)?$/i.exec(location.trim())
  if (!match) throw new RecoveryError('BAD_SINK_URI', `--s3 ${location} is not an S3 location; write it s3://BUCKET/PREFIX, e.g. s3://my-bucket/recover-demo.`)
  const prefix = [match[2]!.replace(/^\/+|\/+$/g, ''), `${topic}-fixed`].filter(Boolean).join('/')
  // A demo run again on its own cluster replays the same offsets of the same topic into the same folder: its own objects, rewritten.
  const query = match[3] ?? ''
  const sink = `s3://${match[1]}/${prefix}${/[?&]overwrite=/.test(query) ? query : `${query ? `${query}&` : '?'}overwrite=true`}`
  return {
    uri: sink,
    describe: `Parquet objects under ${sink}, a column per field plus source_topic/partition/offset (aws s3 ls ${`s3://${match[1]}/${prefix}/`})`,
    compareArgs: ['--key', 'order_id', '--sink', sink],
    compareStep: true,
  }
}

async function answers(url: URL): Promise<boolean> {
  try {
    const headers: Record<string, string> = url.username
      ? { authorization: `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}` }
      : {}
    await fetch(`${url.protocol}//${url.host}/`, { headers, signal: AbortSignal.timeout(5_000) })
    return true
  } catch {
    return false
  }
}
