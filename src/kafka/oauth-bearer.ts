import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import type { ConnectionSettings, OAuthSettings } from '../config/connection-settings.js'
import { registerSecret } from '../config/redact.js'
import { RecoveryError } from '../errors.js'

const require = createRequire(import.meta.url)

/** An identity provider that has not answered by then will not: say so while the connect deadline still runs. */
const TOKEN_TIMEOUT_MS = 4_000
/** A token is fetched again once this share of its lifetime has passed (Kafka's sasl.login.refresh.window.factor). */
const REFRESH_FACTOR = 0.8
/** The lifetime assumed for a token that says nothing about it (no exp claim, no expires_in). */
const DEFAULT_LIFETIME_MS = 3_600_000

interface Token {
  value: string
  fetchedAt: number
  expiresAt: number
}

/** Per connection settings: every broker connection of a command shares one token until it is due for refresh. */
const tokens = new WeakMap<ConnectionSettings, Promise<Token>>()

/**
 * kafkajs's oauthBearerProvider: a token from the client-credentials flow (or a token file),
 * as Kafka's OAuthBearerLoginCallbackHandler gets it, reused until 80 % of its lifetime has
 * passed. A token that has already expired is refused here, with the times, rather than sent
 * for the broker to refuse without saying why. Failures are RecoveryErrors that
 * translateKafkaError passes through.
 */
export async function oauthBearerToken(settings: ConnectionSettings): Promise<{ value: string; extensions?: Record<string, string> }> {
  const oauth = settings.sasl?.oauth
  if (!oauth) throw new RecoveryError('INTERNAL', 'OAUTHBEARER was chosen without OAuth settings.')
  const cached = await tokens.get(settings)?.catch(() => undefined)
  let token = cached && Date.now() < cached.fetchedAt + (cached.expiresAt - cached.fetchedAt) * REFRESH_FACTOR ? cached : undefined
  if (!token) {
    const fetching = fetchToken(settings, oauth)
    tokens.set(settings, fetching)
    token = await fetching
  }
  return Object.keys(oauth.extensions).length > 0 ? { value: token.value, extensions: oauth.extensions } : { value: token.value }
}

/** What kafkajs hands a SASL mechanism: one SaslAuthenticate round trip, with an optional answer decoder. */
export interface SaslExchange {
  saslAuthenticate(exchange: {
    request: { encode(): Promise<Buffer> }
    response?: { decode(bytes: Buffer): Promise<Buffer>; parse(bytes: Buffer): Promise<Buffer> }
  }): Promise<Buffer | undefined>
}

/**
 * OAUTHBEARER as Kafka's client runs it. kafkajs's own mechanism ignores the server's answer,
 * but a Kafka broker that refuses a token answers with an error document
 * ({"status":"invalid_token"}) rather than an error code, so kafkajs took every refusal for a
 * login and then lost the connection ("could not reach Kafka"). Here the answer is read, and
 * a refusal is an authentication error that says what the broker said. A failure to get a
 * token is not retried by kafkajs (its retry would resend on a half-finished SASL exchange).
 */
export async function authenticateOAuthBearer(settings: ConnectionSettings, exchange: SaslExchange): Promise<void> {
  const errors = require('kafkajs/src/errors') as {
    KafkaJSNonRetriableError: new (e: Error, o?: { cause?: unknown }) => Error
    KafkaJSSASLAuthenticationError: new (message: string) => Error
  }
  let token: { value: string; extensions?: Record<string, string> }
  try {
    token = await oauthBearerToken(settings)
  } catch (error) {
    throw new errors.KafkaJSNonRetriableError(error as Error, { cause: error })
  }
  const { request } = require('kafkajs/src/protocol/sasl/oauthBearer') as {
    request(sasl: object, token: { value: string; extensions?: Record<string, string> }): Promise<{ encode(): Promise<Buffer> }>
  }
  const keep = async (bytes: Buffer) => bytes
  const answer = await exchange.saslAuthenticate({ request: await request({}, token), response: { decode: keep, parse: keep } })
  // kafkajs hands over the SASL bytes with their int32 length in front, as its request writes them.
  const said = answer && answer.length >= 4 && answer.readInt32BE(0) === answer.length - 4 ? answer.subarray(4) : answer
  if (said && said.length > 0) {
    throw new errors.KafkaJSSASLAuthenticationError(`SASL OAUTHBEARER authentication failed: the broker answered ${said.toString('utf8')}`)
  }
}

async function fetchToken(settings: ConnectionSettings, oauth: OAuthSettings): Promise<Token> {
  const fetchedAt = Date.now()
  const { value, expiresInMs } = oauth.tokenEndpoint.startsWith('file:') ? await tokenFromFile(oauth) : await tokenFromEndpoint(settings, oauth)
  registerSecret(value)
  const claims = jwtClaims(value)
  if (claims) {
    const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : undefined
    if (exp !== undefined && exp <= Date.now()) {
      throw new RecoveryError(
        'AUTHENTICATION_FAILED',
        `The OAuth token from ${oauth.tokenEndpoint} expired at ${new Date(exp).toISOString()} (this machine's clock says ${new Date().toISOString()}); check the clock here, or the token lifetime the identity provider gives ${describeClient(settings)}.`,
        { details: { tokenEndpoint: oauth.tokenEndpoint, expiredAt: new Date(exp).toISOString() } },
      )
    }
    if (claims[oauth.subClaim] === undefined) {
      throw new RecoveryError(
        'AUTHENTICATION_FAILED',
        `The OAuth token from ${oauth.tokenEndpoint} has no "${oauth.subClaim}" claim to name the principal; set sasl.oauthbearer.sub.claim.name to the claim that does.`,
        { details: { tokenEndpoint: oauth.tokenEndpoint } },
      )
    }
    return { value, fetchedAt, expiresAt: exp ?? fetchedAt + (expiresInMs ?? DEFAULT_LIFETIME_MS) }
  }
  return { value, fetchedAt, expiresAt: fetchedAt + (expiresInMs ?? DEFAULT_LIFETIME_MS) }
}

