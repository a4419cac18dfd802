import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * HTTPS with a self-signed certificate and required credentials in front of the real test
 * server: the integ-test-zip ships without the security plugin, so this is what checks that
 * the sink sends basic auth or an API key and trusts a CA file. It forwards every
 * authenticated request unchanged and answers others 401 as the security plugin does.
 */
export interface TlsAuthProxy {
  port: number
  /** The PEM certificate (its own CA) for ?ca=. */
  caFile: string
  /** Requests refused for missing or wrong credentials. */
  refused(): number
  stop(): Promise<void>
}

export async function startTlsAuthProxy(
  target: { port: number },
  accepted: { basic: [string, string]; apiKey: string; bearer?: string },
): Promise<TlsAuthProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'recover-tls-'))
  const key = join(dir, 'key.pem')
  const caFile = join(dir, 'cert.pem')
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      caFile,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  )
  const allowed = new Set([
    `Basic ${Buffer.from(accepted.basic.join(':')).toString('base64')}`,
    `ApiKey ${accepted.apiKey}`,
    ...(accepted.bearer ? [`Bearer ${accepted.bearer}`] : []),
  ])
  let refused = 0
  const server: Server = createServer({ key: readFileSync(key), cert: readFileSync(caFile) }, (req, res) => {
    if (!allowed.has(req.headers.authorization ?? '')) {
      refused++
      res.writeHead(401, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: { type: 'security_exception', reason: 'missing or wrong authentication credentials' }, status: 401 }))
      return
    }
    const upstream = httpRequest({ host: '127.0.0.1', port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    upstream.on('error', () => {
      res.writeHead(502)
      res.end()
    })
    req.pipe(upstream)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    caFile,
    refused: () => refused,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
