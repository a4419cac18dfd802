import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { repoRoot } from './paths.js'
import { isKafka3 } from '../../src/local-kafka/versions.js'

/**
 * The Connect worker's version: RECOVER_TEST_CONNECT_VERSION (3.9.1 is the oldest checked), else
 * 3.9.1 when the test broker is a 3.x one (RECOVER_KAFKA_VERSION, as run-tests.ts sets it), so a
 * 3.9 run of the suite uses a 3.9 worker, else 4.1.0.
 */
export const CONNECT_VERSION = process.env.RECOVER_TEST_CONNECT_VERSION || (isKafka3(process.env.RECOVER_KAFKA_VERSION ?? '') ? '3.9.1' : '4.1.0')

/** The Connect worker's classpath (test/connect/pom.xml), resolved from Maven Central on first use into .cache/connect/. */
export function connectLibDir(): string {
  const lib = join(repoRoot(), '.cache', 'connect', CONNECT_VERSION, 'lib')
  if (existsSync(lib) && readdirSync(lib).some((f) => f.startsWith('connect-file-'))) return lib
  const staging = `${lib}.partial-${process.pid}`
  const result = spawnSync(
    'mvn',
    ['-q', '-f', join(repoRoot(), 'test', 'connect', 'pom.xml'), 'generate-resources', `-Dconnect.version=${CONNECT_VERSION}`, `-Dconnect.lib.dir=${staging}`],
    { encoding: 'utf8', timeout: 300_000 },
  )
  if (result.status !== 0) throw new Error(`mvn could not resolve the Kafka Connect ${CONNECT_VERSION} jars: ${result.stdout}${result.stderr}`)
  rmSync(lib, { recursive: true, force: true })
  renameSync(staging, lib)
  return lib
}

export interface ConnectWorker {
  process: ChildProcess
  log: () => string
  stop: () => Promise<void>
}

/**
 * A Kafka Connect standalone worker with one FileStreamSink connector: JsonConverter values,
 * errors.tolerance=all, a dead-letter queue with context headers.
 */
export function startFileSinkWorker(options: { brokers: string; topic: string; dlq: string; name: string }): ConnectWorker {
  const dir = mkdtempSync(join(tmpdir(), 'recover-connect-'))
  writeFileSync(
    join(dir, 'worker.properties'),
    [
      `bootstrap.servers=${options.brokers}`,
      'key.converter=org.apache.kafka.connect.storage.StringConverter',
      'value.converter=org.apache.kafka.connect.json.JsonConverter',
      'value.converter.schemas.enable=false',
      `offset.storage.file.filename=${join(dir, 'offsets')}`,
      'offset.flush.interval.ms=1000',
      'listeners=http://127.0.0.1:0',
    ].join('\n'),
  )
  writeFileSync(
    join(dir, 'sink.properties'),
    [
      `name=${options.name}`,
      'connector.class=org.apache.kafka.connect.file.FileStreamSinkConnector',
      'tasks.max=1',
      `topics=${options.topic}`,
      `file=${join(dir, 'out.txt')}`,
      'errors.tolerance=all',
      `errors.deadletterqueue.topic.name=${options.dlq}`,
      'errors.deadletterqueue.topic.replication.factor=1',
      'errors.deadletterqueue.context.headers.enable=true',
    ].join('\n'),
  )
  const child = spawn(
    'java',
    [
      '-Xmx256m',
      '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
      '-cp',
      `${connectLibDir()}/*`,
      'org.apache.kafka.connect.cli.ConnectStandalone',
      join(dir, 'worker.properties'),
      join(dir, 'sink.properties'),
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let log = ''
  child.stdout!.on('data', (c: Buffer) => (log = (log + c.toString()).slice(-20_000)))
  child.stderr!.on('data', (c: Buffer) => (log = (log + c.toString()).slice(-20_000)))
  return {
    process: child,
    log: () => log,
    stop: async () => {
      if (child.exitCode !== null) return
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
