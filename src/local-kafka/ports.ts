import { createServer, type Server } from 'node:net'

/**
 * Asks the OS for `count` distinct free loopback ports (listen on port 0, read the port,
 * close). All are held open until every one is picked, so they never coincide.
 */
export async function freeLoopbackPorts(count: number): Promise<number[]> {
  const servers: Server[] = []
  try {
    const ports: number[] = []
    for (let i = 0; i < count; i++) {
      const server = createServer()
      servers.push(server)
      ports.push(
        await new Promise<number>((resolve, reject) => {
          server.once('error', reject)
          server.listen(0, '127.0.0.1', () => {
            const address = server.address()
            if (address === null || typeof address === 'string') reject(new Error('no TCP address for a listening socket'))
            else resolve(address.port)
          })
        }),
      )
    }
    return ports
  } finally {
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))))
  }
}
