import { spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, chownSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { cp, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { lastLines, runProcess } from '../../src/local-kafka/run-process.js'
import { repoRoot } from './paths.js'

/**
 * A real single-node OpenSearch (or Elasticsearch 8) for tests: the `org.opensearch.distribution.integ-test-zip`
 * artifact from Maven Central (no security plugin, runs on Java 17), unpacked into
 * `.cache/opensearch/<version>/` on first use, then started on free loopback ports with its own
 * temporary data and config folders and a 512 MB heap. OpenSearch refuses to run as root, so
 * under root it runs as `nobody` (setpriv). Start it once per test file: it takes 15–40 s.
 */
export const OPENSEARCH_VERSIONS = ['2.19.6', '2.19.5', '2.19.4']
/** RECOVER_TEST_SEARCH=elasticsearch runs the same tests against Elasticsearch 8's test zip (also on Maven Central). */
export const ELASTICSEARCH_VERSIONS = ['8.17.0']

/** What differs between the two servers: the artifact, the launcher's environment, and Elasticsearch 8's security (off). */
interface Engine {
  name: 'opensearch' | 'elasticsearch'
  artifact: string
  versions: string[]
  env: { conf: string; javaOpts: string; javaHome: string }
  settings: string[]
}

const ENGINES: Record<Engine['name'], Engine> = {
  opensearch: {
    name: 'opensearch',
    artifact: 'org.opensearch.distribution.integ-test-zip:opensearch',
    versions: OPENSEARCH_VERSIONS,
    env: { conf: 'OPENSEARCH_PATH_CONF', javaOpts: 'OPENSEARCH_JAVA_OPTS', javaHome: 'JAVA_HOME' },
    settings: [],
  },
  elasticsearch: {
    name: 'elasticsearch',
    artifact: 'org.elasticsearch.distribution.integ-test-zip:elasticsearch',
    versions: ELASTICSEARCH_VERSIONS,
    env: { conf: 'ES_PATH_CONF', javaOpts: 'ES_JAVA_OPTS', javaHome: 'ES_JAVA_HOME' },
    settings: ['xpack.security.enabled=false'],
  },
}

/** The server the tests run against: OpenSearch unless RECOVER_TEST_SEARCH=elasticsearch. */
export function testSearchEngine(): Engine['name'] {
  return process.env.RECOVER_TEST_SEARCH === 'elasticsearch' ? 'elasticsearch' : 'opensearch'
}
const MARKER = 'complete.json'
const MAVEN_TIMEOUT_MS = 15 * 60_000
const START_TIMEOUT_MS = 180_000
const NOBODY = 65534

export interface OpenSearchServer {
  /** http://127.0.0.1:PORT */
  url: string
  port: number
  version: string
  engine: Engine['name']
  /** From spawn to a yellow or green cluster. */
  startMs: number
  /** Whether this start had to download and unpack the distribution first, and how long that took. */
  installed: { downloaded: boolean; ms: number }
  /** The java process (the test kills it with SIGKILL to simulate a crash). */
  pid(): number | undefined
  log(): string
  /** SIGKILL, as a crash; start() brings it back on the same port and data. */
  kill(): Promise<void>
  /** Starts it again after kill() (same port, same data). */
  start(): Promise<void>
  stop(): Promise<void>
}

/** The unpacked distribution of the first version Maven Central serves, downloading it on first use. */
export async function ensureOpenSearch(engine = ENGINES[testSearchEngine()]): Promise<{ home: string; version: string; downloaded: boolean; ms: number }> {
  const started = Date.now()
  const failures: string[] = []
  const wanted = process.env.RECOVER_TEST_SEARCH_VERSION
  for (const version of wanted ? [wanted] : engine.versions) {
    const versionDir = join(repoRoot(), '.cache', engine.name, version)
    const home = join(versionDir, `${engine.name}-${version}`)
    if (existsSync(join(versionDir, MARKER)) && existsSync(home)) return { home, version, downloaded: false, ms: Date.now() - started }
    const why = await install(engine, version, versionDir)
    if (why === undefined) return { home, version, downloaded: true, ms: Date.now() - started }
    failures.push(`${version}: ${why}`)
  }
  throw new Error(`No ${engine.name} test distribution could be had from Maven (${engine.artifact}:VERSION:zip):\n${failures.join('\n')}`)
}

/** Downloads and unpacks one version; the reason it failed, or undefined. */
async function install(engine: Engine, version: string, versionDir: string): Promise<string | undefined> {
  await mkdir(versionDir, { recursive: true })
  const staging = join(versionDir, `partial-${process.pid}-${Date.now()}`)
  try {
    const download = await runProcess(
      'mvn',
      ['-B', '-q', '-Dstyle.color=never', 'dependency:copy', `-Dartifact=${engine.artifact}:${version}:zip`, `-DoutputDirectory=${staging}`],
      { cwd: versionDir, timeoutMs: MAVEN_TIMEOUT_MS },
    )
    const zip = join(staging, `${engine.name}-${version}.zip`)
    if (download.exitCode !== 0 || !existsSync(zip))
      return `Maven failed (exit ${download.exitCode}): ${lastLines(`${download.stdout}\n${download.stderr}`, 8).join(' ')}`
    const unzip = await runProcess('unzip', ['-q', zip, '-d', staging], { timeoutMs: MAVEN_TIMEOUT_MS })
    if (unzip.exitCode !== 0) return `unzip failed: ${lastLines(unzip.stderr, 5).join(' ')}`
    const home = join(versionDir, `${engine.name}-${version}`)
    await rm(home, { recursive: true, force: true })
    await rename(join(staging, `${engine.name}-${version}`), home)
    // Readable by `nobody`, which runs it when the tests run as root.
    readableByAll(home)
    await writeFile(join(versionDir, MARKER), `${JSON.stringify({ version, at: new Date().toISOString() }, null, 2)}\n`)
    return undefined
  } finally {
    await rm(staging, { recursive: true, force: true })
  }
}

function readableByAll(dir: string): void {
  chmodSync(dir, 0o755)
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) readableByAll(path)
    else chmodSync(path, statSync(path).mode & 0o100 ? 0o755 : 0o644)
  }
}

