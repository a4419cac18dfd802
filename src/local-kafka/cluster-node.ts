import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import type { Socket } from 'node:net'
import { join } from 'node:path'

import { RecoveryError } from '../errors.js'
import type { BrokerExit } from './broker.js'
import { renderClusterNodeProperties } from './cluster-properties.js'
import { javaArgs, TOOL_JVM_OPTIONS } from './java.js'
import { registerForCleanup } from './process-cleanup.js'
import { lastLines, runProcess } from './run-process.js'
import { waitForBroker } from './wait-for-broker.js'

/** Three JVMs share the machine with the tests: a small heap each (KAFKA_HEAP_OPTS overrides). */
export const CLUSTER_NODE_JVM_OPTIONS = ['-Xms256m', '-Xmx512m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1']

const STOP_GRACE_MS = 20_000
const TAIL_LINES = 200

export interface ClusterNodeSettings {
  java: string
  version: string
  libDir: string
  clusterId: string
  nodeId: number
  port: number
  controllerPort: number
  voters: Array<{ nodeId: number; controllerPort: number }>
  dataDir: string
  startTimeoutMs: number
}

/** One controller+broker JVM of a LocalKafkaCluster, which a fault test may kill, freeze or restart. */
export class ClusterNode {
  readonly brokers: string
  private child: ChildProcess | undefined
  private exited: Promise<BrokerExit> = Promise.resolve({ code: null, signal: null })
  private alive = false
  private lastPid = -1
  private tail: string[] = []
  private unregister: (() => void) | undefined

  constructor(private readonly settings: ClusterNodeSettings) {
    this.brokers = `127.0.0.1:${settings.port}`
  }

  get id(): number {
    return this.settings.nodeId
  }
  get pid(): number {
    return this.lastPid
  }
  get running(): boolean {
    return this.alive
  }
  get dataDir(): string {
    return this.settings.dataDir
  }

  private get propertiesFile(): string {
    return join(this.settings.dataDir, 'server.properties')
  }
  private get logDir(): string {
    return join(this.settings.dataDir, 'kraft-logs')
  }

  /** Writes the config and formats storage on first use (every node with the cluster's id). */
  async prepare(): Promise<void> {
    const { version, nodeId, port, controllerPort, voters, java, libDir, clusterId } = this.settings
    await writeFile(this.propertiesFile, renderClusterNodeProperties({ version, nodeId, port, controllerPort, voters, logDir: this.logDir }))
    if (existsSync(join(this.logDir, 'meta.properties'))) return
    const args = ['format', '-t', clusterId, '-c', this.propertiesFile, '--ignore-formatted']
    const output = await runProcess(java, javaArgs({ libDir, version, jvmOptions: TOOL_JVM_OPTIONS, mainClass: 'kafka.tools.StorageTool', args }), {
      timeoutMs: this.settings.startTimeoutMs,
    })
    if (output.exitCode !== 0) {
      throw new RecoveryError('LOCAL_BROKER_FAILED', `Formatting node ${nodeId}'s storage in ${this.logDir} failed (exit code ${output.exitCode}).`, {
        details: { outputTail: lastLines(`${output.stdout}\n${output.stderr}`, 40) },
      })
    }
  }

  /** Starts the JVM (not waiting for it to answer: a node alone has no quorum). */
  spawn(): void {
    const { java, version, libDir } = this.settings
    this.unregister ??= registerForCleanup({ pid: () => (this.alive ? this.lastPid : undefined), ownedDir: () => undefined })
    const heap = process.env.KAFKA_HEAP_OPTS?.split(/\s+/).filter((o) => o !== '')
    const jvmOptions = heap && heap.length > 0 ? [...heap, '-XX:+UseSerialGC'] : CLUSTER_NODE_JVM_OPTIONS
    const child = spawn(java, javaArgs({ libDir, version, jvmOptions, mainClass: 'kafka.Kafka', args: [this.propertiesFile] }), {
      cwd: this.settings.dataDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    this.child = child
    this.alive = true
    this.lastPid = child.pid ?? -1
    this.exited = new Promise<BrokerExit>((resolve) => {
      const done = (exit: BrokerExit): void => {
        if (this.child === child) this.alive = false
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
        for (const line of lines) if (line.trim() !== '') this.remember(line)
      })
      ;(stream as Socket | null)?.unref?.()
    }
    child.unref()
  }

  /** Resolves once the node answers a metadata request; throws past the start timeout or if it died. */
  async waitUntilAnswering(timeoutMs = this.settings.startTimeoutMs): Promise<void> {
    const child = this.child
    const failure = await waitForBroker(this.brokers, { deadline: Date.now() + timeoutMs, isAlive: () => this.alive && this.child === child })
    if (failure !== undefined) {
      throw new RecoveryError('LOCAL_BROKER_FAILED', `Node ${this.id} of the local Kafka cluster (${this.brokers}) did not start: ${failure}.`, {
        details: { pid: this.lastPid, outputTail: this.outputTail(40) },
      })
    }
  }

  /** Sends a signal (SIGKILL, SIGSTOP, SIGCONT…) to the JVM; false when it does not run. */
  kill(signal: NodeJS.Signals): boolean {
    if (!this.alive) return false
    try {
      return process.kill(this.lastPid, signal)
    } catch {
      return false
    }
  }

  whenExited(): Promise<BrokerExit> {
    if (!this.alive) return this.exited
    const keepAlive = setInterval(() => undefined, 60_000)
    return this.exited.finally(() => clearInterval(keepAlive))
  }

  /** SIGTERM (a controlled shutdown that hands its leaderships over), SIGKILL after 20 s. */
  async stop(): Promise<void> {
    if (!this.alive) return
    this.kill('SIGTERM')
    this.kill('SIGCONT')
    let timer: NodeJS.Timeout | undefined
    const graceOver = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), STOP_GRACE_MS)
    })
    const first = await Promise.race([this.exited, graceOver])
    clearTimeout(timer)
    if (first === 'timeout') {
      this.kill('SIGKILL')
      await this.exited
    }
  }

  /** Stops it if it runs (gracefully), starts it on the same data dir and ports, waits until it answers. */
  async restart(): Promise<void> {
    await this.stop()
    await this.prepare()
    this.spawn()
    await this.waitUntilAnswering()
  }

  /** Forgets the node for exit cleanup (after the cluster stopped it). */
  release(): void {
    this.unregister?.()
    this.unregister = undefined
  }

  outputTail(lines = 40): string[] {
    return this.tail.filter((line) => !/^\s+(at |\.\.\. \d+ more)/.test(line)).slice(-lines)
  }

  private remember(line: string): void {
    this.tail.push(line)
    if (this.tail.length > TAIL_LINES) this.tail.splice(0, this.tail.length - TAIL_LINES)
  }
}
