import { LocationSyntaxError, type AnyLocation } from './location.js'

/**
 * `opensearch://[USER:PASSWORD@]HOST:PORT/INDEX[?id=key|offset][&provenance=true][&ca=FILE][&api_key=KEY]`;
 * `opensearchs://` speaks HTTPS, and `elasticsearch://` / `elasticsearchs://` are the same sink
 * (Elasticsearch 7 and 8 take the same bulk API).
 */
export interface OpenSearchLocation extends AnyLocation {
  readonly kind: 'opensearch'
  /** http(s)://HOST:PORT, without credentials. */
  readonly node: string
  readonly index: string
  /** key: the record key is the document id (a keyless record falls back to offset); offset: `TOPIC-PARTITION-OFFSET` always. */
  readonly id: 'key' | 'offset'
  /** Adds source_topic, source_partition and source_offset to every document. */
  readonly provenance: boolean
  readonly auth?: { username: string; password: string } | { apiKey: string }
  /** A PEM file of the CA that signed the server's certificate (HTTPS). */
  readonly ca?: string
}

export const OPENSEARCH_SCHEMES = ['opensearch', 'opensearchs', 'elasticsearch', 'elasticsearchs']

/** Index names the server takes: lower case, none of \ / * ? " < > | space , # :, not starting with - _ +. */
const INDEX_NAME = /^[a-z0-9][^\\/*?"<>| ,#:A-Z]{0,254}$/
const PARAMETERS = new Set(['id', 'provenance', 'ca', 'api_key'])

export function parseOpenSearchLocation(text: string): OpenSearchLocation {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new LocationSyntaxError('it is not a URL')
  }
  const scheme = url.protocol.replace(/:$/, '').toLowerCase()
  if (!url.hostname) throw new LocationSyntaxError('it needs a host: opensearch://HOST:9200/INDEX')
  const index = decodeURIComponent(url.pathname.replace(/^\/+|\/+$/g, ''))
  if (index === '') throw new LocationSyntaxError('it needs an index: opensearch://HOST:9200/INDEX')
  if (!INDEX_NAME.test(index) || index === '.' || index === '..')
    throw new LocationSyntaxError(`"${index}" is not an index name (lower case, without \\ / * ? " < > | , # : or spaces, not starting with - _ +)`)
  const unknown = [...url.searchParams.keys()].find((k) => !PARAMETERS.has(k))
  if (unknown !== undefined) throw new LocationSyntaxError(`"${unknown}" is not a parameter of this sink (it takes id, provenance, ca and api_key)`)
  const id = url.searchParams.get('id') ?? 'key'
  if (id !== 'key' && id !== 'offset') throw new LocationSyntaxError(`id must be key or offset, not "${id}"`)
  const provenance = url.searchParams.get('provenance') ?? 'false'
  if (provenance !== 'true' && provenance !== 'false') throw new LocationSyntaxError(`provenance must be true or false, not "${provenance}"`)
  const apiKey = url.searchParams.get('api_key') ?? undefined
  const username = decodeURIComponent(url.username)
  const password = decodeURIComponent(url.password)
  if (apiKey !== undefined && username !== '') throw new LocationSyntaxError('give a user and password or an api_key, not both')
  const https = scheme.endsWith('s')
  const ca = url.searchParams.get('ca') ?? undefined
  if (ca !== undefined && !https) throw new LocationSyntaxError(`a CA file needs HTTPS: write ${scheme}s://`)
  const node = `${https ? 'https' : 'http'}://${url.host}`
  const credentials = username !== '' ? `${encodeURIComponent(username)}${password !== '' ? ':***' : ''}@` : ''
  const shown = [id === 'offset' ? 'id=offset' : '', provenance === 'true' ? 'provenance=true' : '', ca ? `ca=${ca}` : '', apiKey ? 'api_key=***' : '']
    .filter(Boolean)
    .join('&')
  return {
    kind: 'opensearch',
    node,
    index,
    id,
    provenance: provenance === 'true',
    ...(apiKey !== undefined ? { auth: { apiKey } } : username !== '' ? { auth: { username, password } } : {}),
    ...(ca !== undefined ? { ca } : {}),
    display: `${scheme}://${credentials}${url.host}/${index}${shown ? `?${shown}` : ''}`,
  }
}
