import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connectLibDir } from './connect-worker.js'
import { uniqueName } from './kafka.js'
import { waitFor } from './timeout.js'

export interface DistributedWorker {
  url: string
  dir: string
  log: () => string
  /** A REST call, JSON in and out; throws on a non-2xx answer. */
  rest: (method: string, path: string, body?: unknown) => Promise<any>
  createConnector: (name: string, config: Record<string, string>) => Promise<void>
  /** kill -9, as a crashed worker: its connectors stay in the config topic. */
  kill: () => Promise<void>
  /** A new worker process with the same group, topics and port: the connectors come back as they were. */
  restart: () => Promise<void>
  stop: () => Promise<void>
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

/**
 * A Kafka Connect worker in distributed mode (its config, offset and status topics on the test
 * broker, unique per worker), REST on a free port. Started once per test file: it takes a while.
 */
export async function startDistributedWorker(options: { brokers: string }): Promise<DistributedWorker> {
  const dir = mkdtempSync(join(tmpdir(), 'recover-connect-dist-'))
  const port = await freePort()
  const id = uniqueName('connect-cluster')
  writeFileSync(
    join(dir, 'worker.properties'),
    [
      `bootstrap.servers=${options.brokers}`,
      `group.id=${id}`,
      `config.storage.topic=${id}-configs`,
      `offset.storage.topic=${id}-offsets`,
      `status.storage.topic=${id}-status`,
      'config.storage.replication.factor=1',
      'offset.storage.replication.factor=1',
      'offset.storage.partitions=2',
      'status.storage.replication.factor=1',
      'status.storage.partitions=1',
      'key.converter=org.apache.kafka.connect.storage.StringConverter',
      'value.converter=org.apache.kafka.connect.storage.StringConverter',
      'offset.flush.interval.ms=500',
      `listeners=http://127.0.0.1:${port}`,
      'rest.advertised.host.name=127.0.0.1',
      'scheduled.rebalance.max.delay.ms=0',
    ].join('\n'),
  )
  let child: ChildProcess
  let log = ''
  const launch = () => {
    child = spawn(
      'java',
      [
        '-Xmx384m',
        '-XX:TieredStopAtLevel=1',
        '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
        '-cp',
        `${connectLibDir()}/*`,
        'org.apache.kafka.connect.cli.ConnectDistributed',
        join(dir, 'worker.properties'),
      ],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    child.stdout!.on('data', (c: Buffer) => (log = (log + c.toString()).slice(-30_000)))
    child.stderr!.on('data', (c: Buffer) => (log = (log + c.toString()).slice(-30_000)))
  }
  const url = `http://127.0.0.1:${port}`
  const rest = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await response.text()
    if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${text}`)
    return text ? JSON.parse(text) : null
  }
  const signal = async (name: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill(name)
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(timer)
  }
  const stop = async () => {
    await signal('SIGTERM')
    rmSync(dir, { recursive: true, force: true })
  }
  // The REST server answers before the worker has joined its group: /connectors answers once it has.
  const ready = () =>
    waitFor(
      `the Connect worker at ${url} to start\n${log}`,
      async () => {
        if (child.exitCode !== null) throw new Error(`the Connect worker exited (${child.exitCode}):\n${log}`)
        return (await rest('GET', '/connectors').catch(() => undefined)) ? true : undefined
      },
      120_000,
      250,
    )
  launch()
  try {
    await ready()
  } catch (error) {
    await stop()
    throw error
  }
  return {
    url,
    dir,
    log: () => log,
    rest,
    createConnector: async (name, config) => {
      await rest('PUT', `/connectors/${encodeURIComponent(name)}/config`, config)
    },
    kill: () => signal('SIGKILL'),
    restart: async () => {
      await signal('SIGKILL')
      launch()
      await ready()
    },
    stop,
  }
}
