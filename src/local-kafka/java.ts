import { existsSync } from 'node:fs'
import { join } from 'node:path'

import { RecoveryError } from '../errors.js'
import { findRepoRoot } from './repo-root.js'
import { isCommandMissing, runProcess } from './run-process.js'
import { isKafka3 } from './versions.js'

/** Heap and GC for the broker: comfortable for tests, small enough for two cores. */
export const BROKER_JVM_OPTIONS = ['-Xms512m', '-Xmx1g']

/** Short-lived tools (storage format, consumer groups) start faster with C1 only and serial GC. */
export const TOOL_JVM_OPTIONS = ['-Xmx256m', '-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC']

const INSTALL_JAVA = 'Install Java 17, e.g. apt-get install openjdk-17-jre-headless'

let checkedJava: Promise<string> | undefined

/** The java executable: $JAVA_HOME/bin/java when that exists, else `java` from PATH. */
export function javaCommand(): string {
  const home = process.env.JAVA_HOME
  if (home) {
    const candidate = join(home, 'bin', 'java')
    if (existsSync(candidate)) return candidate
  }
  return 'java'
}

/** Checks once per process that Java 17 or newer runs; returns the java command. */
export function ensureJava(): Promise<string> {
  checkedJava ??= checkJava().catch((error: unknown) => {
    checkedJava = undefined
    throw error
  })
  return checkedJava
}

async function checkJava(): Promise<string> {
  const java = javaCommand()
  let output
  try {
    output = await runProcess(java, ['-version'], { timeoutMs: 30_000 })
  } catch (error) {
    if (isCommandMissing(error)) {
      throw new RecoveryError('JAVA_MISSING', `No Java runtime found (looked for "${java}"); the local Kafka broker needs Java 17 or newer.`, {
        nextSteps: [`${INSTALL_JAVA}.`, 'Or set JAVA_HOME to a Java 17+ installation.'],
        cause: error,
      })
    }
    throw error
  }
  const text = output.stderr + output.stdout
  const major = parseJavaMajor(text)
  if (output.exitCode !== 0 || major === undefined || major < 17) {
    throw new RecoveryError('JAVA_MISSING', `"${java} -version" did not report Java 17 or newer; the local Kafka broker needs it.`, {
      nextSteps: [`${INSTALL_JAVA}, or point JAVA_HOME at one.`],
      details: { java, exitCode: output.exitCode, output: text.trim().split('\n').slice(0, 3) },
    })
  }
  return java
}

/** "17.0.15" -> 17, "1.8.0_392" -> 8. */
export function parseJavaMajor(versionOutput: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?/.exec(versionOutput)
  if (!match) return undefined
  const first = Number(match[1])
  return first === 1 && match[2] !== undefined ? Number(match[2]) : first
}

/** The -D option pointing Kafka's logging at test/broker/log4j2.properties (4.x) or log4j.properties (3.9). */
export function loggingOption(version: string): string {
  const brokerDir = join(findRepoRoot(), 'test', 'broker')
  return isKafka3(version)
    ? `-Dlog4j.configuration=file:${join(brokerDir, 'log4j.properties')}`
    : `-Dlog4j2.configurationFile=${join(brokerDir, 'log4j2.properties')}`
}

/** JVM arguments to run `mainClass` from a Kafka lib folder. */
export function javaArgs(options: { libDir: string; version: string; jvmOptions: string[]; mainClass: string; args: string[] }): string[] {
  return [
    ...options.jvmOptions,
    loggingOption(options.version),
    '-Djava.awt.headless=true',
    '-cp',
    join(options.libDir, '*'),
    options.mainClass,
    ...options.args,
  ]
}
