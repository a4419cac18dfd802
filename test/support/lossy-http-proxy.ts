import { createServer, request } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface LossyHttpProxy {
  url: string
  /** How many requests had their answer dropped. */
  dropped(): number
  /** Forward everything again (the worker is back). */
  up(): void
  stop(): Promise<void>
}

/**
 * A forwarder in front of a real HTTP server that loses answers the way a worker dying mid-reply
 * does: a request `dropAnswer(method, path)` picks is forwarded and fully handled by the server,
 * then the client's connection is closed without the answer. With `downAfterDrop`, every later
 * request is cut off too (the worker is gone) until `up()`.
 */
export async function startLossyHttpProxy(
  target: string,
  options: { dropAnswer: (method: string, path: string) => boolean; downAfterDrop?: boolean },
): Promise<LossyHttpProxy> {
  const to = new URL(target)
  let dropped = 0
  let down = false
  const server = createServer((req, res) => {
    if (down) {
      req.socket.destroy()
      return
    }
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const drop = options.dropAnswer(req.method ?? 'GET', req.url ?? '/')
      const forward = request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        if (!drop) {
          res.writeHead(answer.statusCode ?? 502, answer.headers)
          answer.pipe(res)
          return
        }
        // The server has done the work and answered; the client never hears it.
        answer.resume()
        answer.on('end', () => {
          dropped++
          if (options.downAfterDrop) down = true
          req.socket.destroy()
        })
      })
      forward.on('error', () => res.destroy())
      forward.end(Buffer.concat(chunks))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    dropped: () => dropped,
    up: () => {
      down = false
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
