import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import type { Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { RecoveryError } from '../errors.js'
import type { OnLocalKafkaEvent } from './events.js'
import { ensureKafkaJars } from './jars.js'
import { BROKER_JVM_OPTIONS, ensureJava, javaArgs, TOOL_JVM_OPTIONS } from './java.js'
import { freeLoopbackPorts } from './ports.js'
import { registerForCleanup } from './process-cleanup.js'
import { lastLines, runProcess } from './run-process.js'
import { randomClusterId, renderServerProperties, scramFormatArgs } from './server-properties.js'
import { ensureLocalTls, LOCAL_TLS_CLIENT, secureListeners, type LocalSecureListeners } from './tls-certificates.js'
import { waitForBroker } from './wait-for-broker.js'

export interface StartLocalKafkaOptions {
  /** Defaults to env RECOVER_KAFKA_VERSION, else DEFAULT_KAFKA_VERSION. */
  version?: string
  /** Kept after stop() when given; default a fresh temp dir that stop() removes. */
  dataDir?: string
  /** Client (PLAINTEXT) port; default a free loopback port. */
  port?: number
  /** KRaft controller port; default a free loopback port. */
  controllerPort?: number
  /**
   * Also a SASL_SSL listener (SCRAM-SHA-512 LOCAL_SECURE_USERS, a test CA's certificate made
   * with openssl into the data dir) and the StandardAuthorizer with ACLs enforced. Off by
   * default: only the security tests pay for TLS and ACLs.
   */
  secure?: boolean
  /**
   * Also a SASL_PLAINTEXT listener (`oauthBrokers`) taking OAUTHBEARER, its JWTs validated
   * against this JWKS endpoint; with `secure`, `superUsers` (token subjects) are super users.
   */
  oauth?: { jwksUrl: string; audience: string; issuer: string; superUsers?: string[] }
  /** How long to wait for the broker to answer a metadata request; default 60 s. */
  startTimeoutMs?: number
  onProgress?: OnLocalKafkaEvent
}

export interface BrokerExit {
  code: number | null
  signal: NodeJS.Signals | null
}

/** A single-node KRaft broker (broker and controller in one JVM) on 127.0.0.1. */
export interface LocalKafka {
  /** `127.0.0.1:<port>`, the value for --brokers. */
  readonly brokers: string
  /** A SASL_PLAINTEXT listener accepting LOCAL_SASL_USERS (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512). */
  readonly saslBrokers: string
  /**
   * With `secure`: the SASL_SSL listener and the CA certificate clients must trust; the SSL
   * listener that requires a client certificate (`mtlsBrokers`), and the client certificate and
   * key it accepts (PEM; principal User:CN=recover-client, a super user).
   */
  readonly secure: LocalSecureListeners | undefined
  /** With `oauth`: the SASL_PLAINTEXT listener that takes OAUTHBEARER. */
  readonly oauthBrokers: string | undefined
  readonly version: string
  readonly dataDir: string
  readonly port: number
  readonly controllerPort: number
  /** The jar folder the broker runs from (also used by runKafkaTool). */
  readonly libDir: string
  /** The current Java process; changes after restart(). */
  readonly pid: number
  /** SIGTERM, up to 20 s for a clean shutdown, then SIGKILL; removes the data dir unless the caller passed it. */
  stop(): Promise<void>
  /** Sends a signal to the broker JVM (SIGKILL, SIGSTOP, SIGCONT...) for fault injection; false if it is not running. */
  kill(signal: NodeJS.Signals): boolean
  /** Stops the broker if it runs, starts it again on the same data dir and ports, and waits until it answers. */
  restart(): Promise<void>
  /** Resolves when the current broker process exits (for whatever reason). */
  whenExited(): Promise<BrokerExit>
  /** The last lines the broker wrote to stderr/stdout. */
  outputTail(lines?: number): string[]
  /**
   * Leaves the broker running after this Node process exits (`recover demo --keep`): it is no
   * longer killed on exit and its data dir stays. The caller tells the person how to stop it.
   */
  detach(): void
}

const STOP_GRACE_MS = 20_000
const DEFAULT_START_TIMEOUT_MS = 60_000
const TAIL_LINES = 200

/**
 * Starts a real Apache Kafka broker from Maven Central jars (downloaded on first use) and
 * resolves once it answers a metadata request. The JVM is killed when this Node process exits.
 */
export async function startLocalKafka(options: StartLocalKafkaOptions = {}): Promise<LocalKafka> {
  const { version, libDir } = await ensureKafkaJars({ version: options.version, onProgress: options.onProgress })
  const java = await ensureJava()
  const free = (await freeLoopbackPorts(8)).filter((p) => p !== options.port && p !== options.controllerPort)
  const port = options.port ?? free[0]!
  const controllerPort = options.controllerPort ?? free[1]!
  const saslPort = free[2]!
  const securePort = options.secure ? free[3]! : undefined
  const mtlsPort = free[4]!
  const oauth = options.oauth ? { ...options.oauth, port: free[5]! } : undefined
  const ownsDataDir = options.dataDir === undefined
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), `recover-kafka-${version}-`)))
  await mkdir(dataDir, { recursive: true })

  const broker = new LocalKafkaProcess({
    java,
    version,
    libDir,
    dataDir,
    ownsDataDir,
    port,
    controllerPort,
    saslPort,
    securePort,
    mtlsPort,
    oauth,
    startTimeoutMs: options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
    onProgress: options.onProgress ?? (() => undefined),
  })
  try {
    await broker.launch()
  } catch (error) {
    await broker.stop()
    throw error
  }
  return broker
}

