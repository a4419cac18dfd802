import type { Schema, Type } from 'avsc'
import { RecoveryError } from '../errors.js'
import { registerSecret } from '../config/redact.js'
import { parseAvroType } from './avro-types.js'
import type { SchemaEntry, SchemaLookup } from './schema-lookup.js'

/**
 * A Confluent Schema Registry client for reading: `GET /schemas/ids/{id}` (and
 * `GET /subjects/{subject}/versions/{version}` for schema references), basic auth, every id
 * fetched once. Written against the documented REST contract with Node's fetch rather than a
 * client library, because what matters here is telling apart the three outcomes: a schema, an
 * id the registry does not have (the record's fault: quarantine it), and a registry out of
 * reach (the environment's fault: retry, then stop with exit 5 and quarantine nothing).
 */
export interface RegistryOptions {
  /** Base URL; `https://user:password@host:8081` carries basic-auth credentials. */
  url: string
  /** "user:password", as Confluent clients' basic.auth.user.info (wins over the URL's). */
  userInfo?: string
  /** Per request. Default 5 s. */
  timeoutMs?: number
  /** Attempts after the first, for network errors, timeouts, 5xx and 429. Default 3. */
  retries?: number
  /** First pause between attempts, doubled each time. Default 200 ms. */
  retryDelayMs?: number
}

const ACCEPT = 'application/vnd.schemaregistry.v1+json, application/vnd.schemaregistry+json, application/json'
const MAX_REFERENCE_DEPTH = 32

interface RegistrySchemaBody {
  schema?: unknown
  schemaType?: unknown
  references?: unknown
}

interface Reference {
  name: string
  subject: string
  version: number
}

export class SchemaRegistryClient implements SchemaLookup {
  readonly label: string
  private readonly base: string
  private readonly authorization: string | undefined
  private readonly timeoutMs: number
  private readonly retries: number
  private readonly retryDelayMs: number
  private readonly entries = new Map<number, SchemaEntry>()
  private readonly loading = new Map<number, Promise<SchemaEntry>>()
  private readonly subjects = new Map<string, Promise<Record<string, Type>>>()
  /** GET answers (200, 404) by path, shared by the Avro, JSON Schema and Protobuf views (see get). */
  private readonly answered = new Map<string, Promise<{ status: number; body: unknown }>>()

