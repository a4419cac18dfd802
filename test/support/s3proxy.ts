import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { repoRoot } from './paths.js'

export const S3PROXY_VERSION = '2.6.0'

/** The identity and secret the test S3Proxy accepts (AWS signatures v2 and v4). */
export const S3PROXY_ACCESS_KEY = 'recover-test-access'
export const S3PROXY_SECRET_KEY = 'recover-test-secret'

/** S3Proxy's classpath (test/s3proxy/pom.xml), resolved from Maven Central on first use into .cache/s3proxy/. */
export function s3proxyLibDir(): string {
  const lib = join(repoRoot(), '.cache', 's3proxy', S3PROXY_VERSION, 'lib')
  if (existsSync(lib) && readdirSync(lib).some((f) => f.startsWith('s3proxy-'))) return lib
  mkdirSync(join(repoRoot(), '.cache', 's3proxy'), { recursive: true })
  const staging = `${lib}.partial-${process.pid}`
  const result = spawnSync(
    'mvn',
    ['-q', '-f', join(repoRoot(), 'test', 's3proxy', 'pom.xml'), 'generate-resources', `-Ds3proxy.version=${S3PROXY_VERSION}`, `-Ds3proxy.lib.dir=${staging}`],
    { encoding: 'utf8', timeout: 600_000 },
  )
  if (result.status !== 0) throw new Error(`mvn could not resolve S3Proxy ${S3PROXY_VERSION}: ${result.stdout}${result.stderr}`)
  rmSync(lib, { recursive: true, force: true })
  renameSync(staging, lib)
  return lib
}

export interface S3ProxyServer {
  /** http://127.0.0.1:PORT */
  endpoint: string
  /** The environment a recover process needs to reach it (credentials, region, endpoint). */
  env: Record<string, string>
  /** kill -9 (the filesystem backend keeps what was stored). */
  kill: () => Promise<void>
  /** Starts it again on the same port and directory, after kill(). */
  restart: () => Promise<void>
  /** Stops it and removes its directory. */
  stop: () => Promise<void>
  log: () => string
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port
      server.close(() => resolve(port))
    })
  })
}

/** Waits until the server answers HTTP at all (an unsigned request gets 403): bounded. */
async function waitUntilServing(endpoint: string, child: ChildProcess, log: () => string, timeoutMs = 120_000): Promise<void> {
  const giveUpAt = Date.now() + timeoutMs
  while (Date.now() < giveUpAt) {
    if (child.exitCode !== null) throw new Error(`S3Proxy exited (${child.exitCode}) before serving: ${log()}`)
    try {
      await fetch(endpoint, { signal: AbortSignal.timeout(2_000) })
      return
    } catch {
      await new Promise((r) => setTimeout(r, 250))
    }
  }
  throw new Error(`S3Proxy did not serve ${endpoint} within ${timeoutMs / 1000} s: ${log()}`)
}

/**
 * A real S3Proxy (Maven Central, Java 17) on a free port, checking AWS v2/v4 signatures; the
 * `filesystem` backend in a temp directory (what was stored survives kill -9 and restart()),
 * or `transient` (in memory). Start it once per test file.
 */
export async function startS3Proxy(options: { backend?: 'filesystem' | 'transient' } = {}): Promise<S3ProxyServer> {
  const lib = s3proxyLibDir()
  const dir = mkdtempSync(join(tmpdir(), 'recover-s3proxy-'))
  const data = join(dir, 'data')
  mkdirSync(data)
  const port = await freePort()
  const endpoint = `http://127.0.0.1:${port}`
  const backend = options.backend ?? 'filesystem'
  writeFileSync(
    join(dir, 's3proxy.conf'),
    [
      `s3proxy.endpoint=${endpoint}`,
      's3proxy.authorization=aws-v2-or-v4',
      `s3proxy.identity=${S3PROXY_ACCESS_KEY}`,
      `s3proxy.credential=${S3PROXY_SECRET_KEY}`,
      `jclouds.provider=${backend}`,
      'jclouds.identity=unused',
      'jclouds.credential=unused',
      ...(backend === 'filesystem' ? [`jclouds.filesystem.basedir=${data}`] : []),
    ].join('\n'),
  )
  let child: ChildProcess | undefined
  let log = ''
  const launch = async () => {
    const c = spawn('java', ['-Xmx256m', '-cp', `${lib}/*`, 'org.gaul.s3proxy.Main', '--properties', join(dir, 's3proxy.conf')], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child = c
    c.stdout!.on('data', (b: Buffer) => (log = (log + b.toString()).slice(-20_000)))
    c.stderr!.on('data', (b: Buffer) => (log = (log + b.toString()).slice(-20_000)))
    await waitUntilServing(endpoint, c, () => log)
  }
  const kill = async () => {
    const c = child
    if (!c || c.exitCode !== null || c.signalCode !== null) return
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()))
    c.kill('SIGKILL')
    await exited
  }
  await launch()
  return {
    endpoint,
    env: {
      AWS_ACCESS_KEY_ID: S3PROXY_ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: S3PROXY_SECRET_KEY,
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL: endpoint,
    },
    kill,
    restart: async () => {
      await kill()
      await launch()
    },
    stop: async () => {
      await kill()
      rmSync(dir, { recursive: true, force: true })
    },
    log: () => log,
  }
}