function chownAll(dir: string, uid: number): void {
  chownSync(dir, uid, uid)
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) chownAll(path, uid)
    else chownSync(path, uid, uid)
  }
}

/** Starts a fresh single-node cluster on a free port and waits (bounded) for a yellow or green cluster. */
export async function startOpenSearch(options: { timeoutMs?: number } = {}): Promise<OpenSearchServer> {
  const engine = ENGINES[testSearchEngine()]
  const installed = await ensureOpenSearch(engine)
  const port = await freePort()
  const transportPort = await freePort()
  const work = await mkdtemp(join(tmpdir(), 'recover-opensearch-'))
  const config = join(work, 'config')
  await cp(join(installed.home, 'config'), config, { recursive: true })
  // GC logs and fatal error files go to the temporary folder, and the heap comes from OPENSEARCH_JAVA_OPTS.
  const jvmOptions = join(config, 'jvm.options')
  writeFileSync(
    jvmOptions,
    readFileSync(jvmOptions, 'utf8')
      .replaceAll('logs/', `${join(work, 'logs')}/`)
      .replace(/^-Xm[sx].*$/gm, ''),
  )
  await mkdir(join(work, 'logs'))
  await mkdir(join(work, 'data'))
  const asRoot = process.getuid?.() === 0
  if (asRoot) chownAll(work, NOBODY)

  const settings = [
    'discovery.type=single-node',
    'network.host=127.0.0.1',
    `http.port=${port}`,
    `transport.port=${transportPort}`,
    `path.data=${join(work, 'data')}`,
    `path.logs=${join(work, 'logs')}`,
    // A full shared disk must not turn indexes read-only under the tests.
    'cluster.routing.allocation.disk.threshold_enabled=false',
    'action.auto_create_index=true',
    ...engine.settings,
  ].flatMap((s) => ['-E', s])
  const launcher = join(installed.home, 'bin', engine.name)
  const [command, args] = asRoot ? ['setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--', launcher, ...settings]] : [launcher, settings]
  const env = {
    ...process.env,
    [engine.env.conf]: config,
    [engine.env.javaOpts]: '-Xms512m -Xmx512m',
    [engine.env.javaHome]: process.env.RECOVER_TEST_SEARCH_JAVA_HOME ?? process.env.JAVA_HOME ?? '/usr/lib/jvm/java-17-openjdk-amd64',
  }
  const url = `http://127.0.0.1:${port}`
  const chunks: Buffer[] = []
  const log = () => Buffer.concat(chunks).toString('utf8')
  let child: ChildProcess | undefined
  let exited: number | null | undefined
  let startMs = 0

  const start = async (): Promise<void> => {
    const started = Date.now()
    exited = undefined
    // A process group of its own: Elasticsearch's launcher starts the server as a child, and a kill must reach both.
    const current = spawn(command, args, { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    child = current
    current.stdout!.on('data', (c: Buffer) => chunks.push(c))
    current.stderr!.on('data', (c: Buffer) => chunks.push(c))
    current.on('exit', (code) => {
      if (child === current) exited = code
    })
    const deadline = started + (options.timeoutMs ?? START_TIMEOUT_MS)
    for (;;) {
      if (exited !== undefined)
        throw new Error(`${engine.name} ${installed.version} exited (code ${exited}) before it was ready:\n${lastLines(log(), 25).join('\n')}`)
      if (Date.now() > deadline) {
        await stopChild(current)
        throw new Error(
          `${engine.name} did not become yellow on ${url} within ${options.timeoutMs ?? START_TIMEOUT_MS} ms:\n${lastLines(log(), 25).join('\n')}`,
        )
      }
      try {
        const res = await fetch(`${url}/_cluster/health?wait_for_status=yellow&timeout=1s`, { signal: AbortSignal.timeout(3000) })
        if (res.ok) break
      } catch {
        // Not listening yet.
      }
      await new Promise((r) => setTimeout(r, 250))
    }
    startMs = Date.now() - started
  }
  const stopAll = async () => {
    if (child) await stopChild(child)
    await rm(work, { recursive: true, force: true })
  }
  stopOnExit(() => child)
  try {
    await start()
  } catch (error) {
    await stopAll()
    throw error
  }
  return {
    url,
    port,
    version: installed.version,
    engine: engine.name,
    get startMs() {
      return startMs
    },
    installed: { downloaded: installed.downloaded, ms: installed.ms },
    pid: () => child?.pid,
    log,
    kill: async () => {
      if (!child || child.exitCode !== null || child.signalCode !== null) return
      const gone = new Promise<void>((resolve) => child!.once('exit', () => resolve()))
      killGroup(child, 'SIGKILL')
      await gone
    },
    start,
    stop: stopAll,
  }
}

/** A test file that fails or is interrupted must not leave a 512 MB JVM behind. */
function stopOnExit(current: () => ChildProcess | undefined): void {
  process.once('exit', () => {
    const c = current()
    if (c && c.exitCode === null && c.signalCode === null) killGroup(c, 'SIGKILL')
  })
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const done = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  killGroup(child, 'SIGTERM')
  const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 15_000)
  await done
  clearTimeout(timer)
}

