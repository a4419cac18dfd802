import { readFileSync } from 'node:fs'
import { Client, errors } from '@opensearch-project/opensearch'
import type { OpenSearchLocation } from '../core/opensearch-location.js'
import { RecoveryError } from '../errors.js'

/** The client for a location: no retries of its own (the sink's back-off decides), basic auth, API key or a CA file. */
export function openSearchClient(target: OpenSearchLocation): Client {
  const auth = target.auth
  let ca: Buffer | undefined
  if (target.ca !== undefined) {
    try {
      ca = readFileSync(target.ca)
    } catch (error) {
      throw new RecoveryError(
        'BAD_SINK_URI',
        `The CA file ${target.ca} of ${target.display} cannot be read (${(error as Error).message}); give the PEM file of the CA that signed the server's certificate.`,
        {
          details: { sink: target.display },
        },
      )
    }
  }
  return new Client({
    node: target.node,
    maxRetries: 0,
    requestTimeout: 60_000,
    ...(auth && 'username' in auth ? { auth: { username: auth.username, password: auth.password } } : {}),
    ...(auth && 'apiKey' in auth ? { headers: { authorization: `ApiKey ${auth.apiKey}` } } : {}),
    ...(ca ? { ssl: { ca } } : {}),
  })
}

/** Some items of a bulk request could not be taken now (429, 5xx): the request is sent again after a wait. */
export class RetryLater extends Error {}

export function statusOf(error: unknown): number | undefined {
  return error instanceof errors.ResponseError ? (error.meta.statusCode ?? undefined) : undefined
}

/** Worth waiting for: the server is down or restarting, overloaded (429), unavailable (503), or some items were not taken. */
export function isTransient(error: unknown): boolean {
  if (
    error instanceof RetryLater ||
    error instanceof errors.ConnectionError ||
    error instanceof errors.NoLivingConnectionsError ||
    error instanceof errors.TimeoutError
  )
    return true
  const status = statusOf(error)
  return status === 429 || status === 502 || status === 503 || status === 504
}

export function causeOf(e: { caused_by?: { type: string; reason?: string } }): string {
  return e.caused_by ? ` (${e.caused_by.type}: ${e.caused_by.reason ?? ''})` : ''
}

export function reasonOf(error: unknown): string {
  if (error instanceof errors.ResponseError) {
    const body = error.meta.body as { error?: { type?: string; reason?: string } | string } | undefined
    const e = body?.error
    const said = typeof e === 'string' ? e : e ? `${e.type ?? ''}: ${e.reason ?? ''}` : error.message
    return `HTTP ${error.meta.statusCode} ${said}`
  }
  return ((error as Error).message ?? String(error)).replace(/\s+/g, ' ').replace(/[.]$/, '')
}
