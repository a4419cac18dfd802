import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, rename, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { lastLines, runProcess } from '../../src/local-kafka/run-process.js'
import { repoRoot } from './paths.js'

/**
 * A real Confluent-API-compatible Schema Registry for tests: Apicurio Registry, built from
 * Maven Central by test/registry/pom.xml into `.cache/apicurio/<version>/` on first use, then
 * started on a free loopback port with in-memory storage (H2). Its Confluent API is under
 * `/apis/ccompat/v7`.
 */
export const APICURIO_VERSION = '2.4.2.Final'
const RUNNER_JAR = 'recover-test-registry-0.1.0-runner.jar'
const MARKER = 'complete.json'
const MAVEN_TIMEOUT_MS = 15 * 60_000
const START_TIMEOUT_MS = 120_000

export interface ApicurioRegistry {
  /** The Confluent-compatible API's base URL (what `--registry` takes). */
  url: string
  /** The server's root, for Apicurio's own APIs. */
  root: string
  port: number
  /** From spawn to the first answer of the Confluent API. */
  startMs: number
  /** Whether this start had to build the registry first, and how long that took. */
  built: { downloaded: boolean; ms: number }
  /** stdout and stderr so far (for a failing test's message). */
  log(): string
  stop(): Promise<void>
}

/** The runner jar, building it with Maven on first use. */
export async function ensureApicurioJar(): Promise<{ jar: string; downloaded: boolean; ms: number }> {
  const started = Date.now()
  const root = repoRoot()
  const versionDir = join(root, '.cache', 'apicurio', APICURIO_VERSION)
  const buildDir = join(versionDir, 'build')
  const jar = join(buildDir, RUNNER_JAR)
  if (existsSync(join(versionDir, MARKER)) && existsSync(jar)) return { jar, downloaded: false, ms: Date.now() - started }

  await mkdir(versionDir, { recursive: true })
  const staging = join(versionDir, `build.partial-${process.pid}-${Date.now()}`)
  try {
    const args = [
      '-B',
      '-q',
      '-Dstyle.color=never',
      '-f',
      join(root, 'test', 'registry', 'pom.xml'),
      'package',
      '-DskipDefault',
      `-Dapicurio.version=${APICURIO_VERSION}`,
      `-Dregistry.build.dir=${staging}`,
    ]
    const output = await runProcess('mvn', args, { cwd: root, timeoutMs: MAVEN_TIMEOUT_MS })
    if (output.exitCode !== 0 || !existsSync(join(staging, RUNNER_JAR))) {
      throw new Error(
        `Building Apicurio Registry ${APICURIO_VERSION} with Maven failed (exit ${output.exitCode}):\n${lastLines(`${output.stdout}\n${output.stderr}`, 25).join('\n')}`,
      )
    }
    await rm(join(versionDir, MARKER), { force: true })
    await rm(buildDir, { recursive: true, force: true })
    await rename(staging, buildDir)
    await writeFile(join(versionDir, MARKER), `${JSON.stringify({ version: APICURIO_VERSION, jar: RUNNER_JAR, at: new Date().toISOString() }, null, 2)}\n`)
  } finally {
    await rm(staging, { recursive: true, force: true })
  }
  return { jar, downloaded: true, ms: Date.now() - started }
}

/** Starts an empty registry on a free loopback port and waits until its Confluent API answers. */
export async function startApicurioRegistry(options: { timeoutMs?: number } = {}): Promise<ApicurioRegistry> {
  const built = await ensureApicurioJar()
  const port = await freePort()
  const root = `http://127.0.0.1:${port}`
  const url = `${root}/apis/ccompat/v7`
  const started = Date.now()
  const child = spawn('java', ['-Xmx512m', '-Dquarkus.http.host=127.0.0.1', `-Dquarkus.http.port=${port}`, '-Dquarkus.log.level=WARN', '-jar', built.jar], {
    cwd: join(built.jar, '..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const chunks: Buffer[] = []
  child.stdout!.on('data', (c: Buffer) => chunks.push(c))
  child.stderr!.on('data', (c: Buffer) => chunks.push(c))
  const log = () => Buffer.concat(chunks).toString('utf8')
  let exited: number | null | undefined
  child.on('exit', (code) => (exited = code))
  const stop = () => stopChild(child)

  const deadline = started + (options.timeoutMs ?? START_TIMEOUT_MS)
  for (;;) {
    if (exited !== undefined) throw new Error(`Apicurio Registry exited (code ${exited}) before answering:\n${lastLines(log(), 25).join('\n')}`)
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`Apicurio Registry did not answer on ${url} within ${options.timeoutMs ?? START_TIMEOUT_MS} ms:\n${lastLines(log(), 25).join('\n')}`)
    }
    try {
      const res = await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(2000) })
      if (res.ok) break
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  return { url, root, port, startMs: Date.now() - started, built: { downloaded: built.downloaded, ms: built.ms }, log, stop }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const done = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
  await done
  clearTimeout(timer)
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** Registers an Avro schema under a subject through the Confluent API; returns its id. */
export async function registerSchema(registryUrl: string, subject: string, schema: unknown): Promise<number> {
  const res = await fetch(`${registryUrl}/subjects/${encodeURIComponent(subject)}/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schema: typeof schema === 'string' ? schema : JSON.stringify(schema) }),
  })
  const body = (await res.json()) as { id?: number; message?: string }
  if (!res.ok || typeof body.id !== 'number') throw new Error(`Registering ${subject} failed: HTTP ${res.status} ${JSON.stringify(body)}`)
  return body.id
}