/** Signals the server's process group (the launcher and the JVM it started), or the process alone when the group is gone. */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal)
  } catch {
    child.kill(signal)
  }
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

/** A request to the test server, its JSON answer (throws on an HTTP error). */
export async function osRequest<T = any>(server: { url: string }, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  })
  const text = await res.text()
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text}`)
  return (text === '' ? undefined : JSON.parse(text)) as T
}

/** Every document of an index (refreshed first), by id. */
export async function allDocuments(server: { url: string }, index: string): Promise<Map<string, Record<string, unknown>>> {
  await osRequest(server, 'POST', `/${index}/_refresh`)
  const docs = new Map<string, Record<string, unknown>>()
  let page = await osRequest(server, 'POST', `/${index}/_search?scroll=1m`, { size: 1000, sort: ['_doc'] })
  for (;;) {
    const hits = page.hits.hits as Array<{ _id: string; _source: Record<string, unknown> }>
    for (const h of hits) docs.set(h._id, h._source)
    if (hits.length === 0) break
    page = await osRequest(server, 'POST', '/_search/scroll', { scroll: '1m', scroll_id: page._scroll_id })
  }
  return docs
}

/** How many documents an index holds now (refreshed first). */
export async function documentCount(server: { url: string }, index: string): Promise<number> {
  try {
    await osRequest(server, 'POST', `/${index}/_refresh`)
    return (await osRequest<{ count: number }>(server, 'GET', `/${index}/_count`)).count
  } catch (error) {
    if (String(error).includes('index_not_found')) return 0
    throw error
  }
}