interface BrokerSettings {
  java: string
  version: string
  libDir: string
  dataDir: string
  ownsDataDir: boolean
  port: number
  controllerPort: number
  saslPort: number
  securePort: number | undefined
  mtlsPort: number
  oauth: { port: number; jwksUrl: string; audience: string; issuer: string; superUsers?: string[] } | undefined
  startTimeoutMs: number
  onProgress: OnLocalKafkaEvent
}

class LocalKafkaProcess implements LocalKafka {
  readonly brokers: string
  private child: ChildProcess | undefined
  private exited: Promise<BrokerExit> = Promise.resolve({ code: null, signal: null })
  private running = false
  private tail: string[] = []
  private stopping: Promise<void> | undefined
  private lastPid = -1
  private unregister: (() => void) | undefined

  readonly saslBrokers: string
  readonly secure: LocalSecureListeners | undefined
  readonly oauthBrokers: string | undefined

  constructor(private readonly settings: BrokerSettings) {
    this.brokers = `127.0.0.1:${settings.port}`
    this.saslBrokers = `127.0.0.1:${settings.saslPort}`
    this.secure = settings.securePort === undefined ? undefined : secureListeners(settings.dataDir, settings.securePort, settings.mtlsPort)
    this.oauthBrokers = settings.oauth ? `127.0.0.1:${settings.oauth.port}` : undefined
  }

  get version(): string {
    return this.settings.version
  }
  get dataDir(): string {
    return this.settings.dataDir
  }
  get port(): number {
    return this.settings.port
  }
  get controllerPort(): number {
    return this.settings.controllerPort
  }
  get libDir(): string {
    return this.settings.libDir
  }
  get pid(): number {
    return this.lastPid
  }

  private get propertiesFile(): string {
    return join(this.settings.dataDir, 'server.properties')
  }
  private get logDir(): string {
    return join(this.settings.dataDir, 'kraft-logs')
  }

