import { readFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { RecoveryError } from '../errors.js'
import { registerSecret } from '../config/redact.js'
import type { ConnectOffsets, ConnectorInfo, ConnectorStatus, ConnectRoot } from './connect-types.js'

/** Where the Connect REST API is and how to authenticate to it. */
export interface ConnectSettings {
  /** http(s)://host:port, without credentials (they are in `auth`). */
  url: string
  auth?: { kind: 'basic'; user: string; password: string } | { kind: 'bearer'; token: string }
  /** PEM file of the CA that signed the worker's certificate (https only). */
  caFile?: string
  /** Where the URL came from: "--connect-url", 'cluster "prod"'… */
  source: string
  /** The credentials were user:password@ in the URL: commands printed with the bare `url` need them from the environment. */
  credentialsInUrl?: boolean
  /** Per request; a worker that does not answer in this time is CONNECT_UNREACHABLE. */
  timeoutMs?: number
}

export interface ConnectResponse {
  status: number
  body: unknown
}

/**
 * A small client for the Kafka Connect REST API (KIP-875 offsets included). Every failure is a
 * RecoveryError: the worker unreachable (exit 5), a connector that does not exist (exit 2),
 * credentials refused (exit 5), any other refusal with Connect's own message.
 */
export class ConnectClient {
  private readonly ca: Buffer | undefined

  constructor(readonly settings: ConnectSettings) {
    if (settings.auth?.kind === 'basic') registerSecret(settings.auth.password)
    if (settings.auth?.kind === 'bearer') registerSecret(settings.auth.token)
    try {
      this.ca = settings.caFile ? readFileSync(settings.caFile) : undefined
    } catch (cause) {
      throw new RecoveryError('CONFIG_NOT_FOUND', `Cannot read the Connect CA file ${settings.caFile}; check the path given to --connect-ca.`, { cause })
    }
  }

  get url(): string {
    return this.settings.url
  }

  root(): Promise<ConnectRoot> {
    return this.json('GET', '/') as Promise<ConnectRoot>
  }

  async connectorNames(): Promise<string[]> {
    return ((await this.json('GET', '/connectors')) as string[]).sort()
  }

  info(name: string): Promise<ConnectorInfo> {
    return this.json('GET', `/connectors/${encodeURIComponent(name)}`, undefined, name) as Promise<ConnectorInfo>
  }

  status(name: string): Promise<ConnectorStatus> {
    return this.json('GET', `/connectors/${encodeURIComponent(name)}/status`, undefined, name) as Promise<ConnectorStatus>
  }

  offsets(name: string): Promise<ConnectOffsets> {
    return this.json('GET', `/connectors/${encodeURIComponent(name)}/offsets`, undefined, name) as Promise<ConnectOffsets>
  }

  async stop(name: string): Promise<void> {
    await this.json('PUT', `/connectors/${encodeURIComponent(name)}/stop`, undefined, name)
  }

  async resume(name: string): Promise<void> {
    await this.json('PUT', `/connectors/${encodeURIComponent(name)}/resume`, undefined, name)
  }

  /** PATCH /connectors/NAME/offsets: Connect's answer as is (the caller decides what a refusal means). */
  patchOffsets(name: string, offsets: ConnectOffsets): Promise<ConnectResponse> {
    return this.send('PATCH', `/connectors/${encodeURIComponent(name)}/offsets`, offsets)
  }

  async createConnector(name: string, config: Record<string, string>): Promise<void> {
    await this.json('PUT', `/connectors/${encodeURIComponent(name)}/config`, config, name)
  }

  /** A request whose non-2xx answer is an error. `connector` names the connector a 404 is about. */
  async json(method: string, path: string, body?: unknown, connector?: string): Promise<unknown> {
    const response = await this.send(method, path, body)
    if (response.status >= 200 && response.status < 300) return response.body
    throw this.refusal(response, method, path, connector)
  }

  refusal(response: ConnectResponse, method: string, path: string, connector?: string): RecoveryError {
    const message = connectMessage(response.body)
    if (response.status === 404 && connector !== undefined)
      return new RecoveryError('CONNECTOR_NOT_FOUND', `Kafka Connect at ${this.url} has no connector "${connector}"; list them with: recover connect list.`, {
        details: { connector, connectUrl: this.url },
      })
    if (response.status === 401 || response.status === 403)
      return new RecoveryError(
        'CONNECT_AUTH_FAILED',
        `Kafka Connect at ${this.url} refused the credentials (HTTP ${response.status}${message ? `: ${message}` : ''}); set RECOVER_CONNECT_USER and RECOVER_CONNECT_PASSWORD, or RECOVER_CONNECT_TOKEN, or the cluster's connect settings in recover.config.json.`,
        { details: { status: response.status, connectUrl: this.url } },
      )
    return new RecoveryError(
      'CONNECT_ERROR',
      `Kafka Connect at ${this.url} answered ${method} ${path} with HTTP ${response.status}${message ? `: ${message}` : ''}.`,
      { details: { status: response.status, connectUrl: this.url, message }, retriable: response.status >= 500 },
    )
  }

  /** One HTTP exchange; only an unreachable or silent worker throws. */
  send(method: string, path: string, body?: unknown): Promise<ConnectResponse> {
    const url = new URL(path.replace(/^\//, ''), this.url.endsWith('/') ? this.url : `${this.url}/`)
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body))
    const headers: Record<string, string> = { accept: 'application/json' }
    if (payload) {
      headers['content-type'] = 'application/json'
      headers['content-length'] = String(payload.length)
    }
    const auth = this.settings.auth
    if (auth?.kind === 'basic') headers.authorization = `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`
    if (auth?.kind === 'bearer') headers.authorization = `Bearer ${auth.token}`
    const timeoutMs = this.settings.timeoutMs ?? 30_000
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest
    return new Promise((resolve, reject) => {
      const req = send(url, { method, headers, timeout: timeoutMs, ...(this.ca ? { ca: this.ca } : {}) }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('error', (error) => reject(this.unreachable(method, path, error)))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          let parsed: unknown = text
          try {
            parsed = text === '' ? null : JSON.parse(text)
          } catch {
            // Not JSON (a proxy's error page): kept as text for the message.
          }
          resolve({ status: res.statusCode ?? 0, body: parsed })
        })
      })
      req.on('timeout', () => req.destroy(new Error(`no answer in ${Math.round(timeoutMs / 1000)} s`)))
      req.on('error', (error) => reject(this.unreachable(method, path, error)))
      req.end(payload)
    })
  }

  private unreachable(method: string, path: string, error: Error): RecoveryError {
    const code = (error as NodeJS.ErrnoException).code
    return new RecoveryError(
      'CONNECT_UNREACHABLE',
      `Kafka Connect at ${this.url} (from ${this.settings.source}) did not answer ${method} ${path} (${code ?? error.message}); check the URL and that a worker is running.`,
      { cause: error, retriable: true, details: { connectUrl: this.url, method, path, error: code ?? error.message } },
    )
  }
}

/** Connect's error body is {"error_code": 409, "message": "..."}. */
export function connectMessage(body: unknown): string {
  if (body && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string') return (body as { message: string }).message
  return typeof body === 'string' ? body.slice(0, 300) : ''
}
