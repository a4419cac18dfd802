import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'

/**
 * A small fake of the Confluent Schema Registry REST API, as documented: enough of it for a
 * reader (`GET /schemas/ids/{id}`, `GET /subjects/{subject}/versions/{version}`), with basic
 * auth, request counting and switchable failures. Not Kafka: faking it is allowed.
 */
export interface FakeRegistrySchema {
  schema: unknown
  schemaType?: 'AVRO' | 'PROTOBUF' | 'JSON'
  references?: Array<{ name: string; subject: string; version: number }>
}

export interface FakeRegistry {
  url: string
  /** URL with user:password@ when the registry requires basic auth. */
  urlWithAuth: string
  port: number
  /** Requests by path, in order. */
  requests: string[]
  /** When set, every request is answered with this status (and a JSON error body). */
  failWith: number | undefined
  /** When true, requests are accepted and never answered. */
  silent: boolean
  close(): Promise<void>
}

export async function startFakeRegistry(options: {
  ids: Record<number, FakeRegistrySchema>
  subjects?: Record<string, Record<number, FakeRegistrySchema & { id: number }>>
  auth?: { username: string; password: string }
}): Promise<FakeRegistry> {
  const requests: string[] = []
  const pending = new Set<ServerResponse>()
  const state = { failWith: undefined as number | undefined, silent: false }
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' })
    res.end(JSON.stringify(body))
  }
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]!
    requests.push(path)
    if (state.silent) {
      pending.add(res)
      return
    }
    if (state.failWith !== undefined) return send(res, state.failWith, { error_code: state.failWith * 100, message: 'failing on purpose' })
    if (options.auth) {
      const expected = `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}`
      if (req.headers.authorization !== expected) return send(res, 401, { error_code: 401, message: 'Unauthorized' })
    }
    if (req.method !== 'GET') return send(res, 405, { error_code: 405, message: 'Method not allowed' })
    const byId = /^\/schemas\/ids\/(\d+)$/.exec(path)
    if (byId) {
      const entry = options.ids[Number(byId[1])]
      if (!entry) return send(res, 404, { error_code: 40403, message: 'Schema not found' })
      return send(res, 200, {
        // Protobuf schemas are .proto text; Avro and JSON Schema ones are JSON.
        schema: typeof entry.schema === 'string' && entry.schemaType === 'PROTOBUF' ? entry.schema : JSON.stringify(entry.schema),
        ...(entry.schemaType ? { schemaType: entry.schemaType } : {}),
        ...(entry.references ? { references: entry.references } : {}),
      })
    }
    const bySubject = /^\/subjects\/([^/]+)\/versions\/([^/]+)$/.exec(path)
    if (bySubject) {
      const subject = decodeURIComponent(bySubject[1]!)
      const versions = options.subjects?.[subject]
      if (!versions) return send(res, 404, { error_code: 40401, message: `Subject '${subject}' not found.` })
      const version = Number(bySubject[2])
      const entry = versions[version]
      if (!entry) return send(res, 404, { error_code: 40402, message: 'Version not found.' })
      return send(res, 200, { subject, version, id: entry.id, schema: JSON.stringify(entry.schema), references: entry.references ?? [] })
    }
    return send(res, 404, { error_code: 404, message: 'HTTP 404 Not Found' })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  const url = `http://127.0.0.1:${port}`
  const auth = options.auth
  return {
    url,
    urlWithAuth: auth ? `http://${encodeURIComponent(auth.username)}:${encodeURIComponent(auth.password)}@127.0.0.1:${port}` : url,
    port,
    requests,
    get failWith() {
      return state.failWith
    },
    set failWith(value) {
      state.failWith = value
    },
    get silent() {
      return state.silent
    },
    set silent(value) {
      state.silent = value
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of pending) res.destroy()
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