/** The client-credentials grant (RFC 6749 4.4), with the client id and secret in a Basic header as Kafka sends them. */
async function tokenFromEndpoint(settings: ConnectionSettings, oauth: OAuthSettings): Promise<{ value: string; expiresInMs?: number }> {
  const sasl = settings.sasl!
  const encode = (s: string) => (oauth.urlencodeHeader ? encodeURIComponent(s) : s)
  const body = new URLSearchParams({ grant_type: 'client_credentials', ...(oauth.scope ? { scope: oauth.scope } : {}) })
  let response: Response
  try {
    response = await fetch(oauth.tokenEndpoint, {
      method: 'POST',
      headers: {
        Authorization: `Basic ${Buffer.from(`${encode(sasl.username)}:${encode(sasl.password)}`).toString('base64')}`,
        'Content-Type': 'application/x-www-form-urlencoded',
        Accept: 'application/json',
      },
      body,
      signal: AbortSignal.timeout(TOKEN_TIMEOUT_MS),
    })
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause
    const why =
      (error as Error).name === 'TimeoutError' ? `no answer within ${TOKEN_TIMEOUT_MS / 1000} s` : (cause?.code ?? cause?.message ?? (error as Error).message)
    throw new RecoveryError(
      'TOKEN_ENDPOINT_FAILED',
      `Could not reach the OAuth token endpoint ${oauth.tokenEndpoint} (${why}) to log in to Kafka at ${settings.brokers.join(',')}; check sasl.oauthbearer.token.endpoint.url and that the identity provider is up.`,
      // A connection refused is an outage a wait may cure; kafkajs and replay's outage wait retry it.
      { cause: error, retriable: (error as Error).name !== 'TimeoutError', details: { tokenEndpoint: oauth.tokenEndpoint } },
    )
  }
  const text = await response.text()
  let json: Record<string, unknown> | undefined
  try {
    json = JSON.parse(text) as Record<string, unknown>
  } catch {
    json = undefined
  }
  if (!response.ok) {
    const code = typeof json?.error === 'string' ? json.error : ''
    const said = [code, typeof json?.error_description === 'string' ? json.error_description : ''].filter(Boolean).join(': ')
    const status = `HTTP ${response.status}${said ? ` ${said}` : ''}`
    if (response.status >= 500)
      throw new RecoveryError(
        'TOKEN_ENDPOINT_FAILED',
        `The OAuth token endpoint ${oauth.tokenEndpoint} failed (${status}); try again once the identity provider is healthy.`,
        { retriable: true, details: { tokenEndpoint: oauth.tokenEndpoint, status: response.status } },
      )
    const fix = code === 'invalid_scope' ? 'check scope in sasl.jaas.config' : 'check clientId and clientSecret in sasl.jaas.config'
    throw new RecoveryError(
      'AUTHENTICATION_FAILED',
      `The OAuth token endpoint ${oauth.tokenEndpoint} refused ${describeClient(settings)} (${status}); ${fix}.`,
      {
        details: { tokenEndpoint: oauth.tokenEndpoint, status: response.status, error: code || null },
      },
    )
  }
  const token = json?.access_token
  if (typeof token !== 'string' || token === '')
    throw new RecoveryError(
      'TOKEN_ENDPOINT_FAILED',
      `The OAuth token endpoint ${oauth.tokenEndpoint} answered without an access_token; check that sasl.oauthbearer.token.endpoint.url is the provider's token URL.`,
      { details: { tokenEndpoint: oauth.tokenEndpoint, status: response.status } },
    )
  const expiresIn = Number(json?.expires_in)
  return { value: token, ...(Number.isFinite(expiresIn) && expiresIn > 0 ? { expiresInMs: expiresIn * 1000 } : {}) }
}

async function tokenFromFile(oauth: OAuthSettings): Promise<{ value: string; expiresInMs?: number }> {
  const path = fileURLToPath(oauth.tokenEndpoint)
  try {
    return { value: (await readFile(path, 'utf8')).trim() }
  } catch (error) {
    throw new RecoveryError(
      'BAD_CLIENT_CONFIG',
      `Cannot read the OAuth token file ${path} (sasl.oauthbearer.token.endpoint.url); check the path and that whatever writes the token has run.`,
      { cause: error },
    )
  }
}

/** A JWT's payload; undefined for an opaque token. */
export function jwtClaims(token: string): Record<string, unknown> | undefined {
  const parts = token.split('.')
  if (parts.length !== 3) return undefined
  try {
    const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as unknown
    return claims && typeof claims === 'object' ? (claims as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

function describeClient(settings: ConnectionSettings): string {
  return settings.sasl?.username ? `client id "${settings.sasl.username}"` : 'this client'
}
