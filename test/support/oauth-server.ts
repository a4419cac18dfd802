import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A client the test identity provider knows, and how it treats it. */
export interface OAuthClient {
  secret: string
  /** The token's aud claim; default the provider's audience. */
  audience?: string
  /** Seconds the tokens live; negative: already expired when issued. */
  lifetimeSeconds?: number
}

export interface TestIdentityProvider {
  /** POST here with the client-credentials grant. */
  tokenUrl: string
  /** The public key set the broker validates tokens against. */
  jwksUrl: string
  audience: string
  /** The tokens' iss claim: what the broker's sasl.oauthbearer.expected.issuer must be. */
  issuer: string
  /** Token requests per client id, and the scopes asked for. */
  requests: Array<{ clientId: string; scope: string | null; granted: boolean }>
  /** Every token issued, to check that none was ever printed. */
  issued: string[]
  close(): Promise<void>
}

/**
 * A tiny OAuth identity provider in the test process: the client-credentials grant at /token
 * (client id and secret in a Basic header, as Kafka's client sends them) issuing RS256 JWTs
 * signed with node:crypto, and their public key at /jwks for the broker's
 * OAuthBearerValidatorCallbackHandler. Listens on loopback only.
 */
export async function startTestIdentityProvider(clients: Record<string, OAuthClient>, audience = 'kafka'): Promise<TestIdentityProvider> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const kid = createHash('sha256')
    .update(publicKey.export({ format: 'der', type: 'spki' }))
    .digest('hex')
    .slice(0, 16)
  const requests: TestIdentityProvider['requests'] = []
  const issued: string[] = []
  let issuer = ''
  const server: Server = createServer((request, response) => {
    const reply = (status: number, body: unknown) => {
      response.writeHead(status, { 'Content-Type': 'application/json' })
      response.end(JSON.stringify(body))
    }
    if (request.method === 'GET' && request.url === '/jwks') {
      reply(200, { keys: [{ ...(publicKey.export({ format: 'jwk' }) as object), kid, alg: 'RS256', use: 'sig' }] })
      return
    }
    if (request.method !== 'POST' || request.url !== '/token') {
      reply(404, { error: 'not_found' })
      return
    }
    let body = ''
    request.on('data', (chunk: Buffer) => (body += chunk.toString()))
    request.on('end', () => {
      const form = new URLSearchParams(body)
      const [clientId = '', secret = ''] = Buffer.from((request.headers.authorization ?? '').replace(/^Basic /, ''), 'base64')
        .toString()
        .split(':')
      const client = clients[clientId]
      const granted = form.get('grant_type') === 'client_credentials' && client !== undefined && client.secret === secret
      requests.push({ clientId, scope: form.get('scope'), granted })
      if (!granted) {
        reply(401, { error: 'invalid_client', error_description: 'Client authentication failed' })
        return
      }
      const now = Math.floor(Date.now() / 1000)
      const lifetime = client.lifetimeSeconds ?? 600
      const claims = {
        iss: issuer,
        sub: clientId,
        aud: client.audience ?? audience,
        iat: now - (lifetime < 0 ? 600 : 0),
        exp: now + lifetime,
        scope: form.get('scope') ?? '',
      }
      const token = jwt(claims, privateKey, kid)
      issued.push(token)
      reply(200, { access_token: token, token_type: 'Bearer', expires_in: lifetime })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  issuer = base
  return {
    tokenUrl: `${base}/token`,
    jwksUrl: `${base}/jwks`,
    audience,
    issuer,
    requests,
    issued,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

function jwt(claims: object, key: KeyObject, kid: string): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const unsigned = `${part({ alg: 'RS256', typ: 'JWT', kid })}.${part(claims)}`
  return `${unsigned}.${sign('sha256', Buffer.from(unsigned), key).toString('base64url')}`
}