  /** Writes the config, formats storage on first use, starts the JVM and waits until it answers. */
  async launch(): Promise<void> {
    const { version, port, controllerPort, onProgress } = this.settings
    this.unregister ??= registerForCleanup({
      pid: () => (this.running ? this.lastPid : undefined),
      ownedDir: () => (this.settings.ownsDataDir ? this.settings.dataDir : undefined),
    })
    const securePort = this.settings.securePort
    const tls = securePort === undefined ? undefined : await ensureLocalTls(this.settings.dataDir)
    await writeFile(
      this.propertiesFile,
      renderServerProperties({
        version,
        port,
        controllerPort,
        saslPort: this.settings.saslPort,
        logDir: this.logDir,
        secure:
          tls && securePort !== undefined
            ? {
                port: securePort,
                mtlsPort: this.settings.mtlsPort,
                keystore: tls.brokerKeystore,
                caCertificate: tls.caCertificate,
                superUsers: [LOCAL_TLS_CLIENT, ...(this.settings.oauth?.superUsers ?? [])],
              }
            : undefined,
        oauth: this.settings.oauth,
      }),
    )
    if (!existsSync(join(this.logDir, 'meta.properties'))) await this.formatStorage()

    const started = Date.now()
    const child = this.spawnBroker()
    onProgress({ type: 'broker-starting', version, pid: this.lastPid, brokers: this.brokers })
    const failure = await waitForBroker(this.brokers, {
      deadline: started + this.settings.startTimeoutMs,
      isAlive: () => this.running && this.child === child,
    })
    if (failure !== undefined) {
      await this.stopProcess()
      const problem = lastProblem(this.tail)
      throw new RecoveryError(
        'LOCAL_BROKER_FAILED',
        `The local Kafka ${version} broker on ${this.brokers} did not start: ${failure}${problem ? ` (${problem})` : ''}.`,
        {
          nextSteps: [
            'Read the broker output in the error details (outputTail).',
            `Check that ports ${port} and ${controllerPort} are free and the data dir ${this.dataDir} is writable.`,
          ],
          details: { version, brokers: this.brokers, dataDir: this.dataDir, pid: this.lastPid, outputTail: this.outputTail(40) },
        },
      )
    }
    onProgress({ type: 'broker-ready', version, pid: this.lastPid, brokers: this.brokers, ms: Date.now() - started })
  }

  private async formatStorage(): Promise<void> {
    const { java, version, libDir, onProgress } = this.settings
    const started = Date.now()
    const args = [
      'format',
      '-t',
      randomClusterId(),
      '-c',
      this.propertiesFile,
      '--ignore-formatted',
      ...scramFormatArgs(this.settings.securePort !== undefined),
    ]
    const output = await runProcess(java, javaArgs({ libDir, version, jvmOptions: TOOL_JVM_OPTIONS, mainClass: 'kafka.tools.StorageTool', args }), {
      timeoutMs: this.settings.startTimeoutMs,
    })
    if (output.exitCode !== 0) {
      throw new RecoveryError('LOCAL_BROKER_FAILED', `Formatting the local Kafka ${version} storage in ${this.logDir} failed (exit code ${output.exitCode}).`, {
        nextSteps: ['Read the StorageTool output in the error details.', `Or start on a fresh data dir instead of ${this.dataDir}.`],
        details: { version, dataDir: this.dataDir, outputTail: lastLines(`${output.stdout}\n${output.stderr}`, 40) },
      })
    }
    onProgress({ type: 'storage-formatted', version, dataDir: this.dataDir, ms: Date.now() - started })
  }