  constructor(options: RegistryOptions) {
    let url: URL
    try {
      url = new URL(options.url)
    } catch {
      throw new RecoveryError(
        'USAGE',
        `--registry ${JSON.stringify(options.url)} is not a URL; give the Schema Registry's base URL, like http://localhost:8081.`,
      )
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new RecoveryError('USAGE', `--registry must be an http:// or https:// URL (got ${url.protocol}).`)
    let user = decodeURIComponent(url.username)
    let password = decodeURIComponent(url.password)
    if (options.userInfo !== undefined) {
      const colon = options.userInfo.indexOf(':')
      user = colon < 0 ? options.userInfo : options.userInfo.slice(0, colon)
      password = colon < 0 ? '' : options.userInfo.slice(colon + 1)
    }
    if (password) registerSecret(password)
    this.authorization = user || password ? `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` : undefined
    url.username = ''
    url.password = ''
    url.search = ''
    url.hash = ''
    this.base = url.toString().replace(/\/+$/, '')
    this.label = `Schema Registry ${this.base}`
    this.timeoutMs = options.timeoutMs ?? 5_000
    this.retries = options.retries ?? 3
    this.retryDelayMs = options.retryDelayMs ?? 200
  }

  cached(id: number): SchemaEntry | undefined {
    return this.entries.get(id)
  }

  load(id: number): Promise<SchemaEntry> {
    const known = this.entries.get(id)
    if (known) return Promise.resolve(known)
    let pending = this.loading.get(id)
    if (!pending) {
      pending = this.fetchEntry(id).then(
        (entry) => {
          this.entries.set(id, entry)
          this.loading.delete(id)
          return entry
        },
        (error: unknown) => {
          // Environment failures are not cached: the next batch asks again.
          this.loading.delete(id)
          throw error
        },
      )
      this.loading.set(id, pending)
    }
    return pending
  }

  private async fetchEntry(id: number): Promise<SchemaEntry> {
    const { status, body } = await this.get(`/schemas/ids/${id}`, { schemaId: id })
    if (status === 404 && errorCode(body) === 40403)
      return { ok: false, kind: 'avro-unknown-schema-id', reason: `the ${this.label} has no schema with id ${id}` }
    if (status !== 200) throw this.unexpected(`/schemas/ids/${id}`, status, body, id)
    const schema = body as RegistrySchemaBody
    const schemaType = typeof schema.schemaType === 'string' ? schema.schemaType : 'AVRO'
    if (schemaType !== 'AVRO') return { ok: false, kind: 'schema-resolution', reason: `schema id ${id} in the ${this.label} is ${schemaType}, not Avro` }
    if (typeof schema.schema !== 'string') throw this.unexpected(`/schemas/ids/${id}`, status, body, id)
    try {
      const names = await this.referencedNames(schema.references, id, 0)
      const type = parseAvroType(JSON.parse(schema.schema) as Schema, { registry: names })
      return { ok: true, schema: { type, label: `registry id ${id}` } }
    } catch (error) {
      if (error instanceof RecoveryError) throw error
      return { ok: false, kind: 'schema-resolution', reason: `schema id ${id} in the ${this.label} cannot be used: ${(error as Error).message}` }
    }
  }

  /** Named types of the schemas a schema references (Confluent schema references), recursively. */
  private async referencedNames(references: unknown, id: number, depth: number): Promise<Record<string, Type>> {
    const names: Record<string, Type> = {}
    if (!Array.isArray(references) || references.length === 0) return names
    if (depth > MAX_REFERENCE_DEPTH) throw new Error(`schema references nest deeper than ${MAX_REFERENCE_DEPTH}`)
    for (const ref of references as Reference[]) {
      if (typeof ref?.subject !== 'string' || ref.version === undefined) throw new Error(`a schema reference is malformed: ${JSON.stringify(ref)}`)
      const key = `${ref.subject}/${ref.version}`
      let pending = this.subjects.get(key)
      if (!pending) {
        pending = this.fetchSubject(ref, id, depth)
        pending.catch(() => this.subjects.delete(key))
        this.subjects.set(key, pending)
      }
      Object.assign(names, await pending)
    }
    return names
  }

  private async fetchSubject(ref: Reference, id: number, depth: number): Promise<Record<string, Type>> {
    const path = `/subjects/${encodeURIComponent(ref.subject)}/versions/${encodeURIComponent(String(ref.version))}`
    const { status, body } = await this.get(path, { schemaId: id })
    if (status === 404) throw new Error(`it references ${ref.name} (subject ${ref.subject} version ${ref.version}), which the registry does not have`)
    if (status !== 200) throw this.unexpected(path, status, body, id)
    const schema = body as RegistrySchemaBody
    if (typeof schema.schema !== 'string') throw this.unexpected(path, status, body, id)
    const names = await this.referencedNames(schema.references, id, depth + 1)
    parseAvroType(JSON.parse(schema.schema) as Schema, { registry: names })
    return names
  }

  /**
   * One GET with retries, auth and the environment failures classified: a status and parsed body, or a RecoveryError for a registry out of reach (also the JSON Schema and Protobuf lookups' transport).
   * An answer (200 or 404) is kept for the run, so the Avro, JSON Schema and Protobuf views of one id (auto tries them in turn) ask once.
   */
  get(path: string, context: { schemaId: number }): Promise<{ status: number; body: unknown }> {
    const known = this.answered.get(path)
    if (known) return known
    const pending = this.fetchOnce(path, context)
    this.answered.set(path, pending)
    pending.then(
      ({ status }) => {
        if (status !== 200 && status !== 404) this.answered.delete(path)
      },
      () => this.answered.delete(path),
    )
    return pending
  }

  private async fetchOnce(path: string, context: { schemaId: number }): Promise<{ status: number; body: unknown }> {
    const url = `${this.base}${path}`
    const headers: Record<string, string> = { accept: ACCEPT }
    if (this.authorization) headers.authorization = this.authorization
    let lastProblem = ''
    for (let attempt = 0; attempt <= this.retries; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, this.retryDelayMs * 2 ** (attempt - 1)))
      let response: Response
      try {
        response = await fetch(url, { headers, signal: AbortSignal.timeout(this.timeoutMs), redirect: 'follow' })
      } catch (error) {
        lastProblem = networkProblem(error, this.timeoutMs)
        continue
      }
      const text = await response.text().catch(() => '')
      if (response.status >= 500 || response.status === 429) {
        lastProblem = `it answered HTTP ${response.status}`
        continue
      }
      if (response.status === 401 || response.status === 403) {
        throw new RecoveryError(
          'REGISTRY_AUTH_FAILED',
          `The ${this.label} refused ${this.authorization ? 'the basic-auth credentials' : 'a request without credentials'} (HTTP ${response.status}) while fetching schema id ${context.schemaId}; check the user and password (https://user:password@host in --registry, or RECOVER_REGISTRY_AUTH=user:password).`,
          { details: { registry: this.base, status: response.status, schemaId: context.schemaId, stage: 'decode' } },
        )
      }
      let body: unknown
      try {
        body = text === '' ? undefined : JSON.parse(text)
      } catch {
        body = text.slice(0, 200)
      }
      return { status: response.status, body }
    }
    throw new RecoveryError(
      'REGISTRY_UNREACHABLE',
      `Could not reach the ${this.label} to fetch schema id ${context.schemaId}: ${lastProblem}, ${this.retries + 1} times; check that the registry is up and the URL is right, then run the same command again.`,
      {
        details: { registry: this.base, schemaId: context.schemaId, attempts: this.retries + 1, stage: 'decode', kind: 'registry-unreachable' },
        nextSteps: [`curl ${this.base}/schemas/ids/${context.schemaId}   # see what the registry answers`],
      },
    )
  }

  unexpected(path: string, status: number, body: unknown, id: number): RecoveryError {
    const shown = typeof body === 'string' ? body : JSON.stringify(body ?? '')
    return new RecoveryError(
      'REGISTRY_ERROR',
      `${this.base}${path} answered HTTP ${status} with ${shown.slice(0, 120) || 'an empty body'}, not a Confluent Schema Registry answer; check that --registry points at the registry itself.`,
      {
        details: { registry: this.base, status, schemaId: id, stage: 'decode' },
      },
    )
  }
}

function errorCode(body: unknown): number | undefined {
  const code = (body as { error_code?: unknown } | undefined)?.error_code
  return typeof code === 'number' ? code : undefined
}

function networkProblem(error: unknown, timeoutMs: number): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } }
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no answer within ${timeoutMs} ms`
  const code = e.cause?.code
  return code ? `${code} (${e.cause?.message ?? e.message ?? ''})`.replace(/ \(\)$/, '') : (e.cause?.message ?? e.message ?? String(error))
}
