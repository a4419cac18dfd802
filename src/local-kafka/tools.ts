import { ensureKafkaJars } from './jars.js'
import { ensureJava, javaArgs, TOOL_JVM_OPTIONS } from './java.js'
import { runProcess, type ProcessOutput } from './run-process.js'

export interface RunKafkaToolOptions {
  /** Defaults to env RECOVER_KAFKA_VERSION, else DEFAULT_KAFKA_VERSION. */
  version?: string
  /** Killed after this long and reported with exit code 124; default 120 s. */
  timeoutMs?: number
  /** More JVM options, e.g. -Dorg.apache.kafka.sasl.oauthbearer.allowed.urls=… for an OAuth client. */
  jvmOptions?: string[]
}

/**
 * Runs a Kafka command-line class from the same jars as the local broker, e.g.
 * `runKafkaTool('org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
 * ['--bootstrap-server', brokers, '--describe', '--group', 'g'])`. Resolves with the
 * output and exit code whatever the exit code is; tests use it as an independent oracle.
 */
export async function runKafkaTool(mainClass: string, args: string[], options: RunKafkaToolOptions = {}): Promise<ProcessOutput> {
  const { version, libDir } = await ensureKafkaJars({ version: options.version })
  const java = await ensureJava()
  return runProcess(java, javaArgs({ libDir, version, jvmOptions: [...TOOL_JVM_OPTIONS, ...(options.jvmOptions ?? [])], mainClass, args }), {
    timeoutMs: options.timeoutMs ?? 120_000,
  })
}