  private spawnBroker(): ChildProcess {
    const { java, version, libDir } = this.settings
    // Kafka 4 fetches OAuth URLs (the JWKS endpoint) only when this system property allows them.
    const oauthUrls = this.settings.oauth ? [`-Dorg.apache.kafka.sasl.oauthbearer.allowed.urls=${this.settings.oauth.jwksUrl}`] : []
    const jvmOptions = [...BROKER_JVM_OPTIONS, ...oauthUrls]
    const child = spawn(java, javaArgs({ libDir, version, jvmOptions, mainClass: 'kafka.Kafka', args: [this.propertiesFile] }), {
      cwd: this.settings.dataDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    this.child = child
    this.running = true
    this.lastPid = child.pid ?? -1
    this.exited = new Promise<BrokerExit>((resolve) => {
      const done = (exit: BrokerExit): void => {
        if (this.child === child) this.running = false
        resolve(exit)
      }
      child.once('exit', (code, signal) => done({ code, signal }))
      child.once('error', (error) => {
        this.remember(`[failed to start ${java}: ${error.message}]`)
        done({ code: null, signal: null })
      })
    })
    for (const stream of [child.stdout, child.stderr]) {
      let partial = ''
      stream?.setEncoding('utf8')
      stream?.on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n')
        partial = lines.pop() ?? ''
        for (const line of lines) this.remember(line)
      })
      // Neither the JVM nor its pipes keep Node alive: a script that forgets stop() still
      // exits, and the exit handler then kills the JVM.
      ;(stream as Socket | null)?.unref?.()
    }
    child.unref()
    return child
  }

  private remember(line: string): void {
    if (line.trim() === '') return
    this.tail.push(line)
    if (this.tail.length > TAIL_LINES) this.tail.splice(0, this.tail.length - TAIL_LINES)
  }

  /** Ends the JVM (SIGTERM, then SIGKILL after the grace period); keeps the data dir. */
  private async stopProcess(): Promise<void> {
    if (!this.running || this.child === undefined) return
    const { onProgress } = this.settings
    const pid = this.lastPid
    const started = Date.now()
    onProgress({ type: 'broker-stopping', pid })
    this.kill('SIGTERM')
    // A SIGSTOPped JVM only acts on SIGTERM once it runs again.
    this.kill('SIGCONT')
    let timer: NodeJS.Timeout | undefined
    const graceOver = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), STOP_GRACE_MS)
    })
    const first = await Promise.race([this.exited, graceOver])
    clearTimeout(timer)
    const forced = first === 'timeout'
    if (forced) {
      this.kill('SIGKILL')
      await this.exited
    }
    onProgress({ type: 'broker-stopped', pid, ms: Date.now() - started, forced })
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.stopProcess()
      if (this.settings.ownsDataDir) await rm(this.settings.dataDir, { recursive: true, force: true, maxRetries: 3 })
      this.unregister?.()
      this.unregister = undefined
    })()
    return this.stopping
  }

  kill(signal: NodeJS.Signals): boolean {
    if (!this.running) return false
    try {
      return process.kill(this.lastPid, signal)
    } catch {
      return false
    }
  }

  async restart(): Promise<void> {
    if (this.stopping !== undefined) {
      throw new RecoveryError('INTERNAL', `The local Kafka broker on ${this.brokers} was stopped; start a new one instead of restarting it.`)
    }
    await this.stopProcess()
    await this.launch()
  }

  detach(): void {
    this.unregister?.()
    this.unregister = undefined
    // Its output pipes close with this process; the broker logs little and ignores that.
  }

  whenExited(): Promise<BrokerExit> {
    if (!this.running) return this.exited
    // The JVM is unref'd, so hold the event loop open while someone waits for its exit.
    const keepAlive = setInterval(() => undefined, 60_000)
    return this.exited.finally(() => clearInterval(keepAlive))
  }

  outputTail(lines = 40): string[] {
    // Java stack frames crowd out the lines that say what went wrong.
    return this.tail.filter((line) => !STACK_FRAME.test(line)).slice(-lines)
  }
}

const STACK_FRAME = /^\s+(at |\.\.\. \d+ more)/

/** The last exception message the broker printed, e.g. "java.net.BindException: Address already in use". */
function lastProblem(lines: string[]): string | undefined {
  const line = [...lines].reverse().find((l) => /^(Caused by: )?[\w.$]+(Exception|Error): /.test(l.trim()))
  return line?.trim().replace(/^Caused by: /, '')
}
