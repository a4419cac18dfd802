import { createServer, request } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface HttpTap {
  url: string
  stop(): Promise<void>
}

/**
 * A plain HTTP forwarder in front of a real server that lets a test act at an exact request:
 * `before(method, path)` runs (and is awaited) before that request is forwarded, so a test can
 * kill the server between two calls the client makes. Nothing is rewritten: a request the
 * server cannot take ends the client's connection, as a dead server does. A hook that returns (or
 * resolves to) `{ status }` answers that request itself, and the server never sees it (a request swallowed
 * on the way, the server left as it was).
 */
export async function startHttpTap(target: string, before: (method: string, path: string) => unknown): Promise<HttpTap> {
  const to = new URL(target)
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', async () => {
      let answer: unknown
      try {
        answer = await before(req.method ?? 'GET', req.url ?? '/')
      } catch {
        // The hook's own failure shows up in the test's assertions.
      }
      if (typeof answer === 'object' && answer !== null && 'status' in answer && typeof answer.status === 'number') {
        res.writeHead(answer.status, { 'content-type': 'application/json' })
        res.end()
        return
      }
      const forward = request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      })
      forward.on('error', () => res.destroy())
      forward.end(Buffer.concat(chunks))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
