import { readFileSync } from 'node:fs'
import { Client } from '@opensearch-project/opensearch'
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
